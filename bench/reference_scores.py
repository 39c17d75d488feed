"""The floor for CONTRACT 4: ``clinic_day``, ``clinic_score`` and ``region_month`` as plain
PostgreSQL a competent analyst would write by hand, in the style of
:mod:`bench.reference` (unindexed tables, default session, no tuning).

Independent of the project's queries: the clinic and region of a location by a walk *up*
from every location; hours and money in exact ``numeric`` rounded with ``round()``;
the baselines with PostgreSQL's own ``stddev_samp`` as a window function; ranks with
``NULLS LAST``; the previous month by date arithmetic. ``clinic_score`` and
``region_month`` read the reference's own ``clinic_day``. Floats (means, sds, z, percent
ranks) are compared with the contract's tolerance (relative 1e-6, absolute 1e-9), the
rest exactly.
"""
from __future__ import annotations

from psycopg2 import sql

CLINIC_DAY_COLUMNS = (
    "day", "clinic_id", "region_id", "nr_visits", "nr_cancelled", "nr_no_show", "nr_patients",
    "no_show_rate", "rostered_hours", "staff_cost", "nr_staff", "patients_per_hour", "cost_per_patient",
)
CLINIC_SCORE_COLUMNS = (
    "day", "clinic_id", "region_id", "patients_per_hour", "cost_per_patient", "visits_7d",
    "pph_baseline_days", "pph_mean", "pph_sd", "pph_z", "cpp_baseline_days", "cpp_mean", "cpp_sd", "cpp_z",
    "is_outlier", "pph_rank", "pph_pct_rank",
)
REGION_MONTH_COLUMNS = (
    "month", "region_id", "nr_clinics", "nr_visits", "nr_no_show", "nr_patients", "rostered_hours",
    "staff_cost", "visits_per_hour", "cost_per_patient", "outlier_days", "visits_change",
)
COLUMNS = {"clinic_day": CLINIC_DAY_COLUMNS, "clinic_score": CLINIC_SCORE_COLUMNS,
           "region_month": REGION_MONTH_COLUMNS}
FLOATS = {"clinic_score": ("pph_mean", "pph_sd", "pph_z", "cpp_mean", "cpp_sd", "cpp_z", "pph_pct_rank")}
KEYS = {"clinic_day": ("day", "clinic_id"), "clinic_score": ("day", "clinic_id"),
        "region_month": ("month", "region_id")}

# The clinic of each location: walk up from every location, stopping at the first clinic
# (a walk that loops without one is cut at the number of locations). Its region: the
# walk's root (parent_id IS NULL), for the clinic.
_PLACES = """
WITH RECURSIVE up (location_id, node_id, kind, parent_id, depth) AS (
    SELECT id, id, kind, parent_id, 0 FROM emr_location
    UNION ALL
    SELECT u.location_id, l.id, l.kind, l.parent_id, u.depth + 1
    FROM up u JOIN emr_location l ON l.id = u.parent_id
    WHERE u.kind <> 'clinic' AND u.depth < (SELECT count(*) FROM emr_location)
),
root (location_id, node_id, parent_id, depth) AS (
    SELECT id, id, parent_id, 0 FROM emr_location WHERE kind = 'clinic'
    UNION ALL
    SELECT r.location_id, l.id, l.parent_id, r.depth + 1
    FROM root r JOIN emr_location l ON l.id = r.parent_id
    WHERE r.depth < (SELECT count(*) FROM emr_location)
),
places AS (
    SELECT u.location_id, u.node_id AS clinic_id, r.node_id AS region_id
    FROM up u LEFT JOIN root r ON r.location_id = u.node_id AND r.parent_id IS NULL
    WHERE u.kind = 'clinic'
)"""

