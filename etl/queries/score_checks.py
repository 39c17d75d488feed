"""What the publish gates of the clinic-score tables compare with (CONTRACT 4).

Each builder returns one row of named totals, computed independently of the summary
query, for the rebuilt window: the gate compares a total of the rebuilt rows with each.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import Select, and_, false, func, or_, select, true

from etl.dates import Cells, DateRange
from etl.queries.cells import cells_cte, in_cells
from etl.db.tables import raw, summary_table
from etl.queries.calendar import month_start
from etl.queries.clinic_day import located
from etl.queries.calendar import day_filter
from etl.queries.groups import dated
from etl.queries.validity import date_part, duration_seconds, id_value
from etl.dates import month_ranges


def _where(query: Select, predicate) -> Select:
    return query if predicate is None else query.where(predicate)


def clinic_day_reference(window: Sequence[DateRange] | None, cells: Cells | None = None) -> Select:
    """Raw visits per counted status and hours of valid shifts, at locations that have a
    clinic, on the window's days (with ``cells``: only those (day, clinic) pairs): the same
    validity rules as the raw gates of section 2."""
    visit, shift = raw("emr_visit"), raw("emr_shift")
    places = located()
    pairs = None if cells is None else cells_cte(cells)

    def kept(table):
        if pairs is None:
            return dated(table.c.start_at, window)
        # The rows are matched against the pairs: a coarser day filter reads the same rows.
        where = dated(table.c.start_at, cells.scan_window)
        early = [id_value(table.c.location_id).in_(sorted(cells.locations))] if cells.locations is not None else []
        return and_(where, *early, in_cells(date_part(table.c.start_at), places.c.clinic_id, pairs))

    visits = (
        select(*(func.count().filter(visit.c.status == s).label(s) for s in ("completed", "cancelled", "no_show")))
        .join_from(visit, places, places.c.location_id == id_value(visit.c.location_id))
        .where(kept(visit))
    ).subquery("reference_visits")
    seconds = duration_seconds(shift.c.start_at, shift.c.end_at, start_has_day=True)
    hours = (
        select((func.coalesce(func.sum(seconds), 0) / 3600.0).label("h"))
        .join_from(shift, places, places.c.location_id == id_value(shift.c.location_id))
        .where(kept(shift))
    ).subquery("reference_hours")
    return select(
        visits.c.completed.label("completed visits"), visits.c.cancelled.label("cancelled visits"),
        visits.c.no_show.label("no-show visits"), hours.c.h.label("rostered hours"),
    ).select_from(visits.join(hours, true()))


def _of_regions(predicate, day, region, cells: Cells | None):
    """``predicate``, and with ``cells`` (keyed by region) "(``day``, ``region``) is one of
    their pairs". The pairs' regions are tested first, on the plain column: the rows of
    other regions are dropped before ``day`` (a month, computed per row) is matched."""
    if cells is None:
        return predicate
    keys = {key for _, key in cells.pairs}
    known = sorted(key for key in keys if key is not None)
    of_regions = or_(false(), *([region.in_(known)] if known else []), *([region.is_(None)] if None in keys else []))
    return and_(predicate, of_regions, in_cells(day, region, cells_cte(cells)))


def clinic_score_reference(window: Sequence[DateRange] | None, cells: Cells | None = None) -> Select:
    """The number of clinic_day rows on the window's days (with ``cells``: only those
    (day, region) pairs)."""
    cd = summary_table("etl.ClinicDay")
    predicate = _of_regions(day_filter(cd.c.day, window), cd.c.day, cd.c.region_id, cells)
    return _where(select(func.count().label("clinic_day rows")).select_from(cd), predicate)


def matches_clinic_day(table):
    """1 for each row of ``table`` (clinic_score) with a clinic_day row of the same key."""
    cd = summary_table("etl.ClinicDay")
    return func.sum(select(func.count()).where(cd.c.day == table.c.day, cd.c.clinic_id == table.c.clinic_id)
                    .scalar_subquery())


def region_month_reference(window: Sequence[DateRange] | None, cells: Cells | None = None) -> Select:
    """clinic_day totals over the window's months (with ``cells``: only those (month,
    region) pairs): visits, no-shows, hours, cost and clinic-months (each clinic once per
    month)."""
    cd = summary_table("etl.ClinicDay")
    predicate = _of_regions(day_filter(cd.c.day, month_ranges(window)), month_start(cd.c.day), cd.c.region_id, cells)
    sums = _where(select(
        func.coalesce(func.sum(cd.c.nr_visits), 0).label("clinic_day visits"),
        func.coalesce(func.sum(cd.c.nr_no_show), 0).label("clinic_day no-shows"),
        func.coalesce(func.sum(cd.c.rostered_hours), 0).label("clinic_day hours"),
        func.coalesce(func.sum(cd.c.staff_cost), 0).label("clinic_day cost"),
    ), predicate).subquery("reference_sums")
    pairs = _where(select(month_start(cd.c.day).label("month"), cd.c.clinic_id).distinct(), predicate).subquery("clinic_months")
    clinic_months = select(func.count()).select_from(pairs).scalar_subquery()
    return select(*sums.c, clinic_months.label("clinic-months"))
