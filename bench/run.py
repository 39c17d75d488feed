"""``make bench``: the project's builds against the database's own floor, on PostgreSQL.

``python -m bench.run --size 100k|1m|10m`` fills a dedicated database (``emr_bench``)
with ``generate_emr`` and measures, in one run on the same data: the generator, a full
build, the hand-written SQL reference (:mod:`bench.reference`), the Django ORM version
(:mod:`bench.orm`), and incremental builds after one day of visits, after one busy staff
member's role changed and after a busy department moved to another clinic, each checked
against a full build, the full build fanned out on two Celery workers
(:mod:`bench.fanout`), and builds reading the raw tables from a logical-replication
subscriber (:mod:`bench.replica`). Entries other than the
generator run ``--repeat`` times, interleaved (the machine is shared and noisy), and
the medians are reported with the ratios and targets by :mod:`bench.report`: a table
on stdout, ``bench/results/latest-<size>.md`` and a JSON file with every number, the
machine and the git commit.

Entries form a registry (:data:`ENTRIES`): a name and a function of the :class:`Context`
returning a :class:`Measurement`, so more (page timings, say) can be added.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import os
import sys
import time

from psycopg2 import sql

from . import fanout, orm, reference, reference_scores, replica, settings, sqlite
from .harness import BenchFailure, Context, Entry, Measurement, connect, reported, run_entries
from .report import report

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/emr_bench"
SIZES = {"100k": (100_000, 20), "1m": (1_000_000, 200), "10m": (10_000_000, 400)}
# sparse: two years at many clinics (about one counted visit per staff_summary row);
# dense: 90 days at 20 clinics, many visits per row, as real clinics are.
SHAPES = {"sparse": (730, None), "dense": (90, 20)}
SEED = 1
RAW_TABLES = ("emr_location", "emr_role", "emr_staff", "emr_service", "emr_patient", "emr_visit", "emr_shift")
# Every tenth completed or cancelled visit of the day swaps status: applied twice, the
# day is back as it was, so repeated runs alternate between two states.
FLIP_DAY = """
UPDATE emr_visit SET status = CASE status WHEN 'completed' THEN 'cancelled' ELSE 'completed' END
WHERE start_at >= %s AND start_at < %s AND status IN ('completed', 'cancelled') AND id %% 10 = 0
"""


# --- entries ----------------------------------------------------------------------------

def generate(ctx: Context) -> Measurement:
    """Migrate and recreate the raw tables (untimed), then time ``generate_emr``."""
    ctx.manage("migrate", "-v0")
    ctx.manage("init_emr", "--drop", "--noinput")
    m = ctx.manage("generate_emr", "--visits", str(ctx.visits), "--days", str(ctx.days),
                   "--clinics", str(ctx.clinics), "--seed", str(ctx.seed))
    m.work_seconds = reported(m, r"^generated .* in ([\d.]+) s$")
    settle(ctx)
    return m


def settle(ctx: Context) -> None:
    """VACUUM ANALYZE the raw tables (untimed), so no timed entry pays for hint bits or
    autovacuum after the load."""
    ctx.built = False
    with ctx.cursor() as cur:
        cur.execute(sql.SQL("VACUUM ANALYZE {}").format(sql.SQL(", ").join(map(sql.Identifier, RAW_TABLES))))


def full(ctx: Context) -> Measurement:
    """``build_summaries --full``: wall time, the build's own time and each summary's."""
    m = ctx.build("--full")
    m.details["summaries"] = {
        s: reported(m, rf"^{s}: [\d,]+ rows written, .* in ([\d.]+) s$")
        for s in (*reference.COLUMNS, "region_month_patients", *reference_scores.COLUMNS)
    }
    return m


def hand_written(ctx: Context) -> Measurement:
    """The reference statements, timed; their rows must equal the project's, or we stop."""
    ctx.ensure_built()
    with ctx.cursor() as cur:
        per_summary = reference.run(cur)
        for ref in reference.REFERENCES:
            diff = reference.compare(cur, ref.summary, ref.summary, ref.table)
            if diff:
                raise BenchFailure(f"the reference SQL differs from the project's {ref.summary}:\n{diff}")
        reference_scores.create_tables(cur)
        for summary, statement in reference_scores.STATEMENTS:
            started = time.perf_counter()
            cur.execute(statement)
            per_summary[summary] = time.perf_counter() - started
            differ = reference_scores.differences(cur, summary, summary, f"bench_ref_{summary}")
            if differ:
                raise BenchFailure(f"the reference SQL differs from the project's {summary} on {differ:,} rows")
    seconds = sum(per_summary.values())
    return Measurement(seconds, seconds, check="identical", details={"summaries": per_summary})


