"""Keep the dimension tables of Django's database (``dim_location``, ``dim_service``,
``dim_role_group``) equal to the raw tables, on every build.

The reading side (pages, grants, API) reads names and the location tree from these
models only, so it works the same when the raw tables live in another database
(``EMR_DATABASE_URL``): the raw side is read through :mod:`etl.db`, the copies are written
with the ORM. The tables are small (one row per location, service, role group), so each
is replaced whole in one transaction: readers see the old copy or the new one.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from etl import db
from etl.queries import dimensions

BATCH = 1000


@dataclass(frozen=True)
class DimensionCounts:
    locations: int
    services: int
    role_groups: int


def refresh() -> DimensionCounts:
    """Replace the three dimension tables with the raw tables' current content."""
    from etl.models import Location, RoleGroup, Service

    location_rows = db.emr_fetch_all(dimensions.locations())
    service_rows = db.emr_fetch_all(dimensions.services())
    group_rows = db.emr_fetch_all(dimensions.role_group_names())
    with transaction.atomic():
        # Most builds find the copies as they are: a table is rewritten only when it differs.
        if _differs(Location, ("id", "parent_id", "name", "kind", "clinic_id", "region_id"), location_rows):
            Location.objects.all().delete()
            Location.objects.bulk_create(
                [Location(id=i, parent_id=p, name=n, kind=k, clinic_id=c, region_id=r)
                 for i, p, n, k, c, r in location_rows],
                batch_size=BATCH,
            )
        if _differs(Service, ("id", "code", "name"), service_rows):
            Service.objects.all().delete()
            Service.objects.bulk_create([Service(id=i, code=c, name=n) for i, c, n in service_rows],
                                        batch_size=BATCH)
        if _differs(RoleGroup, ("id", "name"), group_rows):
            RoleGroup.objects.all().delete()
            RoleGroup.objects.bulk_create([RoleGroup(id=i, name=n) for i, n in group_rows], batch_size=BATCH)
    return DimensionCounts(len(location_rows), len(service_rows), len(group_rows))


def _differs(model, fields: tuple[str, ...], rows: list) -> bool:
    """Whether the copy ``model`` holds other rows than ``rows`` (tuples of ``fields``)."""
    copied = list(model.objects.values_list(*fields))
    return len(copied) != len(rows) or set(copied) != {tuple(row) for row in rows}
