"""Edits of the dimension tables that change history.

A summary row depends on emr_staff and the emr_role tree only through each staff member's
role group, group name and hourly cost. Each summary keeps those values as it last built
them (``BuiltStaffGroup``); a member whose values differ now (or who appeared or
disappeared) had history changed, and every day with their visits or shifts is rebuilt.
Location edits are the same kind of change for the summaries that read the location tree
(:mod:`etl.engine.locationdiff`); emr_service and emr_patient feed no summary column.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from sqlalchemy import select, union

from etl import db
from etl.dates import FIRST_DAY, LAST_DAY
from etl.queries.groups import role_groups, staff_groups
from etl.queries.portable import day_of
from etl.db.tables import raw
from etl.db.values import as_day

StaffValues = tuple  # (role_group_id, role_group_name, hourly_cost_cents)
CHUNK = 500


def current_staff_groups() -> dict[int, StaffValues]:
    groups = staff_groups(role_groups())
    rows = db.emr_fetch_all(
        select(groups.c.staff_id, groups.c.role_group_id, groups.c.role_group_name, groups.c.hourly_cost_cents)
    )
    return {
        int(staff_id): (
            None if group is None else int(group), name, None if cents is None else int(cents),
        )
        for staff_id, group, name, cents in rows
    }


def built_staff_groups(summary: str) -> dict[int, StaffValues]:
    from etl.models import BuiltStaffGroup

    return {
        staff_id: (group, name, cents)
        for staff_id, group, name, cents in BuiltStaffGroup.objects.filter(summary=summary).values_list(
            "staff_id", "role_group_id", "role_group_name", "hourly_cost_cents"
        )
    }


def changed_staff(built: dict[int, StaffValues], current: dict[int, StaffValues]) -> set[int]:
    return {sid for sid in built.keys() | current.keys() if built.get(sid) != current.get(sid)}


def days_of_staff(staff_ids: Iterable[int]) -> set[dt.date]:
    """Days with a visit or shift of any of these staff members."""
    return days_with("staff_id", staff_ids)


def days_with(column: str, ids: Iterable[int]) -> set[dt.date]:
    """Days with a visit or shift whose ``column`` (``staff_id``, ``location_id``) is one of ``ids``."""
    visit, shift = raw("emr_visit"), raw("emr_shift")
    ids = sorted(ids)
    days: set[dt.date] = set()
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        # Only real days (0001-01-01 .. 9999-12-31): a PostgreSQL date past 9999 or before
        # Christ cannot even be read by the driver, and such rows have no day to rebuild.
        query = union(*(
            select(day_of(table.c.start_at).label("day"))
            .where(table.c[column].in_(chunk), day_of(table.c.start_at).between(FIRST_DAY, LAST_DAY))
            for table in (visit, shift)
        ))
        days |= {as_day(day) for (day,) in db.emr_fetch_all(query)} - {None}
    return days


def save_staff_groups(summary: str, current: dict[int, StaffValues], staff_ids: Iterable[int] | None) -> None:
    """Record ``current`` as built, for the given members (None: all of them)."""
    from etl.models import BuiltStaffGroup

    rows = BuiltStaffGroup.objects.filter(summary=summary)
    if staff_ids is not None:
        staff_ids = sorted(staff_ids)
        for start in range(0, len(staff_ids), CHUNK):  # SQLite caps the bound values of a statement
            rows.filter(staff_id__in=staff_ids[start:start + CHUNK]).delete()
        keep = [sid for sid in staff_ids if sid in current]
    else:
        keep = list(current)
        rows.delete()
    BuiltStaffGroup.objects.bulk_create(
        [
            BuiltStaffGroup(
                summary=summary, staff_id=sid, role_group_id=current[sid][0],
                role_group_name=current[sid][1], hourly_cost_cents=current[sid][2],
            )
            for sid in keep
        ],
        batch_size=2000,
    )
