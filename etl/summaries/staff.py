"""The declarations of the CONTRACT 2 summaries, ``staff_summary`` and
``staff_cost_summary``, over the rows of :mod:`etl.queries.staff_rows`.

Durations are summed in whole seconds and money in cent-seconds, then rounded once,
exactly and half up; ratios divide the row's own rounded values (README, "The summary
tables").
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func

from etl.queries.staff_rows import CANCELLED, COMPLETED, COUNTED_STATUSES, NO_SHOW, shift_rows, visit_rows
from etl.summaries.declare import (
    Count, CountDistinct, Declaration, Dimension, Equals, Input, NotNull, OneOf, Ratio, Rounded, Source, Sum,
)
from etl.summaries.formats import FORMATS
from etl.summaries.gates import Reconciliation

IS_COMPLETED = Equals("status", COMPLETED)


def total(column: str):
    """A gate's total of the rebuilt rows: the sum of ``column``."""
    return lambda table: func.sum(table.c[column])


ROSTERED_HOURS = Rounded("rostered_hours", "rostered_seconds", per=3600, decimals=4)
# Cent-seconds / 360,000 = money; a group's sum can pass 2**63: split.
STAFF_COST = Rounded("staff_cost", "cost_cent_seconds", per=360_000, decimals=2, split=True)
# What shifts give a summary, whatever its grain, and the values derived from them.
SHIFT_MEASURES = (
    Sum("rostered_seconds", "seconds"),
    Sum("cost_cent_seconds", "cost_cent_seconds"),
    CountDistinct("nr_staff", "staff_id"),
)
HOURS_COST_AND_RATIOS = (
    ROSTERED_HOURS,
    STAFF_COST,
    Ratio("patients_per_hour", "nr_patients", "rostered_hours", decimals=4),
    Ratio("cost_per_patient", "staff_cost", "nr_patients", decimals=4),
)
COMPLETED_VISITS_GATE = Reconciliation("completed visits", total("nr_visits"), "completed visits")

STAFF_SUMMARY = Declaration(
    name="staff_summary",
    model_label="etl.StaffSummary",
    description="visits per day, location, service and role group",
    grain=(
        Dimension("day"), Dimension("location_id"), Dimension("service_id"), Dimension("role_group_id"),
        Dimension("role_group_name", key=False),  # the name of role_group_id
    ),
    inputs=(Input(
        "visit_counts",
        # Unknown statuses count nowhere.
        Source("counted_visits", visit_rows, filters=(OneOf("status", COUNTED_STATUSES),)),
        (
            Count("nr_visits", when=IS_COMPLETED),
            CountDistinct("nr_patients", "patient_id", when=IS_COMPLETED),
            Count("nr_cancelled", when=Equals("status", CANCELLED)),
            Count("nr_no_show", when=Equals("status", NO_SHOW)),
            Sum("visit_seconds", "valid_seconds"),
        ),
    ),),
    derived=(Rounded("visit_minutes", "visit_seconds", per=60, decimals=2),),
    formats=FORMATS["staff_summary"],
    gates=(
        COMPLETED_VISITS_GATE,
        Reconciliation("cancelled visits", total("nr_cancelled"), "cancelled visits"),
        Reconciliation("no-show visits", total("nr_no_show"), "no-show visits"),
    ),
)

STAFF_COST_SUMMARY = Declaration(
    name="staff_cost_summary",
    model_label="etl.StaffCostSummary",
    description="rostered hours and staff cost against patients per day, location and role group",
    grain=(Dimension("day"), Dimension("location_id"), Dimension("role_group_id")),
    # Matched on the grain: idle rostered staff and unrostered work both appear.
    inputs=(
        Input(
            "shifts_by_group",
            Source("valid_shifts", shift_rows, filters=(NotNull("seconds"),)),  # 0 to 24 hours
            SHIFT_MEASURES,
        ),
        Input(
            "visits_by_group",
            Source("completed_visits", visit_rows, filters=(IS_COMPLETED,)),
            (Count("nr_visits"), CountDistinct("nr_patients", "patient_id")),
        ),
    ),
    derived=HOURS_COST_AND_RATIOS,
    formats=FORMATS["staff_cost_summary"],
    gates=(
        COMPLETED_VISITS_GATE,
        # Each row's hours are rounded to 4 decimals: allow that per row.
        Reconciliation("rostered hours", total("rostered_hours"), "rostered hours", Decimal("0.0001")),
    ),
)
