"""The floor: both summaries as plain SQL a competent analyst would write by hand.

One ``INSERT … WITH RECURSIVE … SELECT`` per summary into unindexed tables shaped like
the project's (``CREATE TABLE … AS SELECT … WITH NO DATA``), run in a default session:
no ``SET`` tuning, no ``ANALYZE``, no index work. What the database needs for the work
itself, so the project's build can be judged against it.

The statements implement CONTRACT.md exactly as the project does (etl/queries/): each
timestamp read to the whole second, money summed in exact ``numeric`` and rounded half
up once, hours to 4 decimals, ratios from the row's own rounded hours and cost, role
group = top-most ancestor (a chain that loops or reaches a missing row has none),
visits and shifts of a missing staff row under group NULL. The harness checks the rows
equal the project's (:func:`differences`) and stops when they do not.

Also here: the small SQL helpers the harness shares (snapshots and row comparisons).
Table and column names are constants of this module, composed with ``psycopg2.sql``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from psycopg2 import sql

STAFF_SUMMARY_COLUMNS = (
    "day", "location_id", "service_id", "role_group_id", "role_group_name",
    "nr_visits", "nr_patients", "nr_cancelled", "nr_no_show", "visit_minutes",
)
STAFF_COST_SUMMARY_COLUMNS = (
    "day", "location_id", "role_group_id", "rostered_hours", "staff_cost", "nr_staff",
    "nr_visits", "nr_patients", "patients_per_hour", "cost_per_patient",
)
COLUMNS = {"staff_summary": STAFF_SUMMARY_COLUMNS, "staff_cost_summary": STAFF_COST_SUMMARY_COLUMNS}

# Role group of every staff row. The walk starts at each role and climbs one parent per
# step; the depth guard (< number of roles) stops loops, which never reach a root.
_STAFF_GROUPS = """
WITH RECURSIVE walk (role_id, ancestor_id, ancestor_parent_id, depth) AS (
    SELECT id, id, parent_id, 0 FROM emr_role
    UNION ALL
    SELECT w.role_id, r.id, r.parent_id, w.depth + 1
    FROM walk w JOIN emr_role r ON r.id = w.ancestor_parent_id
    WHERE w.depth < (SELECT count(*) FROM emr_role)
),
role_group AS (
    SELECT role_id, ancestor_id AS group_id FROM walk WHERE ancestor_parent_id IS NULL
),
staff_group AS (
    SELECT s.id AS staff_id, g.group_id, top.name AS group_name, s.hourly_cost
    FROM emr_staff s
    LEFT JOIN role_group g ON g.role_id = s.role_id
    LEFT JOIN emr_role top ON top.id = g.group_id
)"""

STAFF_SUMMARY_SQL = f"""
INSERT INTO bench_ref_staff_summary ({", ".join(STAFF_SUMMARY_COLUMNS)})
{_STAFF_GROUPS}
SELECT
    v.start_at::date,
    v.location_id,
    v.service_id,
    sg.group_id,
    sg.group_name,
    count(*) FILTER (WHERE v.status = 'completed'),
    count(DISTINCT v.patient_id) FILTER (WHERE v.status = 'completed'),
    count(*) FILTER (WHERE v.status = 'cancelled'),
    count(*) FILTER (WHERE v.status = 'no_show'),
    round(coalesce(sum(extract(epoch FROM date_trunc('second', v.end_at) - date_trunc('second', v.start_at)))
                   FILTER (WHERE v.status = 'completed' AND v.end_at >= v.start_at), 0) / 60, 2)
