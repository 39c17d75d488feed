"""Edits of the dimension tables that change history.

A summary row depends on emr_staff and the emr_role tree only through each staff member's
role group, group name and hourly cost. Each summary keeps those values as it last built
them (``BuiltStaffGroup``); a member whose values differ now in what the summary reads
(``Summary.staff_fields``: the role group, the cost, or both), or who appeared or
disappeared, had history changed. A summary with a ``cell_key`` rebuilds only the
(day, location) pairs where that member has visits or shifts (:func:`pairs_with`); the
others rebuild every day with them.
Location edits are the same kind of change for the summaries that read the location tree
(:mod:`etl.engine.locationdiff`); emr_service and emr_patient feed no summary column.
"""
from __future__ import annotations

import datetime as dt
from operator import itemgetter
from typing import Iterable

from sqlalchemy import select

from etl import db
from etl.dates import FIRST_DAY, LAST_DAY
from etl.queries.groups import role_groups, staff_groups
from etl.queries.portable import day_of
from etl.db.tables import raw, table_for_model
from etl.db.values import as_day
from etl.queries.validity import id_value

StaffValues = tuple  # (role_group_id, role_group_name, hourly_cost_cents)
CHUNK = 500
SAVE_BATCH = 2000


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
    """Every member's values as ``summary`` last built them (thousands of rows: read as
    tuples, not model rows)."""
    from etl.models import BuiltStaffGroup

    t = table_for_model(BuiltStaffGroup)
    rows = db.fetch_all(select(t.c.staff_id, t.c.role_group_id, t.c.role_group_name, t.c.hourly_cost_cents)
                        .where(t.c.summary == summary))
    return {staff_id: (group, name, cents) for staff_id, group, name, cents in rows}


# What each field of ``Summary.staff_fields`` compares, as positions in StaffValues.
STAFF_FIELDS = {"role_group": (0, 1), "cost": (2,)}
EVERY_POSITION = sorted(i for positions in STAFF_FIELDS.values() for i in positions)


def changed_staff(built: dict[int, StaffValues], current: dict[int, StaffValues],
                  fields: Iterable[str] = tuple(STAFF_FIELDS)) -> set[int]:
    """Members whose ``fields`` differ between ``built`` and ``current``, and members that
    appeared or disappeared (their rows move to or from group NULL and cost 0) when the
    summary reads any field."""
    positions = sorted({i for name in fields for i in STAFF_FIELDS[name]})
    if not positions:
        return set()
    appeared_or_gone = built.keys() ^ current.keys()
    if positions == EVERY_POSITION:
        # every field read: the values compare whole (thousands of members, every build)
        return {sid for sid, values in current.items() if built.get(sid, values) != values} | appeared_or_gone
    pick = itemgetter(*positions)
    return {sid for sid, values in current.items()
            if sid in built and pick(built[sid]) != pick(values)} | appeared_or_gone


Lookups = dict  # (table, column, ids) -> {(day, location_id)}: one build's lookups, shared by its summaries


def pairs_with(column: str, ids: Iterable[int], tables: Iterable[str],
               lookups: Lookups | None = None) -> set[tuple[dt.date, int]]:
    """(day, location_id) of every visit or shift (of ``tables``) whose ``column``
    (``staff_id``, ``location_id``) is one of ``ids``: one scan of each table, remembered
    in ``lookups`` so the summaries of one build share it."""
    ids = sorted(set(ids))
    lookups = {} if lookups is None else lookups
    found: set[tuple[dt.date, int]] = set()
    for name in tables:
        key = (name, column, tuple(ids))
        if key not in lookups:
            lookups[key] = _pairs_in(raw(name), column, ids)
        found |= lookups[key]
    return found


def _pairs_in(table, column: str, ids: list[int]) -> set[tuple[dt.date, int]]:
    pairs: set[tuple[dt.date, int]] = set()
    day, location = day_of(table.c.start_at), id_value(table.c.location_id)
    for start in range(0, len(ids), CHUNK):
        query = (
            select(day, location).distinct()
            # Only real days (0001-01-01 .. 9999-12-31): a PostgreSQL date past 9999 or before
            # Christ cannot even be read by the driver, and such rows have no day to rebuild.
            # Ids as the summaries join them.
            .where(id_value(table.c[column]).in_(ids[start:start + CHUNK]), day.between(FIRST_DAY, LAST_DAY))
        )
        for d, loc in db.emr_fetch_all(query):
            day_ = as_day(d)
            if day_ is not None and loc is not None:
                pairs.add((day_, int(loc)))
    return pairs


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
    # Model objects a batch at a time: bulk_create turns what it is given into a list, and
    # a list of every member's objects grows with the staff table.
    for start in range(0, len(keep), SAVE_BATCH):
        BuiltStaffGroup.objects.bulk_create([
            BuiltStaffGroup(
                summary=summary, staff_id=sid, role_group_id=current[sid][0],
                role_group_name=current[sid][1], hourly_cost_cents=current[sid][2],
            )
            for sid in keep[start:start + SAVE_BATCH]
        ])
