"""Reading and claiming the change log that the raw tables' triggers fill.

A build *claims* the log: the changed days become ``PendingDay`` rows of every summary
(in Django's database), then exactly the claimed log rows are deleted from the EMR
database. Claiming is at-least-once, never lossy:

- the days are read up to a fixed ``id`` bound; the delete removes only rows at or below
  that bound *and* on a claimed day. A row that committed late with a lower id is either
  on a claimed day (whose rebuild, later, sees it) or kept for the next claim;
- when the log lives in Django's database both steps share one transaction; otherwise the
  pending days commit first and a crash before the delete only claims them twice.

No log row can block a build. A row whose day is outside 0001-01-01 .. 9999-12-31 (left
by an older trigger: today's triggers do not log such days) names no day a summary can
hold: it is never read as a date (PostgreSQL years past 9999 or before Christ cannot be
read by the driver at all) and is deleted with the claim. A claim of more than
``MARK_FULL_DAYS`` days marks every summary for a full rebuild (which the plan would choose
anyway past ``FULL_REBUILD_DAYS``) instead of queueing each day, and deletes the whole
claimed log (the full rebuilds, later, see every row); lists of days are sent in chunks.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from django.db import transaction
from sqlalchemy import and_, delete, func, or_, select

from etl import db
from etl.db.tables import CHANGE_LOG, RECREATED_SOURCE
from etl.dates import FIRST_DAY, LAST_DAY
from etl.db.values import as_datetime, as_day

IN_LIST_CHUNK = 500
# Past this many changed days a full rebuild (one pass, no per-day deletes) is cheaper.
FULL_REBUILD_DAYS = 366
# Past this many claimed days, mark summaries for a full rebuild instead of queueing each day.
MARK_FULL_DAYS = 10_000


@dataclass(frozen=True)
class LoggedChanges:
    """What the change log holds up to ``bound``: changed days (with the time of their
    oldest logged change) and whether a whole raw table was truncated or recreated
    (``truncated_at``, ``everything_reason``)."""

    bound: int | None
    days: dict[dt.date, dt.datetime]
    truncated_at: dt.datetime | None
    everything_reason: str | None = None

    @property
    def empty(self) -> bool:
        return self.bound is None

    @property
    def full_reason(self) -> str | None:
        """Why every summary must be rebuilt in full, if it must."""
        if self.truncated_at is not None:
            return self.everything_reason or "a raw table was truncated"
        if len(self.days) > MARK_FULL_DAYS:
            return f"{len(self.days)} changed days"
        return None

    @property
    def oldest(self) -> dt.datetime | None:
        times = list(self.days.values()) + ([self.truncated_at] if self.truncated_at else [])
        return min(times) if times else None


def peek() -> LoggedChanges:
    """The logged changes, without claiming them."""
    log = CHANGE_LOG
    bound = db.emr_fetch_all(select(func.max(log.c.id)))[0][0]
    if bound is None:
        return LoggedChanges(None, {}, None)
    rows = db.emr_fetch_all(
        select(log.c.day, func.min(log.c.logged_at)).where(log.c.id <= bound, _real_day(log.c.day))
        .group_by(log.c.day)
    )
    # SQLite text that is no calendar date names no day to rebuild.
    days = {known: as_datetime(at) for day, at in rows if (known := as_day(day)) is not None}
    whole = db.emr_fetch_all(
        select(log.c.source, func.min(log.c.logged_at)).where(log.c.id <= bound, _everything(log))
        .group_by(log.c.source)
    )
    if not whole:
        return LoggedChanges(int(bound), days, None)
    sources = {source for source, _ in whole}
    reason = ("the raw tables were recreated (init_emr)" if sources == {RECREATED_SOURCE}
              else "a raw table was truncated")
    return LoggedChanges(int(bound), days, min(as_datetime(at) for _, at in whole), reason)


def _everything(log):
    """Log rows that mean "everything changed": a NULL day from TRUNCATE (PostgreSQL) or
    from init_emr. SQLite has no TRUNCATE: a NULL day there from any other source was an
    older trigger's log of a start_at that is no timestamp, which names nothing to rebuild."""
    if db.emr_vendor() == "sqlite":
        return and_(log.c.day.is_(None), log.c.source == RECREATED_SOURCE)
    return log.c.day.is_(None)


def _real_day(day):
    """A logged day inside 0001-01-01 .. 9999-12-31 (compared in SQL: the driver cannot read
    PostgreSQL dates past 9999 or before Christ)."""
    return day.between(FIRST_DAY, LAST_DAY)


def _chunks(values: list, size: int = IN_LIST_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _delete_claimed(changes: LoggedChanges) -> None:
    log = CHANGE_LOG
    claimed = log.c.id <= changes.bound
    if changes.full_reason is not None:
        # Every summary is rebuilt in full after this: it sees every row, logged or not.
        db.emr_execute(delete(log).where(claimed))
        return
    for chunk in _chunks(sorted(changes.days)):
        db.emr_execute(delete(log).where(and_(claimed, log.c.day.in_(chunk))))
    # Out-of-range days are no days (nor, on SQLite, NULL days other than init_emr's):
    # nothing to rebuild, dropped so they never come back.
    no_day = [log.c.day < FIRST_DAY, log.c.day > LAST_DAY]
    if db.emr_vendor() == "sqlite":
        no_day.append(and_(log.c.day.is_(None), log.c.source != RECREATED_SOURCE))
    db.emr_execute(delete(log).where(and_(claimed, or_(*no_day))))


def _queue(changes: LoggedChanges, summary_names: list[str]) -> None:
    from etl.models import PendingDay, SummaryState

    if changes.full_reason is not None:
        SummaryState.objects.filter(name__in=summary_names).update(full_reason=changes.full_reason[:200])
        return
    existing = set()
    for chunk in _chunks(sorted(changes.days)):
        existing |= set(
            PendingDay.objects.filter(summary__in=summary_names, day__in=chunk).values_list("summary", "day")
        )
    PendingDay.objects.bulk_create(
        [
            PendingDay(summary=name, day=day, queued_at=at)
            for name in summary_names
            for day, at in changes.days.items()
            if (name, day) not in existing
        ],
        batch_size=1000,
    )


def claim(summary_names: list[str]) -> LoggedChanges:
    """Move the logged changes into every summary's pending days; return what was claimed."""
    changes = peek()
    if changes.empty:
        return changes
    if db.emr_engine() is None:
        with transaction.atomic():
            _queue(changes, summary_names)
            _delete_claimed(changes)
    else:
        with transaction.atomic():
            _queue(changes, summary_names)
        _delete_claimed(changes)
    return changes

