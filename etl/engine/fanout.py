"""A build fanned out across Celery workers (``build_summaries --fan-out``; PostgreSQL only).

The days to build (every day of the raw tables, or a ``--since``/``--until`` backfill) are
cut into batches. :func:`start` records the run (``FanoutRun``, a ``FanoutBatch`` per
batch, a ledger row) and creates one staging table per summary, named after the run;
:func:`dispatch` sends the batches as a Celery chord. Each worker builds its batch's rows
of every summary into the staging tables (:func:`build_batch`, idempotent: a redelivered
batch replaces its own rows). When every batch succeeded the chord's callback runs
:func:`publish`: in ONE transaction, under the build lock, the live rows of the run's days
are replaced by the staged ones, the publish gates run, what was built is recorded and the
staging tables are dropped. A failed batch (the chord's error callback), a failed gate or a
run that never finished ends in :func:`abandon`: nothing published, staging dropped.

A callback that never fired (a worker lost with it, a Redis restart) is found by the next
scheduled build (:func:`etl.engine.fanout_watch.recover_lost`): a run whose batches are all
done is published, one with a failed or overdue batch is abandoned. While a run is open, other builds refuse to
start (``etl.engine.locks``): they would race the publish. Changes logged meanwhile stay in
the change log for the next incremental build.

Each summary's rows come from its own ``rows(window)`` query, so a summary whose day reads
earlier raw days (a reach) reads them inside its query: batches need no overlap.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from django.conf import settings
from django.db import transaction
from sqlalchemy import Column, MetaData, Table, delete, func, insert, select, union_all
from sqlalchemy.schema import CreateTable, DropTable

from etl import db
from etl.engine import changes, dimensions, gates, ledger, statements
from etl.engine.locks import build_lock
from etl.engine.definitions import definition_hash
from etl.engine.plan import SummaryPlan, plan_summary
from etl.engine.rawdays import RawDays
from etl.engine.service import BuildError, GateFailed, _choose, _record_built, backfill_range, check_ready
from etl.engine.staffdiff import current_staff_groups
from etl.engine.transient import is_unreachable
from etl.dates import DateRange
from etl.db.tables import raw
from etl.queries.portable import day_of
from etl.models import BuildRun, FanoutBatch, FanoutRun, SummaryState
from etl.summaries import SUMMARIES, Summary
from etl.summaries.registry import dependents

STAGE_PREFIX = "etl_stage_"


def require_postgres() -> None:
    if db.vendor() != "postgresql":
        raise BuildError("--fan-out needs PostgreSQL (SQLite allows one writer, so batches cannot run at once);"
                         " build without --fan-out")


def stage_table(run_id: int, summary: Summary) -> Table:
    """The run's staging table of ``summary``: its columns without the surrogate key,
    unlogged (staging is rebuilt, never recovered)."""
    columns = [Column(c.name, c.type) for c in summary.table.columns if not c.primary_key]
    return Table(f"{STAGE_PREFIX}{run_id}_{summary.name}", MetaData(), *columns, prefixes=["UNLOGGED"])


def _summaries(run: FanoutRun) -> list[Summary]:
    return [SUMMARIES[name] for name in run.summaries.split(",")]


def raw_days() -> DateRange | None:
    """The first to the last day of any visit or shift."""
    visit, shift = raw("emr_visit"), raw("emr_shift")
    days = union_all(select(day_of(visit.c.start_at).label("day")), select(day_of(shift.c.start_at).label("day")))
    days = days.subquery("raw_days")
    first, last = db.emr_fetch_all(select(func.min(days.c.day), func.max(days.c.day)))[0]
    if first is None:
        return None
    first, last = (d if isinstance(d, dt.date) else dt.date.fromisoformat(str(d)[:10]) for d in (first, last))
    return DateRange(first, last + dt.timedelta(days=1))


def cut(window: DateRange, batch_days: int) -> list[DateRange]:
    """``window`` in consecutive batches of at most ``batch_days`` days."""
    step = dt.timedelta(days=max(batch_days, 1))
    starts = [window.start + step * i for i in range(-(-window.days // max(batch_days, 1)))]
    return [DateRange(s, min(s + step, window.end)) for s in starts]


def start(names: Iterable[str] | None = None, *, full: bool = False, since: dt.date | None = None,
          until: dt.date | None = None, trigger: str | None = None, batch_days: int | None = None) -> FanoutRun:
    """Record a fanned-out build and create its staging tables; send it with :func:`dispatch`."""
    require_postgres()
    summaries = _choose(names)
    if names is None:
        summaries = [s for s in summaries if fannable(s)]
    else:
        refused = [s.name for s in summaries if not fannable(s)]
        if refused:
            raise BuildError(f"{', '.join(refused)} cannot be fanned out (monthly, reaching forward, or reading"
                             " other summaries): build it without --fan-out")
    check_ready()
    backfill = backfill_range(since, until)
    if not full and backfill is None:
        raise BuildError("--fan-out needs --full or --since/--until")
    days = raw_days()
    window = backfill or days
    if window is None:
        raise BuildError("the raw tables have no visits or shifts: nothing to fan out")
    # Batches cover the days that can have rows; the publish replaces the whole window.
    covered = _overlap(window, days)
    batches = cut(covered, batch_days or settings.ETL_FANOUT_BATCH_DAYS) if covered else []
    chosen = [s.name for s in summaries]
    with build_lock(0):
        changes.claim(list(SUMMARIES))  # as a build does: the publish consumes them
        for summary in summaries if backfill else ():
            p = plan_summary(summary, backfill=backfill)
            if p.full:
                raise BuildError(f"{summary.name} needs a full rebuild ({p.full_reason}): use --full --fan-out")
        build_run = ledger.start(trigger or ("backfill" if backfill else "manual"), "incremental" if backfill else "full",
                                 chosen)
        with transaction.atomic():
            run = FanoutRun.objects.create(
                started_at=ledger.now(), summaries=",".join(chosen), full=backfill is None,
                since=window.start, until=window.end - dt.timedelta(days=1), batches_total=len(batches),
                build_run=build_run, definitions={s.name: definition_hash(s) for s in summaries},
                staff={str(k): list(v) for k, v in current_staff_groups().items()},
            )
            FanoutBatch.objects.bulk_create(
                [FanoutBatch(run=run, number=n, start=b.start, end=b.end) for n, b in enumerate(batches, start=1)]
            )
            for summary in summaries:
                db.execute(CreateTable(stage_table(run.pk, summary)))
    return run


def fannable(summary) -> bool:
    """Whether batches of days can build ``summary`` on their own: it reads only raw rows,
    has a row per day, and a day's rows depend on that day alone. The others (monthly
    tables, forward reach, summaries of summaries) are marked for a full rebuild when the
    fan-out publishes, and the command builds them right after it."""
    return summary.reads_raw and summary.period == "day" and summary.reach is None and not summary.depends_on


def _overlap(window: DateRange, days: DateRange | None) -> DateRange | None:
    if days is None:
        return None
    start, end = max(window.start, days.start), min(window.end, days.end)
    return DateRange(start, end) if start < end else None


def dispatch(run: FanoutRun, follow_up: str | None = None) -> None:
    """Send the run's batches as a chord: the callback publishes, the error callback abandons.
    ``follow_up``: the trigger of an ordinary build the callback runs after the publish, for
    what the batches could not build (``fannable()``); None when the caller builds it."""
    from celery import chord, signature

    header = [signature("etl.tasks.fanout_batch", args=(run.pk, n)) for n in range(1, run.batches_total + 1)]
    callback = signature("etl.tasks.fanout_publish", kwargs={"run_id": run.pk, "follow_up": follow_up})
    if not header:  # a backfill of days without raw rows: only their live rows go
        callback.delay()
        return
    callback.on_error(signature("etl.tasks.fanout_abandon", kwargs={"run_id": run.pk}))
    chord(header)(callback)


def build_batch(run_id: int, number: int, worker: str = "") -> int:
    """Build batch ``number`` of the run into its staging tables; the rows written (0 when
    the run is no longer open or the batch was already done)."""
    batch = FanoutBatch.objects.select_related("run").get(run_id=run_id, number=number)
    if batch.run.status != FanoutRun.Status.RUNNING or batch.status == FanoutBatch.Status.DONE:
        return 0
    window = [DateRange(batch.start, batch.end)]
    written = 0
    try:
        if settings.ETL_FANOUT_FAIL_BATCH == number:
            raise BuildError(f"batch {number} failed on purpose (ETL_FANOUT_FAIL_BATCH, a test setting)")
        with transaction.atomic():
            for stmt in statements.session_settings(db.vendor()):
                db.execute(stmt)
            for summary in _summaries(batch.run):
                stage = stage_table(run_id, summary)
                db.execute(delete(stage).where(stage.c.day >= batch.start, stage.c.day < batch.end))
                written += _stage_rows(summary, stage, window)
            FanoutBatch.objects.filter(pk=batch.pk).update(
                status=FanoutBatch.Status.DONE, worker=worker, rows_written=written, finished_at=ledger.now(),
            )
    except Exception as exc:
        if not is_unreachable(exc):  # an unreachable database is retried by the task, not failed
            FanoutBatch.objects.filter(pk=batch.pk).update(status=FanoutBatch.Status.FAILED, worker=worker,
                                                           error=_line(exc), finished_at=ledger.now())
        raise
    return written


def _stage_rows(summary: Summary, stage: Table, window: list[DateRange]) -> int:
    if db.emr_engine() is None:
        return db.execute(insert(stage).from_select(summary.columns, summary.rows(window)))
    written = 0  # the raw tables live elsewhere (a replica): stream the rows across
    for rows in db.emr_stream(summary.rows(window), 5000):
        db.execute_many(insert(stage), [dict(zip(summary.columns, row)) for row in rows])
        written += len(rows)
    return written


def _line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _drop_stages(run: FanoutRun) -> None:
    for summary in _summaries(run):
        db.execute(DropTable(stage_table(run.pk, summary), if_exists=True))


def publish(run_id: int) -> str:
    """Replace the live rows of the run's days by the staged ones, in one transaction, when
    every batch is done; "published", or "skipped" when the run was already closed."""
    with build_lock(settings.ETL_FANOUT_PUBLISH_WAIT, fanout_run=run_id):
        try:
            with transaction.atomic():
                run = FanoutRun.objects.select_for_update().get(pk=run_id)
                if run.status != FanoutRun.Status.RUNNING:
                    return "skipped"
                done = run.batches.filter(status=FanoutBatch.Status.DONE).count()
                if done != run.batches_total:
                    raise BuildError(f"fan-out {run_id}: {done} of {run.batches_total} batches done; nothing published")
                totals = _replace_live_rows(run)
                dimensions.refresh()  # names and the location tree for the reading side
                _drop_stages(run)
                FanoutRun.objects.filter(pk=run_id).update(status=FanoutRun.Status.PUBLISHED, finished_at=ledger.now())
        except GateFailed as exc:
            abandon(run_id, str(exc), status=BuildRun.Status.GATE_FAILED)
            raise
        except Exception as exc:
            if not is_unreachable(exc):  # unreachable: retried, or published by the next scheduled build
                abandon(run_id, _line(exc))
            raise
    if run.build_run is not None:
        ledger.finish(run.build_run, BuildRun.Status.SUCCEEDED, **totals)
    return "published"


def _replace_live_rows(run: FanoutRun) -> dict:
    window = None if run.full else [DateRange(run.since, run.until + dt.timedelta(days=1))]
    staff = {int(k): tuple(v) for k, v in run.staff.items()}
    days = () if run.full else tuple(run.since + dt.timedelta(days=i) for i in range(window[0].days))
    deleted = written = 0
    for summary in _summaries(run):
        stage = stage_table(run.pk, summary)
        remove = delete(summary.table)
        if window is not None:
            remove = remove.where(statements.day_predicate(summary, window))
        removed = db.execute(remove)
        staged = select(*(stage.c[c] for c in summary.columns))
        added = db.execute(insert(summary.table).from_select(summary.columns, staged))
        deleted, written = deleted + removed, written + added
        raw_days = RawDays(window)  # one scan of each raw table for the gates and the fingerprints
        gates.check(summary.table, summary.grain, summary.gates, window,
                    gates.reference_totals(summary, window, days=raw_days))
        _record_built(SummaryPlan(summary, run.definitions[summary.name], "--full --fan-out" if run.full else None,
                                  days=days, current_staff=staff), removed, added, raw_days)
    published = {s.name for s in _summaries(run)}
    readers = set().union(*(dependents(name) for name in published)) - published
    # What reads the published rows saw the old ones: its next build is full.
    SummaryState.objects.filter(name__in=readers, full_reason="").update(full_reason="a fan-out rebuilt what it reads")
    fulls = "; ".join(f"{s.name}: --full --fan-out" for s in _summaries(run)) if run.full else ""
    return {"days": (run.until - run.since).days + 1, "deleted": deleted, "written": written, "full_rebuilds": fulls}


def abandon(run_id: int, error: str, status: str = BuildRun.Status.FAILED) -> bool:
    """Close an open run without publishing: drop its staging tables, record why. False
    when the run was already closed."""
    with transaction.atomic():
        run = FanoutRun.objects.select_for_update().get(pk=run_id)
        if run.status != FanoutRun.Status.RUNNING:
            return False
        _drop_stages(run)
        FanoutRun.objects.filter(pk=run_id).update(status=FanoutRun.Status.FAILED, finished_at=ledger.now(),
                                                   error=error[:2000])
    if run.build_run is not None:
        ledger.finish(run.build_run, status, error=error)
    return True


def abandon_after_failed_batch(run_id: int) -> bool:
    """The chord's error path: abandon the run, naming its first failed batch."""
    failed = FanoutBatch.objects.filter(run_id=run_id, status=FanoutBatch.Status.FAILED).order_by("number").first()
    return abandon(run_id, f"batch {failed.number} failed: {failed.error}" if failed else "a batch failed")
