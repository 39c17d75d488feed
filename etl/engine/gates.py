"""Publish gates: checks a rebuilt partition must pass before its transaction commits.

Each gate compares a total of the rebuilt summary rows with the same total computed
independently from the raw rows of the same days, or checks the grain is unique. A
failing gate rolls the summary's transaction back: a suspicious result never replaces
good data. Raw totals come from one scan of each raw table a summary's gates need (and
only those), under the same validity rules as the summaries; all summary totals from one
query of the summary table.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Sequence

from sqlalchemy import ColumnElement, Table, and_, false, func, or_, select

from etl import db
from etl.dates import DateRange
from etl.dates import Cells
from etl.queries.cells import cells_cte, in_cells
from etl.queries.groups import dated
from etl.queries.validity import date_part, duration_seconds, id_value
from etl.db.tables import raw
from etl.summaries.gates import Reconciliation


class GateFailed(RuntimeError):
    """A rebuilt summary did not pass a publish gate; nothing was committed."""


VISIT_MEASURES = {"completed visits": "completed", "cancelled visits": "cancelled", "no-show visits": "no_show"}
SHIFT_MEASURES = ("rostered hours",)


def _raw_rows(table: Table, window: Sequence[DateRange] | None, cells: Cells | None):
    """Rows of ``table`` with a day on the window's days; with ``cells`` (keyed by
    ``location_id``, the only raw key), only those (day, location) pairs."""
    if cells is None:
        return dated(table.c.start_at, window)
    location = id_value(table.c.location_id)
    # The rows are matched against the pairs: a coarser day filter reads the same rows.
    return and_(dated(table.c.start_at, cells.scan_window), location.in_(sorted(cells.raw_locations)),
                in_cells(date_part(table.c.start_at), location, cells_cte(cells)))


def measure_columns(name: str) -> dict[str, ColumnElement]:
    """The aggregates over ``name``'s raw rows whose totals the gates compare with: visits
    per counted status (CONTRACT 1: visits that have a day), the seconds of valid shifts
    (a day, 0 to 24 hours; ``duration_seconds`` is NULL for every other shift, whatever
    its timestamps hold: 'infinity', year 294276, SQLite text, so no raw value can make
    the query fail)."""
    if name == "emr_visit":
        visit = raw(name)
        return {measure: func.count().filter(visit.c.status == status) for measure, status in VISIT_MEASURES.items()}
    if name == "emr_shift":
        shift = raw(name)
        return {"rostered hours": func.sum(duration_seconds(shift.c.start_at, shift.c.end_at, start_has_day=True))}
    return {}


def measure_totals(name: str, sums: Mapping[str, object]) -> dict[str, Decimal]:
    """The gates' raw measures from the totals of :func:`measure_columns` (hours from seconds)."""
    if name == "emr_shift":
        return {"rostered hours": (Decimal(int(sums["rostered hours"] or 0)) / 3600).quantize(Decimal("0.000001"))}
    return {measure: Decimal(int(value or 0)) for measure, value in sums.items()}


def _scan_totals(name: str, window: Sequence[DateRange] | None, cells: Cells | None) -> dict[str, Decimal]:
    """The table's raw measures over the window's days (or the (day, location) pairs), one scan."""
    columns = measure_columns(name)
    row = db.emr_fetch_all(select(*columns.values()).where(_raw_rows(raw(name), window, cells)))[0]
    return measure_totals(name, dict(zip(columns, row)))


MEASURE_TABLES = {**{measure: "emr_visit" for measure in VISIT_MEASURES},
                  **{measure: "emr_shift" for measure in SHIFT_MEASURES}}


class RawTotals(Mapping):
    """The raw measures of the window's days (or of some (day, location) pairs), computed
    on first use: a summary's gates scan only the raw tables their measures need
    (``staff_summary`` never reads shifts), once each. With ``days`` (a rebuild's
    :class:`etl.engine.rawdays.RawDays`), from its scan of each table, which the day
    fingerprints read too."""

    def __init__(self, window: Sequence[DateRange] | None, cells: Cells | None = None, days=None):
        self._window = window
        self._cells = cells
        self._days = days if cells is None else None
        self._values: dict[str, Decimal] = {}

    def __getitem__(self, measure: str) -> Decimal:
        if measure not in self._values:
            if measure not in MEASURE_TABLES:
                raise KeyError(measure)
            name = MEASURE_TABLES[measure]
            if self._days is not None:
                self._values.update(self._days.totals(name))
            else:
                self._values.update(_scan_totals(name, self._window, self._cells))
        return self._values[measure]

    def __iter__(self):
        return iter((*VISIT_MEASURES, *SHIFT_MEASURES))

    def __len__(self) -> int:
        return len(VISIT_MEASURES) + len(SHIFT_MEASURES)


def raw_totals(window: Sequence[DateRange] | None, cells: Cells | None = None, days=None) -> RawTotals:
    """The raw measures a gate may compare with (see :class:`RawTotals`)."""
    return RawTotals(window, cells, days)


