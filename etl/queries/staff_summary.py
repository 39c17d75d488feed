"""``staff_summary``: visits per (day, location, service, role group) — CONTRACT 2.

The build runs the declaration of ``staff_summary`` (:mod:`etl.summaries.staff`, over
the rows of :mod:`etl.queries.staff_rows`); this hand-written query is its reference,
and ``tests/test_declared_staff.py`` checks that both give the same rows.

Layers: ``role_groups`` → ``staff_groups`` → ``counted_visits`` → final aggregate.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import Select, distinct, func, select
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange
from etl.queries.portable import rounded_quotient
from etl.queries.staff_rows import CANCELLED, COMPLETED, COUNTED_STATUSES, NO_SHOW, visit_rows

__all__ = ["CANCELLED", "COMPLETED", "COUNTED_STATUSES", "NO_SHOW", "counted_visits", "staff_summary_rows"]


def counted_visits(window: Sequence[DateRange] | None) -> CTE:
    """Visits with a counted status (unknown statuses count nowhere) and a day, one row
    each (:func:`etl.queries.staff_rows.visit_rows`)."""
    visits = visit_rows(window)
    return visits.where(visits.selected_columns.status.in_(COUNTED_STATUSES)).cte("counted_visits")


def staff_summary_rows(window: Sequence[DateRange] | None = None) -> Select:
    """Rows of ``staff_summary`` in its column order (all days, or the window's days)."""
    visits = counted_visits(window)
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
