"""``build_summaries``: bring the summary tables up to date with the raw EMR tables.

Flow of a build: take the build lock (one build at a time) → record the run in the ledger
→ claim the change log into pending days → per summary, plan what to rebuild (all of it,
or only changed days) → rebuild it in one transaction: delete the rows of those days,
insert them again with ``INSERT ... SELECT`` run inside the database, check the publish
gates, and record what was built (pending days consumed, staff values, definition) →
commit. Readers see the old rows or the new ones, never a mix; a failed gate, an error or
a killed process leaves the old rows and the pending days for the next build.

When the raw tables live in another database (``EMR_DATABASE_URL``), the same SELECT runs
there and its rows are streamed into Django's database in batches, inside the same kind
of transaction on Django's side; the rows, the gates' raw totals and the day fingerprints
are read from one snapshot of the EMR database.

``verify`` (the nightly reconcile) first compares every day's raw rows with the
fingerprints recorded when the day was built, and rebuilds the days that drifted
(:mod:`etl.engine.fingerprints`).
"""
from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from sqlalchemy import func, insert, select, text

from etl.engine import capture, changes, dimensions, fingerprints, gates, ledger, statements
from etl import db
from etl.db import swap
from etl.dates import DateRange
from etl.engine.lanes import Lanes
from etl.engine.locks import BuildLocked, build_lock
from etl.engine.plan import Snapshot, SummaryPlan, plan_summary
from etl.engine.progress import Progress, quiet
from etl.engine.rawdays import RawDays
from etl.db.schema import raw_schema_problem
from etl.summaries import SUMMARIES, Summary, UnknownSummary, ordered
from etl.text import count
from etl.summaries.registry import dependents

STREAM_BATCH_ROWS = 5000

__all__ = ["BuildError", "BuildLocked", "BuildReport", "GateFailed", "build_sql", "build_summaries", "plan"]
GateFailed = gates.GateFailed


class BuildError(RuntimeError):
    """A build could not run or failed; the message is one line for the operator."""


@dataclass(frozen=True)
class SummaryResult:
    name: str
    mode: str
    full_reason: str | None
    days: int
    rows_deleted: int
    rows_written: int
    seconds: float
    cells: int = 0  # (day, key) pairs rebuilt on their own, besides the whole days


@dataclass(frozen=True)
class BuildReport:
    results: tuple[SummaryResult, ...]
    seconds: float
    run_id: int | None = None

    @property
    def rows_written(self) -> int:
        return sum(r.rows_written for r in self.results)

    @property
    def rows_deleted(self) -> int:
        return sum(r.rows_deleted for r in self.results)


def build_sql(
    names: Iterable[str] | None = None, window: Sequence[DateRange] | None = None, *,
    plans: list[SummaryPlan] | None = None,
) -> str:
    """The build's statements as a script (see :func:`etl.engine.statements.build_sql`)."""
    return statements.build_sql(_choose(names) if plans is None else [], window, plans=plans)


def _choose(names: Iterable[str] | None) -> list[Summary]:
    try:
        return ordered(names)
    except UnknownSummary as exc:
        raise BuildError(str(exc)) from None


def check_ready() -> None:
    problem = raw_schema_problem()
    if problem:
        raise BuildError(problem)


def backfill_range(since: dt.date | None, until: dt.date | None) -> DateRange | None:
    """``--since``/``--until`` (both inclusive) as a date range; either alone is one day."""
    if since is None and until is None:
        return None
    since, until = since or until, until or since
    if until < since:
        raise BuildError(f"--until {until} is before --since {since}")
    if until >= dt.date.max:  # the range ends the day after --until, which must exist
        last = dt.date.max - dt.timedelta(days=1)
        raise BuildError(f"the backfill ends on {until}, past the last day it can reach ({last})")
    return DateRange(since, until + dt.timedelta(days=1))


# --- one summary ------------------------------------------------------------------------

def _write_same_database(summary: Summary, window, cells=None) -> tuple[int, int]:
    """Run the rebuild statements; (rows deleted, rows inserted)."""
    deleted = written = 0
    if cells is None and statements.bulk_load(window):  # TRUNCATE reports no row count: count what it replaces
        deleted = int(db.fetch_scalar(select(func.count()).select_from(summary.table)) or 0)
    for stmt in statements.rebuild_statements(summary, window, cells):
        count = db.execute(stmt)
        if getattr(stmt, "is_insert", False):
            written = count
        elif getattr(stmt, "is_delete", False):
            deleted = count
    return deleted, written


