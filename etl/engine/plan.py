"""Deciding what each summary must rebuild, and why.

A summary is rebuilt in full when asked (``--full``), when it was never built, when its
compiled query (its definition) differs from the one it was built with, when a raw table
was truncated, recreated or replaced or its change capture is not working
(:mod:`etl.engine.capture`), or when so many days changed that one full pass is cheaper.
Otherwise only its changed days are rebuilt: days claimed from the change log, a
requested backfill range, and days whose raw rows drifted from their fingerprints
(``--verify``), each widened by the summary's forward reach (CONTRACT 4, "What a change
reaches"). Dimension edits — staff members whose role group, group name or cost changed
(as far as the summary reads them), locations whose clinic or region changed (summaries
that read the location tree) — change only the rows where that member worked or that
location is: a summary with a ``cell_key`` rebuilds just those (day, key) pairs
(:class:`~etl.dates.Cells`: (day, location) for the staff summaries; (day, clinic) before
and after the edit for ``clinic_day``; (day, region) or (month, region) before and after
the edit, with their forward reach, for ``clinic_score``, ``region_month_patients`` and
``region_month``, region NULL being one more key), the others whole days, with their
reach.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

from etl.engine.capture import CaptureState, inspect as inspect_capture
from etl.engine.changes import FULL_REBUILD_DAYS, LoggedChanges
from etl.engine.definitions import definition_of
from etl.dates import Cells, DateRange, merge_days
from etl.engine.staffdiff import Lookups, StaffValues, built_staff_groups, changed_staff, current_staff_groups, pairs_with
from etl.engine import locationdiff
from etl.summaries import Summary
from etl.text import count

# Past this many (day, key) pairs, a full rebuild (one pass) is cheaper than rebuilding them.
FULL_REBUILD_CELLS = 20_000
BOTH_TABLES = ("emr_visit", "emr_shift")
KEY_NOUNS = {"location_id": "location", "clinic_id": "clinic", "region_id": "region"}
PLACE_FIELDS = {"clinic_id": 0, "region_id": 1}  # where a key is in a location's (clinic, region)


class Snapshot:
    """The dimension values one build plans with, read once and shared by its summaries
    (each read is a walk of the role or location tree): every staff member's role group,
    group name and cost, every located location's (clinic, region), and the raw lookups
    of dimension edits (:data:`~etl.engine.staffdiff.Lookups`)."""

    def __init__(self) -> None:
        self.lookups: Lookups = {}

    @cached_property
    def staff(self) -> dict[int, StaffValues]:
        return current_staff_groups()

    @cached_property
    def locations(self) -> dict[int, tuple]:
        return locationdiff.current_locations()


@dataclass(frozen=True)
class SummaryPlan:
    summary: Summary
    definition: str
    full_reason: str | None
    days: tuple[dt.date, ...] = ()
    reasons: tuple[tuple[str, int], ...] = ()
    staff_changed: frozenset[int] = frozenset()
    current_staff: dict[int, StaffValues] = field(default_factory=dict, compare=False)
    raw_identity: str = ""
    locations_changed: frozenset[int] = frozenset()
    current_locations: dict[int, tuple] | None = field(default=None, compare=False)
    cells: Cells | None = None
    cell_reasons: tuple[tuple[str, int], ...] = ()
    definition_stamp: str = ""  # the stamp ``definition`` holds under (etl.engine.definitions.stamp_for); "": none

    @property
    def full(self) -> bool:
        return self.full_reason is not None

    @property
    def window(self) -> list[DateRange] | None:
        return None if self.full else merge_days(self.days)

    @property
    def up_to_date(self) -> bool:
        return not self.full and not self.days and not self.cells

    @property
    def cell_count(self) -> int:
        return 0 if self.full or self.cells is None else len(self.cells)

    def describe(self) -> str:
        if self.full:
            return f"{self.summary.name}: full rebuild ({self.full_reason})"
        if self.up_to_date:
            return f"{self.summary.name}: up to date"
        what, why = [], [f"{n:,} from {reason}" for reason, n in self.reasons if n]
        if self.days:
            what.append(count(len(self.days), "day"))
        spanned = set(self.days)
        if self.cells:
            noun = f"({self.summary.period}, {KEY_NOUNS.get(self.cells.key, self.cells.key)}) pair"
            what.append(count(len(self.cells), noun))
            why += [f"{n:,} {'pair' if n == 1 else 'pairs'} from {reason}" for reason, n in self.cell_reasons if n]
            spanned |= set(self.cells.days)
            if not self.days:
                what[-1] += f" on {count(len(self.cells.days), self.summary.period)}"
        first, last = min(spanned), max(spanned)
        return f"{self.summary.name}: {' and '.join(what)} to rebuild, {first} .. {last} ({', '.join(why)})"


def _full_reason(summary: Summary, state, definition: str, force_full: bool, capture: CaptureState) -> str | None:
    if force_full:
        return "--full"
    if state is None:
        return "never built"
    if state.definition_hash != definition:
        return "its definition changed since the last build"
    return capture.full_reason(summary.reads, state.raw_identity) or state.full_reason or None


def plan_summary(
    summary: Summary, *, force_full: bool = False, backfill: DateRange | None = None,
    unclaimed: LoggedChanges | None = None, capture: CaptureState | None = None,
    drifted: set[dt.date] | frozenset[dt.date] = frozenset(), snapshot: Snapshot | None = None,
) -> SummaryPlan:
    """What ``summary`` needs now. ``unclaimed``: log changes not yet claimed (dry runs);
    ``capture``: the state of change capture (inspected when not given); ``drifted``: days
    whose raw rows no longer match their fingerprints (``--verify``); ``snapshot``: the
    dimension values and lookups this build already read (shared by its summaries)."""
    from etl.models import PendingDay, SummaryState

    capture = capture if capture is not None else inspect_capture()
    snapshot = snapshot if snapshot is not None else Snapshot()
    identity = capture.identity_of(summary.reads)
    state = SummaryState.objects.filter(name=summary.name).first()
    definition, stamp = definition_of(summary, state)
    current = snapshot.staff
    reason = _full_reason(summary, state, definition, force_full, capture)
    if reason is None and unclaimed is not None:
        reason = unclaimed.full_reason
    locations = snapshot.locations if summary.uses_locations else None
    if reason is not None:
        return SummaryPlan(summary, definition, reason, current_staff=current, raw_identity=identity,
                           current_locations=locations, definition_stamp=stamp)
    lookups = snapshot.lookups
    logged = set(PendingDay.objects.filter(summary=summary.name).values_list("day", flat=True))
    if unclaimed is not None:
        logged |= set(unclaimed.days)
    staff = (changed_staff(built_staff_groups(summary.name), current, summary.staff_fields)
             if summary.staff_fields else set())  # a summary that reads no staff value compares none
    backfill_days = set(backfill.each_day()) if backfill else set()
    moved: set[int] = set()
    built_places: dict[int, tuple] = {}
    if locations is not None:
        built_places = locationdiff.built_locations(summary.name)
        moved = locationdiff.changed_locations(built_places, locations)
    edits = _Edits(summary, staff, moved, built_places, locations or {}, lookups)
    staff_days, location_days = edits.staff_days(), edits.location_days()
    days = logged | staff_days | backfill_days | set(drifted) | location_days
    reached = summary.reach(days) | days if summary.reach else days
    reasons = (
        ("changed visits and shifts", len(logged)),
        ("staff and role edits", len(staff_days - logged)),
        ("the backfill range", len(backfill_days - logged - staff_days)),
        ("raw rows changed without a logged change (--verify)",
         len(set(drifted) - logged - staff_days - backfill_days)),
        ("location edits", len(location_days - logged - staff_days - backfill_days - set(drifted))),
        ("their forward reach", len(reached - days)),
    )
    cells, cell_reasons = edits.cells(reached)
    if len(reached) > FULL_REBUILD_DAYS or len(cells or ()) > FULL_REBUILD_CELLS:
        why = f"{len(reached)} changed days" if len(reached) > FULL_REBUILD_DAYS else (
            f"{len(cells):,} changed (day, {KEY_NOUNS.get(cells.key, cells.key)}) pairs")
        return SummaryPlan(summary, definition, why, current_staff=current,
                           raw_identity=identity, current_locations=locations, definition_stamp=stamp)
    return SummaryPlan(
        summary, definition, None, tuple(sorted(reached)), reasons, frozenset(staff), current,
        raw_identity=identity, locations_changed=frozenset(moved), current_locations=locations,
        cells=cells, cell_reasons=cell_reasons, definition_stamp=stamp,
    )


@dataclass
class _Edits:
    """The dimension edits one summary sees, as whole days (a summary without a
    ``cell_key``) or as the (day, key) pairs whose rows they change."""

    summary: Summary
    staff: set[int]
    moved: set[int]
    built_places: dict[int, tuple]   # location -> (clinic, region) as last built
    places: dict[int, tuple]         # location -> (clinic, region) now
    lookups: Lookups

    def _pairs(self, column: str, ids: set[int], tables) -> set[tuple[dt.date, int]]:
        return pairs_with(column, ids, tables, self.lookups) if ids else set()

    def staff_days(self) -> set[dt.date]:
        """Whole days a staff edit rebuilds: none for a summary with a ``cell_key`` (its pairs)."""
        if self.summary.cell_key:
            return set()
        return {day for day, _ in self._pairs("staff_id", self.staff, BOTH_TABLES)}

    def location_days(self) -> set[dt.date]:
        """Whole days a location edit rebuilds: none for a summary with a ``cell_key``."""
        if self.summary.cell_key:
            return set()
        return {day for day, _ in self._pairs("location_id", self.moved, BOTH_TABLES)}

    def cells(self, whole_days: set[dt.date]) -> tuple[Cells | None, tuple[tuple[str, int], ...]]:
        """The pairs to rebuild on their own (none on ``whole_days``, rebuilt whole), with
        the summary's forward reach, and how many came from each kind of edit."""
        key = self.summary.cell_key
        if not key:
            return None, ()
        from_staff = self._reached(self._keyed(self._pairs("staff_id", self.staff, self.summary.reads)))
        from_places = self._reached(self._keyed(self._pairs("location_id", self.moved, self.summary.reads)))
        if self.summary.period == "month":
            whole_days = {day.replace(day=1) for day in whole_days}
        whole = set(whole_days)
        from_staff = {p for p in from_staff if p[0] not in whole}
        from_places = {p for p in from_places if p[0] not in whole}
        reasons = (("staff and role edits", len(from_staff)), ("location edits", len(from_places - from_staff)))
        return Cells(key, frozenset(from_staff | from_places), self._locations_of(from_staff | from_places)), reasons

    def _reached(self, pairs: set[tuple[dt.date, int]]) -> set[tuple[dt.date, int]]:
        """The pairs and those their change reaches (CONTRACT 4, "What a change reaches"):
        the days after each day with the same key (a clinic's baselines, its region's ranks
        and months); for a monthly summary, (first day of the month, key)."""
        reach, monthly = self.summary.reach, self.summary.period == "month"
        if reach is None and not monthly:
            return pairs
        by_key: dict[int, set[dt.date]] = {}
        for day, key in pairs:
            by_key.setdefault(key, set()).add(day)
        reached = set()
        for key, days in by_key.items():
            days = reach(days) | days if reach else days
            reached |= {(day.replace(day=1) if monthly else day, key) for day in days}
        return reached

    def _locations_of(self, pairs: set[tuple[dt.date, int]]) -> frozenset[int] | None:
        """For (day, clinic) pairs: the locations whose rows count there now (the rows are
        read with the current tree)."""
        if self.summary.cell_key != "clinic_id":
            return None
        clinics = {key for _, key in pairs}
        return frozenset(loc for loc, (clinic, _) in self.places.items() if clinic in clinics)

    def _keyed(self, pairs: set[tuple[dt.date, int]]) -> set[tuple[dt.date, int]]:
        """(day, location) pairs as the summary's keys: the location itself, or for
        ``clinic_id`` and ``region_id`` its clinic or region as last built and as it is now
        (both have rows to redo); a region that is none is the key None (region NULL is one
        region). A location without a clinic has no rows there."""
        if self.summary.cell_key == "location_id":
            return pairs
        field = PLACE_FIELDS[self.summary.cell_key]
        keyed = set()
        for day, location in pairs:
            for places in (self.built_places, self.places):
                if location in places:
                    keyed.add((day, places[location][field]))
        return keyed
