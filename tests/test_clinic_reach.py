"""Incremental builds of the clinic-score tables equal a --full build after raw changes,
staff edits and every kind of location edit (CONTRACT 4, "What a change reaches")."""
import datetime as dt
import random

import pytest
from django.db import connection, transaction
from sqlalchemy import delete, update

from etl import db
from etl.engine.service import build_summaries
from etl.db.tables import raw
from etl.models import ClinicDay, ClinicScore, RegionMonth, RegionMonthPatients

from . import clinic_handmade as h
from .factories import add, summary_rows, ts, visit

SECTION_4 = ("clinic_day", "region_month_patients", "clinic_score", "region_month")


def tables():
    return (
        summary_rows(ClinicDay, h.CLINIC_DAY_FIELDS),
        summary_rows(ClinicScore, h.SCORE_FIELDS),
        summary_rows(RegionMonthPatients, ["month", "region_id", "nr_patients"]),
        summary_rows(RegionMonth, h.REGION_MONTH_FIELDS),
    )


def full_build_tables(read=None):
    """The tables (``read``: another reader of them) a --full build gives now, in a
    savepoint rolled back after."""
    with transaction.atomic():
        build_summaries(full=True)
        result = (read or tables)()
        transaction.set_rollback(True)
    return result


def assert_same(incremental, full, names=SECTION_4):
    """Within the contract's tolerance; on PostgreSQL, whose sums are exact decimals
    (etl/summaries/windowing.py), to the last bit."""
    exact = connection.vendor == "postgresql"
    for name, inc, ful in zip(names, incremental, full):
        assert len(inc) == len(ful), name
        for a, b in zip(inc, ful):
            assert (a == b) if exact else h.same(a, b), (name, a, b)


def incremental_equals_full(read=None, names=SECTION_4):
    """Build incrementally (every summary by its changed parts) and compare the tables
    with a --full build; (the report, the incremental tables)."""
    report = build_summaries()
    assert all(r.mode == "incremental" for r in report.results), [(r.name, r.full_reason) for r in report.results]
    incremental = (read or tables)()
    assert_same(incremental, full_build_tables(read), names)
    return report, incremental


def days(report):
    return {r.name: r.days for r in report.results if r.name in SECTION_4}


@pytest.fixture
def built(emr):
    h.load()
    build_summaries()
    return tables()


def test_a_changed_day_reaches_28_days_and_the_months_after(built):
    add("emr_visit", visit(5000, "2024-01-05", location=12, patient=7))
    report, after = incremental_equals_full()
    # clinic_day: Jan 5; clinic_score: Jan 5 .. Feb 2 (29 days); region_month: January
    # (Jan 5 .. Feb 2) and February (the month after): 31 + 29 days; its helper, which
    # counts January's raw visits, only January
    assert days(report) == {"clinic_day": 1, "clinic_score": 29, "region_month_patients": 31, "region_month": 60}
    assert after != built


def test_a_change_at_the_end_of_a_month_reaches_two_months_on(built):
    add("emr_visit", visit(5001, "2024-01-31", location=40, patient=8))
    report, _ = incremental_equals_full()
    # Jan 31 + 28 = Feb 28: clinic_score Jan 31 .. Feb 28; months January and February
    assert days(report)["clinic_score"] == 29
    assert days(report)["region_month"] == 31 + 29


def test_staff_cost_edit(built):
    staff = raw("emr_staff")
    db.execute(update(staff).where(staff.c.id == 1).values(hourly_cost=h.D("12.50")))
    _, after = incremental_equals_full()
    assert after != built


LOCATION_EDITS = {
    "department moved to another clinic": {12: {"parent_id": 20}},
    "clinic moved to another region": {40: {"parent_id": 1}},
    "department becomes a clinic": {11: {"kind": "clinic"}},
    "clinic becomes a department": {21: {"kind": "department"}},
    "region of a loop repaired": {51: {"parent_id": None}},
    "department under a region moved under a clinic": {30: {"parent_id": 25}},
}


