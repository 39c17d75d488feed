"""The declarations of the clinic scores (CONTRACT 4): ``clinic_day`` over the rows of
:mod:`etl.queries.clinic_rows` (the staff summaries' measures and rounding, per clinic);
``clinic_score``, ``region_month`` and its helper ``region_month_patients`` over the rows
of :mod:`etl.queries.score_rows` (the summary tables, and the visits by month)."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func

from etl.queries import score_checks
from etl.queries.clinic_rows import clinic_shift_rows, clinic_visit_rows
from etl.queries.score_rows import (
    clinic_day_months, clinic_days, clinic_score_months, clinic_visit_months, region_month_patient_counts,
)
from etl.queries.staff_rows import CANCELLED, COUNTED_STATUSES, NO_SHOW
from etl.summaries.declare import (
    Change, Count, CountDistinct, Declaration, Dimension, Equals, Input, NotNull, OneOf, Outlier, Previous, Rank,
    Ratio, Rolling, Rounded, Source, StdDev, Sum, Value, ZScore,
)
from etl.summaries.formats import FORMATS
from etl.summaries.gates import Reconciliation
from etl.summaries.staff import COMPLETED_VISITS_GATE, HOURS_COST_AND_RATIOS, IS_COMPLETED, SHIFT_MEASURES, total

BASELINE = (-28, -1)    # the 28 calendar days before the day, not the day itself
WEEK = (-6, 0)          # the 7 calendar days ending on the day
MIN_BASELINE_DAYS = 14  # fewer baseline values give no z-score
OUTLIER_Z = 3

CLINIC_DAY = Declaration(
    name="clinic_day",
    model_label="etl.ClinicDay",
    description="visits, hours, cost and their ratios per day and clinic",
    grain=(Dimension("day"), Dimension("clinic_id"), Dimension("region_id", key=False)),  # the clinic's region
    inputs=(
        Input(
            "clinic_visits",
            Source("counted_clinic_visits", clinic_visit_rows, filters=(OneOf("status", COUNTED_STATUSES),)),
            (
                Count("nr_visits", when=IS_COMPLETED),
                Count("nr_cancelled", when=Equals("status", CANCELLED)),
                Count("nr_no_show", when=Equals("status", NO_SHOW)),
                CountDistinct("nr_patients", "patient_id", when=IS_COMPLETED),
            ),
        ),
        Input(
            "clinic_shifts",
            Source("valid_clinic_shifts", clinic_shift_rows, filters=(NotNull("seconds"),)),
            SHIFT_MEASURES,
        ),
    ),
    derived=(
        Ratio("no_show_rate", "nr_no_show", ("nr_visits", "nr_no_show"), decimals=4),
        *HOURS_COST_AND_RATIOS,
    ),
    formats=FORMATS["clinic_day"],
    gates=(
        COMPLETED_VISITS_GATE,
        Reconciliation("cancelled visits", total("nr_cancelled"), "cancelled visits"),
        Reconciliation("no-show visits", total("nr_no_show"), "no-show visits"),
        Reconciliation("rostered hours", total("rostered_hours"), "rostered hours", Decimal("0.0001")),
    ),
)


def _baseline(short: str, column: str) -> tuple:
    """The baseline of a ratio over the clinic's 28 days before: how many values, their
    mean and sample standard deviation (windows), and the day's z-score against them."""
    clinic = ("clinic_id",)
    return (
        (
            Rolling(f"{short}_baseline_days", column, "count", clinic, BASELINE),
            Rolling(f"{short}_mean", column, "avg", clinic, BASELINE),
            StdDev(f"{short}_sd", column, clinic, BASELINE),
        ),
        ZScore(f"{short}_z", column, f"{short}_mean", f"{short}_sd", f"{short}_baseline_days", MIN_BASELINE_DAYS),
    )


PPH_WINDOWS, PPH_Z = _baseline("pph", "patients_per_hour")
CPP_WINDOWS, CPP_Z = _baseline("cpp", "cost_per_patient")
# Ranked among the clinics of the region that day; region NULL is one region.
REGION_DAY = ("day", "region_id")

