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

PERMISSION = "etl.view_small_counts"

# Counts of patients or visits (visits_7d is a sum of daily visit counts).
COUNTS = frozenset({"nr_patients", "nr_visits", "nr_cancelled", "nr_no_show", "visits_7d"})

# Values that give a count back, and the counts they give back: a ratio times hours or
# divided into cost returns nr_patients; z, mean and sd together return the day's ratio;
# a rank orders a hidden ratio; no_show_rate returns nr_no_show given nr_visits and back;
# visits_per_hour and visits_change return nr_visits.
DERIVED: dict[str, tuple[str, ...]] = {
    "patients_per_hour": ("nr_patients",),
    "cost_per_patient": ("nr_patients",),
    "no_show_rate": ("nr_no_show", "nr_visits"),
    "visits_per_hour": ("nr_visits",),
    "visits_change": ("nr_visits",),
    **{f"{prefix}_{part}": ("nr_patients",) for prefix in ("pph", "cpp") for part in ("mean", "sd", "z")},
    "pph_rank": ("nr_patients",),
    "pph_pct_rank": ("nr_patients",),
}

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
    """Which of ``columns`` must be hidden in ``row``. A derived value whose count is not
    in the row at all is hidden too (fails closed)."""
    small = {c for c in COUNTS if c in row and is_small(row[c])}
    hidden = []
    for column in columns:
        if column in COUNTS:
            if column in small:
                hidden.append(column)
        elif column in DERIVED:
            needs = DERIVED[column]
            if any(c in small or c not in row or row[c] is None for c in needs) and row.get(column) is not None:
                hidden.append(column)
    return hidden


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
    shown parts would give the hidden part back); the values derived from a hidden count
    go with it."""
    if allowed:
        totals["suppressed"] = []
        return totals
    hidden_parts = {column for part in parts for column in part.get("suppressed", ())}
    hidden = [c for c, v in totals.items() if c in COUNTS and suppress_total(v, c in hidden_parts) is None
              and v is not None]
    derived = [
        c for c, v in totals.items()
        if c in DERIVED and v is not None
        and any(n in hidden or totals.get(n) is None for n in DERIVED[c])
    ]
    for column in hidden + derived:
        totals[column] = None
    totals["suppressed"] = hidden + derived
    return totals
