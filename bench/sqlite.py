"""SQLite: the project's full build against a hand-written SQLite reference.

The same generator arguments fill a SQLite file (untimed, once per run); then, each
round, ``build_summaries --full`` on it and the reference statements below, timed in
this process with the standard ``sqlite3`` module. The reference's rows must equal the
project's (``EXCEPT ALL`` both ways), or the run stops.

The reference is what an analyst would write for SQLite on clean data: the role tree
walked down from its roots (a loop has no root, so it is never entered), timestamps read
with ``strftime('%s')``, shifts and visits matched by ``UNION ALL`` and ``GROUP BY`` (SQLite's
``FULL JOIN`` on a NULL-able key took minutes), and the contract's half-up rounding done in integers, as SQLite's
``REAL`` would otherwise round ``18.575`` by its binary representation.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

from .harness import BenchFailure, Context, Entry, Measurement
from .reference import COLUMNS, STAFF_COST_SUMMARY_COLUMNS, STAFF_SUMMARY_COLUMNS

GENERATE, BUILD, REFERENCE = "SQLite: generate_emr", "SQLite: build --full", "SQLite: reference SQL"

_GROUPS = """
WITH RECURSIVE walk (role_id, top_id, depth) AS (
    SELECT id, id, 0 FROM emr_role WHERE parent_id IS NULL
    UNION ALL
    SELECT r.id, w.top_id, w.depth + 1 FROM walk w JOIN emr_role r ON r.parent_id = w.role_id
    WHERE w.depth < (SELECT count(*) FROM emr_role)
),
staff_group AS MATERIALIZED (
    SELECT s.id AS staff_id, w.top_id AS group_id, top.name AS group_name,
           CAST(round(s.hourly_cost * 100) AS INTEGER) AS cost_cents
    FROM emr_staff s
    LEFT JOIN walk w ON w.role_id = s.role_id
    LEFT JOIN emr_role top ON top.id = w.top_id
)"""

# Half up in integers: floor((2n + d) / 2d) is n / d rounded half up (n >= 0, d > 0).
STAFF_SUMMARY_SQL = f"""
INSERT INTO bench_ref_staff_summary ({", ".join(STAFF_SUMMARY_COLUMNS)})
{_GROUPS}
SELECT date(v.start_at), v.location_id, v.service_id, g.group_id, g.group_name,
       sum(v.status = 'completed'),
       count(DISTINCT CASE WHEN v.status = 'completed' THEN v.patient_id END),
       sum(v.status = 'cancelled'),
       sum(v.status = 'no_show'),
       ((coalesce(sum(CASE WHEN v.status = 'completed' AND v.end_at >= v.start_at
                           THEN strftime('%s', v.end_at) - strftime('%s', v.start_at) END), 0)
         * 200 + 60) / 120) / 100.0
FROM emr_visit v
LEFT JOIN staff_group g ON g.staff_id = v.staff_id
WHERE v.status IN ('completed', 'cancelled', 'no_show')
GROUP BY 1, 2, 3, 4, 5
"""

STAFF_COST_SUMMARY_SQL = f"""
INSERT INTO bench_ref_staff_cost_summary ({", ".join(STAFF_COST_SUMMARY_COLUMNS)})
{_GROUPS},
shifts AS (
    SELECT date(sh.start_at) AS day, sh.location_id, g.group_id,
           sum(strftime('%s', sh.end_at) - strftime('%s', sh.start_at)) AS seconds,
           sum((strftime('%s', sh.end_at) - strftime('%s', sh.start_at)) * coalesce(g.cost_cents, 0)) AS cent_seconds,
           count(DISTINCT sh.staff_id) AS nr_staff
    FROM emr_shift sh
    LEFT JOIN staff_group g ON g.staff_id = sh.staff_id
    WHERE sh.end_at >= sh.start_at
    GROUP BY 1, 2, 3
),
visits AS (
    SELECT date(v.start_at) AS day, v.location_id, g.group_id,
           count(*) AS nr_visits, count(DISTINCT v.patient_id) AS nr_patients
    FROM emr_visit v
    LEFT JOIN staff_group g ON g.staff_id = v.staff_id
    WHERE v.status = 'completed'
    GROUP BY 1, 2, 3
),
totals AS (
    SELECT day, location_id, group_id,
           (sum(seconds) * 20000 + 3600) / 7200 AS hour_units, (sum(cent_seconds) * 2 + 3600) / 7200 AS cents,
           sum(nr_staff) AS nr_staff, sum(nr_visits) AS nr_visits, sum(nr_patients) AS nr_patients
    FROM (SELECT day, location_id, group_id, seconds, cent_seconds, nr_staff, 0 AS nr_visits, 0 AS nr_patients
          FROM shifts
          UNION ALL
          SELECT day, location_id, group_id, 0, 0, 0, nr_visits, nr_patients FROM visits)
    GROUP BY day, location_id, group_id
)
SELECT day, location_id, group_id, hour_units / 10000.0, cents / 100.0, nr_staff, nr_visits, nr_patients,
       CASE WHEN hour_units > 0 THEN ((nr_patients * 200000000 + hour_units) / (2 * hour_units)) / 10000.0 END,
       CASE WHEN nr_patients > 0 THEN ((cents * 20000 + nr_patients * 100) / (nr_patients * 200)) / 10000.0 END
