"""Celery tasks: validate primitives, call the service, report. Beat runs
``build_summaries`` every BUILD_SCHEDULE_SECONDS (see project/settings.py)."""
from __future__ import annotations

import datetime as dt
import logging

from celery import shared_task

from etl.engine.locks import BuildLocked
from etl.engine.service import BuildError, build_summaries as build_summaries_service

log = logging.getLogger(__name__)


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


@shared_task(name="etl.tasks.build_summaries", ignore_result=False)
def build_summaries(summaries: list[str] | None = None, full: bool = False, since: str | None = None,
                    until: str | None = None, trigger: str = "schedule") -> dict:
    """Bring the summaries up to date. Skips (does not queue behind) a build that is
    already running: the next scheduled run picks up whatever it leaves."""
    try:
        report = build_summaries_service(summaries, full=full, since=_date(since), until=_date(until),
                                         wait=0, trigger=trigger)
    except BuildLocked as exc:
        log.info("build skipped: %s", exc)
        return {"status": "locked", "message": str(exc)}
    except BuildError as exc:
        log.error("build failed: %s", exc)
        raise
    return {
        "status": "succeeded", "run_id": report.run_id, "rows_written": report.rows_written,
        "rows_deleted": report.rows_deleted,
        "summaries": {r.name: {"mode": r.mode, "days": r.days, "rows_written": r.rows_written} for r in report.results},
    }
