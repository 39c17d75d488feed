"""Small-cell suppression (the CMS rule): no count of patients or visits from 1 to
``SUPPRESS_BELOW - 1``, nor a value from which one can be worked out, for users without
the permission ``etl.view_small_counts``.

:func:`suppress` is the one function pages, CSV, JSON and sparklines apply to a row (a
dict of column values). It sets hidden cells to None and lists their columns in the row's
``suppressed`` list; pages and CSV print :func:`marker` (``<11``) there, JSON ``null``.
"""
from __future__ import annotations

from typing import Iterable

from django.conf import settings

from etl.summaries.formats import FORMATS, count_revealing_columns, small_count_columns

PERMISSION = "etl.view_small_counts"

# Which columns are counts of patients or visits, and which give one back (a ratio times
# its shown denominator, a z with its mean and sd, a rate): written once in the summary
# formats, for every summary.
COUNTS = frozenset(c for table in FORMATS for c in small_count_columns(table))
DERIVED = frozenset(c for table in FORMATS for c in count_revealing_columns(table))
SUPPRESSIBLE = COUNTS | frozenset(DERIVED)


def threshold() -> int:
    return int(getattr(settings, "SUPPRESS_BELOW", 11))


def marker() -> str:
    return f"<{threshold()}"


def may_see_small(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION))


def is_small(value) -> bool:
    """A count from 1 to SUPPRESS_BELOW - 1 (zero is not hidden: it reveals no one)."""
    return value is not None and 0 < value < threshold()


def hidden_columns(row: dict, columns: Iterable[str]) -> list[str]:
    """Which of ``columns`` must be hidden in ``row``: its small counts, and every value
    that gives a count back when any count of the row is hidden. A row that carries no
    count at all hides those values too (fails closed)."""
    small = {c for c in COUNTS if c in row and is_small(row[c])}
    counted = any(c in row and row[c] is not None for c in COUNTS)
    hide_derived = bool(small) or not counted
    return [
        c for c in columns
        if c in small or (c in DERIVED and hide_derived and row.get(c) is not None)
    ]


def suppress(row: dict, allowed: bool, columns: Iterable[str] | None = None) -> dict:
    """``row`` with its hidden cells set to None and listed in ``row["suppressed"]``
    (empty for a user ``allowed`` to see small counts)."""
    row["suppressed"] = [] if allowed else hidden_columns(row, row.keys() if columns is None else columns)
    for column in row["suppressed"]:
        row[column] = None
    return row


def suppress_total(total, parts_hidden: bool):
    """A total shown beside cells: hidden when it is small itself, or when any of its
    parts is hidden (the total minus the shown parts would give the hidden one back)."""
    if parts_hidden or is_small(total):
        return None
    return total


def suppress_totals(totals: dict, parts: Iterable[dict], allowed: bool) -> dict:
    """Totals shown beside (or summed from) already suppressed ``parts``: a count total is
    hidden when it is small or when any part of its column is hidden (the total minus the
    shown parts would give the hidden part back); the values derived from counts go with
    any hidden count, as in a row."""
    if allowed:
        totals["suppressed"] = []
        return totals
    hidden_parts = {column for part in parts for column in part.get("suppressed", ())}
    hidden = [c for c, v in totals.items() if c in COUNTS and v is not None
              and suppress_total(v, c in hidden_parts) is None]
    if hidden:
        hidden += [c for c, v in totals.items() if c in DERIVED and v is not None]
    else:
        hidden = hidden_columns(totals, list(totals))
    for column in hidden:
        totals[column] = None
    totals["suppressed"] = hidden
    return totals