CLINIC_DAY_SQL = f"""
INSERT INTO bench_ref_clinic_day ({", ".join(CLINIC_DAY_COLUMNS)})
{_PLACES},
visits AS (
    SELECT v.start_at::date AS day, p.clinic_id, p.region_id,
           count(*) FILTER (WHERE v.status = 'completed') AS nr_visits,
           count(*) FILTER (WHERE v.status = 'cancelled') AS nr_cancelled,
           count(*) FILTER (WHERE v.status = 'no_show') AS nr_no_show,
           count(DISTINCT v.patient_id) FILTER (WHERE v.status = 'completed') AS nr_patients
    FROM emr_visit v JOIN places p ON p.location_id = v.location_id
    WHERE v.status IN ('completed', 'cancelled', 'no_show')
    GROUP BY 1, 2, 3
),
shifts AS (
    SELECT sh.start_at::date AS day, p.clinic_id, p.region_id,
           sum(extract(epoch FROM date_trunc('second', sh.end_at) - date_trunc('second', sh.start_at))) AS seconds,
           sum(extract(epoch FROM date_trunc('second', sh.end_at) - date_trunc('second', sh.start_at))
               * coalesce(s.hourly_cost, 0)) AS cost_seconds,
           count(DISTINCT sh.staff_id) AS nr_staff
    FROM emr_shift sh JOIN places p ON p.location_id = sh.location_id
    LEFT JOIN emr_staff s ON s.id = sh.staff_id
    WHERE sh.end_at >= sh.start_at
    GROUP BY 1, 2, 3
),
totals AS (
    SELECT coalesce(s.day, v.day) AS day, coalesce(s.clinic_id, v.clinic_id) AS clinic_id,
           coalesce(s.region_id, v.region_id) AS region_id,
           coalesce(v.nr_visits, 0) AS nr_visits, coalesce(v.nr_cancelled, 0) AS nr_cancelled,
           coalesce(v.nr_no_show, 0) AS nr_no_show, coalesce(v.nr_patients, 0) AS nr_patients,
           round(coalesce(s.seconds, 0) / 3600, 4) AS rostered_hours,
           round(coalesce(s.cost_seconds, 0) / 3600, 2) AS staff_cost,
           coalesce(s.nr_staff, 0) AS nr_staff
    FROM shifts s FULL JOIN visits v ON v.day = s.day AND v.clinic_id = s.clinic_id
)
SELECT day, clinic_id, region_id, nr_visits, nr_cancelled, nr_no_show, nr_patients,
       CASE WHEN nr_visits + nr_no_show > 0 THEN round(nr_no_show::numeric / (nr_visits + nr_no_show), 4) END,
       rostered_hours, staff_cost, nr_staff,
       CASE WHEN rostered_hours > 0 THEN round(nr_patients / rostered_hours, 4) END,
       CASE WHEN nr_patients > 0 THEN round(staff_cost / nr_patients, 4) END
FROM totals
"""

CLINIC_SCORE_SQL = f"""
INSERT INTO bench_ref_clinic_score ({", ".join(CLINIC_SCORE_COLUMNS)})
WITH w AS (
    SELECT cd.*,
           sum(nr_visits) OVER (PARTITION BY clinic_id ORDER BY day - DATE '1970-01-01'
                                RANGE BETWEEN 6 PRECEDING AND CURRENT ROW) AS visits_7d,
           count(patients_per_hour) OVER b AS pn, avg(patients_per_hour::float8) OVER b AS pm,
           stddev_samp(patients_per_hour::float8) OVER b AS psd,
           min(patients_per_hour) OVER b = max(patients_per_hour) OVER b AS pflat,
           count(cost_per_patient) OVER b AS cn, avg(cost_per_patient::float8) OVER b AS cm,
           stddev_samp(cost_per_patient::float8) OVER b AS csd,
           min(cost_per_patient) OVER b = max(cost_per_patient) OVER b AS cflat,
           rank() OVER (PARTITION BY day, region_id ORDER BY patients_per_hour DESC NULLS LAST) AS rk,
           count(patients_per_hour) OVER (PARTITION BY day, region_id) AS rn
    FROM bench_ref_clinic_day cd
    WINDOW b AS (PARTITION BY clinic_id ORDER BY day - DATE '1970-01-01' RANGE BETWEEN 28 PRECEDING AND 1 PRECEDING)
),
sd AS (
    SELECT w.*, CASE WHEN pflat THEN 0 ELSE psd END AS pph_sd, CASE WHEN cflat THEN 0 ELSE csd END AS cpp_sd
    FROM w
),
z AS (
    SELECT sd.*,
           CASE WHEN pn >= 14 AND pph_sd > 0 THEN (patients_per_hour::float8 - pm) / pph_sd END AS pph_z,
           CASE WHEN cn >= 14 AND cpp_sd > 0 THEN (cost_per_patient::float8 - cm) / cpp_sd END AS cpp_z
    FROM sd
)
SELECT day, clinic_id, region_id, patients_per_hour, cost_per_patient, visits_7d,
       pn, pm, pph_sd, pph_z, cn, cm, cpp_sd, cpp_z,
       coalesce(abs(pph_z) >= 3, false) OR coalesce(abs(cpp_z) >= 3, false),
       CASE WHEN patients_per_hour IS NOT NULL THEN rk END,
       CASE WHEN patients_per_hour IS NOT NULL THEN
           CASE WHEN rn = 1 THEN 0 ELSE (rk - 1)::float8 / (rn - 1) END END
FROM z
"""

