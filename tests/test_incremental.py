"""Incremental builds equal a --full build on the same raw data, after every kind of raw
change, and rebuild only the days the change touched."""
import datetime as dt
import random

import pytest
from django.db import connection, transaction
from sqlalchemy import delete, update

from etl import db
from etl.models import PendingDay, StaffCostSummary, StaffSummary
from etl.engine.service import build_summaries, plan
from etl.db.tables import raw

from . import handmade
from .factories import add, summary_rows, ts, visit


def tables():
    return (
        summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS),
        summary_rows(StaffCostSummary, handmade.STAFF_COST_FIELDS),
    )


def incremental_then_full():
    """Build incrementally, then in full; return (incremental tables, full tables, report)."""
    report = build_summaries()
    incremental = tables()
    build_summaries(full=True)
    return incremental, tables(), report


def full_build_tables():
    """The tables a --full build gives now, built in a savepoint that is rolled back, so
    the incremental state (tables, pending days, snapshots) is left as it was."""
    with transaction.atomic():
        build_summaries(full=True)
        result = tables()
        transaction.set_rollback(True)
    return result


SECTION_2 = ("staff_summary", "staff_cost_summary")
SECTION_4 = ("clinic_day", "region_month_patients", "clinic_score", "region_month")  # build order


def days_rebuilt(report) -> dict[str, int]:
    """Days rebuilt per section-2 summary (the section-4 reach is tested in
    tests/test_clinic_reach.py)."""
    return {r.name: r.days for r in report.results if r.name in SECTION_2}


def cells_rebuilt(report) -> dict[str, int]:
    """(day, location) pairs rebuilt on their own per section-2 summary."""
    return {r.name: r.cells for r in report.results if r.name in SECTION_2}


@pytest.fixture
def built(emr):
    handmade.load()
    build_summaries()
    return tables()


def test_insert_far_in_the_past(built):
    add("emr_visit", visit(100, "2019-06-01"))
    incremental, full, report = incremental_then_full()
    assert incremental == full
    assert days_rebuilt(report) == {"staff_summary": 1, "staff_cost_summary": 1}
    assert full[0][0][0] == dt.date(2019, 6, 1)


def test_row_with_an_old_updated_at_is_still_caught(built):
    # Replica lag, a re-sent export: updated_at older than the last build means nothing.
    add("emr_visit", visit(101, "2024-03-01", updated="2001-01-01", patient=3000))
    incremental, full, report = incremental_then_full()
    assert incremental == full
    assert days_rebuilt(report) == {"staff_summary": 1, "staff_cost_summary": 1}


def test_update_moves_a_visit_to_another_day(built):
    v = raw("emr_visit")
    db.execute(update(v).where(v.c.id == 1).values(start_at=ts("2024-03-03 09:00"), end_at=ts("2024-03-03 09:20")))
    incremental, full, report = incremental_then_full()
    assert incremental == full
    assert days_rebuilt(report) == {"staff_summary": 2, "staff_cost_summary": 2}  # old day and new day


def test_update_changes_a_status(built):
    v = raw("emr_visit")
    db.execute(update(v).where(v.c.id == 5).values(status="completed", end_at=ts("2024-03-01 12:40")))
    incremental, full, _ = incremental_then_full()
    assert incremental == full
    assert incremental != built


def test_deletions_leave_no_trace_but_are_caught(built):
    v, s = raw("emr_visit"), raw("emr_shift")
    db.execute(delete(v).where(v.c.id == 16))   # the only row of 2024-03-02 at location 999
    db.execute(delete(s).where(s.c.id == 8))    # the idle shift of 2024-03-03
    incremental, full, _ = incremental_then_full()
    assert incremental == full
    assert not any(row[1] == 999 for row in incremental[0])
    assert not any(row[0] == dt.date(2024, 3, 3) for row in incremental[1])


def test_staff_role_change_rewrites_history(built):
    s = raw("emr_staff")
    db.execute(update(s).where(s.c.id == 500).values(role_id=11))  # Physicians -> Nursing
    incremental, full, report = incremental_then_full()
    assert incremental == full
    assert incremental != built
    # staff 500 worked on 2024-03-01 and 2024-03-03 (visits and shifts), at location 102:
    # those two (day, location) pairs are rebuilt, no whole day
    assert days_rebuilt(report) == {"staff_summary": 0, "staff_cost_summary": 0}
    assert cells_rebuilt(report) == {"staff_summary": 2, "staff_cost_summary": 2}


def test_staff_cost_change(built):
    s = raw("emr_staff")
    db.execute(update(s).where(s.c.id == 505).values(hourly_cost=handmade.D("55.55")))
    incremental, full, report = incremental_then_full()
    assert incremental == full
    assert incremental[1] != built[1]
    # staff_summary reads no cost: only staff_cost_summary rebuilds 505's one (day, location)
    assert cells_rebuilt(report) == {"staff_cost_summary": 1}


def test_role_tree_edits(built):
    r = raw("emr_role")
    db.execute(update(r).where(r.c.id == 21).values(parent_id=10))   # breaks the loop: 20, 21 -> Nursing
    db.execute(update(r).where(r.c.id == 1).values(name="Doctors"))  # group rename
    incremental, full, _ = incremental_then_full()
    assert incremental == full
    assert "Doctors" in {row[4] for row in incremental[0]}


def test_missing_staff_row_arrives_later_and_then_leaves(built):
    add("emr_staff", {"id": 999, "name": "late", "role_id": 3, "hourly_cost": handmade.D("20.00")})
    incremental, full, _ = incremental_then_full()
    assert incremental == full
    db.execute(delete(raw("emr_staff")).where(raw("emr_staff").c.id == 999))
    incremental, full, _ = incremental_then_full()
    assert incremental == full == built