def verify(ctx: Context, what: str, url: str | None = None, env: dict | None = None) -> str:
    """Do the summary tables (of the bench database, or of ``url`` built with ``env``)
    equal a ``--full`` rebuild? Snapshot, rebuild, compare."""
    conn = ctx.conn if url is None else connect(url)
    with conn.cursor() as cur:
        for s in reference.COLUMNS:
            reference.snapshot(cur, s, f"bench_incr_{s}")
        for s in reference_scores.COLUMNS:
            reference_scores.snapshot(cur, s, f"bench_incr_{s}")
    ctx.build("--full", "--quiet", url=url, env=env)
    with conn.cursor() as cur:
        diffs = [d for s in reference.COLUMNS if (d := reference.compare(cur, s, s, f"bench_incr_{s}"))]
        diffs += [f"{s}: {n:,} rows differ" for s in reference_scores.COLUMNS
                  if (n := reference_scores.differences(cur, s, s, f"bench_incr_{s}"))]
    if url is not None:
        conn.close()
    if diffs:
        ctx.failures.append(f"{what}: the incremental build differs from a full build:\n" + "\n".join(diffs))
        return "MISMATCH"
    return "equals full"


def incremental_day(ctx: Context) -> Measurement:
    """Flip some visits of the middle day completed <-> cancelled, time the plain build."""
    ctx.ensure_built()
    with ctx.cursor() as cur:
        cur.execute("SELECT min(start_at)::date, max(start_at)::date FROM emr_visit")
        first, last = cur.fetchone()
        day = dt.datetime.combine(first + (last - first) / 2, dt.time())
        cur.execute(FLIP_DAY, (day, day + dt.timedelta(days=1)))
        changed = cur.rowcount
    m = ctx.build()
    m.check = verify(ctx, "incremental_day")
    m.details.update(day=day.date().isoformat(), visits_changed=changed)
    return m


def staff_change(ctx: Context) -> tuple[int, int, int]:
    """(busy staff member: the 100th most active with a role group, their role, a leaf role
    of another group), chosen once."""
    if "staff_change" not in ctx.cache:
        with ctx.cursor() as cur:
            cur.execute("SELECT id, parent_id FROM emr_role")
            roles = dict(cur.fetchall())
            cur.execute("SELECT v.staff_id, s.role_id FROM emr_visit v JOIN emr_staff s ON s.id = v.staff_id"
                        " GROUP BY v.staff_id, s.role_id ORDER BY count(*) DESC, v.staff_id LIMIT 200 OFFSET 99")
            busiest = cur.fetchall()
        groups, parents = orm.role_groups(roles), set(roles.values())
        staff_id, role = next(((s, r) for s, r in busiest if r in groups), (None, None))
        others = [r for r in groups if r not in parents and role is not None and groups[r] != groups[role]]
        if not others:
            raise BenchFailure("no busy staff member with a role group, or no leaf role in another group")
        ctx.cache["staff_change"] = (staff_id, role, min(others))
    return ctx.cache["staff_change"]


def incremental_staff(ctx: Context) -> Measurement:
    """Move a busy staff member to a leaf role of another group (or back), time the build."""
    ctx.ensure_built()
    staff_id, original, other = staff_change(ctx)
    with ctx.cursor() as cur:
        cur.execute("SELECT role_id FROM emr_staff WHERE id = %s", (staff_id,))
        new_role = other if cur.fetchone()[0] == original else original
        cur.execute("UPDATE emr_staff SET role_id = %s WHERE id = %s", (new_role, staff_id))
    return checked_build(ctx, "incremental_staff", staff_id=staff_id, new_role_id=new_role)


def checked_build(ctx: Context, what: str, **details) -> Measurement:
    """A plain build, timed, then checked against a full build; ``details`` recorded."""
    m = ctx.build()
    m.check = verify(ctx, what)
    m.details.update(details)
    return m


def location_change(ctx: Context) -> tuple[int, int, int]:
    """(the department with the most visits, its clinic, another clinic), chosen once."""
    if "location_change" not in ctx.cache:
        with ctx.cursor() as cur:
            cur.execute("SELECT l.id, l.parent_id FROM emr_location l JOIN emr_location p ON p.id = l.parent_id"
                        " JOIN emr_visit v ON v.location_id = l.id WHERE l.kind = 'department' AND p.kind = 'clinic'"
                        " GROUP BY l.id, l.parent_id ORDER BY count(*) DESC, l.id LIMIT 1")
            found = cur.fetchone()
            if found is None:
                raise BenchFailure("no department directly under a clinic")
            cur.execute("SELECT min(id) FROM emr_location WHERE kind = 'clinic' AND id <> %s", (found[1],))
            other = cur.fetchone()[0]
        ctx.cache["location_change"] = (found[0], found[1], other)
    return ctx.cache["location_change"]


def incremental_location(ctx: Context) -> Measurement:
    """Move the busiest department to another clinic (or back), time the build."""
    ctx.ensure_built()
    department, original, other = location_change(ctx)
    with ctx.cursor() as cur:
        cur.execute("SELECT parent_id FROM emr_location WHERE id = %s", (department,))
        new_parent = other if cur.fetchone()[0] == original else original
        cur.execute("UPDATE emr_location SET parent_id = %s WHERE id = %s", (new_parent, department))
    return checked_build(ctx, "incremental_location", location_id=department, new_parent_id=new_parent)


