"""The clinic of each location (CONTRACT 4, "Clinics").

The clinic of a location is the location itself when its ``kind`` is ``clinic``, else the
clinic of its parent. The walk starts at every location and follows ``parent_id`` one step
per iteration until it stands on a clinic; a chain that reaches a NULL parent or a missing
row stops without one, and a loop without a clinic is cut by the same depth guard as
:mod:`etl.queries.hierarchy` (a chain without a loop visits each location at most once,
so ``depth < location count`` never cuts a real chain).
"""
from __future__ import annotations

from sqlalchemy import func, literal, select
from sqlalchemy.sql.selectable import CTE

from etl.db.tables import raw

CLINIC = "clinic"


def location_clinics() -> CTE:
    """Rows (``location_id``, ``clinic_id``) for the locations that have a clinic; the
    others (a region, a department under a region, an orphan, a loop) are absent."""
    location = raw("emr_location")
    node_count = select(func.count()).select_from(location).scalar_subquery()
    walk = (
        select(
            location.c.id.label("location_id"),
            location.c.id.label("ancestor_id"),
            location.c.kind.label("ancestor_kind"),
            location.c.parent_id.label("ancestor_parent_id"),
            literal(0).label("depth"),
        )
        .cte("location_clinics_walk", recursive=True)
    )
    parent = location.alias("location_clinics_parent")
    walk = walk.union_all(
        select(walk.c.location_id, parent.c.id, parent.c.kind, parent.c.parent_id, walk.c.depth + 1)
        .join_from(walk, parent, parent.c.id == walk.c.ancestor_parent_id)
        .where(walk.c.ancestor_kind != CLINIC, walk.c.depth < node_count)  # stop at a clinic; loop guard
    )
    return (
        select(walk.c.location_id, walk.c.ancestor_id.label("clinic_id"))
        .where(walk.c.ancestor_kind == CLINIC)
        .cte("location_clinics")
    )
