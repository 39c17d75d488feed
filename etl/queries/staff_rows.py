"""The rows the staff summaries read (CONTRACT 2): one per raw visit or shift whose
``start_at`` has a day, with its day, grain keys and values, the contract's rules for
absurd values applied (:mod:`etl.queries.validity`: ids read as PostgreSQL stores a
BIGINT, durations valid from 0 to 24 hours). The declarations of
:mod:`etl.summaries.staff` filter and aggregate them.

Both builders take the build window (None: every day) and select rows with
:func:`etl.queries.groups.dated`, the one predicate full and incremental builds share.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from sqlalchemy import ColumnElement, Select, Table, case, func, select
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange
from etl.db.tables import raw
from etl.queries.groups import dated, role_groups, staff_groups
from etl.queries.portable import date_part
from etl.queries.validity import duration_seconds, id_value

COMPLETED, CANCELLED, NO_SHOW = "completed", "cancelled", "no_show"
COUNTED_STATUSES = (COMPLETED, CANCELLED, NO_SHOW)


@lru_cache(maxsize=1)
def staff_of_roles() -> CTE:
    """``staff_groups`` over ``role_groups``, one object for every source: a statement
    that reads visits and shifts names each CTE once."""
    return staff_groups(role_groups())


def visit_rows(window: Sequence[DateRange] | None) -> Select:
    """One row per visit with a day: ``day``, ``location_id``, ``service_id``,
    ``role_group_id`` and ``role_group_name`` (NULL when the visit has no staff, the staff
    row is missing, the member has no role or the role no group: outer join), ``patient_id``,
    ``status``, ``valid_seconds`` (the duration of a completed visit when it is valid — an
    end with a day, 0 to 24 hours after the start — else NULL: such a visit counts,
    without minutes)."""
    visit, staff = raw("emr_visit"), staff_of_roles()
    return (
        select(
            date_part(visit.c.start_at).label("day"),  # the WHERE admits rows with a day only
            id_value(visit.c.location_id).label("location_id"),
            id_value(visit.c.service_id).label("service_id"),
            staff.c.role_group_id,
            staff.c.role_group_name,
            id_value(visit.c.patient_id).label("patient_id"),
            visit.c.status,
            case((
                visit.c.status == COMPLETED,
                duration_seconds(visit.c.start_at, visit.c.end_at, start_has_day=True),
            )).label("valid_seconds"),
        )
        .select_from(visit)
        .outerjoin(staff, staff.c.staff_id == id_value(visit.c.staff_id))
        .where(dated(visit.c.start_at, window))
    )


def shift_values(shift: Table, staff: CTE) -> list[ColumnElement]:
    """A shift's ``staff_id``, ``seconds`` (whole seconds of a valid duration, else NULL: an
    invalid shift) and ``cost_cent_seconds`` (``seconds`` × the member's hourly cost in
    cents; a NULL, negative, unreadable or missing cost counts 0), ``staff`` outer-joined."""
    seconds = duration_seconds(shift.c.start_at, shift.c.end_at, start_has_day=True)
    return [
        id_value(shift.c.staff_id).label("staff_id"),
        seconds.label("seconds"),
        (seconds * func.coalesce(staff.c.hourly_cost_cents, 0)).label("cost_cent_seconds"),
    ]


def shift_rows(window: Sequence[DateRange] | None) -> Select:
    """One row per shift with a day: ``day``, ``location_id``, ``role_group_id`` (NULL when
    the staff row is missing), and :func:`shift_values`."""
    shift, staff = raw("emr_shift"), staff_of_roles()
    return (
        select(
            date_part(shift.c.start_at).label("day"),  # the WHERE admits rows with a day only
            id_value(shift.c.location_id).label("location_id"),
            staff.c.role_group_id,
            *shift_values(shift, staff),
        )
        .select_from(shift)
        .outerjoin(staff, staff.c.staff_id == id_value(shift.c.staff_id))
        .where(dated(shift.c.start_at, window))
    )