def _write_swapped(summary: Summary, plan) -> tuple[int, int]:
    """Build the staging table of a swap; (rows it replaces, rows written)."""
    deleted = int(db.fetch_scalar(select(func.count()).select_from(summary.table)) or 0)
    written = 0
    for stmt in plan.build:
        count = db.execute(stmt)
        if isinstance(stmt, swap.CreateTableAs):
            written = count
    return deleted, written


def _write_streamed(summary: Summary, window, cells=None) -> tuple[int, int]:
    deleted, written = db.execute(statements.removal(summary, window, cells)), 0
    add = insert(summary.table)
    for batch in db.emr_stream(statements.rows_of(summary, window, cells), STREAM_BATCH_ROWS):
        db.execute_many(add, [dict(zip(summary.columns, row)) for row in batch])
        written += len(batch)
    return deleted, written


def _row_count(p: SummaryPlan, deleted: int, written: int) -> int:
    """Rows in the summary's table once this build commits: a full build wrote them all;
    an incremental one changed the last recorded count by what it deleted and wrote (a
    count of the table when none was recorded)."""
    from etl.models import SummaryState

    if p.full:
        return written
    before = SummaryState.objects.filter(name=p.summary.name).values_list("row_count", flat=True).first()
    if before is None:
        return int(db.fetch_scalar(select(func.count()).select_from(p.summary.table)) or 0)
    return before - deleted + written


def _record_built(p: SummaryPlan, deleted: int, written: int, days: RawDays | None = None) -> None:
    from etl.models import PendingDay, SummaryState
    from etl.engine.staffdiff import built_staff_groups, changed_staff, save_staff_groups
    from etl.engine.locationdiff import save_locations

    pending = PendingDay.objects.filter(summary=p.summary.name)
    if not p.full:
        pending = pending.filter(day__in=list(p.days))
    pending.delete()
    changed = changed_staff(built_staff_groups(p.summary.name), p.current_staff) if p.full else p.staff_changed
    save_staff_groups(p.summary.name, p.current_staff, changed)
    source = _fingerprint_source(p.summary)
    if source is None:
        fingerprints.record(p.summary.name, p.summary.reads, p.window, days)
    else:
        fingerprints.copy(p.summary.name, source, p.window)
    if p.current_locations is not None:
        save_locations(p.summary.name, p.current_locations, None if p.full else p.locations_changed)
    if p.full:
        # A dependent read the old rows everywhere: its next build is full too.
        SummaryState.objects.filter(name__in=dependents(p.summary.name), full_reason="").update(
            full_reason=f"{p.summary.name} was rebuilt in full")
    moment = ledger.now()
    defaults = {"definition_hash": p.definition, "definition_stamp": p.definition_stamp, "built_at": moment,
                "full_reason": "", "raw_identity": p.raw_identity, "row_count": _row_count(p, deleted, written)}
    if p.full:
        defaults["full_built_at"] = moment
    state, created = SummaryState.objects.update_or_create(
        name=p.summary.name, defaults=defaults, create_defaults={**defaults, "full_built_at": moment},
    )


def _fingerprint_source(summary: Summary) -> str | None:
    """For a summary that reads only summaries: the summary it reads that was built from
    the same raw tables (its day fingerprints are the ones to keep); None: scan the raw rows."""
    if summary.reads_raw:
        return None
    for name in summary.depends_on:
        read = SUMMARIES.get(name)
        if read is not None and read.reads_raw and set(read.reads) == set(summary.reads):
            return name
    return None


def _pause_for_tests() -> None:
    """``ETL_BUILD_PAUSE_SECONDS`` (tests only; 0 in production): sleep inside each
    summary's transaction once its rows are written, so a test can kill a build mid-way."""
    if settings.ETL_BUILD_PAUSE_SECONDS:
        time.sleep(settings.ETL_BUILD_PAUSE_SECONDS)


