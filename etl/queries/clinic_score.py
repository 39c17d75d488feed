"""``clinic_score``: rolling baselines, z-scores, outliers and regional ranks of each
``clinic_day`` row — CONTRACT 4.

Grain: one row per ``clinic_day`` row (``day``, ``clinic_id``). Columns, in order:
``day``, ``clinic_id``, ``region_id``, ``patients_per_hour``, ``cost_per_patient``,
``visits_7d``, ``pph_baseline_days``, ``pph_mean``, ``pph_sd``, ``pph_z``,
``cpp_baseline_days``, ``cpp_mean``, ``cpp_sd``, ``cpp_z``, ``is_outlier``, ``pph_rank``,
``pph_pct_rank``.

Named CTEs: ``score_input`` (the clinic_day rows the window needs: 28 days before each of
its ranges too, for the baselines) → ``score_centered`` (each value minus its clinic's
mean over the rows read, the per-clinic constant that keeps the sum of squares precise)
→ ``score_windows`` (window functions: ``RANGE`` frames over the integer day number, so a
frame is calendar days whatever rows exist; ranks per day and region) → ``score_spread``
(standard deviations) → the rows of the window, with z-scores and outliers.

Portability, all measured on PostgreSQL 15 and SQLite 3.40:
- no ``stddev_samp`` (SQLite has none): ``sqrt((Σy² − (Σy)²/n) / (n − 1))`` over centered
  ``y``, and exactly 0 when the frame's ``MIN`` equals its ``MAX``, so equal values give
  ``sd`` 0 and ``z`` NULL whatever the floating-point arithmetic does;
- every division is guarded by a ``CASE`` (PostgreSQL raises on a zero divisor);
- NULL ``patients_per_hour`` rows are ranked in a partition of their own and their rank
  is discarded: the rank is over non-NULL values only, whatever each database's NULL order.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import Float, Select, case, cast, false, func, or_, select, true, type_coerce
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange
from etl.db.tables import summary_table
from etl.queries.calendar import day_filter
from etl.queries.windows import day_number

BASELINE_DAYS = 28          # the baseline: the 28 calendar days before the day
MIN_BASELINE_DAYS = 14      # fewer baseline values give no z-score
WEEK_DAYS = 7
OUTLIER_Z = 3
METRICS = (("pph", "patients_per_hour"), ("cpp", "cost_per_patient"))


def score_input(window: Sequence[DateRange] | None) -> CTE:
    """The clinic_day rows the window's scores read, with the day number and the two
    ratios as floats (``x_pph``, ``x_cpp``)."""
    cd = summary_table("etl.ClinicDay")
    query = select(
        cd.c.day, cd.c.clinic_id, cd.c.region_id, cd.c.nr_visits, cd.c.patients_per_hour,
        cd.c.cost_per_patient, day_number(cd.c.day).label("day_no"),
        *(cast(cd.c[column], Float).label(f"x_{short}") for short, column in METRICS),
    )
    predicate = day_filter(cd.c.day, window, BASELINE_DAYS)
    return (query if predicate is None else query.where(predicate)).cte("score_input")


def score_centered(rows: CTE) -> CTE:
    """Adds ``y_pph``, ``y_cpp``: each value minus its clinic's mean over the rows read."""
    return select(
        rows,
        *((rows.c[f"x_{short}"] - func.avg(rows.c[f"x_{short}"]).over(partition_by=rows.c.clinic_id))
          .label(f"y_{short}") for short, _ in METRICS),
    ).cte("score_centered")


