"""Template helpers of the pages: one cell's display (suppression marker, numbers)."""
from __future__ import annotations


from django import template

from etl.web.display import display

register = template.Library()


@register.simple_tag
def cell(row: dict, column: str) -> str:
    """The display text of ``row[column]``: ``<11`` where suppressed."""
    return display(column, row.get(column), column in row.get("suppressed", ()))


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None