FROM emr_visit v
LEFT JOIN staff_group sg ON sg.staff_id = v.staff_id
WHERE v.status IN ('completed', 'cancelled', 'no_show')
GROUP BY 1, 2, 3, 4, 5
"""

# The full outer join matches group NULL with itself through two hashable equalities
# (no sentinel value that a dirty export could collide with).
STAFF_COST_SUMMARY_SQL = f"""
INSERT INTO bench_ref_staff_cost_summary ({", ".join(STAFF_COST_SUMMARY_COLUMNS)})
{_STAFF_GROUPS},
shifts AS (
    SELECT sh.start_at::date AS day, sh.location_id, sg.group_id,
           sum(extract(epoch FROM date_trunc('second', sh.end_at) - date_trunc('second', sh.start_at))) AS seconds,
           sum(extract(epoch FROM date_trunc('second', sh.end_at) - date_trunc('second', sh.start_at))
               * coalesce(sg.hourly_cost, 0)) AS cost_seconds,
           count(DISTINCT sh.staff_id) AS nr_staff
    FROM emr_shift sh
    LEFT JOIN staff_group sg ON sg.staff_id = sh.staff_id
    WHERE sh.end_at >= sh.start_at
    GROUP BY 1, 2, 3
),
visits AS (
    SELECT v.start_at::date AS day, v.location_id, sg.group_id,
           count(*) AS nr_visits, count(DISTINCT v.patient_id) AS nr_patients
    FROM emr_visit v
    LEFT JOIN staff_group sg ON sg.staff_id = v.staff_id
    WHERE v.status = 'completed'
    GROUP BY 1, 2, 3
),
totals AS (
    SELECT coalesce(s.day, v.day) AS day,
           coalesce(s.location_id, v.location_id) AS location_id,
           coalesce(s.group_id, v.group_id) AS group_id,
           round(coalesce(s.seconds, 0) / 3600, 4) AS rostered_hours,
           round(coalesce(s.cost_seconds, 0) / 3600, 2) AS staff_cost,
           coalesce(s.nr_staff, 0) AS nr_staff,
           coalesce(v.nr_visits, 0) AS nr_visits,
           coalesce(v.nr_patients, 0) AS nr_patients
    FROM shifts s
    FULL JOIN visits v
      ON v.day = s.day AND v.location_id = s.location_id
     AND coalesce(v.group_id, 0) = coalesce(s.group_id, 0)
     AND (v.group_id IS NULL) = (s.group_id IS NULL)
)
SELECT day, location_id, group_id, rostered_hours, staff_cost, nr_staff, nr_visits, nr_patients,
       CASE WHEN rostered_hours > 0 THEN round(nr_patients / rostered_hours, 4) END,
       CASE WHEN nr_patients > 0 THEN round(staff_cost / nr_patients, 4) END
FROM totals
"""


@dataclass(frozen=True)
class Reference:
    summary: str  # the project's table
    table: str  # the reference's table
    statement: str


REFERENCES = (
    Reference("staff_summary", "bench_ref_staff_summary", STAFF_SUMMARY_SQL),
    Reference("staff_cost_summary", "bench_ref_staff_cost_summary", STAFF_COST_SUMMARY_SQL),
)


def _cols(summary: str) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, COLUMNS[summary]))


def snapshot(cur, summary: str, table: str) -> None:
    """(Re)create ``table`` as a copy of ``summary``'s rows, without ``id`` and indexes."""
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    cur.execute(sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
        sql.Identifier(table), _cols(summary), sql.Identifier(summary)))


def differences(cur, summary: str, left: str, right: str, sample: int = 0) -> tuple[int, list[tuple]]:
    """Rows of ``left`` not in ``right`` (as multisets, every column but ``id``), and up to
    ``sample`` of them."""
    query = sql.SQL("SELECT {c} FROM {a} EXCEPT ALL SELECT {c} FROM {b}").format(
        c=_cols(summary), a=sql.Identifier(left), b=sql.Identifier(right))
    cur.execute(sql.SQL("SELECT count(*) FROM ({}) d").format(query))
    count = cur.fetchone()[0]
    rows: list[tuple] = []
    if count and sample:
        cur.execute(sql.SQL("{} LIMIT %s").format(query), (sample,))
        rows = cur.fetchall()
    return count, rows


def compare(cur, summary: str, left: str, right: str) -> str | None:
    """None when the two tables hold the same rows; otherwise what differs, one line each."""
    lines = []
    for a, b in ((left, right), (right, left)):
        count, rows = differences(cur, summary, a, b, sample=3)
        if count:
            lines.append(f"{count:,} rows of {a} are not in {b}, e.g. {rows}")
    return "\n".join(lines) or None


def run(cur) -> dict[str, float]:
    """Empty the reference tables (untimed), then time each INSERT; seconds by summary."""
    seconds: dict[str, float] = {}
    for ref in REFERENCES:
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(ref.table)))
        cur.execute(sql.SQL("CREATE TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
            sql.Identifier(ref.table), _cols(ref.summary), sql.Identifier(ref.summary)))
    for ref in REFERENCES:
        started = time.perf_counter()
        cur.execute(ref.statement)
        seconds[ref.summary] = time.perf_counter() - started
    return seconds
