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
    below = threshold()  # read once per row: pages and the API run this for every row shown
    counts = [(c, row.get(c)) for c in COUNTS]
    small = {c for c, value in counts if value is not None and 0 < value < below}  # is_small, inlined
    hide_derived = bool(small) or all(value is None for _, value in counts)
    if not hide_derived:  # most rows: no small count, so nothing to hide
        return []
    return [
        c for c in columns
        if c in small or (c in DERIVED and row.get(c) is not None)
    ]


def suppress(row: dict, allowed: bool, columns: Iterable[str] | None = None) -> dict:
    """``row`` with its hidden cells set to None and listed in ``row["suppressed"]``
    (empty for a user ``allowed`` to see small counts)."""
    row["suppressed"] = [] if allowed else hidden_columns(row, row.keys() if columns is None else columns)
    for column in row["suppressed"]:
        row[column] = None
    return row


def suppress_with_totals(parts: list[dict], totals: dict, allowed: bool) -> tuple[list[dict], dict]:
    """Rows (``parts``) shown with their column totals: the rows are suppressed as by
    :func:`suppress`, plus *complementary* cells, so that no total gives a hidden cell
    back. In each count column with hidden cells, the smallest shown non-zero cells are
    hidden as well until at least two cells are hidden and they add up to at least
    ``SUPPRESS_BELOW`` (total minus shown cells then tells only that sum). Where that is
    impossible the total is hidden instead. Complementary cells are listed in the row's
    ``complementary`` list too (pages print ``*`` there, since the value is not small).
    Values derived from counts are hidden wherever a count of their row or total is."""
    if allowed:
        for row in [*parts, totals]:
            row["suppressed"], row["complementary"] = [], []
        return parts, totals
    hidden = [set(hidden_columns(p, list(p))) for p in parts]
    extra: list[set[str]] = [set() for _ in parts]
    hidden_totals = {c for c, v in totals.items() if c in COUNTS and is_small(v)}
    for column in [c for c in totals if c in COUNTS]:
        chosen = [i for i in range(len(parts)) if column in hidden[i]]
        if not chosen:
            continue
        spare = sorted((parts[i][column], i) for i in range(len(parts))
                       if column not in hidden[i] and parts[i].get(column))
        total_hidden = sum(parts[i][column] for i in chosen)
        while (len(chosen) < 2 or total_hidden < threshold()) and spare:
            value, i = spare.pop(0)
            chosen.append(i)
            total_hidden += value
            hidden[i].add(column)
            extra[i].add(column)
        if len(chosen) < 2 or total_hidden < threshold():
            hidden_totals.add(column)
    for row, cols, comp in zip(parts, hidden, extra):
        if cols & COUNTS:
            cols |= {c for c in DERIVED if row.get(c) is not None}
        for column in cols:
            row[column] = None
        row["suppressed"], row["complementary"] = sorted(cols), sorted(comp)
    if hidden_totals:
        hidden_totals |= {c for c in DERIVED if totals.get(c) is not None}
    for column in hidden_totals:
        totals[column] = None
    totals["suppressed"], totals["complementary"] = sorted(hidden_totals), []
    return parts, totals
