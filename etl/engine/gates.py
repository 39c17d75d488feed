"""Publish gates: checks a rebuilt partition must pass before its transaction commits.

Each gate compares a total of the rebuilt summary rows with the same total computed
independently from the raw rows of the same days, or checks the grain is unique. A
failing gate rolls the summary's transaction back: a suspicious result never replaces
good data. All raw totals come from one scan of each raw table, and all summary totals
from one query of the summary table.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from sqlalchemy import Table, and_, distinct, func, select

from etl import db
from etl.dates import DateRange
from etl.queries.groups import in_window
from etl.queries.portable import seconds_between
from etl.db.tables import raw
from etl.summaries.gates import Reconciliation


class GateFailed(RuntimeError):
    """A rebuilt summary did not pass a publish gate; nothing was committed."""


def _windowed(query, start_at, window):
    predicate = in_window(start_at, window)
    return query if predicate is None else query.where(predicate)


def raw_totals(window: Sequence[DateRange] | None) -> dict[str, Decimal]:
    """The raw measures of the window's days: visits per counted status and the hours of
    valid shifts, from one scan of each raw table."""
    visit, shift = raw("emr_visit"), raw("emr_shift")
    visits = _windowed(
        select(*(func.count().filter(visit.c.status == s) for s in ("completed", "cancelled", "no_show"))),
        visit.c.start_at, window,
    )
    hours = _windowed(
        select(func.coalesce(func.sum(seconds_between(shift.c.start_at, shift.c.end_at)), 0) / 3600.0)
        .where(shift.c.end_at >= shift.c.start_at),
        shift.c.start_at, window,
    )
    completed, cancelled, no_show = db.emr_fetch_all(visits)[0]
    (shift_hours,) = db.emr_fetch_all(hours)[0]
    values = {"completed visits": completed, "cancelled visits": cancelled, "no-show visits": no_show,
              "rostered hours": shift_hours}
    return {name: Decimal(str(value or 0)) for name, value in values.items()}


def _day_filter(table: Table, window: Sequence[DateRange] | None):
    if window is None:
        return None
    from sqlalchemy import false, or_

    return or_(*(and_(table.c.day >= r.start, table.c.day < r.end) for r in window)) if window else false()


def duplicate_grain_rows(table: Table, grain: Sequence[str], window) -> int:
    keys = [table.c[name] for name in grain]
    groups = select(*keys).group_by(*keys).having(func.count() > 1)
    predicate = _day_filter(table, window)
    if predicate is not None:
        groups = groups.where(predicate)
    return int(db.fetch_scalar(select(func.count()).select_from(groups.subquery())) or 0)


def check(table: Table, grain: Sequence[str], reconciliations: Sequence[Reconciliation], window,
          raw: dict[str, Decimal], check_grain: bool = True) -> int:
    """Raise :class:`GateFailed` with every failed check's reason; return the number of
    distinct days the rebuilt rows cover."""
    failures = []
    duplicates = duplicate_grain_rows(table, grain, window) if check_grain else 0
    if duplicates:
        failures.append(f"{duplicates} grain keys appear more than once")
    query = select(
        func.count(), func.count(distinct(table.c.day)),
        *(func.coalesce(gate.summary_total(table), 0) for gate in reconciliations),
    )
    predicate = _day_filter(table, window)
    rows, days, *built = db.fetch_all(query if predicate is None else query.where(predicate))[0]
    for gate, value in zip(reconciliations, built):
        built_total, expected = Decimal(str(value or 0)), raw[gate.raw_measure]
        if abs(built_total - expected) > gate.tolerance_per_row * max(int(rows), 1):
            failures.append(f"{gate.name}: summary has {built_total}, raw rows give {expected}")
    if failures:
        raise GateFailed(f"{table.name}: publish gate failed: " + "; ".join(failures))
    return int(days)
