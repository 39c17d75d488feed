"""``region_month`` and its helper ``region_month_patients`` — CONTRACT 4.

``region_month_patients`` — grain (``month``, ``region_id``); columns ``month``,
``region_id``, ``nr_patients``: distinct patients of the month's completed visits at the
region's clinics. It reads the raw visits (a distinct count over a month is not a sum of
daily counts), so with a separate EMR database it is computed there and streamed, and
``region_month`` reads only summary tables, all in Django's database.

``region_month`` — grain (``month``, ``region_id``; NULL is its own region); columns
``month``, ``region_id``, ``nr_clinics``, ``nr_visits``, ``nr_no_show``, ``nr_patients``,
``rostered_hours``, ``staff_cost``, ``visits_per_hour``, ``cost_per_patient``,
``outlier_days``, ``visits_change``. Named CTEs: ``month_days`` (the clinic_day rows of
the window's months and of the month before each, hours and cost back in whole units) →
``month_totals`` → ``month_changes`` (``LAG`` of the visits and of the month number: the
previous *row* counts only when it is the calendar month just before) → joined with
``month_outliers`` (clinic_score) and ``region_month_patients``.

A window of days selects the months whose first day it holds (builds widen their windows
to whole months).
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import BigInteger, Select, and_, case, cast, distinct, false, func, select
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange, month_ranges
from etl.db.tables import raw, summary_table
from etl.queries.calendar import month_number, month_start
from etl.queries.clinic_day import located
from etl.queries.calendar import day_filter
from etl.queries.groups import dated
from etl.queries.portable import relative_change, rounded_quotient, shift_decimal
from etl.queries.validity import date_part, id_value
from etl.queries.staff_summary import COMPLETED


def region_month_patients_rows(window: Sequence[DateRange] | None = None) -> Select:
    """Rows of ``region_month_patients``: (``month``, ``region_id``, ``nr_patients``)."""
    visit, places = raw("emr_visit"), located()
    month = month_start(date_part(visit.c.start_at))
    return (
        select(month.label("month"), places.c.region_id,
               func.count(distinct(id_value(visit.c.patient_id))).label("nr_patients"))
        .join_from(visit, places, places.c.location_id == id_value(visit.c.location_id))
        .where(visit.c.status == COMPLETED, dated(visit.c.start_at, month_ranges(window)))
        .group_by(month, places.c.region_id)
    )


def month_days(window: Sequence[DateRange] | None) -> CTE:
    """clinic_day rows of the window's months and the month before each: ``month``,
    ``month_no``, hours in ``hour_units`` (1/10000 h) and cost in ``cost_cents``."""
    cd = summary_table("etl.ClinicDay")
    query = select(
        month_start(cd.c.day).label("month"), month_number(cd.c.day).label("month_no"), cd.c.region_id,
        cd.c.clinic_id, cd.c.nr_visits, cd.c.nr_no_show,
        # Whole units again, so that sums are exact on SQLite's REAL too.
        cast(func.round(cd.c.rostered_hours * 10000), BigInteger).label("hour_units"),
        cast(func.round(cd.c.staff_cost * 100), BigInteger).label("cost_cents"),
    )
    predicate = day_filter(cd.c.day, month_ranges(window, months_before=1))
    return (query if predicate is None else query.where(predicate)).cte("month_days")


def month_totals(days: CTE) -> CTE:
    keys = (days.c.month, days.c.month_no, days.c.region_id)
    return (
        select(
            *keys, func.count(distinct(days.c.clinic_id)).label("nr_clinics"),
            *(func.sum(days.c[m]).label(m) for m in ("nr_visits", "nr_no_show", "hour_units", "cost_cents")),
        )
        .group_by(*keys)
        .cte("month_totals")
    )


def month_changes(totals: CTE) -> CTE:
    """Adds ``prev_no`` and ``prev_visits``: the month number and visits of the region's
    previous row (NULL regions form one partition)."""
    order = dict(partition_by=totals.c.region_id, order_by=totals.c.month_no)
    return select(
        totals,
        func.lag(totals.c.month_no).over(**order).label("prev_no"),
        func.lag(totals.c.nr_visits).over(**order).label("prev_visits"),
    ).cte("month_changes")


def month_outliers(window: Sequence[DateRange] | None) -> CTE:
    """Outlier days per (``month``, ``region_id``), from clinic_score."""
    cs = summary_table("etl.ClinicScore")
    month = month_start(cs.c.day)
    query = (
        select(month.label("month"), cs.c.region_id, func.count().label("outlier_days"))
        .where(cs.c.is_outlier)
        .group_by(month, cs.c.region_id)
    )
    predicate = day_filter(cs.c.day, month_ranges(window))
    return (query if predicate is None else query.where(predicate)).cte("month_outliers")


def region_month_rows(window: Sequence[DateRange] | None = None) -> Select:
    """Rows of ``region_month`` in its column order, for every month (None) or the months
    whose first day the window holds."""
    m = month_changes(month_totals(month_days(window)))
    outliers = month_outliers(window)
    patients = summary_table("etl.RegionMonthPatients")
    nr_patients = func.coalesce(patients.c.nr_patients, 0)
    query = (
        select(
            m.c.month, m.c.region_id, m.c.nr_clinics, m.c.nr_visits, m.c.nr_no_show,
            nr_patients.label("nr_patients"),
            shift_decimal(m.c.hour_units, 4).label("rostered_hours"),
            shift_decimal(m.c.cost_cents, 2).label("staff_cost"),
            case((m.c.hour_units > 0, rounded_quotient(m.c.nr_visits * 10000, m.c.hour_units, 4)))
            .label("visits_per_hour"),
            case((nr_patients > 0, rounded_quotient(m.c.cost_cents, nr_patients * 100, 4))).label("cost_per_patient"),
            func.coalesce(outliers.c.outlier_days, 0).label("outlier_days"),
            case((and_(m.c.prev_no == m.c.month_no - 1, m.c.prev_visits > 0),
                  relative_change(m.c.nr_visits, m.c.prev_visits, 4)))
            .label("visits_change"),
        )
        .select_from(m)
        .outerjoin(outliers, and_(outliers.c.month == m.c.month,
                                  outliers.c.region_id.is_not_distinct_from(m.c.region_id)))
        .outerjoin(patients, and_(patients.c.month == m.c.month,
                                  patients.c.region_id.is_not_distinct_from(m.c.region_id)))
    )
    months = month_ranges(window)
    if months is not None:
        query = query.where(day_filter(m.c.month, months) if months else false())
    return query
