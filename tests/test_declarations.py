"""The start-up checks of summary declarations: each mistake is one clear error, reported
by Django's system checks (so by every manage.py command) before anything is built."""
import dataclasses

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from etl.summaries import SUMMARIES
from etl.summaries.checks import declaration_problems, partial_problems, registry_problems, summary_problems
from etl.summaries.declare import (
    Change, Count, CountDistinct, Equals, Input, Outlier, Rank, Ratio, Rolling, StdDev, Value, ZScore,
)
from etl.summaries.registry import declared

from .declared import VISIT_DAY, VISIT_TREND


def with_input(decl, *measures, filters=None):
    (inp,) = decl.inputs
    source = inp.source if filters is None else dataclasses.replace(inp.source, filters=filters)
    return dataclasses.replace(decl, inputs=(Input(inp.name, source, measures),))


def test_the_declared_summaries_are_correct():
    assert summary_problems(SUMMARIES.values()) == []
    assert declaration_problems(VISIT_DAY) == []
    assert declaration_problems(VISIT_TREND) == []


def test_unknown_column_in_a_measure():
    broken = with_input(
        VISIT_DAY, Count("nr_visits"), CountDistinct("nr_patients", "patient"), Count("nr_no_show"),
    )
    assert declaration_problems(broken) == [
        "summary visit_day: measure nr_patients reads patient, which source counted_visits does not have "
        "(it has day, location_id, patient_id, status)"
    ]


def test_unknown_column_in_a_filter_and_a_condition():
    broken = with_input(
        VISIT_DAY, Count("nr_visits", when=Equals("state", "completed")),
        CountDistinct("nr_patients", "patient_id"), Count("nr_no_show"),
        filters=(Equals("kind", "x"),),
    )
    problems = declaration_problems(broken)
    assert [p.split(",")[0] for p in problems] == [
        "summary visit_day: filter of source counted_visits reads kind",
        "summary visit_day: measure nr_visits reads state",
    ]


def test_ratio_of_a_measure_that_does_not_exist():
    broken = dataclasses.replace(VISIT_DAY, derived=(
        VISIT_DAY.derived[0], Ratio("visits_per_patient", "nr_visits", "nr_patient", 2),
    ))
    assert declaration_problems(broken) == [
        "summary visit_day: ratio visits_per_patient divides nr_visits by nr_patient, but nr_patient is not a "
        "measure of this summary (a count, a sum or a rounded value)"
    ]


def test_windows_of_unknown_measures_and_dimensions():
    broken = dataclasses.replace(VISIT_TREND, windows=(
        Rolling("visits_3d", "nr_visit", "sum", partition_by=("location",), days=(-2, 0)),
        *VISIT_TREND.windows[1:3],
        Rank("no_show_pct_rank", "no_show_rate", partition_by=("day",), percent=True),
    ))
    assert declaration_problems(broken) == [
        "summary visit_trend: rolling visits_3d is of nr_visit, which is not a measure of this summary",
        "summary visit_trend: rolling visits_3d is partitioned by location, which is not a dimension",
    ]


def test_model_columns_must_be_declared_and_formatted():
    formats = {k: v for k, v in VISIT_DAY.formats.items() if k != "nr_no_show"}
    broken = dataclasses.replace(VISIT_DAY, derived=VISIT_DAY.derived[:1], formats={**formats, "extra": None})
    assert declaration_problems(broken) == [
        "summary visit_day: column visits_per_patient of declared_app.VisitDay is not declared",
        "summary visit_day: column nr_no_show of declared_app.VisitDay has no display format",
        "summary visit_day: display format for extra, which declared_app.VisitDay does not have",
    ]


def test_dependency_cycle_and_unknown_dependency():
    assert registry_problems({"a": ("b",), "b": ("c",), "c": ("a",), "d": ("e",)}) == [
        "summary d depends on e, which is not a summary",
        "dependency cycle: a -> b -> c -> a (each depends on the next)",
    ]
    assert registry_problems({"a": (), "b": ("a",)}) == []


