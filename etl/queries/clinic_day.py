"""``clinic_day``: visits, hours, cost and their ratios per (day, clinic) — CONTRACT 4.

The build runs the declaration of ``clinic_day`` (:mod:`etl.summaries.clinics`, over the
rows of :mod:`etl.queries.clinic_rows`); this hand-written query is its reference, and
``tests/test_declared_staff.py`` checks that both give the same rows.

Grain: one row per (``day``, ``clinic_id``) with a counted visit (completed, cancelled,
no-show) or a valid shift at a location whose clinic is ``clinic_id`` (the clinic itself
and every department under it). Columns, in order: ``day``, ``clinic_id``, ``region_id``,
``nr_visits``, ``nr_cancelled``, ``nr_no_show``, ``nr_patients``, ``no_show_rate``,
``rostered_hours``, ``staff_cost``, ``nr_staff``, ``patients_per_hour``,
``cost_per_patient``.

Named CTEs: ``clinic_locations`` (location → clinic, region) → ``clinic_visits`` and
``clinic_shifts`` (built from the same blocks and validity rules as
``staff_cost_summary``: a day, the 24-hour rule, whole seconds, exact cents) → ``clinic_totals`` (both sides stacked and summed per key, the portable
full outer join) → ``rounded`` (hours and cents rounded half up once per row, as in
``staff_cost_summary``) → the row with its ratios. Visits and shifts at
locations without a clinic are left out (inner join).
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import Select, case, distinct, func, literal, select, union_all
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange
from etl.db.tables import raw
from etl.queries.groups import dated, role_groups, staff_groups
from etl.queries.locations import clinic_locations, location_clinics, regions
from etl.queries.portable import rounded_quotient, seconds_between, shift_decimal
from etl.queries.staff_cost_summary import rounded
from etl.queries.staff_summary import CANCELLED, COMPLETED, COUNTED_STATUSES, NO_SHOW
from etl.queries.validity import date_part, id_value, valid_duration


def located() -> CTE:
    """(``location_id``, ``clinic_id``, ``region_id``) of every location with a clinic."""
    return clinic_locations(location_clinics(), regions())


def clinic_visits(places: CTE, window: Sequence[DateRange] | None) -> CTE:
    """Counted visits with a day (CONTRACT 1) per (``day``, ``clinic_id``, ``region_id``):
    ``nr_visits``, ``nr_cancelled``, ``nr_no_show``, ``nr_patients`` (distinct over
    completed visits)."""
    visit = raw("emr_visit")
    day = date_part(visit.c.start_at)
    completed = visit.c.status == COMPLETED
    query = (
        select(
            day.label("day"), places.c.clinic_id, places.c.region_id,
            func.count().filter(completed).label("nr_visits"),
            func.count().filter(visit.c.status == CANCELLED).label("nr_cancelled"),
            func.count().filter(visit.c.status == NO_SHOW).label("nr_no_show"),
            func.count(distinct(id_value(visit.c.patient_id))).filter(completed).label("nr_patients"),
        )
        .join_from(visit, places, places.c.location_id == id_value(visit.c.location_id))
        .where(visit.c.status.in_(COUNTED_STATUSES), dated(visit.c.start_at, window))
        .group_by(day, places.c.clinic_id, places.c.region_id)
    )
    return query.cte("clinic_visits")


def clinic_shifts(places: CTE, staff: CTE, window: Sequence[DateRange] | None) -> CTE:
    """Valid shifts (a day, an end 0 to 24 hours after the start: the ones
    ``staff_cost_summary`` counts) per (``day``, ``clinic_id``, ``region_id``):
    ``rostered_seconds``, the cost as ``cost_cent_hours`` and ``cost_remainder`` (split as
    :mod:`etl.queries.staff_cost_summary` explains; a NULL, negative or missing cost counts
    0), ``nr_staff``."""
    shift = raw("emr_shift")
    day = date_part(shift.c.start_at)
    # The WHERE admits valid durations only, so the plain difference is safe here.
    seconds = seconds_between(shift.c.start_at, shift.c.end_at)
    cent_seconds = seconds * func.coalesce(staff.c.hourly_cost_cents, 0)
    query = (
        select(
            day.label("day"), places.c.clinic_id, places.c.region_id,
            func.sum(seconds).label("rostered_seconds"),
            func.sum(cent_seconds // 3600).label("cost_cent_hours"),
            func.sum(cent_seconds % 3600).label("cost_remainder"),
            func.count(distinct(id_value(shift.c.staff_id))).label("nr_staff"),
        )
        .join_from(shift, places, places.c.location_id == id_value(shift.c.location_id))
        .outerjoin(staff, staff.c.staff_id == id_value(shift.c.staff_id))
        .where(dated(shift.c.start_at, window), valid_duration(shift.c.start_at, shift.c.end_at, start_has_day=True))
        .group_by(day, places.c.clinic_id, places.c.region_id)
    )
    return query.cte("clinic_shifts")


def clinic_totals(visits: CTE, shifts: CTE) -> CTE:
    """Visits and shifts matched on (day, clinic): each key has at most one row from each
    side, so stacking both with zeros for the other side's measures and summing per key
    is their full outer join, portably (as ``staff_cost_summary.matched``)."""
    zero = literal(0)
    stacked = union_all(
        select(visits.c.day, visits.c.clinic_id, visits.c.region_id, visits.c.nr_visits,
               visits.c.nr_cancelled, visits.c.nr_no_show, visits.c.nr_patients,
               zero.label("rostered_seconds"), zero.label("cost_cent_hours"), zero.label("cost_remainder"),
               zero.label("nr_staff")),
        select(shifts.c.day, shifts.c.clinic_id, shifts.c.region_id, zero, zero, zero, zero,
               shifts.c.rostered_seconds, shifts.c.cost_cent_hours, shifts.c.cost_remainder, shifts.c.nr_staff),
    ).subquery("clinic_visits_and_shifts")
    keys = (stacked.c.day, stacked.c.clinic_id, stacked.c.region_id)
    measures = ("nr_visits", "nr_cancelled", "nr_no_show", "nr_patients", "rostered_seconds",
                "cost_cent_hours", "cost_remainder", "nr_staff")
    return (
        select(*keys, *(func.sum(stacked.c[m]).label(m) for m in measures))
        .group_by(*keys)
        .cte("clinic_totals")
    )


def clinic_day_rows(window: Sequence[DateRange] | None = None) -> Select:
    """Rows of ``clinic_day`` in its column order, for every day (None) or the window's
    days. Ratios use the row's own rounded columns, rounded half up to 4 decimals."""
    places = located()
    staff = staff_groups(role_groups())
    r = rounded(clinic_totals(clinic_visits(places, window), clinic_shifts(places, staff, window)))
    attended = r.c.nr_visits + r.c.nr_no_show
    return select(
        r.c.day,
        r.c.clinic_id,
        r.c.region_id,
        r.c.nr_visits,
        r.c.nr_cancelled,
        r.c.nr_no_show,
        r.c.nr_patients,
        case((attended > 0, rounded_quotient(r.c.nr_no_show, attended, 4))).label("no_show_rate"),
        shift_decimal(r.c.hour_units, 4).label("rostered_hours"),
        shift_decimal(r.c.cost_cents, 2).label("staff_cost"),
        r.c.nr_staff,
        case((r.c.hour_units > 0, rounded_quotient(r.c.nr_patients * 10000, r.c.hour_units, 4)))
        .label("patients_per_hour"),
        case((r.c.nr_patients > 0, rounded_quotient(r.c.cost_cents, r.c.nr_patients * 100, 4)))
        .label("cost_per_patient"),
    )
