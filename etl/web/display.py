"""How a value shows on a page: suppressed cells as ``<11``, numbers with the column's
decimals from the summary formats (:mod:`etl.summaries.formats`), missing values as a
dash, labels from the same formats."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Callable

from etl.summaries.formats import FORMATS, ColumnFormat
from etl.web.suppression import marker

# Columns the pages compute themselves (names beside ids), not summary columns.
EXTRA = {
    "clinic_name": ColumnFormat("Clinic"), "region_name": ColumnFormat("Region"),
    "location_name": ColumnFormat("Location"), "service_name": ColumnFormat("Service"),
    "role_group_name": ColumnFormat("Role group"),
}


def format_of(column: str) -> ColumnFormat | None:
    """The column's format: the same name means the same format in every summary."""
    if column in EXTRA:
        return EXTRA[column]
    for table in FORMATS.values():
        if column in table:
            return table[column]
    return None


def label(column: str) -> str:
    fmt = format_of(column)
    return fmt.label if fmt else column.replace("_", " ").capitalize()


COMPLEMENTARY = "*"
NUMBERS = (int, float, Decimal)  # exact types: bool, a subclass of int, shows as yes/no


def formatter(column: str) -> Callable[[object], str]:
    """The function that shows a (not None, not hidden) value of ``column``: chosen once
    per column, so a table of thousands of cells does not look the format up per cell."""
    fmt = format_of(column)
    # The common cells, numbers of a column with a format (not a percentage), take a short
    # path with the format's own rule (ColumnFormat.show) decided here once.
    plain = fmt is not None and fmt.unit != "%"
    spec = f",.{fmt.decimals}f" if plain and fmt.decimals else None

    def show(value) -> str:
        if plain and type(value) in NUMBERS:
            return format(float(value), spec) if spec else f"{int(round(float(value))):,}"
        if isinstance(value, dt.datetime):
            return f"{value:%Y-%m-%d %H:%M}"
        if isinstance(value, dt.date):
            return f"{value:%Y-%m}" if column == "month" else value.isoformat()
        if fmt is None:
            return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
        if fmt.unit == "%" and not isinstance(value, bool):
            # A fraction shown as a percentage: 4 decimals of a fraction are 2 of a percentage.
            return f"{float(value) * 100:,.{max(fmt.decimals - 2, 0)}f} %"
        return fmt.show(value)
    return show


def display(column: str, value, hidden: bool = False, complementary: bool = False) -> str:
    """``<11`` for a hidden small count (and values derived from one); ``*`` for a cell
    hidden only so that a total cannot give a small one back."""
    if complementary:
        return COMPLEMENTARY
    if hidden:
        return marker()
    if value is None:
        return "—"
    return formatter(column)(value)
