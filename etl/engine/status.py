"""``build_summaries --status``: recent runs and how stale each summary is."""
from __future__ import annotations

import datetime as dt

from django.db.models import Count, Min

from etl.engine import capture, changes, ledger
from etl.models import BuildRun, FanoutRun, PendingDay, SummaryState
from etl.sources.quality import check_emr, report_lines
from etl.summaries import SUMMARIES


def _age(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "-"
    seconds = max((now - moment).total_seconds(), 0)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def _quiet_runs(run: BuildRun) -> str:
    if not run.noop_runs:
        return ""
    last = f", the last at {run.finished_at:%Y-%m-%d %H:%M:%S}" if run.finished_at else ""
    return f"nothing to do: {run.noop_runs:,} run{'s' if run.noop_runs > 1 else ''}{last}"


def status_lines(runs: int = 10) -> list[str]:
    now = ledger.now()
    lines = ["recent runs:"]
    lines.append(f"  {'id':>5} {'started (UTC)':19} {'status':12} {'trigger':9} {'mode':11} "
                 f"{'days':>5} {'pairs':>6} {'deleted':>9} {'written':>9} {'seconds':>8}  error")
    for run in BuildRun.objects.all()[:runs]:
        seconds = f"{run.duration_seconds:.2f}" if run.duration_seconds is not None else "-"
        lines.append(
            f"  {run.pk:>5} {run.started_at:%Y-%m-%d %H:%M:%S} {run.status:12} {run.trigger:9} {run.mode:11} "
            f"{run.partitions_rebuilt:>5} {run.cells_rebuilt:>6,} {run.rows_deleted:>9,} {run.rows_written:>9,} {seconds:>8}  "
            f"{(run.error or '')[:80]}{_quiet_runs(run)}"
        )
    if not BuildRun.objects.exists():
        lines.append("  (no builds yet)")
    for run in FanoutRun.objects.filter(status=FanoutRun.Status.RUNNING):
        done = run.batches.filter(status="done").count()
        lines.append(f"  fan-out {run.pk} open since {run.started_at:%Y-%m-%d %H:%M:%S}: batches {done}/{run.batches_total}"
                     " done (other builds wait for its publish)")
    unclaimed = changes.peek()
    pending = {
        row["summary"]: row
        for row in PendingDay.objects.values("summary").annotate(days=Count("id"), oldest=Min("queued_at"))
    }
    states = {s.name: s for s in SummaryState.objects.all()}
    lines.append("summaries:")
    lines.append(f"  {'summary':20} {'last built (UTC)':19} {'last full (UTC)':19} {'pending days':>12}  stale for")
    for name in SUMMARIES:
        state = states.get(name)
        queued = pending.get(name, {})
        oldest = [t for t in (queued.get("oldest"), unclaimed.oldest) if t is not None]
        days = len(set(unclaimed.days) | set(
            PendingDay.objects.filter(summary=name).values_list("day", flat=True)
        )) if (queued or unclaimed.days) else 0
        built = f"{state.built_at:%Y-%m-%d %H:%M:%S}" if state else "never"
        full = f"{state.full_built_at:%Y-%m-%d %H:%M:%S}" if state else "never"
        stale = _age(min(oldest), now) if oldest else "up to date"
        if state and state.full_reason:
            stale += f" (next build is full: {state.full_reason})"
        lines.append(f"  {name:20} {built:19} {full:19} {days:>12}  {stale}")
    problems = capture.inspect().problems
    lines.append("change capture: " + ("every trigger in place" if not problems else
                                       "NOT WORKING, builds are full until `manage.py init_emr` reinstalls it:"))
    lines += [f"  {problem}" for problem in problems.values()]
    lines.append("raw data quality (manage.py check_emr for example ids):")
    report = check_emr(examples=0)
    lines += [f"  {line}" for line in report_lines(report) if not line.lstrip().startswith("values:")]
    return lines
