"""Edits of the location tree that change history (CONTRACT 4).

A clinic-score row depends on emr_location only through each location's clinic and that
clinic's region. Each summary that reads them keeps the (clinic, region) of every
location as it last built them (``BuiltLocation``); a location whose values differ now
(a department moved to another clinic, a clinic moved to another region, a ``kind``
changed, a location added or removed) had history changed where it has visits or shifts:
``clinic_day`` rebuilds those (day, clinic) pairs, for its clinic before and after the
edit, and the other summaries those days, with their forward reach
(:mod:`etl.engine.plan`).
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import select

from etl import db
from etl.queries.clinic_day import located

LocationValues = tuple  # (clinic_id, region_id)
CHUNK = 500


def current_locations() -> dict[int, LocationValues]:
    places = located()
    rows = db.emr_fetch_all(select(places.c.location_id, places.c.clinic_id, places.c.region_id))
    return {int(loc): (int(clinic), None if region is None else int(region)) for loc, clinic, region in rows}


def built_locations(summary: str) -> dict[int, LocationValues]:
    from etl.models import BuiltLocation

    return {
        loc: (clinic, region)
        for loc, clinic, region in BuiltLocation.objects.filter(summary=summary).values_list(
            "location_id", "clinic_id", "region_id"
        )
    }


def changed_locations(built: dict[int, LocationValues], current: dict[int, LocationValues]) -> set[int]:
    return {loc for loc in built.keys() | current.keys() if built.get(loc) != current.get(loc)}


def save_locations(summary: str, current: dict[int, LocationValues], location_ids: Iterable[int] | None) -> None:
    """Record ``current`` as built, for the given locations (None: all of them)."""
    from etl.models import BuiltLocation

    rows = BuiltLocation.objects.filter(summary=summary)
    if location_ids is not None:
        location_ids = list(location_ids)
        rows = rows.filter(location_id__in=location_ids) if len(location_ids) < CHUNK else rows
        keep = [loc for loc in location_ids if loc in current] if len(location_ids) < CHUNK else list(current)
    else:
        keep = list(current)
    rows.delete()
    BuiltLocation.objects.bulk_create(
        [BuiltLocation(summary=summary, location_id=loc, clinic_id=current[loc][0], region_id=current[loc][1])
         for loc in keep],
        batch_size=2000,
    )