REGION_MONTH_SQL = f"""
INSERT INTO bench_ref_region_month ({", ".join(REGION_MONTH_COLUMNS)})
{_PLACES},
m AS (
    SELECT date_trunc('month', day)::date AS month, region_id, count(DISTINCT clinic_id) AS nr_clinics,
           sum(nr_visits) AS nr_visits, sum(nr_no_show) AS nr_no_show,
           sum(rostered_hours) AS hours, sum(staff_cost) AS cost
    FROM bench_ref_clinic_day GROUP BY 1, 2
),
patients AS (
    SELECT date_trunc('month', v.start_at)::date AS month, p.region_id, count(DISTINCT v.patient_id) AS n
    FROM emr_visit v JOIN places p ON p.location_id = v.location_id
    WHERE v.status = 'completed'
    GROUP BY 1, 2
),
outliers AS (
    SELECT date_trunc('month', day)::date AS month, region_id, count(*) FILTER (WHERE is_outlier) AS n
    FROM bench_ref_clinic_score GROUP BY 1, 2
),
prev AS (
    SELECT m.*, lag(month) OVER r AS prev_month, lag(nr_visits) OVER r AS prev_visits
    FROM m WINDOW r AS (PARTITION BY region_id ORDER BY month)
)
SELECT prev.month, prev.region_id, nr_clinics, nr_visits, nr_no_show, coalesce(p.n, 0), hours, cost,
       CASE WHEN hours > 0 THEN round(nr_visits / hours, 4) END,
       CASE WHEN p.n > 0 THEN round(cost / p.n, 4) END,
       coalesce(o.n, 0),
       CASE WHEN prev_month = (prev.month - interval '1 month')::date AND prev_visits > 0
            THEN round((nr_visits - prev_visits)::numeric / prev_visits, 4) END
FROM prev
LEFT JOIN patients p ON p.month = prev.month AND p.region_id IS NOT DISTINCT FROM prev.region_id
LEFT JOIN outliers o ON o.month = prev.month AND o.region_id IS NOT DISTINCT FROM prev.region_id
"""

STATEMENTS = (("clinic_day", CLINIC_DAY_SQL), ("clinic_score", CLINIC_SCORE_SQL), ("region_month", REGION_MONTH_SQL))


def _cols(summary: str) -> sql.Composable:
    return sql.SQL(", ").join(map(sql.Identifier, COLUMNS[summary]))


def create_tables(cur) -> None:
    for summary in COLUMNS:
        table = sql.Identifier(f"bench_ref_{summary}")
        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        cur.execute(sql.SQL("CREATE TABLE {} AS SELECT {} FROM {} WITH NO DATA").format(
            table, _cols(summary), sql.Identifier(summary)))


def differences(cur, summary: str, left: str, right: str) -> int:
    """Keys of ``left`` and ``right`` whose rows differ (or exist on one side only):
    floats within the contract's tolerance, everything else exactly."""
    keys = KEYS[summary]
    floats = FLOATS.get(summary, ())
    a, b = sql.Identifier("a"), sql.Identifier("b")
    same = []
    for column in COLUMNS[summary]:
        if column in keys:
            continue
        x, y = sql.SQL("{}.{}").format(a, sql.Identifier(column)), sql.SQL("{}.{}").format(b, sql.Identifier(column))
        if column in floats:
            same.append(sql.SQL("(({x} IS NULL AND {y} IS NULL) OR abs({x} - {y}) <= greatest(1e-9, 1e-6 * abs({y})))")
                        .format(x=x, y=y))
        else:
            same.append(sql.SQL("{x} IS NOT DISTINCT FROM {y}").format(x=x, y=y))
    # FULL JOIN needs hashable conditions: a NULL region matches itself through two equalities.
    join = sql.SQL(" AND ").join(
        sql.SQL("coalesce({a}.{k}, 0) = coalesce({b}.{k}, 0) AND ({a}.{k} IS NULL) = ({b}.{k} IS NULL)"
                if k == "region_id" else "{a}.{k} = {b}.{k}").format(a=a, b=b, k=sql.Identifier(k))
        for k in keys)
    query = sql.SQL(
        "SELECT count(*) FROM {left} a FULL JOIN {right} b ON {join} "
        "WHERE a.{k} IS NULL OR b.{k} IS NULL OR NOT ({same})"
    ).format(left=sql.Identifier(left), right=sql.Identifier(right), join=join,
             k=sql.Identifier(keys[0]), same=sql.SQL(" AND ").join(same))
    cur.execute(query)
    return cur.fetchone()[0]


def snapshot(cur, summary: str, table: str) -> None:
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
    cur.execute(sql.SQL("CREATE TABLE {} AS SELECT {} FROM {}").format(
        sql.Identifier(table), _cols(summary), sql.Identifier(summary)))
