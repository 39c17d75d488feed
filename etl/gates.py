"""Publish gates: checks a rebuilt partition must pass before its transaction commits.

Each gate compares a total of the rebuilt summary rows with the same total computed
independently from the raw rows of the same days, or checks the grain is unique. A
failing gate rolls the summary's transaction back: a suspicious result never replaces
good data.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Sequence

from sqlalchemy import ColumnElement, Select, Table, and_, func, select

from . import db
from .dates import DateRange
from .queries.groups import in_window
from .queries.portable import seconds_between
from .tables import raw


class GateFailed(RuntimeError):
    """A rebuilt summary did not pass a publish gate; nothing was committed."""


@dataclass(frozen=True)
class Reconciliation:
    """``summary_total(table)`` over the rebuilt rows must equal ``raw_total(window)``
    within ``tolerance_per_row`` times the number of rebuilt rows."""

    name: str
    summary_total: Callable[[Table], ColumnElement]
    raw_total: Callable[[Sequence[DateRange] | None], Select]
    tolerance_per_row: Decimal = Decimal(0)


def visits_with_status(status: str) -> Callable[[Sequence[DateRange] | None], Select]:
    def total(window):
        visit = raw("emr_visit")
        query = select(func.count()).select_from(visit).where(visit.c.status == status)
        predicate = in_window(visit.c.start_at, window)
        return query if predicate is None else query.where(predicate)

    return total


def valid_shift_hours(window) -> Select:
    shift = raw("emr_shift")
    query = select(func.coalesce(func.sum(seconds_between(shift.c.start_at, shift.c.end_at)), 0) / 3600.0).where(
        shift.c.end_at >= shift.c.start_at
    )
    predicate = in_window(shift.c.start_at, window)
    return query if predicate is None else query.where(predicate)


def _day_filter(table: Table, window: Sequence[DateRange] | None):
    if window is None:
        return None
    from sqlalchemy import false, or_

    return or_(*(and_(table.c.day >= r.start, table.c.day < r.end) for r in window)) if window else false()


def _summary_scalar(table: Table, column: ColumnElement, window) -> object:
    query = select(column).select_from(table)
    predicate = _day_filter(table, window)
    return db.fetch_scalar(query if predicate is None else query.where(predicate))


def duplicate_grain_rows(table: Table, grain: Sequence[str], window) -> int:
    keys = [table.c[name] for name in grain]
    groups = select(*keys).group_by(*keys).having(func.count() > 1)
    predicate = _day_filter(table, window)
    if predicate is not None:
        groups = groups.where(predicate)
    return int(db.fetch_scalar(select(func.count()).select_from(groups.subquery())) or 0)


def check(table: Table, grain: Sequence[str], reconciliations: Sequence[Reconciliation], window,
          check_grain: bool = True) -> None:
    """Raise :class:`GateFailed` with every failed check's reason."""
    failures = []
    duplicates = duplicate_grain_rows(table, grain, window) if check_grain else 0
    if duplicates:
        failures.append(f"{duplicates} grain keys appear more than once")
    rows = int(_summary_scalar(table, func.count(), window) or 0)
    for gate in reconciliations:
        built = Decimal(str(_summary_scalar(table, func.coalesce(gate.summary_total(table), 0), window) or 0))
        expected = Decimal(str(db.emr_fetch_all(gate.raw_total(window))[0][0] or 0))
        if abs(built - expected) > gate.tolerance_per_row * max(rows, 1):
            failures.append(f"{gate.name}: summary has {built}, raw rows give {expected}")
    if failures:
        raise GateFailed(f"{table.name}: publish gate failed: " + "; ".join(failures))
