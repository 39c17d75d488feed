"""The rows ``clinic_score``, ``region_month`` and its helper read (CONTRACT 4), each a
function of the build window like every source: the ``clinic_day`` and ``clinic_score``
rows of the window's days, and the completed visits at clinics with their month.

The declarations (:mod:`etl.summaries.clinics`) say what is computed from them; these
builders only say which rows and columns: the month of a day, and ``clinic_day``'s hours
and cost back in whole units (1/10000 hour, cents), so that sums of them are exact on
SQLite's REAL too.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import BigInteger, Select, cast, func, select

from etl.dates import DateRange
from etl.db.tables import raw, summary_table
from etl.queries.calendar import day_filter, month_start
from etl.queries.clinic_rows import clinic_places
from etl.queries.groups import dated
from etl.queries.portable import date_part
from etl.queries.validity import id_value

Window = Sequence[DateRange] | None


def _of_days(query: Select, day, window: Window) -> Select:
    predicate = day_filter(day, window)
    return query if predicate is None else query.where(predicate)


def clinic_days(window: Window) -> Select:
    """``clinic_day`` rows: ``day``, ``clinic_id``, ``region_id``, ``nr_visits``,
    ``patients_per_hour``, ``cost_per_patient``."""
    cd = summary_table("etl.ClinicDay")
    query = select(cd.c.day, cd.c.clinic_id, cd.c.region_id, cd.c.nr_visits, cd.c.patients_per_hour,
                   cd.c.cost_per_patient)
    return _of_days(query, cd.c.day, window)


def clinic_day_months(window: Window) -> Select:
    """``clinic_day`` rows with their ``month``: ``region_id``, ``clinic_id``,
    ``nr_visits``, ``nr_no_show``, ``hour_units`` (1/10000 hour), ``cost_cents``."""
    cd = summary_table("etl.ClinicDay")
    query = select(
        month_start(cd.c.day).label("month"), cd.c.region_id, cd.c.clinic_id, cd.c.nr_visits, cd.c.nr_no_show,
        cast(func.round(cd.c.rostered_hours * 10000), BigInteger).label("hour_units"),
        cast(func.round(cd.c.staff_cost * 100), BigInteger).label("cost_cents"),
    )
    return _of_days(query, cd.c.day, window)


def clinic_score_months(window: Window) -> Select:
    """``clinic_score`` rows with their ``month``: ``region_id``, ``is_outlier``."""
    cs = summary_table("etl.ClinicScore")
    query = select(month_start(cs.c.day).label("month"), cs.c.region_id, cs.c.is_outlier)
    return _of_days(query, cs.c.day, window)


def region_month_patient_counts(window: Window) -> Select:
    """``region_month_patients`` rows: ``month``, ``region_id``, ``nr_patients``."""
    rmp = summary_table("etl.RegionMonthPatients")
    return _of_days(select(rmp.c.month, rmp.c.region_id, rmp.c.nr_patients), rmp.c.month, window)


def clinic_visit_months(window: Window) -> Select:
    """One row per visit with a day at a location with a clinic: ``month``, ``region_id``,
    ``patient_id``, ``status``."""
    visit, places = raw("emr_visit"), clinic_places()
    return (
        select(
            month_start(date_part(visit.c.start_at)).label("month"),  # the WHERE admits rows with a day only
            places.c.region_id,
            id_value(visit.c.patient_id).label("patient_id"),
            visit.c.status,
        )
        .join_from(visit, places, places.c.location_id == id_value(visit.c.location_id))
        .where(dated(visit.c.start_at, window))
    )