def rebuild(p: SummaryPlan, progress: Progress = quiet) -> SummaryResult:
    """Carry out one summary's plan in one transaction."""
    started = time.perf_counter()
    summary = p.summary
    pieces = statements.pieces(p)
    deleted = written = 0
    outermost = not connection.in_atomic_block
    try:
        with transaction.atomic(), db.emr_snapshot():
            if db.vendor() == "postgresql" and outermost and db.emr_engine() is None:
                # The gates compare with raw rows: read them at the snapshot the insert used.
                db.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            for stmt in statements.session_settings(db.vendor()):
                db.execute(stmt)
            swap_plan = statements.table_swap(summary, p.window)
            if swap_plan is not None:  # a full rebuild on PostgreSQL: build a new table, swap it in
                deleted, written = _write_swapped(summary, swap_plan)
            for number, (piece, cells) in enumerate(pieces if swap_plan is None else [], start=1):
                # A summary of summaries runs in Django's database, wherever the raw rows are.
                streamed = db.emr_engine() is not None and summary.reads_raw
                write = _write_streamed if streamed else _write_same_database
                d, w = write(summary, piece, cells)
                deleted, written = deleted + d, written + w
                progress(f"{summary.name}", done=number, total=len(pieces))
            _pause_for_tests()
            raw_days = RawDays(p.window)  # one scan of each raw table for the gates and the fingerprints
            days_written = _check_gates(p, swap_plan, raw_days)
            _record_built(p, deleted, written, raw_days)
            if swap_plan is not None:  # last: the live table stays locked only until the commit
                statements.swap_in(swap_plan)
            days = len(p.days) if not p.full else days_written
    except statements.SwapLocked as exc:
        raise BuildError(f"{summary.name}: {exc}") from exc
    except DatabaseError as exc:
        raise BuildError(statements.refusal_message(summary.name, exc)) from exc
    mode = "full" if p.full else "incremental"
    return SummaryResult(summary.name, mode, p.full_reason, days, deleted, written,
                         time.perf_counter() - started, p.cell_count)


def _rebuild_reported(p: SummaryPlan, progress: Progress) -> SummaryResult:
    result = rebuild(p, progress)
    progress(f"{p.summary.name}: {count(result.rows_written, 'row')} written,"
             f" {result.rows_deleted:,} replaced, in {result.seconds:.2f} s")
    return result


def _check_gates(p: SummaryPlan, swap_plan, days: RawDays | None = None) -> int:
    """The publish gates over what the plan rebuilt: its whole days, then its (day, key)
    pairs on their own; the number of whole days written."""
    summary = p.summary
    days_written = 0
    # The unique grain constraint checks what the duplicate scan would: a bulk load or swap
    # adds it, and the live table has it when the database enforces it (gates.grain_enforced).
    scan_grain = not gates.grain_enforced(summary.model_label, summary.table, summary.grain)
    if p.full or p.days:
        days_written = gates.check(
            summary.table if swap_plan is None else swap_plan.readable, summary.grain, summary.gates,
            p.window, gates.reference_totals(summary, p.window, days=days),
            check_grain=scan_grain and not statements.bulk_load(p.window), period=summary.period,
        )
    if p.cell_count:
        for cells in p.cells.chunks(statements.CELLS_PER_STATEMENT):
            gates.check(summary.table, summary.grain, summary.gates, None,
                        gates.reference_totals(summary, None, cells), check_grain=scan_grain,
                        period=summary.period, cells=cells)
    return days_written


# --- a build ----------------------------------------------------------------------------

def plan(
    names: Iterable[str] | None = None, *, full: bool = False, since: dt.date | None = None,
    until: dt.date | None = None, verify: bool = False,
) -> list[SummaryPlan]:
    """What a build would rebuild now, and why, changing nothing (``--dry-run``)."""
    summaries = _choose(names)
    check_ready()
    unclaimed = changes.peek()
    backfill = backfill_range(since, until)
    state = capture.inspect()
    snapshot = Snapshot()
    return [
        plan_summary(s, force_full=full, backfill=backfill, unclaimed=unclaimed, capture=state,
                     drifted=_drifted(s, verify and not full), snapshot=snapshot)
        for s in summaries
    ]


def _drifted(summary: Summary, verify: bool) -> set[dt.date]:
    return fingerprints.drifted_days(summary.name, summary.reads) if verify else set()


