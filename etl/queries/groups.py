"""Role groups of roles and staff members (CONTRACT section 1, "Hierarchies")."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange
from etl.db.tables import raw
from etl.queries.hierarchy import top_ancestors
from etl.queries.validity import cost_cents, day_of, has_day, id_value


def role_groups() -> CTE:
    """(``node_id`` = role id, ``top_id`` = its role group id) for roles that have a group."""
    return top_ancestors(raw("emr_role"), "role_groups")


def staff_groups(groups: CTE) -> CTE:
    """One row per ``emr_staff`` row: ``staff_id``, ``role_group_id``, ``role_group_name``,
    ``hourly_cost_cents`` (0 for a NULL, negative or unreadable cost: what an hour costs).

    Both joins are outer: a staff member without a role, or whose role has no group, keeps
    their row with a NULL group (their visits belong to role group NULL).
    """
    staff = raw("emr_staff")
    group_role = raw("emr_role").alias("group_role")
    return (
        select(
            id_value(staff.c.id).label("staff_id"),
            groups.c.top_id.label("role_group_id"),
            group_role.c.name.label("role_group_name"),
            # Cost in whole cents keeps cost sums exact on SQLite's REAL arithmetic too.
            cost_cents(staff.c.hourly_cost).label("hourly_cost_cents"),
        )
        .select_from(staff)
        .outerjoin(groups, groups.c.node_id == id_value(staff.c.role_id))
        .outerjoin(group_role, group_role.c.id == groups.c.top_id)
        .cte("staff_groups")
        # Inlined where it is read (PostgreSQL materializes a CTE read twice): the planner
        # then knows staff_id is emr_staff's key and hashes the 5,000 staff rather than
        # the visits or shifts joined to them.
        .prefix_with("NOT MATERIALIZED", dialect="postgresql")
    )


def dated(start_at: ColumnElement, window: Sequence[DateRange] | None) -> ColumnElement[bool]:
    """Predicate "``start_at`` has a day (CONTRACT 1), on one of the window's days" (None:
    any day). Full and incremental builds select rows with this one predicate, so a row
    without a day is skipped by both alike."""
    in_range = in_window(start_at, window)
    return has_day(start_at) if in_range is None else and_(has_day(start_at), in_range)


def in_window(start_at: ColumnElement, window: Sequence[DateRange] | None) -> ColumnElement[bool] | None:
    """Predicate "``start_at`` falls on one of the window's days" (None: no window).

    Written as half-open timestamp ranges so the ``start_at`` indexes serve it; a range
    that ends with the last day there is (9999-12-31) is bounded by the day itself (the
    moment after it does not exist in Python, nor as SQLite date text). On SQLite it
    compares text, which orders as time only for canonical timestamps: use it with
    ``has_day`` (:func:`dated`).
    """
    if window is None:
        return None
    if not window:
        return false()
    return or_(*(
        and_(start_at >= r.start_at, start_at < r.end_at if r.end_at is not None else day_of(start_at) <= r.last)
        for r in window
    ))
