"""The run ledger (``BuildRun``): written outside the build's transactions, so a failed,
rolled-back or interrupted build is still recorded. A run is recorded with the mode it was
asked for and finished with the mode it had: an incremental build that had to rebuild a
summary in full (never built, definition changed, a truncated table) says ``full``, or
``mixed`` when other summaries were rebuilt incrementally."""
from __future__ import annotations

import datetime as dt
import os

from django.db import models, transaction

from etl.models import BuildRun


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def start(trigger: str, mode: str, summaries: list[str]) -> BuildRun:
    with transaction.atomic():
        # A run still marked running when the lock is free was killed: say so.
        BuildRun.objects.filter(status=BuildRun.Status.RUNNING).update(
            status=BuildRun.Status.ABANDONED, error="the build process ended without recording a result",
        )
        return BuildRun.objects.create(
            started_at=now(), trigger=trigger, mode=mode, summaries=",".join(summaries), pid=os.getpid(),
        )


def record_locked(trigger: str, mode: str, summaries: list[str], message: str) -> BuildRun:
    moment = now()
    return BuildRun.objects.create(
        started_at=moment, finished_at=moment, trigger=trigger, mode=mode, summaries=",".join(summaries),
        status=BuildRun.Status.LOCKED, error=message, duration_seconds=0, pid=os.getpid(),
    )


def actual_mode(modes: list[str]) -> str | None:
    """The mode of a run from the modes of the summaries it rebuilt (None: it rebuilt
    nothing, and keeps the mode it was asked for)."""
    if not modes:
        return None
    kinds = set(modes)
    return kinds.pop() if len(kinds) == 1 else BuildRun.Mode.MIXED


def finish(run: BuildRun, status: str, *, days: int = 0, deleted: int = 0, written: int = 0,
           full_rebuilds: str = "", error: str = "", mode: str | None = None, cells: int = 0) -> BuildRun:
    run.finished_at = now()
    run.status = status
    run.partitions_rebuilt = days
    run.cells_rebuilt = cells
    run.rows_deleted = deleted
    run.rows_written = written
    run.full_rebuilds = full_rebuilds[:500]
    run.error = error
    if mode:
        run.mode = mode
    run.duration_seconds = (run.finished_at - run.started_at).total_seconds()
    run.save()
    return run


def finish_noop(run: BuildRun) -> BuildRun:
    """Record a run that found nothing to do. When the ledger's latest row before it is a
    no-op run of the same trigger, mode and summaries, count this run there and drop its
    own row: beat's quiet ticks (288 a day at 5 minutes) stay one row until something
    happens. Called under the build lock, so no other build writes meanwhile."""
    moment = now()
    previous = BuildRun.objects.filter(pk__lt=run.pk).order_by("-pk").first()
    if (
        previous is not None and previous.noop_runs > 0 and previous.status == BuildRun.Status.SUCCEEDED
        and (previous.trigger, previous.mode, previous.summaries) == (run.trigger, run.mode, run.summaries)
    ):
        with transaction.atomic():
            BuildRun.objects.filter(pk=previous.pk).update(noop_runs=models.F("noop_runs") + 1, finished_at=moment)
            run.delete()
        previous.refresh_from_db()
        return previous
    run.noop_runs = 1
    return finish(run, BuildRun.Status.SUCCEEDED)
