"""What a bench run reports: medians, ratios and targets, as a table on stdout, as
``bench/results/latest-<size>.md`` (for the README) and as
``bench/results/<size>-<UTC timestamp>.json`` with every run, the machine and the commit.

Ratios compare *work* seconds — the build's own time as it reports it, the ORM's
in-process time, the reference's statements — so the ~0.5 s of Python and Django start-up
of each command does not blur small sizes; the wall-clock seconds of the processes are
reported next to them.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
from pathlib import Path

from psycopg2 import sql

from .fanout import NAME as FANOUT
from .harness import ROOT, Context, Measurement
from .replica import DAY as REPLICA_DAY, FULL as REPLICA_FULL

RESULTS = ROOT / "bench" / "results"
FULL, REFERENCE, ORM, GENERATE = "build --full", "reference SQL", "Django ORM", "generate_emr"
DAY, STAFF, LOCATION = "build, 1 day changed", "build, 1 staff role changed", "build, 1 location edited"
# entry -> (the entry it is compared with, how the ratio reads)
SQLITE_BUILD, SQLITE_REFERENCE = "SQLite: build --full", "SQLite: reference SQL"
SETTINGS_PREFIX = "build SQL, "
RATIOS = {FULL: (REFERENCE, "{:.2f}x reference"), DAY: (FULL, "{:.1%} of full"),
          STAFF: (FULL, "{:.1%} of full"), LOCATION: (FULL, "{:.1%} of full"), ORM: (FULL, "{:.2f}x full"),
          SQLITE_BUILD: (SQLITE_REFERENCE, "{:.2f}x SQLite reference"), FANOUT: (FULL, "{:.2f}x full"),
          REPLICA_FULL: (FULL, "{:.2f}x full"), REPLICA_DAY: (REPLICA_FULL, "{:.1%} of replica full")}


def rule(name: str) -> tuple[str, str] | None:
    """(the entry ``name`` is compared with, how the ratio reads), if it has a ratio."""
    if name.startswith(SETTINGS_PREFIX):
        return REFERENCE, "{:.2f}x reference"
    return RATIOS.get(name)
PG_SETTINGS = ["shared_buffers", "work_mem", "maintenance_work_mem", "jit", "max_parallel_workers_per_gather",
               "effective_cache_size", "synchronous_commit", "max_wal_size"]


def summarise(runs: list[Measurement]) -> dict:
    """Medians of the runs (work: the work seconds if every run has them, else wall)."""
    walls = [m.seconds for m in runs]
    works = [m.work_seconds for m in runs]
    peaks = [m.peak_mb for m in runs if m.peak_mb is not None]
    checks = sorted({m.check for m in runs if m.check})
    return {
        "runs": len(runs),
        "median_seconds": statistics.median(walls),
        "median_work_seconds": statistics.median(walls if None in works else works),
        "peak_mb": max(peaks) if peaks else None,
        "check": "; ".join(checks) or None,
        "measurements": [dataclasses.asdict(m) for m in runs],
    }


def ratios(entries: dict[str, dict | str]) -> dict[str, float]:
    out = {}
    for name in entries:
        if rule(name) is None:
            continue
        base = rule(name)[0]
        a, b = entries.get(name), entries.get(base)
        if isinstance(a, dict) and isinstance(b, dict) and b["median_work_seconds"]:
            out[name] = a["median_work_seconds"] / b["median_work_seconds"]
    return out


def targets(ctx: Context, entries: dict, r: dict[str, float]) -> list[dict]:
    """The issue's targets, each met, NOT met, or n/a (not measured at this size)."""
    gen = entries.get(GENERATE)
    # The highest of every build entry, small builds included: the goal is of the command.
    peaks = {name: entries[name]["peak_mb"] for name in (FULL, DAY, STAFF, LOCATION)
             if isinstance(entries.get(name), dict) and entries[name].get("peak_mb") is not None}
    top = max(peaks, key=peaks.get) if peaks else None
    peak = peaks[top] if top else None
    gen_s = gen["median_seconds"] if isinstance(gen, dict) else None
    at_1m = ctx.visits == 1_000_000 and gen_s is not None
    gen_shown = (f"{gen_s:.1f} s" if at_1m else "n/a" if gen_s is None
                 else f"n/a at {ctx.size} ({gen_s:.1f} s; linear estimate for 1M: {gen_s * 1e6 / ctx.visits:.0f} s)")
    goals = [
        ("full build within 1.0x the hand-written SQL", r.get(FULL), 1.0, f"{r.get(FULL, 0):.2f}x"),
        ("incremental build after one day <= 2% of full", r.get(DAY), 0.02, f"{r.get(DAY, 0):.1%}"),
        ("incremental build after a busy staff member's role change <= 10% of full", r.get(STAFF), 0.10,
         f"{r.get(STAFF, 0):.1%}"),
        ("incremental build after a busy department moved to another clinic <= 10% of full", r.get(LOCATION),
         0.10, f"{r.get(LOCATION, 0):.1%}"),
        ("peak memory of build_summaries <= 150 MB", peak, 150, f"{peak or 0:.0f} MB ({top})"),
        ("generate_emr of 1M visits < 60 s", gen_s if at_1m else None, 60, gen_shown),
    ]
    return [{"target": text, "value": value, "limit": limit,
             "status": "n/a" if value is None else ("met" if value <= limit else "NOT met"),
             "shown": shown if value is not None or text.startswith("generate") else "-"}
            for text, value, limit, shown in goals]