def score_windows(rows: CTE) -> CTE:
    """The window functions: ``visits_7d``; per metric over the baseline frame
    ``n``, ``mean``, ``s1`` = Σy, ``s2`` = Σy², ``lo``, ``hi``; the day's rank."""
    clinic = dict(partition_by=rows.c.clinic_id, order_by=rows.c.day_no)
    baseline = dict(clinic, range_=(-BASELINE_DAYS, -1))
    columns = [func.sum(rows.c.nr_visits).over(**clinic, range_=(-(WEEK_DAYS - 1), 0)).label("visits_7d")]
    for short, _ in METRICS:
        x, y = rows.c[f"x_{short}"], rows.c[f"y_{short}"]
        columns += [
            func.count(x).over(**baseline).label(f"{short}_n"),
            func.avg(x).over(**baseline).label(f"{short}_mean"),
            func.sum(y).over(**baseline).label(f"{short}_s1"),
            func.sum(y * y).over(**baseline).label(f"{short}_s2"),
            func.min(x).over(**baseline).label(f"{short}_lo"),
            func.max(x).over(**baseline).label(f"{short}_hi"),
        ]
    pph = rows.c.patients_per_hour
    region_day = (rows.c.day, rows.c.region_id)  # PARTITION BY puts NULL regions together
    columns += [
        func.rank().over(partition_by=(*region_day, pph.is_(None)), order_by=pph.desc()).label("rank_all"),
        func.count(pph).over(partition_by=region_day).label("ranked"),
    ]
    return select(rows, *columns).cte("score_windows")


def score_spread(rows: CTE) -> CTE:
    """Adds ``pph_sd``, ``cpp_sd``: the sample standard deviation of the baseline."""
    spreads = []
    for short, _ in METRICS:
        n, s1, s2 = rows.c[f"{short}_n"], rows.c[f"{short}_s1"], rows.c[f"{short}_s2"]
        squares = s2 - s1 * s1 / type_coerce(n, Float)  # rendered as a float division on both databases
        spreads.append(case(
            (n < 2, None),
            (rows.c[f"{short}_lo"] == rows.c[f"{short}_hi"], 0.0),
            (squares <= 0, 0.0),
            else_=func.sqrt(squares / type_coerce(n - 1, Float)),
        ).label(f"{short}_sd"))
    return select(rows, *spreads).cte("score_spread")


def _z(rows: CTE, short: str, column: str):
    sd = rows.c[f"{short}_sd"]
    return case(
        (or_(rows.c[column].is_(None), rows.c[f"{short}_n"] < MIN_BASELINE_DAYS, sd.is_(None), sd == 0), None),
        else_=(rows.c[f"x_{short}"] - rows.c[f"{short}_mean"]) / sd,
    )


def clinic_score_rows(window: Sequence[DateRange] | None = None) -> Select:
    """Rows of ``clinic_score`` in its column order, for every day (None) or the window's."""
    s = score_spread(score_windows(score_centered(score_input(window))))
    pph_z, cpp_z = _z(s, "pph", "patients_per_hour"), _z(s, "cpp", "cost_per_patient")
    ranked = s.c.patients_per_hour.is_not(None)
    query = select(
        s.c.day, s.c.clinic_id, s.c.region_id, s.c.patients_per_hour, s.c.cost_per_patient,
        s.c.visits_7d,
        s.c.pph_n.label("pph_baseline_days"), s.c.pph_mean, s.c.pph_sd, pph_z.label("pph_z"),
        s.c.cpp_n.label("cpp_baseline_days"), s.c.cpp_mean, s.c.cpp_sd, cpp_z.label("cpp_z"),
        # A NULL z compares to NULL, never true: it never makes an outlier.
        case((or_(func.abs(pph_z) >= OUTLIER_Z, func.abs(cpp_z) >= OUTLIER_Z), true()), else_=false())
        .label("is_outlier"),
        case((ranked, s.c.rank_all)).label("pph_rank"),
        case(
            (~ranked, None),
            (s.c.ranked == 1, 0.0),
            else_=cast(s.c.rank_all - 1, Float) / type_coerce(s.c.ranked - 1, Float),
        ).label("pph_pct_rank"),
    )
    predicate = day_filter(s.c.day, window)
    return query if predicate is None else query.where(predicate)