@pytest.mark.parametrize("edit", list(LOCATION_EDITS))
def test_location_edit(built, edit):
    location = raw("emr_location")
    for location_id, values in LOCATION_EDITS[edit].items():
        db.execute(update(location).where(location.c.id == location_id).values(**values))
    report, after = incremental_equals_full()
    assert after != built, "the edit must change the tables"
    assert report.results, "the edit must be detected"


def test_location_row_arrives_and_leaves(built):
    add("emr_location", {"id": 999, "parent_id": 1, "name": "late", "kind": "clinic"})
    _, after = incremental_equals_full()
    assert (dt.date(2024, 3, 5), 999) in {(r[0], r[1]) for r in after[0]}
    db.execute(delete(raw("emr_location")).where(raw("emr_location").c.id == 999))
    _, after = incremental_equals_full()
    assert_same(after, built)


def test_random_sequences_of_changes_equal_full_builds(built):
    """Visits, shifts, staff and location edits, built incrementally after each step and
    compared with a full build, never reset by one."""
    rng = random.Random(11)
    v, location, staff = raw("emr_visit"), raw("emr_location"), raw("emr_staff")
    next_id = 9000
    for step in range(10):
        for _ in range(rng.randint(1, 3)):
            kind = rng.choice(["visit", "shift", "move", "delete", "parent", "kind", "cost"])
            day = f"2024-0{rng.randint(1, 4)}-{rng.randint(1, 28):02d}"
            if kind == "visit":
                add("emr_visit", visit(next_id, day, location=rng.choice([10, 11, 12, 21, 22, 30, 40, 50, 60]),
                                       patient=rng.randint(1, 40),
                                       status=rng.choice(["completed", "completed", "no_show", "cancelled"])))
            elif kind == "shift":
                add("emr_shift", {"id": next_id, "staff_id": rng.choice([1, 2, 3]),
                                  "location_id": rng.choice([10, 12, 20, 40, 60]),
                                  "start_at": ts(f"{day} 07:00"), "end_at": ts(f"{day} {rng.randint(8, 20)}:00"),
                                  "updated_at": ts("2024-05-01 00:00")})
            elif kind == "move":
                db.execute(update(v).where(v.c.id == rng.randint(1, 400)).values(start_at=ts(f"{day} 08:00")))
            elif kind == "delete":
                db.execute(delete(v).where(v.c.id == rng.randint(1, 400)))
            elif kind == "parent":
                db.execute(update(location).where(location.c.id == rng.choice([11, 12, 21, 22, 30, 40]))
                           .values(parent_id=rng.choice([1, 10, 20, 25, None])))
            elif kind == "kind":
                db.execute(update(location).where(location.c.id == rng.choice([11, 12, 20, 21, 25]))
                           .values(kind=rng.choice(["clinic", "department"])))
            else:
                db.execute(update(staff).where(staff.c.id == rng.choice([1, 2]))
                           .values(hourly_cost=h.D(f"{rng.randint(5, 30)}.25")))
            next_id += 1
        incremental_equals_full()


def test_a_summary_of_summaries_is_built_with_what_it_reads(built):
    """--summary clinic_score alone would read a stale clinic_day and consume its pending
    days: its inputs are built first, in the same build."""
    add("emr_visit", visit(5002, "2024-01-05", location=12, patient=9))
    report = build_summaries(["clinic_score"])
    assert [r.name for r in report.results] == ["clinic_day", "clinic_score"]
    report = build_summaries(["region_month"])
    assert [r.name for r in report.results] == ["region_month_patients", "region_month"]
    assert_same(tables(), full_build_tables())


def test_dry_run_shows_the_forward_reach(built):
    from etl.engine.service import plan

    add("emr_visit", visit(5003, "2024-01-05", location=12, patient=10))
    described = {p.summary.name: p.describe() for p in plan()}
    assert described["clinic_score"] == (
        "clinic_score: 29 days to rebuild, 2024-01-05 .. 2024-02-02"
        " (1 from changed visits and shifts, 28 from their forward reach)")
    assert described["region_month"] == (
        "region_month: 60 days to rebuild, 2024-01-01 .. 2024-02-29"
        " (1 from changed visits and shifts, 59 from their forward reach)")


