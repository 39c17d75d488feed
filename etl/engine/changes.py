"""Reading and claiming the change log that the raw tables' triggers fill.

A build *claims* the log: the changed days become ``PendingDay`` rows of every summary
(in Django's database), then exactly the claimed log rows are deleted from the EMR
database. Claiming is at-least-once, never lossy:

- the days are read up to a fixed ``id`` bound; the delete removes only rows at or below
  that bound *and* on a claimed day. A row that committed late with a lower id is either
  on a claimed day (whose rebuild, later, sees it) or kept for the next claim;
- when the log lives in Django's database both steps share one transaction; otherwise the
  pending days commit first and a crash before the delete only claims them twice.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable

from django.db import transaction
from sqlalchemy import and_, delete, func, select

from etl import db
from etl.db.tables import CHANGE_LOG
from etl.db.values import as_date, as_datetime

IN_LIST_CHUNK = 500


@dataclass(frozen=True)
class LoggedChanges:
    """What the change log holds up to ``bound``: changed days (with the time of their
    oldest logged change) and whether a whole raw table was truncated."""

    bound: int | None
    days: dict[dt.date, dt.datetime]
    truncated_at: dt.datetime | None

    @property
    def empty(self) -> bool:
        return self.bound is None

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
        select(log.c.day, func.min(log.c.logged_at)).where(log.c.id <= bound).group_by(log.c.day)
    )
    days = {as_date(day): as_datetime(at) for day, at in rows if day is not None}
    truncated = [as_datetime(at) for day, at in rows if day is None]
    return LoggedChanges(int(bound), days, truncated[0] if truncated else None)


def _chunks(values: list, size: int = IN_LIST_CHUNK) -> Iterable[list]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _delete_claimed(changes: LoggedChanges) -> None:
    log = CHANGE_LOG
    days = sorted(changes.days)
    for chunk in _chunks(days):
        db.emr_execute(delete(log).where(and_(log.c.id <= changes.bound, log.c.day.in_(chunk))))
    if changes.truncated_at is not None:
        db.emr_execute(delete(log).where(and_(log.c.id <= changes.bound, log.c.day.is_(None))))


def _queue(changes: LoggedChanges, summary_names: list[str]) -> None:
    from etl.models import PendingDay, SummaryState

    if changes.days:
        existing = set(
            PendingDay.objects.filter(summary__in=summary_names, day__in=list(changes.days))
            .values_list("summary", "day")
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
    if changes.truncated_at is not None:
        SummaryState.objects.filter(name__in=summary_names).update(full_reason="a raw table was truncated")


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