def orm_way(ctx: Context) -> Measurement:
    """The Django ORM version (its own process), compared with the project's rows."""
    ctx.ensure_built()
    with ctx.cursor() as cur:
        for s in reference.COLUMNS:
            reference.snapshot(cur, s, f"bench_proj_{s}")
    m = ctx.process([sys.executable, "-m", "bench.orm"])
    ctx.built = False  # the ORM rewrote the summary tables
    out = json.loads(m.details["output"][-1])
    m.work_seconds = out["seconds"]
    checks = []
    with ctx.cursor() as cur:
        for s in reference.COLUMNS:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(f"bench_proj_{s}")))
            project_rows = cur.fetchone()[0]
            extra, _ = reference.differences(cur, s, s, f"bench_proj_{s}")
            missing, _ = reference.differences(cur, s, f"bench_proj_{s}", s)
            m.details[s] = {"orm_rows": out["rows"][s], "project_rows": project_rows,
                            "orm_only": extra, "project_only": missing}
            if extra or missing:
                checks.append(f"{s}: {out['rows'][s]:,} rows vs {project_rows:,}, {extra:,} differ")
    m.check = "; ".join(checks) or "identical"
    return m


ENTRIES: list[Entry] = [
    Entry("generate_emr", generate, once=True,
          skip=lambda c: "reused the data (--reuse-data)" if c.reuse_data else None),
    Entry("build --full", full),
    Entry("reference SQL", hand_written),
    Entry("build, 1 day changed", incremental_day),
    Entry("build, 1 staff role changed", incremental_staff),
    Entry("build, 1 location edited", incremental_location),
    fanout.entry(verify),
    *replica.entries(FLIP_DAY, verify),
    Entry("Django ORM", orm_way, skip=lambda c: None if c.orm else (
        "skipped at 10m: too slow (--orm runs it)" if c.size == "10m" else "skipped (--no-orm)")),
    *(dataclasses.replace(e, skip=lambda c: None if c.cache["settings"] else "skipped (--no-settings)")
      for e in settings.ENTRIES),
    *(dataclasses.replace(e, skip=lambda c: None if c.cache["sqlite"] else "skipped (--no-sqlite)")
      for e in sqlite.ENTRIES),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=str.lower, choices=SIZES, default="100k", help="visits: 100k, 1m or 10m")
    parser.add_argument("--repeat", type=int, help="runs of each timed entry (default 3; 1 at 10m)")
    parser.add_argument("--shape", choices=SHAPES, default="sparse",
                        help="sparse: 730 days, clinics by size; dense: 90 days at 20 clinics")
    parser.add_argument("--clinics", type=int, help="override the clinics of the size and shape")
    parser.add_argument("--settings", action=argparse.BooleanOptionalAction,
                        help="time the build's SQL under each session-settings variant (default: not at 10m)")
    parser.add_argument("--sqlite", action=argparse.BooleanOptionalAction,
                        help="the SQLite build against its hand-written reference (default: not at 10m)")
    parser.add_argument("--orm", action=argparse.BooleanOptionalAction, help="run the ORM entry (default: not at 10m)")
    parser.add_argument("--fan-out", action=argparse.BooleanOptionalAction, default=True,
                        help="time --full --fan-out on two Celery workers (needs Redis; default: on)")
    parser.add_argument("--replica", action=argparse.BooleanOptionalAction, default=True,
                        help="time builds reading a logical-replication subscriber (scripts/ensure_replica.sh;"
                             " default: on)")
    parser.add_argument("--reuse-data", action="store_true", help="skip generate_emr: keep the bench database's rows")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args(argv)
    visits, clinics = SIZES[args.size]
    days, shape_clinics = SHAPES[args.shape]
    small = args.size != "10m"
    try:
        ctx = Context(args.size, visits, args.clinics or shape_clinics or clinics, args.database_url,
                      args.repeat or (3 if small else 1), small if args.orm is None else args.orm,
                      args.reuse_data, connect(args.database_url), shape=args.shape, days=days, seed=SEED)
        ctx.cache["settings"] = small if args.settings is None else args.settings
        ctx.cache["sqlite"] = small if args.sqlite is None else args.sqlite
        ctx.cache["fanout"] = args.fan_out and fanout.redis_answers()
        ctx.cache["fanout_skip"] = "skipped (--no-fan-out)" if not args.fan_out else "skipped: Redis does not answer"
        ctx.cache["replica_skip"] = replica.prepare(ctx) if args.replica else "skipped (--no-replica)"
        started = dt.datetime.now(dt.timezone.utc)
        if ctx.reuse_data:
            settle(ctx)
        results = run_entries(ctx, ENTRIES)
    except BenchFailure as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 2
    report(ctx, results, started)
    for failure in ctx.failures:
        print(f"bench: {failure}", file=sys.stderr)
    return 1 if ctx.failures else 0


if __name__ == "__main__":
    sys.exit(main())
