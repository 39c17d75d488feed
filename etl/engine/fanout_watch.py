"""Watching fanned-out builds (:mod:`etl.engine.fanout`): the command's progress and wait
for the publish, and the next scheduled build's recovery of runs whose chord callback never
came (published when every batch is done, abandoned when a batch failed or the run is
overdue), with staging tables of closed runs dropped."""
from __future__ import annotations

import datetime as dt
import time

from django.conf import settings
from sqlalchemy import Column, MetaData, Table, func, select
from sqlalchemy.schema import DropTable

from etl import db
from etl.engine import ledger
from etl.engine.fanout import STAGE_PREFIX, abandon, publish
from etl.engine.progress import Progress, quiet
from etl.engine.service import BuildError, GateFailed
from etl.models import BuildRun, FanoutBatch, FanoutRun


def recover_lost(now: dt.datetime | None = None) -> list[tuple[int, str]]:
    """Finish or clean open runs whose chord callback never came: publish a run whose
    batches are all done (for ``ETL_FANOUT_GRACE_SECONDS``), abandon one with a failed
    batch or open past ``ETL_FANOUT_TIMEOUT_SECONDS``; drop staging tables of closed runs.
    Returns (run id, what was done) for each run it closed."""
    if db.vendor() != "postgresql":
        return []
    now = now or ledger.now()
    closed = []
    for run in FanoutRun.objects.filter(status=FanoutRun.Status.RUNNING):
        batches = list(run.batches.all())
        failed = [b for b in batches if b.status == FanoutBatch.Status.FAILED]
        last_done = max((b.finished_at for b in batches if b.finished_at), default=run.started_at)
        if failed:
            if abandon(run.pk, f"batch {failed[0].number} failed: {failed[0].error}"):
                closed.append((run.pk, "abandoned"))
        elif len(batches) == run.batches_total and all(b.status == FanoutBatch.Status.DONE for b in batches):
            if (now - last_done).total_seconds() >= settings.ETL_FANOUT_GRACE_SECONDS:
                try:
                    closed.append((run.pk, publish(run.pk)))
                except BuildError:
                    closed.append((run.pk, "abandoned"))
        elif (now - run.started_at).total_seconds() >= settings.ETL_FANOUT_TIMEOUT_SECONDS:
            if abandon(run.pk, f"not every batch finished within {settings.ETL_FANOUT_TIMEOUT_SECONDS} s"):
                closed.append((run.pk, "abandoned"))
    _drop_orphan_stages()
    return closed


def _drop_orphan_stages() -> None:
    """Staging tables whose run is closed (left by a crash between steps)."""
    tables = Table("pg_tables", MetaData(), Column("tablename"), Column("schemaname"))
    names = [n for (n,) in db.fetch_all(select(tables.c.tablename).where(
        tables.c.tablename.startswith(STAGE_PREFIX, autoescape=True), tables.c.schemaname == func.current_schema()))]
    open_runs = {str(pk) for pk in FanoutRun.objects.filter(status=FanoutRun.Status.RUNNING).values_list("pk", flat=True)}
    for name in names:
        if name[len(STAGE_PREFIX):].split("_", 1)[0] not in open_runs:
            db.execute(DropTable(Table(name, MetaData()), if_exists=True))


def wait(run_id: int, progress: Progress = quiet, timeout: float | None = None) -> FanoutRun:
    """Wait for the run to be published or abandoned, reporting batches done of total and
    per worker; raise :class:`BuildError` (or :class:`GateFailed`) when it was abandoned."""
    timeout = settings.ETL_FANOUT_TIMEOUT_SECONDS if timeout is None else timeout
    deadline = time.monotonic() + timeout
    shown = None
    while True:
        run = FanoutRun.objects.select_related("build_run").get(pk=run_id)
        done = run.batches.filter(status=FanoutBatch.Status.DONE)
        per_worker = {}
        for worker in done.values_list("worker", flat=True):
            per_worker[worker or "?"] = per_worker.get(worker or "?", 0) + 1
        line = (len(per_worker), sum(per_worker.values()))
        if line != shown:
            shown = line
            workers = ", ".join(f"{w}: {n}" for w, n in sorted(per_worker.items()))
            progress(f"fan-out {run_id}: batches {sum(per_worker.values())}/{run.batches_total} done"
                     + (f" ({workers})" if workers else ""))
        if run.status == FanoutRun.Status.PUBLISHED:
            return run
        if run.status == FanoutRun.Status.FAILED:
            gate = run.build_run is not None and run.build_run.status == BuildRun.Status.GATE_FAILED
            raise (GateFailed if gate else BuildError)(f"fan-out {run_id}: {run.error}; nothing was published")
        if time.monotonic() >= deadline:
            raise BuildError(f"fan-out {run_id} still open after {timeout:g} s; the next scheduled build finishes"
                             " or cleans it")
        time.sleep(0.5)
