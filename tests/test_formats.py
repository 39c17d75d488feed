"""Display formats: one for every column of every summary model, and nothing else."""
from decimal import Decimal

from django.apps import apps

from etl.summaries.formats import FORMATS, column_format, count_revealing_columns, small_count_columns

MODELS = ("StaffSummary", "StaffCostSummary", "ClinicDay", "ClinicScore", "RegionMonth", "RegionMonthPatients")


def test_every_model_column_has_exactly_one_format():
    for name in MODELS:
        meta = apps.get_model("etl", name)._meta
        columns = {f.column for f in meta.concrete_fields if not f.primary_key}
        assert set(FORMATS[meta.db_table]) == columns, meta.db_table


def test_counts_of_patients_and_visits_are_suppressible_and_ratios_reveal_them():
    # CMS small-cell rule: counts of patients or visits, and the values they can be worked back from.
    assert set(small_count_columns("clinic_day")) == {"nr_visits", "nr_cancelled", "nr_no_show", "nr_patients"}
    assert {"patients_per_hour", "cost_per_patient", "no_show_rate"} <= set(count_revealing_columns("clinic_day"))
    assert {"pph_z", "pph_mean", "pph_sd", "cpp_z"} <= set(count_revealing_columns("clinic_score"))


def test_values_are_shown_with_their_decimals():
    assert column_format("clinic_day", "patients_per_hour").show(Decimal("2.3456")) == "2.35"
    assert column_format("clinic_day", "nr_visits").show(12345) == "12,345"
    assert column_format("clinic_day", "cost_per_patient").show(None) == ""
    assert column_format("clinic_score", "is_outlier").show(True) == "yes"
