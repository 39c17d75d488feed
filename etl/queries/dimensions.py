"""The small dimension tables the reading side needs: locations with their clinic and
region, services, and role groups with their names."""
from __future__ import annotations

from sqlalchemy import Select, select

from etl.db.tables import raw
from etl.queries.groups import role_groups
from etl.queries.locations import location_clinics, regions


def locations() -> Select:
    """One row per ``emr_location`` row: ``id``, ``parent_id``, ``name``, ``kind``,
    ``clinic_id``, ``region_id``. Both joins are outer: a location without a clinic or a
    region (broken chain, loop) keeps its row with NULL there."""
    location = raw("emr_location")
    clinics, region_of = location_clinics(), regions()
    return (
        select(
            location.c.id, location.c.parent_id, location.c.name, location.c.kind,
            clinics.c.clinic_id, region_of.c.top_id.label("region_id"),
        )
        .select_from(location)
        .outerjoin(clinics, clinics.c.location_id == location.c.id)
        .outerjoin(region_of, region_of.c.node_id == location.c.id)
        .order_by(location.c.id)
    )


def services() -> Select:
    """``id``, ``code``, ``name`` of every ``emr_service`` row."""
    service = raw("emr_service")
    return select(service.c.id, service.c.code, service.c.name).order_by(service.c.id)


def role_group_names() -> Select:
    """``id``, ``name`` of every role group: the roles that are some role's top-most
    ancestor (a root role is its own group, so every root appears)."""
    groups = role_groups()
    role = raw("emr_role")
    return (
        select(role.c.id, role.c.name)
        .where(role.c.id.in_(select(groups.c.top_id)))
        .order_by(role.c.id)
    )