def build_summaries(
    names: Iterable[str] | None = None, *, full: bool = False, since: dt.date | None = None,
    until: dt.date | None = None, wait: float = 0, trigger: str | None = None, progress: Progress = quiet,
    verify: bool = False,
) -> BuildReport:
    """Bring the chosen summaries (all by default) up to date: only the changed days,
    unless ``full`` or a summary needs a full rebuild; with ``verify``, also the days whose
    raw rows drifted from their fingerprints. Raises :class:`BuildLocked` when
    another build holds the lock past ``wait`` seconds, :class:`GateFailed` when a publish
    gate fails, :class:`BuildError` for any other failure."""
    summaries = _choose(names)
    check_ready()
    backfill = backfill_range(since, until)
    trigger = trigger or ("backfill" if backfill else "manual")
    mode = "full" if full else "incremental"
    chosen = [s.name for s in summaries]
    started = time.perf_counter()
    try:
        with build_lock(wait):
            run = ledger.start(trigger, mode, chosen)
            results: list[SummaryResult] = []
            lanes = Lanes(lambda p: _rebuild_reported(p, lanes.say), progress, chosen)
            try:
                try:
                    claimed = changes.claim(list(SUMMARIES))
                    if not claimed.empty:
                        progress(f"claimed changes on {count(len(claimed.days), 'day')} from the change log")
                    dimensions.refresh()  # names and the location tree for the reading side
                    state = capture.inspect()
                    snapshot = Snapshot()  # dimension values and lookups, read once for every summary
                    for summary in summaries:
                        lanes.wait_for(summary.depends_on)  # plan it on its inputs' new rows
                        drifted = _drifted(summary, verify and not full)
                        if verify and not full:
                            lanes.say(f"{summary.name}: verified, {count(len(drifted), 'day')} drifted")
                        p = plan_summary(summary, force_full=full, backfill=backfill, capture=state,
                                         drifted=drifted, snapshot=snapshot)
                        lanes.say(p.describe())
                        if p.up_to_date:
                            continue
                        if lanes.takes(p):  # a full rebuild: beside the others (etl.engine.lanes)
                            lanes.start(p)
                            continue
                        lanes.wait_all()
                        results.append(_rebuild_reported(p, lanes.say))
                    lanes.wait_all()
                except BaseException:
                    lanes.stop()  # this build failed: the rebuilds still running roll back
                    raise
                finally:
                    results.extend(lanes.finish())
                    results.sort(key=lambda r: chosen.index(r.name))
            except GateFailed as exc:
                ledger.finish(run, "gate_failed", error=str(exc), **_totals(results))
                raise
            except KeyboardInterrupt:
                # Ctrl-C: the summary being rebuilt rolled back; say so now, not at the next build.
                # PostgreSQL's cancel request is asynchronous: when it reaches the server after
                # the interrupted statement ended, it cancels the next one, which may be this
                # ledger write. Write it once more then.
                for attempt in (1, 2):
                    try:
                        ledger.finish(run, "interrupted", error="interrupted (Ctrl-C)", **_totals(results))
                        break
                    except KeyboardInterrupt:
                        if attempt == 2:
                            raise
                raise
            except Exception as exc:
                ledger.finish(run, "failed", error=str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc),
                              **_totals(results))
                if isinstance(exc, BuildError):
                    raise
                raise BuildError(f"build failed: {exc}") from exc
            if results:
                ledger.finish(run, "succeeded", **_totals(results))
            else:
                run = ledger.finish_noop(run)
    except BuildLocked as exc:
        try:
            ledger.record_locked(trigger, mode, chosen, str(exc))
        except DatabaseError:
            # SQLite: the running build holds the only write lock; the refusal still stands.
            pass
        raise
    return BuildReport(tuple(results), time.perf_counter() - started, run.pk)


def _totals(results: list[SummaryResult]) -> dict:
    fulls = "; ".join(f"{r.name}: {r.full_reason}" for r in results if r.mode == "full")
    return {
        "days": sum(r.days for r in results), "cells": sum(r.cells for r in results),
        "deleted": sum(r.rows_deleted for r in results),
        "written": sum(r.rows_written for r in results), "full_rebuilds": fulls,
        "mode": ledger.actual_mode([r.mode for r in results]),
    }
