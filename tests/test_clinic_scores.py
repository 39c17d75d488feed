"""The clinic-score tables (CONTRACT 4) built from tests/clinic_handmade.py, on the
database under test: values worked out by hand there."""
import datetime as dt

import pytest
from sqlalchemy import literal, select

from etl import db
from etl.engine.service import build_summaries
from etl.models import ClinicDay, ClinicScore, RegionMonth
from etl.queries.portable import relative_change

from . import clinic_handmade as h


@pytest.fixture
def built(emr):
    h.load()
    build_summaries()


def test_clinic_day_counts_departments_with_their_nearest_clinic(built):
    rows = ClinicDay.objects.filter(day=dt.date(2024, 3, 5)).order_by("clinic_id")
    assert list(rows.values_list(*h.CLINIC_DAY_FIELDS)) == h.EXPECTED_CLINIC_DAY_MAR5
    assert list(ClinicDay.objects.filter(day=dt.date(2024, 1, 31)).values_list(*h.CLINIC_DAY_FIELDS)) == [
        h.EXPECTED_CLINIC_40_JAN31]
    # no row ever for a location without a clinic
    assert not ClinicDay.objects.exclude(clinic_id__in=[10, 20, 21, 25, 40, 50, 60]).exists()


@pytest.mark.parametrize("key", list(h.EXPECTED_SCORES), ids=lambda k: f"{k[0]}-{k[1]}" if isinstance(k, tuple) else str(k))
def test_scores(built, key):
    day, clinic = key
    (row,) = ClinicScore.objects.filter(day=day, clinic_id=clinic).values_list(*h.SCORE_FIELDS)
    assert h.same(row, h.EXPECTED_SCORES[key]), (row, h.EXPECTED_SCORES[key])


def test_constant_baseline_gives_sd_exactly_zero(built):
    sds = set(ClinicScore.objects.filter(clinic_id=40, day__range=(dt.date(2024, 1, 3), dt.date(2024, 1, 21)))
              .values_list("pph_sd", "cpp_sd", "pph_z", "cpp_z"))
    assert sds == {(0.0, 0.0, None, None)}


def test_ranks_leave_null_out_and_share_ties(built):
    ranks = dict((c, (r, p)) for c, r, p in ClinicScore.objects.filter(day=dt.date(2024, 2, 10))
                 .values_list("clinic_id", "pph_rank", "pph_pct_rank"))
    assert ranks == h.EXPECTED_RANKS_FEB10


def test_one_score_row_per_clinic_day_row(built):
    assert sorted(ClinicScore.objects.values_list("day", "clinic_id")) == sorted(
        ClinicDay.objects.values_list("day", "clinic_id"))


def test_outliers(built):
    assert sorted(ClinicScore.objects.filter(is_outlier=True).values_list("day", "clinic_id")) == [
        (dt.date(2024, 1, 21), 10), (dt.date(2024, 1, 31), 40)]


def test_region_month(built):
    rows = {(r[0], r[1]): tuple(r[2:]) for r in RegionMonth.objects.values_list(*h.REGION_MONTH_FIELDS)}
    assert rows == h.REGION_MONTH_BY_KEY


@pytest.mark.parametrize("visits, previous, change", [
    (31, 32, "-0.0313"), (33, 32, "0.0313"),  # -1/32 = -0.03125: a half rounds away from zero
    (5, 6, "-0.1667"), (7, 6, "0.1667"), (0, 6, "-1.0000"), (12, 6, "1.0000"),
])
def test_visits_change_rounds_half_away_from_zero(emr, visits, previous, change):
    from decimal import Decimal

    (value,) = db.fetch_all(select(relative_change(literal(visits), literal(previous), 4)))[0]
    assert Decimal(str(value)).quantize(Decimal("0.0001")) == Decimal(change)


@pytest.mark.parametrize("analyze", [False, True])
def test_explain_summary_prints_sql_and_plan(built, analyze):
    from io import StringIO

    from django.core.management import call_command
    from django.db import connection

    out = StringIO()
    call_command("explain_summary", "clinic_score", *(["--analyze"] if analyze else []), stdout=out)
    text = out.getvalue()
    assert text.startswith(f"-- clinic_score ({connection.vendor})\n")
    assert "RANGE BETWEEN 28 PRECEDING AND 1 PRECEDING" in text and "-- plan:" in text
    plan = text.split("-- plan:\n", 1)[1]
    if connection.vendor == "postgresql":
        assert "WindowAgg" in plan and (("actual time" in plan) == analyze)
    else:
        assert "SCAN" in plan or "SEARCH" in plan
        # one clinic_score row per clinic_day row
        assert ("the query ran in" in plan and f", {ClinicDay.objects.count()} rows" in plan) == analyze


