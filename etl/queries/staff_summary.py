"""``staff_summary``: visits per (day, location, service, role group) — CONTRACT 2.

Layers: ``role_groups`` → ``staff_groups`` → ``counted_visits`` → final aggregate.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import Select, case, distinct, func, select
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange
from etl.db.tables import raw
from etl.queries.groups import dated, role_groups, staff_groups
from etl.queries.portable import rounded_quotient
from etl.queries.validity import date_part, duration_seconds, id_value

COMPLETED, CANCELLED, NO_SHOW = "completed", "cancelled", "no_show"
COUNTED_STATUSES = (COMPLETED, CANCELLED, NO_SHOW)


def counted_visits(staff: CTE, window: Sequence[DateRange] | None) -> CTE:
    """Visits with a counted status (unknown statuses count nowhere) and a day, one row
    each, with ``day``, the grain keys, ``status``, ``patient_id`` and ``valid_seconds``
    (the duration of a completed visit when it is valid — an end with a day, 0 to 24 hours
    after the start — else NULL: such a visit counts, without minutes)."""
    visit = raw("emr_visit")
    query = (
        select(
            date_part(visit.c.start_at).label("day"),
            id_value(visit.c.location_id).label("location_id"),
            id_value(visit.c.service_id).label("service_id"),
            # NULL when the visit has no staff, the staff row is missing, the member has
            # no role or the role no group: such visits belong to role group NULL.
            staff.c.role_group_id,
            staff.c.role_group_name,
            id_value(visit.c.patient_id).label("patient_id"),
            visit.c.status,
            case((visit.c.status == COMPLETED, duration_seconds(visit.c.start_at, visit.c.end_at, start_has_day=True)))
            .label("valid_seconds"),
        )
        .select_from(visit)
        .outerjoin(staff, staff.c.staff_id == id_value(visit.c.staff_id))
        .where(visit.c.status.in_(COUNTED_STATUSES), dated(visit.c.start_at, window))
    )
    return query.cte("counted_visits")


def staff_summary_rows(window: Sequence[DateRange] | None = None) -> Select:
    """Rows of ``staff_summary`` in its column order (all days, or the window's days)."""
    visits = counted_visits(staff_groups(role_groups()), window)
    completed = visits.c.status == COMPLETED
    return (
        select(
            visits.c.day,
            visits.c.location_id,
            visits.c.service_id,
            visits.c.role_group_id,
            visits.c.role_group_name,
            func.count().filter(completed).label("nr_visits"),
            func.count(distinct(visits.c.patient_id)).filter(completed).label("nr_patients"),
            func.count().filter(visits.c.status == CANCELLED).label("nr_cancelled"),
            func.count().filter(visits.c.status == NO_SHOW).label("nr_no_show"),
            rounded_quotient(func.coalesce(func.sum(visits.c.valid_seconds), 0), 60, 2).label("visit_minutes"),
        )
        .group_by(
            visits.c.day, visits.c.location_id, visits.c.service_id,
            visits.c.role_group_id, visits.c.role_group_name,
        )
    )
