"""Template helpers of the pages: one cell's display (suppression marker, numbers)."""
from __future__ import annotations


from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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


DATE_FILTERS = {"day_from", "day_to", "month_from", "month_to"}


@register.simple_tag
def filter_controls(filters, choices, values) -> SafeString:
    """The labelled inputs of a filter form, rendered in Python (a clinic dropdown has
    hundreds of options, slow in a template loop). Every text is escaped."""
    out = []
    for name in filters:
        current = str(values.get(name) or "")
        if name in DATE_FILTERS:
            out.append(f'<label>{escape(filter_label(name))} <input type="date" name="{name}" '
                       f'value="{escape(current)}"></label>')
            continue
        options = ['<option value="">all</option>'] + [
            f'<option value="{escape(value)}"{" selected" if str(value) == current else ""}>{escape(text)}</option>'
            for value, text in choices.get(name, ())
        ]
        out.append(f'<label>{escape(filter_label(name))} <select name="{name}">{"".join(options)}</select></label>')
    return mark_safe("\n".join(out))