def reference_totals(summary, window: Sequence[DateRange] | None,
                     cells: Cells | None = None, days=None) -> Mapping[str, Decimal]:
    """What ``summary``'s gates compare with: its declared reference totals (read where
    its query reads: the raw side, or Django's database for a summary of summaries), or
    the raw totals; with ``cells``, those of the (day, key) pairs rebuilt."""
    if not summary.gates:
        return {}
    if summary.reference is None:
        return raw_totals(window, cells, days)
    query = summary.reference(window) if cells is None else summary.reference(cells.window, cells=cells)
    fetch = db.emr_fetch_all if summary.reads_raw else db.fetch_all
    row = fetch(query)[0]
    return {name: Decimal(str(value or 0)) for name, value in zip(query.selected_columns.keys(), row)}


def _day_filter(table: Table, window: Sequence[DateRange] | None, period: str = "day",
                cells: Cells | None = None):
    if cells is not None:
        return and_(_day_filter(table, cells.window, period),
                    in_cells(table.c[period], table.c[cells.key], cells_cte(cells)))
    if window is None:
        return None
    column = table.c[period]
    return or_(*(and_(column >= r.start, column < r.end if r.end else column <= r.last)
                 for r in window)) if window else false()


def duplicate_grain_rows(table: Table, grain: Sequence[str], window, period: str = "day",
                         cells: Cells | None = None) -> int:
    keys = [table.c[name] for name in grain]
    groups = select(*keys).group_by(*keys).having(func.count() > 1)
    predicate = _day_filter(table, window, period, cells)
    if predicate is not None:
        groups = groups.where(predicate)
    return int(db.fetch_scalar(select(func.count()).select_from(groups.subquery())) or 0)


def grain_enforced(model_label: str, table: Table, grain: Sequence[str]) -> bool:
    """Whether Django's database itself refuses a second row of a grain key in the
    summary table, so that the duplicate scan cannot fail: the model declares a unique
    constraint on exactly the grain, and no grain column can be NULL or NULLs compare
    equal in it (``NULLS NOT DISTINCT``, PostgreSQL 15 and later; on SQLite an expression
    index does that, not relied on here)."""
    from django.apps import apps
    from django.db import connection
    from django.db.models import UniqueConstraint

    nullable = any(table.c[name].nullable for name in grain)
    nulls_equal = connection.features.supports_nulls_distinct_unique_constraints
    for constraint in apps.get_model(model_label)._meta.constraints:
        if not isinstance(constraint, UniqueConstraint) or constraint.condition is not None:
            continue
        if set(constraint.fields) == set(grain) and (
                not nullable or (nulls_equal and constraint.nulls_distinct is False)):
            return True
    return False


def _built_totals(table: Table, reconciliations: Sequence[Reconciliation], window, period: str,
                  cells: Cells | None):
    """(rows, distinct periods, each gate's total) of the rebuilt rows, in one scan: totals
    per period, then summed. ``count(DISTINCT day)`` over the rows would sort them all (a
    million rows of a full build); grouping by the period hashes a few hundred groups.
    The gates' totals are sums and counts, so the sum of each period's is the total."""
    period_column = table.c[period]
    per_period = select(
        period_column.label("period"), func.count().label("rows"),
        *(gate.summary_total(table).label(f"gate_{number}") for number, gate in enumerate(reconciliations)),
    ).group_by(period_column)
    predicate = _day_filter(table, window, period, cells)
    if predicate is not None:
        per_period = per_period.where(predicate)
    groups = per_period.subquery("built_per_period")
    return select(
        func.coalesce(func.sum(groups.c.rows), 0), func.count(groups.c.period),
        *(func.coalesce(func.sum(groups.c[f"gate_{number}"]), 0) for number in range(len(reconciliations))),
    )


def check(table: Table, grain: Sequence[str], reconciliations: Sequence[Reconciliation], window,
          raw: Mapping[str, Decimal], check_grain: bool = True, period: str = "day",
          cells: Cells | None = None) -> int:
    """Raise :class:`GateFailed` with every failed check's reason; return the number of
    distinct days the rebuilt rows cover. With ``cells``, the rebuilt rows are those (day,
    key) pairs' (``window`` is then ignored) and ``raw`` their totals."""
    failures = []
    duplicates = duplicate_grain_rows(table, grain, window, period, cells) if check_grain else 0
    if duplicates:
        failures.append(f"{duplicates} grain keys appear more than once")
    rows, days, *built = db.fetch_all(_built_totals(table, reconciliations, window, period, cells))[0]
    for gate, value in zip(reconciliations, built):
        built_total, expected = Decimal(str(value or 0)), raw[gate.raw_measure]
        if abs(built_total - expected) > gate.tolerance_per_row * max(int(rows), 1):
            failures.append(f"{gate.name}: summary has {built_total}, raw rows give {expected}")
    if failures:
        raise GateFailed(f"{table.name}: publish gate failed: " + "; ".join(failures))
    return int(days)
