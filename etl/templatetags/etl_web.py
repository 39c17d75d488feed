"""Template helpers of the pages: one cell's display (suppression marker, numbers)."""
from __future__ import annotations


from django import template

from etl.web.display import display

register = template.Library()


@register.simple_tag
def cell(row: dict, column: str) -> str:
    """The display text of ``row[column]``: ``<11`` where suppressed."""
    return display(column, row.get(column), column in row.get("suppressed", ()),
                   column in row.get("complementary", ()))


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


FILTER_LABELS = {
    "day_from": "From", "day_to": "To", "month_from": "From month", "month_to": "To month", "region": "Region",
    "clinic": "Clinic", "location": "Location", "service": "Service", "role_group": "Role group",
}


@register.filter
def filter_label(name: str) -> str:
    return FILTER_LABELS.get(name, name)