FROM totals
"""

STATEMENTS = {"staff_summary": STAFF_SUMMARY_SQL, "staff_cost_summary": STAFF_COST_SUMMARY_SQL}


def path(ctx: Context) -> Path:
    folder = Path(os.environ.get("BENCH_SQLITE_DIR", tempfile.gettempdir()))
    return folder / f"emr-bench-{ctx.size}-{ctx.shape}.sqlite3"


def url(ctx: Context) -> str:
    return f"sqlite:///{path(ctx)}"


def generate(ctx: Context) -> Measurement:
    """The same raw data in a fresh SQLite file (not timed against anything)."""
    for suffix in ("", "-wal", "-shm", ".build-lock"):
        Path(f"{path(ctx)}{suffix}").unlink(missing_ok=True)
    ctx.manage("migrate", "-v0", url=url(ctx))
    ctx.manage("init_emr", "--drop", "--noinput", url=url(ctx))
    return ctx.manage("generate_emr", "--visits", str(ctx.visits), "--days", str(ctx.days),
                      "--clinics", str(ctx.clinics), "--seed", str(ctx.seed), url=url(ctx))


def build(ctx: Context) -> Measurement:
    m = ctx.build("--full", url=url(ctx))
    ctx.cache["sqlite_built"] = True
    return m


def _columns(summary: str) -> str:
    return ", ".join(COLUMNS[summary])


def hand_written(ctx: Context) -> Measurement:
    """The reference statements into empty copies of the tables, timed; rows compared."""
    if not ctx.cache.get("sqlite_built"):
        build(ctx)
    conn = sqlite3.connect(path(ctx), isolation_level=None)
    try:
        per_summary = {}
        for summary, statement in STATEMENTS.items():
            table = f"bench_ref_{summary}"
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} AS SELECT {_columns(summary)} FROM {summary} WHERE 0")
            started = time.perf_counter()
            conn.execute("BEGIN")
            conn.execute(statement)
            conn.execute("COMMIT")
            per_summary[summary] = time.perf_counter() - started
            for a, b in ((summary, table), (table, summary)):
                query = f"SELECT {_columns(summary)} FROM {a} EXCEPT SELECT {_columns(summary)} FROM {b}"
                extra = conn.execute(f"SELECT count(*) FROM ({query})").fetchone()[0]
                if extra:
                    sample = conn.execute(f"{query} LIMIT 3").fetchall()
                    raise BenchFailure(f"SQLite: {extra:,} rows of {a} are not in {b}, e.g. {sample}")
            counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in (summary, table)]
            if counts[0] != counts[1]:
                raise BenchFailure(f"SQLite: {summary} has {counts[0]:,} rows, the reference {counts[1]:,}")
    finally:
        conn.close()
    seconds = sum(per_summary.values())
    return Measurement(seconds, seconds, check="identical", details={"summaries": per_summary})


ENTRIES = [
    Entry(GENERATE, generate, once=True),
    Entry(BUILD, build),
    Entry(REFERENCE, hand_written),
]