CLINIC_SCORE = Declaration(
    name="clinic_score",
    model_label="etl.ClinicScore",
    description="rolling baselines, z-scores, outliers and regional ranks per day and clinic",
    grain=(Dimension("day"), Dimension("clinic_id"), Dimension("region_id", key=False)),
    inputs=(Input("clinic_day_values", Source("clinic_days", clinic_days), (
        Value("nr_visits", "nr_visits"),
        Value("patients_per_hour", "patients_per_hour"),
        Value("cost_per_patient", "cost_per_patient"),
    )),),
    windows=(
        Rolling("visits_7d", "nr_visits", "sum", ("clinic_id",), WEEK),
        *PPH_WINDOWS,
        *CPP_WINDOWS,
        Rank("pph_rank", "patients_per_hour", REGION_DAY),
        Rank("pph_pct_rank", "patients_per_hour", REGION_DAY, percent=True),
    ),
    scores=(PPH_Z, CPP_Z, Outlier("is_outlier", ("pph_z", "cpp_z"), OUTLIER_Z)),
    depends_on=("clinic_day",),
    formats=FORMATS["clinic_score"],
    gates=(
        Reconciliation("rows", lambda t: func.count(), "clinic_day rows"),
        Reconciliation("rows with a clinic_day row", score_checks.matches_clinic_day, "clinic_day rows"),
    ),
)

MONTH_GRAIN = (Dimension("month"), Dimension("region_id"))  # region NULL is its own region

REGION_MONTH_PATIENTS = Declaration(
    name="region_month_patients",
    model_label="etl.RegionMonthPatients",
    description="distinct patients per month and region (read by region_month)",
    grain=MONTH_GRAIN,
    # A distinct count over a month is not a sum of daily counts: from the raw visits.
    inputs=(Input("patients_by_month", Source("completed_clinic_visits", clinic_visit_months, (IS_COMPLETED,)), (
        CountDistinct("nr_patients", "patient_id"),
    )),),
    formats=FORMATS["region_month_patients"],
    day="month",
    period="month",
)

REGION_MONTH = Declaration(
    name="region_month",
    model_label="etl.RegionMonth",
    description="clinics, visits, hours, cost, outliers and change per month and region",
    grain=MONTH_GRAIN,
    inputs=(
        Input("month_totals", Source("month_days", clinic_day_months), (
            CountDistinct("nr_clinics", "clinic_id"),
            Sum("nr_visits", "nr_visits"),
            Sum("nr_no_show", "nr_no_show"),
            Sum("hour_units", "hour_units"),
            Sum("cost_cents", "cost_cents"),
        )),
        # Rows are the months with clinic_day rows: the other inputs only add to them.
        Input("month_outliers", Source("outlier_scores", clinic_score_months, (Equals("is_outlier", True),)),
              (Count("outlier_days"),), optional=True),
        Input("month_patients", Source("patients_of_months", region_month_patient_counts),
              (Sum("nr_patients", "nr_patients"),), optional=True),
    ),
    derived=(
        Rounded("rostered_hours", "hour_units", per=10_000, decimals=4),
        Rounded("staff_cost", "cost_cents", per=100, decimals=2),
        Ratio("visits_per_hour", "nr_visits", "rostered_hours", decimals=4),
        Ratio("cost_per_patient", "staff_cost", "nr_patients", decimals=4),
    ),
    windows=(Previous("previous_visits", "nr_visits", ("region_id",)),),
    scores=(Change("visits_change", "nr_visits", "previous_visits", decimals=4),),
    depends_on=("clinic_day", "clinic_score", "region_month_patients"),
    formats=FORMATS["region_month"],
    gates=(
        Reconciliation("visits", total("nr_visits"), "clinic_day visits"),
        Reconciliation("no-shows", total("nr_no_show"), "clinic_day no-shows"),
        Reconciliation("rostered hours", total("rostered_hours"), "clinic_day hours", Decimal("0.0001")),
        Reconciliation("staff cost", total("staff_cost"), "clinic_day cost", Decimal("0.01")),
        Reconciliation("clinics", total("nr_clinics"), "clinic-months"),
    ),
    day="month",
    period="month",
)