@pytest.mark.parametrize("summary, damage, failure", [
    # a clinic_day row without its clinic_score row: the row counts differ
    ("clinic_score", "DELETE FROM clinic_score WHERE day = '2024-01-05' AND clinic_id = 10",
     "rows: summary has"),
    # a clinic_score row whose key has no clinic_day row (same count: the match gate)
    ("clinic_score", "UPDATE clinic_score SET clinic_id = 11 WHERE day = '2024-01-05' AND clinic_id = 10",
     "rows with a clinic_day row: summary has"),
    ("region_month", "UPDATE region_month SET nr_visits = nr_visits + 1 WHERE region_id = 1 AND month = '2024-01-01'",
     "visits: summary has"),
    ("clinic_day", "UPDATE clinic_day SET nr_no_show = nr_no_show + 1 WHERE day = '2024-01-05' AND clinic_id = 10",
     "no-show visits: summary has"),
])
def test_gates_catch_wrong_rows(built, summary, damage, failure):
    from django.db import connection

    from etl.engine import gates
    from etl.summaries import SUMMARIES

    s = SUMMARIES[summary]
    gates.check(s.table, s.grain, s.gates, None, gates.reference_totals(s, None), period=s.period)  # passes
    with connection.cursor() as cursor:
        cursor.execute(damage)
    with pytest.raises(gates.GateFailed, match=failure):
        gates.check(s.table, s.grain, s.gates, None, gates.reference_totals(s, None), period=s.period)


@pytest.mark.parametrize("summary", ["staff_summary", "staff_cost_summary", "clinic_day", "clinic_score",
                                     "region_month"])
def test_gates_count_the_periods_of_the_rows_they_checked(built, summary):
    """What a build reports as its days: the distinct days (months) of the rows checked,
    counted here by the ORM; over the whole table and over one of its periods."""
    from django.apps import apps

    from etl.dates import DateRange
    from etl.engine import gates
    from etl.summaries import SUMMARIES

    s = SUMMARIES[summary]
    periods = set(apps.get_model(s.model_label).objects.values_list(s.period, flat=True))
    assert len(periods) > 1
    check = lambda window: gates.check(  # noqa: E731
        s.table, s.grain, s.gates, window, gates.reference_totals(s, window), period=s.period)
    assert check(None) == len(periods)
    first = min(periods)
    assert check([DateRange(first, first + dt.timedelta(days=1))]) == 1


@pytest.mark.parametrize("regions", [{1}, {None}, {1, None}, {40, None}])
def test_the_region_month_reference_of_some_pairs_sums_exactly_their_clinic_days(built, regions):
    """The reference a dimension edit's (month, region) pairs are checked against, region
    NULL included: the ORM's totals of the clinic_day rows of those pairs, and no other."""
    from django.db.models import Q, Sum

    from etl.dates import Cells
    from etl.engine import gates
    from etl.summaries import SUMMARIES

    months = sorted({d.replace(day=1) for d in ClinicDay.objects.values_list("day", flat=True)})
    assert len(months) > 1
    cells = Cells("region_id", frozenset((month, region) for month in months[1:] for region in regions))
    rows = ClinicDay.objects.filter(day__gte=months[1]).filter(
        Q(region_id__in=[r for r in regions if r is not None])
        | (Q(region_id__isnull=True) if None in regions else Q(pk__in=[])))
    assert rows.exists()
    sums = rows.aggregate(visits=Sum("nr_visits"), cost=Sum("staff_cost"))
    clinic_months = len({(row["day"].replace(day=1), row["clinic_id"]) for row in rows.values("day", "clinic_id")})
    totals = gates.reference_totals(SUMMARIES["region_month"], None, cells)
    # to the cent: SQLite sums the costs as floats
    assert (totals["clinic_day visits"], round(totals["clinic_day cost"], 2), totals["clinic-months"]) == (
        sums["visits"], round(sums["cost"], 2), clinic_months)
