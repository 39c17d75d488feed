"""The checks of the data-quality report (:mod:`etl.sources.quality`): one frozen
:class:`Check` per kind of dirt CONTRACT 1 and 4 name, each a query that selects the ids
of the flagged rows, one column labelled ``id``, built from :func:`etl.db.tables.raw` so it
runs unchanged on PostgreSQL and SQLite, in Django's database or a separate EMR database.
The absurd-value checks use the rules of :mod:`etl.queries.validity`, the very predicates
the summaries use.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy import ColumnElement, Select, Table, case, exists, func, select
from sqlalchemy.sql.selectable import CTE

from etl.queries.hierarchy import top_ancestors
from etl.queries.locations import location_clinics
from etl.queries.staff_summary import COMPLETED, COUNTED_STATUSES
from etl.queries.validity import (
    ends_before, hourly_cents, id_value, infinite, lasts_over_a_day, not_timestamp, out_of_day_range,
)
from etl.db.tables import raw

KNOWN_STATUSES = (*COUNTED_STATUSES, "scheduled")
REGION = "region"
MAX_STATUS_VALUES = 20
"""Most frequent unknown status values listed (a wild export could hold thousands)."""


@dataclass(frozen=True)
class Check:
    """One kind of dirt: ``query_builder()`` selects the flagged rows' ``id`` of ``table``;
    ``values_builder()``, when given, selects (``value``, ``count``) of a column that
    explains them, most frequent first."""

    name: str
    table: str
    description: str
    query_builder: Callable[[], Select]
    values_builder: Callable[[], Select] | None = None

# --- query shapes ------------------------------------------------------------------------

def _rows(table_name: str, *conditions) -> Callable[[], Select]:
    """Rows of one table that meet every condition, given as functions of the table."""

    def build() -> Select:
        table = raw(table_name)
        return select(table.c.id.label("id")).where(*(condition(table) for condition in conditions))

    return build


def _dangling(table_name: str, column: str, target_name: str) -> Callable[[], Select]:
    """Rows whose ``column`` is set but names no row of ``target_name``."""

    def build() -> Select:
        table, target = raw(table_name), raw(target_name)
        ref = table.c[column]
        return select(table.c.id.label("id")).where(ref.is_not(None), ~exists().where(target.c.id == id_value(ref)))

    return build


def _unknown_status(visit: Table) -> ColumnElement[bool]:
    return visit.c.status.not_in(KNOWN_STATUSES)


def _status_values() -> Select:
    """(``value``, ``count``, ``distinct``): the unknown statuses, most frequent first, ties
    by value; ``distinct`` is how many there are in all (only the first few are listed)."""
    visit = raw("emr_visit")
    return (
        select(visit.c.status.label("value"), func.count().label("count"), func.count().over().label("distinct"))
        .where(_unknown_status(visit))
        .group_by(visit.c.status)
        .order_by(func.count().desc(), visit.c.status)
        .limit(MAX_STATUS_VALUES)
    )


def _repaired_tree(table_name: str) -> CTE:
    """``table_name``'s (``id``, ``parent_id``) with every parent that names a missing row
    set to NULL: in it, a node has a top unless it is in or under a loop. Fed to
    ``top_ancestors``, which reads only ``id`` and ``parent_id`` of the tree it is given."""
    tree = raw(table_name)
    parent = tree.alias(f"{table_name}_known_parent")
    return (
        select(tree.c.id, case((parent.c.id.is_(None), None), else_=tree.c.parent_id).label("parent_id"))
        .select_from(tree)
        .outerjoin(parent, parent.c.id == tree.c.parent_id)
        .cte(f"{table_name}_repaired")
    )


def _in_loop(table_name: str) -> Callable[[], Select]:
    """Nodes without a top even when missing parents count as roots: in or under a loop."""

    def build() -> Select:
        tree = raw(table_name)
        tops = top_ancestors(_repaired_tree(table_name), f"{table_name}_tops")
        return (
            select(tree.c.id.label("id"))
            .select_from(tree)
            .outerjoin(tops, tops.c.node_id == tree.c.id)
            .where(tops.c.top_id.is_(None))
        )

    return build


def _reaches_missing(table_name: str) -> Callable[[], Select]:
    """Nodes whose top, when missing parents count as roots, has a parent after all: the
    chain stops at a row whose parent is missing."""

    def build() -> Select:
        tree = raw(table_name)
        top = tree.alias(f"{table_name}_top")
        tops = top_ancestors(_repaired_tree(table_name), f"{table_name}_tops")
        return (
            select(tree.c.id.label("id"))
            .select_from(tree)
            .join(tops, tops.c.node_id == tree.c.id)
            .join(top, top.c.id == tops.c.top_id)
            .where(top.c.parent_id.is_not(None))
        )

    return build


def _without_clinic(table_name: str) -> Callable[[], Select]:
    """Rows whose location has no clinic (CONTRACT 4): none found up the chain, or no
    such location row; for ``emr_location`` itself, the locations other than regions."""

    def build() -> Select:
        table, clinics = raw(table_name), location_clinics()
        is_location = table_name == "emr_location"
        query = (
            select(table.c.id.label("id"))
            .select_from(table)
            .outerjoin(clinics, clinics.c.location_id == (table.c.id if is_location else id_value(table.c.location_id)))
            .where(clinics.c.clinic_id.is_(None))
        )
        # A region has no clinic by nature: only other locations without one are dirt.
        return query.where(table.c.kind != REGION) if is_location else query

    return build


TIMESTAMP_FAULTS = (
    ("not_timestamp", not_timestamp,
     "is not 'YYYY-MM-DD HH:MM:SS[.fraction]' text of a real date and time, on SQLite"),
    ("out_of_range", out_of_day_range, "falls outside 0001-01-01 .. 9999-12-31"),
    ("infinite", infinite, "is infinity or -infinity, on PostgreSQL"),
)
TIMESTAMP_EFFECTS = {
    ("emr_visit", "start_at"): "no day: counted nowhere",
    ("emr_visit", "end_at"): "counts as missing: no visit minutes",
    ("emr_shift", "start_at"): "no day: counted nowhere",
    ("emr_shift", "end_at"): "invalid: ignored by staff_cost_summary",
}


def _timestamp_checks() -> tuple[Check, ...]:
    """One check per raw timestamp column that decides a day or a duration, and per
    reason it has no day (CONTRACT 1)."""
    checks = []
    for (table, column), effect in TIMESTAMP_EFFECTS.items():
        noun, short = table.removeprefix("emr_"), column.removesuffix("_at")
        for kind, fault, what in TIMESTAMP_FAULTS:
            checks.append(Check(
                f"{noun}_{short}_{kind}", table, f"{noun}s whose {column} {what} ({effect})",
                _rows(table, lambda t, column=column, fault=fault: fault(t.c[column])),
            ))
    return tuple(checks)


# --- the checks --------------------------------------------------------------------------

CHECKS: tuple[Check, ...] = (
    Check("visit_unknown_status", "emr_visit",
          f"visits whose status is none of {', '.join(KNOWN_STATUSES)} (counted in no summary)",
          _rows("emr_visit", _unknown_status), _status_values),
    Check("visit_ends_before_start", "emr_visit",
          "visits whose end_at is before start_at (no visit minutes)",
          _rows("emr_visit", lambda v: ends_before(v.c.start_at, v.c.end_at))),
    Check("visit_longer_than_24h", "emr_visit",
          "visits whose end_at is more than 24 hours after start_at (completed ones count, with no visit minutes)",
          _rows("emr_visit", lambda v: lasts_over_a_day(v.c.start_at, v.c.end_at))),
    Check("completed_visit_without_end", "emr_visit",
          "completed visits with no end_at (no visit minutes)",
          _rows("emr_visit", lambda v: v.c.status == COMPLETED, lambda v: v.c.end_at.is_(None))),
    Check("shift_ends_before_start", "emr_shift",
          "shifts whose end_at is before start_at (invalid: ignored by staff_cost_summary)",
          _rows("emr_shift", lambda s: ends_before(s.c.start_at, s.c.end_at))),
    Check("shift_longer_than_24h", "emr_shift",
          "shifts longer than 24 hours (invalid: ignored by staff_cost_summary)",
          _rows("emr_shift", lambda s: lasts_over_a_day(s.c.start_at, s.c.end_at))),
    *_timestamp_checks(),
    Check("visit_staff_missing", "emr_visit",
          "visits whose staff_id names no emr_staff row (role group NULL)",
          _dangling("emr_visit", "staff_id", "emr_staff")),
    Check("visit_without_staff", "emr_visit",
          "visits with no staff_id (role group NULL)",
          _rows("emr_visit", lambda v: v.c.staff_id.is_(None))),
    Check("shift_staff_missing", "emr_shift",
          "shifts whose staff_id names no emr_staff row (role group NULL, cost 0)",
          _dangling("emr_shift", "staff_id", "emr_staff")),
    Check("visit_location_missing", "emr_visit",
          "visits whose location_id names no emr_location row (kept under that id)",
          _dangling("emr_visit", "location_id", "emr_location")),
    Check("visit_service_missing", "emr_visit",
          "visits whose service_id names no emr_service row (kept under that id)",
          _dangling("emr_visit", "service_id", "emr_service")),
    Check("visit_patient_missing", "emr_visit",
          "visits whose patient_id names no emr_patient row (still counted)",
          _dangling("emr_visit", "patient_id", "emr_patient")),
    Check("shift_location_missing", "emr_shift",
          "shifts whose location_id names no emr_location row (kept under that id)",
          _dangling("emr_shift", "location_id", "emr_location")),
    Check("staff_without_role", "emr_staff",
          "staff with no role_id (their visits and shifts: role group NULL)",
          _rows("emr_staff", lambda s: s.c.role_id.is_(None))),
    Check("staff_role_missing", "emr_staff",
          "staff whose role_id names no emr_role row (role group NULL)",
          _dangling("emr_staff", "role_id", "emr_role")),
    Check("role_in_loop", "emr_role",
          "roles in or under a parent_id loop (no role group)",
          _in_loop("emr_role")),
    Check("role_reaches_missing_parent", "emr_role",
          "roles whose parent_id chain reaches a missing role (no role group)",
          _reaches_missing("emr_role")),
    Check("location_in_loop", "emr_location",
          "locations in or under a parent_id loop (no region)",
          _in_loop("emr_location")),
    Check("location_reaches_missing_parent", "emr_location",
          "locations whose parent_id chain reaches a missing location (no region)",
          _reaches_missing("emr_location")),
    Check("location_without_clinic", "emr_location",
          "locations other than regions with no clinic up their parent_id chain (left out of the clinic scores)",
          _without_clinic("emr_location")),
    Check("visit_without_clinic", "emr_visit",
          "visits at a location without a clinic, or with no emr_location row (left out of the clinic scores)",
          _without_clinic("emr_visit")),
    Check("shift_without_clinic", "emr_shift",
          "shifts at a location without a clinic, or with no emr_location row (left out of the clinic scores)",
          _without_clinic("emr_shift")),
    Check("staff_without_cost", "emr_staff",
          "staff with no hourly_cost (their shifts cost 0)",
          _rows("emr_staff", lambda s: s.c.hourly_cost.is_(None))),
    Check("staff_negative_cost", "emr_staff",
          "staff whose hourly_cost is negative (their shifts cost 0)",
          _rows("emr_staff", lambda s: hourly_cents(s.c.hourly_cost) < 0)),
    Check("staff_cost_unreadable", "emr_staff",
          "staff whose hourly_cost is no NUMERIC(10,2) value (SQLite: text, or beyond 99,999,999.99;"
          " their shifts cost 0)",
          _rows("emr_staff", lambda s: s.c.hourly_cost.is_not(None), lambda s: hourly_cents(s.c.hourly_cost).is_(None))),
)