def test_every_command_reports_a_bad_declaration_as_one_error(monkeypatch):
    cyclic = dataclasses.replace(VISIT_DAY, depends_on=("visit_trend",))
    trend = dataclasses.replace(VISIT_TREND, depends_on=("visit_day",))
    monkeypatch.setitem(SUMMARIES, "visit_day", declared(cyclic))
    monkeypatch.setitem(SUMMARIES, "visit_trend", declared(trend))
    with pytest.raises(SystemCheckError) as raised:
        call_command("check")
    message = str(raised.value)
    assert "(etl.E001) dependency cycle: visit_" in message
    assert message.count("etl.E001") == 1


def test_what_a_summary_says_about_dimension_edits_is_checked():
    staff = SUMMARIES["staff_summary"]
    assert partial_problems(staff) == []
    assert partial_problems(dataclasses.replace(staff, staff_fields=("salary",), cell_key="nr_visits")) == [
        "summary staff_summary: staff_fields names salary, which is not one of role_group, cost",
        "summary staff_summary: cell_key nr_visits is not a column of its grain"
        " (day, location_id, service_id, role_group_id, role_group_name)",
    ]
    # clinic_score's ranks are per (day, region): a clinic's rows cannot be redone alone;
    # its rolling windows are per clinic, whose region goes with it: by region they can.
    assert partial_problems(SUMMARIES["clinic_score"]) == []
    assert partial_problems(dataclasses.replace(SUMMARIES["clinic_score"], cell_key="clinic_id")) == [
        f"summary clinic_score: cell_key clinic_id: window {name} is not partitioned within one clinic_id"
        " (by day, region_id), so (day, key) pairs cannot be rebuilt on their own"
        for name in ("pph_rank", "pph_pct_rank")
    ]
    # region_month's change reads the month before: not within one month
    assert partial_problems(dataclasses.replace(SUMMARIES["region_month"], cell_key="month")) == [
        "summary region_month: cell_key month: window previous_visits is not partitioned within one month"
        " (by region_id), so (day, key) pairs cannot be rebuilt on their own",
    ]


def test_scores_and_their_windows_are_checked():
    """A z-score over a value that is no standard deviation, an outlier flag over a name
    that is no z-score, a change of a ratio and without a previous value, a standard
    deviation with an empty frame: one sentence each."""
    from etl.summaries.clinics import CLINIC_SCORE, REGION_MONTH

    score = dataclasses.replace(
        CLINIC_SCORE,
        windows=tuple(
            dataclasses.replace(w, days=(1, -1)) if isinstance(w, StdDev) and w.name == "cpp_sd" else w
            for w in CLINIC_SCORE.windows
        ),
        scores=(
            ZScore("pph_z", "patients_per_hour", "pph_mean", "pph_mean", "pph_baseline_days", 14),
            ZScore("cpp_z", "cost_per_patient", "cpp_mean", "cpp_sd", "cpp_days", 14),
            Outlier("is_outlier", ("pph_z", "cpp_score"), 3),
        ),
    )
    assert declaration_problems(score) == [
        "summary clinic_score: standard deviation cpp_sd has an empty frame (1, -1)",
        "summary clinic_score: z-score pph_z divides by pph_mean, which is not a standard deviation",
        "summary clinic_score: z-score cpp_z reads cpp_days, which is not a measure or window of this summary",
        "summary clinic_score: outlier is_outlier reads cpp_score, which is not a z-score declared before it",
    ]
    month = dataclasses.replace(REGION_MONTH, scores=(Change("visits_change", "visits_per_hour", "nr_visits", 4),))
    assert declaration_problems(month) == [
        "summary region_month: change visits_change is of visits_per_hour, which is not a count or sum of this summary",
        "summary region_month: change visits_change compares with nr_visits, which is not a previous value",
    ]


def test_inputs_values_and_periods_are_checked():
    """Values need a source at the grain and a summary of one input; some input must bring
    the rows; a period is a day or a month."""
    from etl.summaries.clinics import REGION_MONTH

    (first, *others) = REGION_MONTH.inputs
    broken = dataclasses.replace(
        REGION_MONTH, period="week",
        inputs=(dataclasses.replace(first, optional=True, measures=(*first.measures, Value("nr_days", "clinic_id"))),
                *others),
    )
    assert declaration_problems(broken) == [
        "summary region_month: input month_totals mixes values (nr_days) with aggregates; values need a source "
        "at the grain, with no aggregate",
        "summary region_month: input month_totals takes values, which only a summary of one input can",
        "summary region_month: every input is optional: one must bring the rows",
        "summary region_month: period week is not one of day, month",
    ]
