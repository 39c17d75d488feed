"""The rows ``clinic_day`` reads (CONTRACT 4): one per raw visit or shift with a day at a
location that has a clinic, with the clinic and its region (:mod:`etl.queries.locations`),
and the same values and rules as the staff summaries' rows (:mod:`etl.queries.staff_rows`).
Visits and shifts at locations without a clinic are left out (inner join)."""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

from sqlalchemy import Select, select
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange
from etl.db.tables import raw
from etl.queries.groups import dated
from etl.queries.clinic_day import located
from etl.queries.portable import date_part
from etl.queries.staff_rows import shift_values, staff_of_roles
from etl.queries.validity import id_value


@lru_cache(maxsize=1)
def clinic_places() -> CTE:
    """(``location_id``, ``clinic_id``, ``region_id``) of every location with a clinic
    (:func:`etl.queries.clinic_day.located`), one object for every source of a statement."""
    return located()


def clinic_visit_rows(window: Sequence[DateRange] | None) -> Select:
    """One row per visit with a day at a location with a clinic: ``day``, ``clinic_id``,
    ``region_id``, ``location_id`` (what a rebuild of some clinics filters early on),
    ``patient_id``, ``status``."""
    visit, places = raw("emr_visit"), clinic_places()
    return (
        select(
            date_part(visit.c.start_at).label("day"),  # the WHERE admits rows with a day only
            places.c.clinic_id,
            places.c.region_id,
            id_value(visit.c.location_id).label("location_id"),
            id_value(visit.c.patient_id).label("patient_id"),
            visit.c.status,
        )
        .join_from(visit, places, places.c.location_id == id_value(visit.c.location_id))
        .where(dated(visit.c.start_at, window))
    )


def clinic_shift_rows(window: Sequence[DateRange] | None) -> Select:
    """One row per shift with a day at a location with a clinic: ``day``, ``clinic_id``,
    ``region_id``, ``location_id``, and ``staff_id``, ``seconds``, ``cost_cent_seconds`` as
    :func:`etl.queries.staff_rows.shift_rows` gives them."""
    shift, places, staff = raw("emr_shift"), clinic_places(), staff_of_roles()
    return (
        select(
            date_part(shift.c.start_at).label("day"),  # the WHERE admits rows with a day only
            places.c.clinic_id,
            places.c.region_id,
            id_value(shift.c.location_id).label("location_id"),
            *shift_values(shift, staff),
        )
        .join_from(shift, places, places.c.location_id == id_value(shift.c.location_id))
        .outerjoin(staff, staff.c.staff_id == id_value(shift.c.staff_id))
        .where(dated(shift.c.start_at, window))
    )
