"""Deciding what each summary must rebuild, and why.

A summary is rebuilt in full when asked (``--full``), when it was never built, when its
compiled query (its definition) differs from the one it was built with, when a raw table
was truncated, recreated or replaced or its change capture is not working
(:mod:`etl.engine.capture`), or when so many days changed that one full pass is cheaper.
Otherwise only its changed days are rebuilt: days claimed from the change log, days of
staff members whose role group, group name or cost changed, days of locations whose
clinic or region changed (summaries that read the location tree), a requested backfill
range, and days whose raw rows drifted from their fingerprints (``--verify``) — each
widened by the summary's forward reach (CONTRACT 4, "What a change reaches").
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from etl import db
from etl.engine.capture import CaptureState, inspect as inspect_capture
from etl.engine.changes import FULL_REBUILD_DAYS, LoggedChanges
from etl.dates import DateRange, merge_days
from etl.engine.staffdiff import StaffValues, built_staff_groups, changed_staff, current_staff_groups, days_of_staff
from etl.engine import locationdiff
from etl.summaries import Summary
from etl.text import count


def definition_hash(summary: Summary) -> str:
    """sha256 of the summary's compiled query for the EMR dialect and its columns."""
    sql = db.literal_sql(summary.rows(None), db.emr_vendor())
    return hashlib.sha256(f"{summary.columns}\n{sql}".encode()).hexdigest()


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

    @property
    def full(self) -> bool:
        return self.full_reason is not None

    @property
    def window(self) -> list[DateRange] | None:
        return None if self.full else merge_days(self.days)

    @property
    def up_to_date(self) -> bool:
        return not self.full and not self.days

    def describe(self) -> str:
        if self.full:
            return f"{self.summary.name}: full rebuild ({self.full_reason})"
        if not self.days:
            return f"{self.summary.name}: up to date"
        why = ", ".join(f"{n} from {reason}" for reason, n in self.reasons if n)
        first, last = min(self.days), max(self.days)
        return f"{self.summary.name}: {count(len(self.days), 'day')} to rebuild, {first} .. {last} ({why})"


def _full_reason(summary: Summary, definition: str, force_full: bool, capture: CaptureState) -> str | None:
    from etl.models import SummaryState

    if force_full:
        return "--full"
    state = SummaryState.objects.filter(name=summary.name).first()
    if state is None:
        return "never built"
    if state.definition_hash != definition:
        return "its definition changed since the last build"
    return capture.full_reason(summary.reads, state.raw_identity) or state.full_reason or None


def plan_summary(
    summary: Summary, *, force_full: bool = False, backfill: DateRange | None = None,
    unclaimed: LoggedChanges | None = None, capture: CaptureState | None = None,
    drifted: set[dt.date] | frozenset[dt.date] = frozenset(),
) -> SummaryPlan:
    """What ``summary`` needs now. ``unclaimed``: log changes not yet claimed (dry runs);
    ``capture``: the state of change capture (inspected when not given); ``drifted``: days
    whose raw rows no longer match their fingerprints (``--verify``)."""
    from etl.models import PendingDay

    capture = capture if capture is not None else inspect_capture()
    identity = capture.identity_of(summary.reads)
    definition = definition_hash(summary)
    current = current_staff_groups()
    reason = _full_reason(summary, definition, force_full, capture)
    if reason is None and unclaimed is not None:
        reason = unclaimed.full_reason
    locations = locationdiff.current_locations() if summary.uses_locations else None
    if reason is not None:
        return SummaryPlan(summary, definition, reason, current_staff=current, raw_identity=identity,
                           current_locations=locations)
    logged = set(PendingDay.objects.filter(summary=summary.name).values_list("day", flat=True))
    if unclaimed is not None:
        logged |= set(unclaimed.days)
    staff = changed_staff(built_staff_groups(summary.name), current)
    staff_days = days_of_staff(staff) if staff else set()
    backfill_days = set(backfill.each_day()) if backfill else set()
    moved: set[int] = set()
    if locations is not None:
        moved = locationdiff.changed_locations(locationdiff.built_locations(summary.name), locations)
    location_days = locationdiff.days_of_locations(moved) if moved else set()
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
    if len(reached) > FULL_REBUILD_DAYS:
        return SummaryPlan(summary, definition, f"{len(reached)} changed days", current_staff=current,
                           raw_identity=identity, current_locations=locations)
    return SummaryPlan(
        summary, definition, None, tuple(sorted(reached)), reasons, frozenset(staff), current,
        raw_identity=identity, locations_changed=frozenset(moved), current_locations=locations,
    )
