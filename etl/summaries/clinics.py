"""The declaration of ``clinic_day`` (CONTRACT 4), over the rows of
:mod:`etl.queries.clinic_rows`: the staff summaries' measures and rounding, per clinic."""
from __future__ import annotations

from decimal import Decimal

from etl.queries.clinic_rows import clinic_shift_rows, clinic_visit_rows
from etl.queries.staff_rows import CANCELLED, COUNTED_STATUSES, NO_SHOW
from etl.summaries.declare import (
    Count, CountDistinct, Declaration, Dimension, Equals, Input, NotNull, OneOf, Ratio, Source,
)
from etl.summaries.formats import FORMATS
from etl.summaries.gates import Reconciliation
from etl.summaries.staff import COMPLETED_VISITS_GATE, HOURS_COST_AND_RATIOS, IS_COMPLETED, SHIFT_MEASURES, total

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
