"""The clinic and region of every location (CONTRACT section 4, "Clinics")."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.sql.selectable import CTE

from etl.db.tables import raw
from etl.queries.hierarchy import top_ancestors, walk_down
from etl.queries.portable import one_row_per

CLINIC = "clinic"


def regions() -> CTE:
    """(``node_id`` = location id, ``top_id`` = its region) for locations that have a region."""
    return top_ancestors(raw("emr_location"), "regions")


def location_clinics() -> CTE:
    """(``location_id``, ``clinic_id``) for every location that has a clinic: the location
    itself when its kind is ``clinic``, else the nearest clinic above it.

    Walking down from every clinic into children that are not clinics gives each
    location the first clinic on its way up; a location whose way up reaches a root, a
    missing row or a loop before any clinic is never reached, so it has no clinic.
    """
    return walk_down(
        raw("emr_location"), "location_clinics",
        seed=lambda t: t.c.kind == CLINIC, stop=lambda t: t.c.kind == CLINIC,
        columns=("location_id", "clinic_id"),
    )


def clinic_locations(clinics: CTE, region_of: CTE) -> CTE:
    """(``location_id``, ``clinic_id``, ``region_id``) for every location with a clinic;
    ``region_id`` is the clinic's region, NULL when its chain up loops or breaks (outer
    join: such a clinic still counts, under region NULL).

    Each location is reached once by the walk, so the rows are one per ``location_id``,
    which the query says (:func:`etl.queries.portable.one_row_per`); on PostgreSQL the CTE
    is inlined where it is read. Both let the planner hash these few hundred rows for the
    join with a million visits, rather than the visits."""
    query = (
        select(clinics.c.location_id, clinics.c.clinic_id, region_of.c.top_id.label("region_id"))
        .select_from(clinics)
        .outerjoin(region_of, region_of.c.node_id == clinics.c.clinic_id)
    )
    return (
        one_row_per(query, clinics.c.location_id)
        .cte("clinic_locations")
        .prefix_with("NOT MATERIALIZED", dialect="postgresql")
    )