def test_explain_summary_unknown_name_is_one_line(emr):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=r"^unknown summary nope; choose from staff_summary, "):
        call_command("explain_summary", "nope")


def test_sd_of_values_near_a_million_keeps_its_precision(emr):
    """cost_per_patient alternates 1000000.0000 and 1000000.0033 (3 patients; an 8 h shift at
    375000.00/h = 3000000.00, plus on odd days 1 h at 0.01). Their sd is 0.0033/2 x
    sqrt(20/19) = 0.001693: the textbook sum of squares of values near 1e6 (about 2e13)
    would lose it entirely (its rounding error is about 1e-3)."""
    import statistics
    from decimal import Decimal
    from fractions import Fraction

    from .factories import add, ts

    add("emr_location", {"id": 500, "parent_id": None, "name": "big", "kind": "clinic"})
    add("emr_staff", {"id": 10, "name": "s10", "role_id": None, "hourly_cost": Decimal("375000.00")},
        {"id": 11, "name": "s11", "role_id": None, "hourly_cost": Decimal("0.01")})
    visits, shifts, ids = [], [], iter(range(1, 1000))
    for n in range(1, 22):
        day = f"2025-02-{n:02d}"
        for p in range(3):
            visits.append({"id": next(ids), "patient_id": p, "location_id": 500, "service_id": None, "staff_id": 10,
                           "start_at": ts(f"{day} 09:00"), "end_at": None, "status": "completed",
                           "updated_at": ts("2025-03-01 00:00")})
        shifts.append({"id": next(ids), "staff_id": 10, "location_id": 500, "start_at": ts(f"{day} 08:00"),
                       "end_at": ts(f"{day} 16:00"), "updated_at": ts("2025-03-01 00:00")})
        if n % 2:
            shifts.append({"id": next(ids), "staff_id": 11, "location_id": 500, "start_at": ts(f"{day} 16:00"),
                           "end_at": ts(f"{day} 17:00"), "updated_at": ts("2025-03-01 00:00")})
    add("emr_visit", *visits)
    add("emr_shift", *shifts)
    build_summaries()
    baseline = [Fraction("1000000.0033") if n % 2 else Fraction("1000000.0000") for n in range(1, 21)]
    assert list(ClinicDay.objects.filter(day=dt.date(2025, 2, 1)).values_list("cost_per_patient", flat=True)) == [
        Decimal("1000000.0033")]
    mean, sd = ClinicScore.objects.filter(day=dt.date(2025, 2, 21)).values_list("cpp_mean", "cpp_sd").get()
    assert abs(mean - float(statistics.mean(baseline))) <= 1e-6 * 1e6
    assert abs(sd - float(statistics.stdev(baseline))) <= 1e-6 * float(statistics.stdev(baseline))


def test_absurd_values_follow_the_section_2_rules(emr):
    """A shift over 24 hours is invalid (not counted), a negative cost counts 0, and
    clinic_day counts exactly what staff_cost_summary counts at the clinic's location."""
    from decimal import Decimal

    from etl.models import StaffCostSummary

    from .factories import add, ts

    add("emr_location", {"id": 1, "parent_id": None, "name": "c", "kind": "clinic"})
    add("emr_staff", {"id": 1, "name": "neg", "role_id": None, "hourly_cost": Decimal("-5.00")},
        {"id": 2, "name": "pos", "role_id": None, "hourly_cost": Decimal("10.00")})
    add("emr_shift",
        {"id": 1, "staff_id": 2, "location_id": 1, "start_at": ts("2024-05-01 08:00"),
         "end_at": ts("2024-05-02 09:00"), "updated_at": ts("2024-05-03 00:00")},  # 25 h: invalid
        {"id": 2, "staff_id": 1, "location_id": 1, "start_at": ts("2024-05-01 08:00"),
         "end_at": ts("2024-05-01 10:00"), "updated_at": ts("2024-05-03 00:00")},  # 2 h at -5.00: cost 0
        {"id": 3, "staff_id": 2, "location_id": 1, "start_at": ts("2024-05-01 10:00"),
         "end_at": ts("2024-05-02 10:00"), "updated_at": ts("2024-05-03 00:00")})  # exactly 24 h: valid
    build_summaries()
    # 2 h + 24 h = 26 h; cost 0 + 24 x 10.00 = 240.00; staff 1 and 2 (shift 1 is not counted)
    row = ClinicDay.objects.values_list("rostered_hours", "staff_cost", "nr_staff", "cost_per_patient").get()
    assert row == (Decimal("26.0000"), Decimal("240.00"), 2, None)
    section_2 = StaffCostSummary.objects.values_list("rostered_hours", "staff_cost", "nr_staff").get()
    assert section_2 == row[:3]