def table(entries: dict[str, dict | str], r: dict[str, float]) -> list[list[str]]:
    rows = [["entry", "runs", "wall s", "work s", "ratio", "check", "peak MB"]]
    for name, e in entries.items():
        if isinstance(e, str):
            rows.append([name, "0", "-", "-", "-", e, "-"])
            continue
        ratio = rule(name)[1].format(r[name]) if name in r else "-"
        peak = f"{e['peak_mb']:.0f}" if e["peak_mb"] is not None else "-"
        rows.append([name, str(e["runs"]), f"{e['median_seconds']:.2f}", f"{e['median_work_seconds']:.2f}",
                     ratio, e["check"] or "-", peak])
    return rows


def text_table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows)


def markdown_table(rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    return "\n".join(lines + ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in rows[1:]])


def machine(ctx: Context) -> dict:
    with ctx.cursor() as cur:
        cur.execute("SELECT version()")
        version = cur.fetchone()[0]
        cur.execute("SELECT name, setting || coalesce(' ' || unit, '') FROM pg_settings WHERE name = ANY(%s)",
                    (PG_SETTINGS,))
        settings = dict(cur.fetchall())
    meminfo = Path("/proc/meminfo")
    mem_kb = next((int(line.split()[1]) for line in meminfo.read_text().splitlines()
                   if line.startswith("MemTotal:")), None) if meminfo.exists() else None
    return {"nproc": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
            "memory_mb": mem_kb // 1024 if mem_kb else None, "postgresql": version, "postgresql_settings": settings,
            "platform": platform.platform(), "machine": platform.machine(), "python": platform.python_version()}


def data_shape(ctx: Context) -> dict:
    """Row counts of the data measured, and how dense the staff_summary groups are."""
    counts = {}
    with ctx.cursor() as cur:
        for table in ("emr_visit", "emr_shift", "emr_staff", "emr_role", "staff_summary", "staff_cost_summary"):
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
            counts[table] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM emr_visit WHERE status IN ('completed', 'cancelled', 'no_show')")
        counted = cur.fetchone()[0]
    counts["visits_per_staff_summary_row"] = round(counted / max(counts["staff_summary"], 1), 2)
    return counts


def git() -> dict:
    def out(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""
    return {"commit": out("rev-parse", "--short", "HEAD") or None, "dirty": bool(out("status", "--porcelain"))}


def report(ctx: Context, results: dict[str, list[Measurement] | str], started: dt.datetime) -> dict:
    """Print the table and the targets; write the JSON file and the Markdown table."""
    entries = {name: runs if isinstance(runs, str) else summarise(runs) for name, runs in results.items()}
    r = ratios(entries)
    goals = targets(ctx, entries, r)
    info = {"machine": machine(ctx), "git": git(), "data": data_shape(ctx)}
    m, g, d = info["machine"], info["git"], info["data"]
    title = (f"bench {ctx.size} {ctx.shape}: {d['emr_visit']:,} visits over {ctx.days} days,"
             f" {d['emr_shift']:,} shifts, {ctx.clinics} clinics,"
             f" {d['staff_summary']:,} staff_summary rows ({d['visits_per_staff_summary_row']} counted visits each);"
             f" medians of {ctx.repeat} interleaved runs; {m['nproc']} CPUs, {m['memory_mb']:,} MB,"
             f" {m['postgresql'].split(' on ')[0]};"
             f" commit {g['commit']}{' (dirty tree)' if g['dirty'] else ''}; {started:%Y-%m-%d %H:%M} UTC")
    rows = table(entries, r)
    goal_lines = [f"{t['status']:8} {t['target']}: {t['shown']}" for t in goals]
    print(f"\n{title}\n\n{text_table(rows)}\n\ntargets:\n" + "\n".join("  " + line for line in goal_lines))
    RESULTS.mkdir(parents=True, exist_ok=True)
    latest = RESULTS / f"latest-{ctx.size}-{ctx.shape}.md"
    latest.write_text(
        f"{title}\n\n{markdown_table(rows)}\n\nTargets:\n\n" + "\n".join(
            f"- **{t['status']}** — {t['target']}: {t['shown']}" for t in goals) + "\n")
    document = {
        "size": ctx.size, "shape": ctx.shape, "days": ctx.days, "visits": ctx.visits, "clinics": ctx.clinics, "repeat": ctx.repeat,
        "started_utc": started.isoformat(), "finished_utc": dt.datetime.now(dt.timezone.utc).isoformat(),
        **info, "entries": entries, "ratios": r, "targets": goals, "failures": ctx.failures,
    }
    path = RESULTS / f"{ctx.size}-{ctx.shape}-{started:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)} and {latest.relative_to(ROOT)}")
    return document
