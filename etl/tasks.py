"""Celery tasks: thin entry points over the same services as the commands. Arguments are
primitives (names, ISO dates), so messages stay JSON. Beat's schedule is in
project/settings.py (``CELERY_BEAT_SCHEDULE``); operations are in docs/operations.md.

- A build that finds another build holding the lock returns ``{"status": "skipped"}``: a
  second beat, a redelivered message or an overlapping tick never builds twice.
- Only an unreachable database or broker is retried, with a capped backoff; a failed gate
  or any other error is recorded in the ledger by the service and fails the task once.
"""
from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task
from django.conf import settings

from etl.engine import fanout, fanout_watch
from etl.engine.locks import BuildLocked
from etl.engine.service import build_summaries as build_summaries_service
from etl.engine.transient import backoff_seconds, is_unreachable
from etl.sources.quality_history import record_quality_report

log = logging.getLogger(__name__)

# The nightly reconcile: an incremental build that also compares every built day's raw-row
# fingerprints and rebuilds the days that drifted without a logged change
# (docs/change-capture.md); docs/operations.md, "The nightly reconcile".
NIGHTLY_RECONCILE = {"verify": True}


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _retry_unreachable(task, exc: Exception):
    """Retry ``task`` later when ``exc`` says the database or broker was unreachable;
    otherwise let ``exc`` fail the task."""
    if not is_unreachable(exc):
        raise exc
    delay = backoff_seconds(task.request.retries, cap=settings.ETL_RETRY_BACKOFF_MAX)
    log.warning("%s: the database or broker is unreachable (%s); retry in %.0f s",
                task.name, str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__, delay)
    raise task.retry(exc=exc, countdown=delay, max_retries=settings.ETL_TASK_MAX_RETRIES)


def _build(task, *, summaries=None, full=False, since=None, until=None, trigger="schedule",
           verify=False) -> dict:
    try:
        for run_id, outcome in fanout_watch.recover_lost():
            log.warning("fan-out %s lost its publish step: %s by this run", run_id, outcome)
        report = build_summaries_service(summaries, full=full, since=_date(since), until=_date(until),
                                         wait=0, trigger=trigger, verify=verify)
    except BuildLocked as exc:
        log.info("build skipped: %s", exc)
        return {"status": "skipped", "message": str(exc)}
    except Exception as exc:
        _retry_unreachable(task, exc)
    return {
        "status": "succeeded", "run_id": report.run_id, "rows_written": report.rows_written,
        "rows_deleted": report.rows_deleted,
        "summaries": {r.name: {"mode": r.mode, "days": r.days, "rows_written": r.rows_written} for r in report.results},
    }


@shared_task(bind=True, name="etl.tasks.build_summaries", ignore_result=False)
def build_summaries(self, summaries: list[str] | None = None, full: bool = False, since: str | None = None,
                    until: str | None = None, trigger: str = "schedule", verify: bool = False) -> dict:
    """Bring the summaries up to date (only the changed days unless ``full``; ``verify``:
    also the days whose raw rows drifted from their fingerprints); the arguments are those
    of ``manage.py build_summaries``, dates as ISO strings."""
    return _build(self, summaries=summaries, full=full, since=since, until=until, trigger=trigger, verify=verify)


@shared_task(bind=True, name="etl.tasks.reconcile_summaries", ignore_result=False)
def reconcile_summaries(self) -> dict:
    """The nightly reconcile (see ``NIGHTLY_RECONCILE``)."""
    return _build(self, trigger="schedule", **NIGHTLY_RECONCILE)


@shared_task(bind=True, name="etl.tasks.record_data_quality", ignore_result=False)
def record_data_quality(self) -> dict:
    """Run the data-quality checks and keep their counts (``QualityCount``)."""
    try:
        recorded = record_quality_report()
    except Exception as exc:
        _retry_unreachable(task=self, exc=exc)
    return {
        "status": "succeeded", "taken_at": recorded.taken_at.isoformat(), "findings": recorded.total,
        "changed": recorded.changed, "first": recorded.first,
    }


# --- fanned-out builds (etl/engine/fanout.py) ------------------------------------------------

@shared_task(bind=True, name="etl.tasks.fan_out_build", ignore_result=False)
def fan_out_build(self, summaries: list[str] | None = None, full: bool = True, since: str | None = None,
                  until: str | None = None, trigger: str = "manual") -> dict:
    """Start a fanned-out build (as ``build_summaries --fan-out``) and send its batches;
    returns at once: the chord's callback publishes and, when no summaries were named,
    builds what the batches could not (as the command does right after the publish)."""
    try:
        run = fanout.start(summaries, full=full, since=_date(since), until=_date(until), trigger=trigger)
    except BuildLocked as exc:
        return {"status": "skipped", "message": str(exc)}
    except Exception as exc:
        _retry_unreachable(self, exc)
    fanout.dispatch(run, follow_up=trigger if summaries is None else None)
    return {"status": "dispatched", "fanout_run": run.pk, "batches": run.batches_total}


@shared_task(bind=True, name="etl.tasks.fanout_batch", ignore_result=False)
def fanout_batch(self, run_id: int, number: int) -> dict:
    """One batch of days of a fanned-out build, into the run's staging tables."""
    try:
        written = fanout.build_batch(run_id, number, worker=self.request.hostname or "")
    except Exception as exc:
        _retry_unreachable(self, exc)
    return {"batch": number, "rows_written": written}


@shared_task(bind=True, name="etl.tasks.fanout_publish", ignore_result=False)
def fanout_publish(self, results: list | None = None, *, run_id: int, follow_up: str | None = None) -> dict:
    """The chord's callback: every batch succeeded; publish in one transaction. With
    ``follow_up`` (a trigger), then an ordinary build: the summaries the batches could not
    build (section 4) were marked for a full rebuild by the publish, and it builds them."""
    try:
        outcome = {"status": fanout.publish(run_id), "fanout_run": run_id}
    except BuildLocked as exc:
        # A publish waits for a running build; past that, the next scheduled build publishes.
        return {"status": "skipped", "message": str(exc)}
    except Exception as exc:
        _retry_unreachable(self, exc)
    if follow_up:  # also after a redelivery that found the run published: the build is idempotent
        outcome["follow_up"] = _build(self, trigger=follow_up)
    return outcome


@shared_task(bind=True, name="etl.tasks.fanout_abandon", ignore_result=False)
def fanout_abandon(self, *errback_args, run_id: int) -> dict:
    """The chord's error callback: a batch failed; publish nothing, drop the staging tables."""
    closed = fanout.abandon_after_failed_batch(run_id)
    return {"status": "abandoned" if closed else "already closed", "fanout_run": run_id}