def test_location_service_and_patient_edits_change_nothing_in_section_2(built):
    db.execute(update(raw("emr_location")).values(parent_id=None))
    db.execute(update(raw("emr_service")).values(name="renamed"))
    report = build_summaries()
    # Clinic 101 is now a root, its own region: only the clinic-score tables change.
    assert [r.name for r in report.results] == list(SECTION_4)
    assert tables() == built


def test_truncate_forces_a_full_rebuild(built):
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE emr_shift")
        else:
            cursor.execute("DELETE FROM emr_shift")  # SQLite has no TRUNCATE: row triggers fire
    incremental, full, report = incremental_then_full()
    assert incremental == full
    if connection.vendor == "postgresql":
        assert {r.full_reason for r in report.results} == {"a raw table was truncated"}


def test_backfill_range_rebuilds_those_days(built):
    StaffSummary.objects.filter(day=dt.date(2024, 3, 2)).update(nr_visits=77)  # damage a day
    report = build_summaries(since=dt.date(2024, 3, 2), until=dt.date(2024, 3, 2))
    assert tables() == built
    assert days_rebuilt(report) == {"staff_summary": 1, "staff_cost_summary": 1}


def test_dry_run_changes_nothing(built):
    add("emr_visit", visit(102, "2024-03-02"))
    plans = [p for p in plan() if p.summary.name in SECTION_2]
    assert [p.describe() for p in plans] == [
        "staff_summary: 1 day to rebuild, 2024-03-02 .. 2024-03-02 (1 from changed visits and shifts)",
        "staff_cost_summary: 1 day to rebuild, 2024-03-02 .. 2024-03-02 (1 from changed visits and shifts)",
    ]
    assert tables() == built
    assert PendingDay.objects.count() == 0
    report = build_summaries()
    assert days_rebuilt(report) == {"staff_summary": 1, "staff_cost_summary": 1}


def test_one_summary_built_the_other_keeps_its_pending_days(built):
    add("emr_visit", visit(103, "2024-03-02"))
    build_summaries(["staff_summary"])
    assert sorted(PendingDay.objects.values_list("summary", flat=True)) == sorted(
        ["staff_cost_summary", *SECTION_4])
    incremental, full, report = incremental_then_full()
    assert incremental == full
    assert days_rebuilt(report) == {"staff_cost_summary": 1}


def test_random_sequences_of_changes_equal_full_builds(built):
    """A chain of incremental builds, never reset by a full one, compared after each step."""
    rng = random.Random(7)
    v, st = raw("emr_visit"), raw("emr_staff")
    next_id = 1000
    for step in range(12):
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(["insert", "move", "status", "delete", "staff", "shift"])
            day = f"2024-0{rng.randint(2, 4)}-{rng.randint(10, 28)}"
            target = rng.randint(1, 18)
            if kind == "insert":
                add("emr_visit", visit(next_id, day, staff=rng.choice([500, 501, 502, None, 999]),
                                       patient=rng.randint(1, 30), status=rng.choice(["completed", "cancelled"])))
                next_id += 1
            elif kind == "move":
                db.execute(update(v).where(v.c.id == target).values(start_at=ts(f"{day} 08:00")))
            elif kind == "status":
                db.execute(update(v).where(v.c.id == target).values(status=rng.choice(["completed", "no_show"])))
            elif kind == "delete":
                db.execute(delete(v).where(v.c.id == target))
            elif kind == "staff":
                db.execute(update(st).where(st.c.id == rng.choice([500, 501, 505, 506]))
                           .values(role_id=rng.choice([1, 3, 11, 20, None])))
            else:
                add("emr_shift", {"id": next_id, "staff_id": rng.choice([500, 501, 888]), "location_id": 102,
                                  "start_at": ts(f"{day} 07:00"), "end_at": ts(f"{day} 15:00"),
                                  "updated_at": ts("2024-05-01 00:00")})
                next_id += 1
        build_summaries()
        assert tables() == full_build_tables(), f"step {step}"


def recorded_and_real_counts() -> dict[str, tuple[int | None, int]]:
    """Per summary table: (the row count its last build recorded, the rows it holds)."""
    from django.apps import apps
    from etl.models import SummaryState

    tables = {m._meta.db_table: m for m in apps.get_app_config("etl").get_models()}
    return {s.name: (s.row_count, tables[s.name].objects.count()) for s in SummaryState.objects.all()}


def test_every_build_records_the_row_count_it_leaves(built):
    """The count an unfiltered API listing reports (docs/web.md, "Speed") is the one the
    build recorded: right after a first build, after incremental builds that add and
    remove rows, and after a full build."""
    counts = recorded_and_real_counts()
    assert {"staff_summary", "staff_cost_summary"} <= set(counts)
    assert all(recorded == real for recorded, real in counts.values()), counts
    first = counts["staff_summary"][1]

    add("emr_visit", visit(200, "2024-04-10"), visit(201, "2024-04-11", service=2))  # two new days
    build_summaries()
    counts = recorded_and_real_counts()
    assert all(recorded == real for recorded, real in counts.values()), counts
    assert counts["staff_summary"][1] == first + 2

    v = raw("emr_visit")  # every visit of 2024-03-01 and the new ones gone: rows removed
    db.execute(delete(v).where(v.c.start_at < ts("2024-03-02 00:00")))
    db.execute(delete(v).where(v.c.id.in_([200, 201])))
    build_summaries()
    counts = recorded_and_real_counts()
    assert all(recorded == real for recorded, real in counts.values()), counts
    assert counts["staff_summary"][1] < first

    build_summaries(full=True)
    assert recorded_and_real_counts() == counts
