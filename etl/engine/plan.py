"""Deciding what each summary must rebuild, and why.

A summary is rebuilt in full when asked (``--full``), when it was never built, when its
compiled query (its definition) differs from the one it was built with, when a raw table
was truncated, or when so many days changed that one full pass is cheaper. Otherwise only
its changed days are rebuilt: days claimed from the change log, days of staff members
whose role group, group name or cost changed, and a requested backfill range.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from etl import db
from etl.engine.changes import LoggedChanges
from etl.dates import DateRange, merge_days
from etl.engine.staffdiff import StaffValues, built_staff_groups, changed_staff, current_staff_groups, days_of_staff
from etl.summaries import Summary
from etl.text import count

# Past this many changed days a full rebuild (one pass, no per-day deletes) is cheaper.
FULL_REBUILD_DAYS = 366


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


def _full_reason(summary: Summary, definition: str, force_full: bool) -> str | None:
    from etl.models import SummaryState

    if force_full:
        return "--full"
    state = SummaryState.objects.filter(name=summary.name).first()
    if state is None:
        return "never built"
    if state.definition_hash != definition:
        return "its definition changed since the last build"
    return state.full_reason or None


def plan_summary(
    summary: Summary, *, force_full: bool = False, backfill: DateRange | None = None,
    unclaimed: LoggedChanges | None = None,
) -> SummaryPlan:
    """What ``summary`` needs now. ``unclaimed``: log changes not yet claimed (dry runs)."""
    from etl.models import PendingDay

    definition = definition_hash(summary)
    current = current_staff_groups()
    reason = _full_reason(summary, definition, force_full)
    if reason is None and unclaimed is not None and unclaimed.truncated_at is not None:
        reason = "a raw table was truncated"
    if reason is not None:
        return SummaryPlan(summary, definition, reason, current_staff=current)
    logged = set(PendingDay.objects.filter(summary=summary.name).values_list("day", flat=True))
    if unclaimed is not None:
        logged |= set(unclaimed.days)
    staff = changed_staff(built_staff_groups(summary.name), current)
    staff_days = days_of_staff(staff) if staff else set()
    backfill_days = {backfill.start + dt.timedelta(days=i) for i in range(backfill.days)} if backfill else set()
    days = logged | staff_days | backfill_days
    reasons = (
        ("changed visits and shifts", len(logged)),
        ("staff and role edits", len(staff_days - logged)),
        ("the backfill range", len(backfill_days - logged - staff_days)),
    )
    if len(days) > FULL_REBUILD_DAYS:
        return SummaryPlan(summary, definition, f"{len(days)} changed days", current_staff=current)
    return SummaryPlan(
        summary, definition, None, tuple(sorted(days)), reasons, frozenset(staff), current,
    )
