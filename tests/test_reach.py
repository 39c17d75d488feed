"""How far a change reaches (CONTRACT 4, "What a change reaches"), computed from the
declarations: their rolling frames, their previous-period values and what they read.
Pure date arithmetic, worked out by hand."""
import dataclasses
import datetime as dt

from etl.summaries.clinics import CLINIC_SCORE
from etl.summaries.declare import Reach, Rolling
from etl.summaries.reach import forward_months, reach_days, summary_reach
from etl.summaries.registry import DECLARATIONS, SUMMARIES

from .declared import VISIT_DAY, VISIT_TREND

d = dt.date


def days(first: dt.date, last: dt.date) -> set[dt.date]:
    return {first + dt.timedelta(days=n) for n in range((last - first).days + 1)}


def test_summaries_without_windows_rebuild_the_changed_days_alone():
    for name in ("staff_summary", "staff_cost_summary", "clinic_day"):
        assert SUMMARIES[name].reach is None
    assert summary_reach("visit_day", {"visit_day": VISIT_DAY}) is None


def test_rolling_frames_reach_forward():
    # clinic_score's baselines cover the 28 days before: a change on Jan 5 reaches Feb 2.
    assert SUMMARIES["clinic_score"].reach([d(2024, 1, 5)]) == days(d(2024, 1, 5), d(2024, 2, 2))
    # visit_trend sums 3 days ending on the day: Jan 5 reaches Jan 7.
    reach = summary_reach("visit_trend", {"visit_trend": VISIT_TREND})
    assert reach([d(2024, 1, 5)]) == days(d(2024, 1, 5), d(2024, 1, 7))
    # a frame running after the day reaches nothing further forward
    ahead = dataclasses.replace(
        VISIT_TREND, windows=(Rolling("visits_3d", "nr_visits", "sum", ("location_id",), (0, 2)),))
    assert summary_reach("visit_trend", {"visit_trend": ahead}) is None


def test_a_summary_of_summaries_adds_the_reach_of_what_it_reads():
    # region_month counts clinic_score's outliers (D .. D + 28) and compares with the month
    # before (the month after D's): Jan 5 reaches January and February, whole.
    assert reach_days("region_month", DECLARATIONS) == 28
    assert SUMMARIES["region_month"].reach([d(2024, 1, 5)]) == days(d(2024, 1, 1), d(2024, 2, 29))
    # Jan 31 + 28 is Feb 28: still January and February.
    assert SUMMARIES["region_month"].reach([d(2024, 1, 31)]) == days(d(2024, 1, 1), d(2024, 2, 29))
    # Feb 5 + 28 is Mar 4: February, March (reached and the month after) - not April.
    assert SUMMARIES["region_month"].reach([d(2024, 2, 5)]) == days(d(2024, 2, 1), d(2024, 3, 31))
    # its helper counts the raw visits of D's month alone
    assert SUMMARIES["region_month_patients"].reach([d(2024, 1, 5)]) == days(d(2024, 1, 1), d(2024, 1, 31))
    # reaches add up: 7 days over clinic_score's 28 (a declared reach shorter than the
    # frames adds nothing)
    weekly = dataclasses.replace(
        CLINIC_SCORE, name="score_week", depends_on=("clinic_score",),
        windows=(Rolling("visits_7d", "nr_visits", "sum", ("clinic_id",), (-7, -1)),), reach=Reach(days_after=2),
    )
    assert reach_days("score_week", {**DECLARATIONS, "score_week": weekly}) == 28 + 7


def test_the_last_month_there_is_has_no_month_after():
    assert forward_months(0, 1, [d(9999, 12, 30)]) == days(d(9999, 12, 1), d(9999, 12, 31))
