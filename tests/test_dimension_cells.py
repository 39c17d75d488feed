"""Staff and location edits rebuild only the (day, location) and (day, clinic) pairs they
change, not whole days: every summary then equals a --full build, row for row, and the
rows of untouched locations and clinics on the same days are left in place."""
import datetime as dt

import pytest
from sqlalchemy import delete, update

from etl import db
from etl.dates import SCAN_RANGES
from etl.db.tables import raw
from etl.engine.service import build_summaries, plan
from etl.models import (
    BuildRun, ClinicDay, ClinicScore, RegionMonth, RegionMonthPatients, StaffCostSummary, StaffSummary,
)

from . import clinic_handmade as h
from . import handmade
from . import test_clinic_reach as reach
from .factories import add, summary_rows, ts, visit

JAN5, JAN6, FEB10, MAR5 = (dt.date(2024, 1, 5), dt.date(2024, 1, 6), dt.date(2024, 2, 10), dt.date(2024, 3, 5))
NAMES = ("staff_summary", "staff_cost_summary", "clinic_day", "clinic_score", "region_month_patients",
         "region_month")


def tables():
    return (
        summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS),
        summary_rows(StaffCostSummary, handmade.STAFF_COST_FIELDS),
        summary_rows(ClinicDay, h.CLINIC_DAY_FIELDS),
        summary_rows(ClinicScore, h.SCORE_FIELDS),
        summary_rows(RegionMonthPatients, ["month", "region_id", "nr_patients"]),
        summary_rows(RegionMonth, h.REGION_MONTH_FIELDS),
    )


def full_build_tables():
    return reach.full_build_tables(tables)


def assert_same(incremental, full):
    reach.assert_same(incremental, full, NAMES)


def incremental_equals_full():
    return reach.incremental_equals_full(tables, NAMES)


def cells(report) -> dict[str, int]:
    return {r.name: r.cells for r in report.results if r.cells}


def planned_cells(name: str) -> set[tuple]:
    (p,) = [p for p in plan() if p.summary.name == name]
    return set(p.cells.pairs) if p.cells else set()


@pytest.fixture
def built(emr):
    """The clinic tree of tests/clinic_handmade.py, two role groups, and staff 2 and 3 at
    a few (day, location) pairs among staff 1's many rows."""
    h.load()
    add("emr_role",
        {"id": 1, "parent_id": None, "name": "Physicians"}, {"id": 2, "parent_id": 1, "name": "GP"},
        {"id": 10, "parent_id": None, "name": "Nursing"}, {"id": 11, "parent_id": 10, "name": "Nurse"})
    staff = raw("emr_staff")
    db.execute(update(staff).where(staff.c.id == 1).values(role_id=1))
    db.execute(update(staff).where(staff.c.id == 2).values(role_id=2))
    db.execute(update(staff).where(staff.c.id == 3).values(role_id=11))
    add("emr_visit",
        visit(50001, "2024-01-05", staff=2, patient=5001, location=10),
        visit(50002, "2024-01-05", staff=2, patient=5002, location=20),
        visit(50003, "2024-02-10", staff=2, patient=5003, location=12),
        visit(50004, "2024-01-06", staff=3, patient=5004, location=40))
    add("emr_shift", {"id": 50005, "staff_id": 2, "location_id": 20, "start_at": ts("2024-01-05 08:00"),
                      "end_at": ts("2024-01-05 12:00"), "updated_at": ts("2024-05-01 00:00")})
    build_summaries()
    return tables()


def _set(table: str, row_id: int, **values) -> None:
    t = raw(table)
    db.execute(update(t).where(t.c.id == row_id).values(**values))


def _staff_row_arrives_late() -> None:
    """A visit of staff 77, built while 77 has no row (group NULL), then 77's row."""
    add("emr_visit", visit(50010, "2024-01-07", staff=77, patient=5010, location=20))
    build_summaries()
    add("emr_staff", {"id": 77, "name": "s77", "role_id": 2, "hourly_cost": h.D("15.00")})


EDITS = {
    "role change": lambda: _set("emr_staff", 2, role_id=11),
    "cost change": lambda: _set("emr_staff", 2, hourly_cost=h.D("33.00")),
    "role-tree edit": lambda: _set("emr_role", 2, parent_id=10),
    "group renamed": lambda: _set("emr_role", 1, name="Doctors"),
    "staff row disappears": lambda: db.execute(delete(raw("emr_staff")).where(raw("emr_staff").c.id == 2)),
    "staff row appears": lambda: _staff_row_arrives_late(),
    "department moved to another clinic": lambda: _set("emr_location", 12, parent_id=20),
    "clinic moved to another region": lambda: _set("emr_location", 40, parent_id=1),
    "kind changed": lambda: _set("emr_location", 11, kind="clinic"),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_an_edit_rebuilds_pairs_and_equals_full(built, edit):
    EDITS[edit]()
    report, after = incremental_equals_full()
    assert report.results, "the edit must be detected"
    assert sum(r.cells for r in report.results) > 0, "the edit rebuilds pairs, not whole days"
    assert after != built


def test_a_role_change_rebuilds_where_the_member_worked(built):
    _set("emr_staff", 2, role_id=11)
    assert planned_cells("staff_summary") == {(JAN5, 10), (JAN5, 20), (FEB10, 12)}
    described = {p.summary.name: p.describe() for p in plan()}
    assert described["staff_summary"] == (
        "staff_summary: 3 (day, location) pairs on 2 days to rebuild, 2024-01-05 .. 2024-02-10"
        " (3 pairs from staff and role edits)")
    # the clinic scores read no role group: nothing to do there
    assert all(described[name].endswith("up to date") for name in NAMES[2:])
    report, _ = incremental_equals_full()
    # staff_cost_summary also reads staff 2's shifts of Mar 5 at locations 12 and 50
    assert cells(report) == {"staff_summary": 3, "staff_cost_summary": 5}
    assert {r.name: r.days for r in report.results} == {"staff_summary": 0, "staff_cost_summary": 0}
    run = BuildRun.objects.get(pk=report.run_id)
    assert (run.cells_rebuilt, run.partitions_rebuilt) == (8, 0)


def test_a_cost_change_reaches_clinics_before_and_after(built):
    _set("emr_staff", 2, hourly_cost=h.D("33.00"))
    # visits and shifts of staff 2: location 12 is under clinic 10 (through 11), 50 is a
    # clinic; staff_summary reads no cost
    assert planned_cells("clinic_day") == {(JAN5, 10), (JAN5, 20), (FEB10, 10), (MAR5, 10), (MAR5, 50)}
    assert planned_cells("staff_summary") == set()
    # the scores by region: Jan 5, Feb 10 and Mar 5 are region 1's (clinics 10, 20), each
    # with its 28 days after (Jan 5 .. Feb 2; Feb 10 .. Mar 9 and Mar 5 .. Apr 2 make Feb 10
    # .. Apr 2, 2024 a leap year); clinic 50 has region NULL, one region of its own (the key
    # None): Mar 5 .. Apr 2
    jan5_on = {(JAN5 + dt.timedelta(days=n), 1) for n in range(29)}
    feb10_on = {(FEB10 + dt.timedelta(days=n), 1) for n in range(20 + 31 + 2)}
    mar5_on = {(MAR5 + dt.timedelta(days=n), None) for n in range(29)}
    assert max(feb10_on)[0] == max(mar5_on)[0] == dt.date(2024, 4, 2)
    assert planned_cells("clinic_score") == jan5_on | feb10_on | mar5_on
    # region_month: region 1's Jan .. Apr (each reached day's month and the month after);
    # region NULL's Mar and Apr. The patients read no cost.
    assert planned_cells("region_month") == {(dt.date(2024, m, 1), 1) for m in (1, 2, 3, 4)} | {
        (dt.date(2024, 3, 1), None), (dt.date(2024, 4, 1), None)}
    assert planned_cells("region_month_patients") == set()
    report, _ = incremental_equals_full()
    assert cells(report) == {"staff_cost_summary": 5, "clinic_day": 5, "clinic_score": 111, "region_month": 6}
    days = {r.name: r.days for r in report.results}
    assert (days["clinic_score"], days["region_month"]) == (0, 0), "no whole days: region NULL is a key"


def test_a_moved_department_rebuilds_its_old_and_new_clinic(built):
    _set("emr_location", 12, parent_id=20)  # from clinic 10 (via 11) to clinic 20
    assert planned_cells("clinic_day") == {(FEB10, 10), (FEB10, 20), (MAR5, 10), (MAR5, 20)}
    # both clinics are in region 1: its scores of Feb 10 .. Apr 2 (Mar 5's 28 days after),
    # its months Feb .. Apr (Apr: Mar 5 + 28 days, and the month after Mar); the patients
    # have no forward reach: Feb and Mar
    assert planned_cells("clinic_score") == {(FEB10 + dt.timedelta(days=n), 1) for n in range(53)}
    months = {dt.date(2024, m, 1) for m in (2, 3, 4)}
    assert planned_cells("region_month") == {(m, 1) for m in months}
    assert planned_cells("region_month_patients") == {(m, 1) for m in months - {dt.date(2024, 4, 1)}}
    described = {p.summary.name: p.describe() for p in plan()}
    assert described["region_month"] == (
        "region_month: 3 (month, region) pairs on 3 months to rebuild, 2024-02-01 .. 2024-04-01"
        " (3 pairs from location edits)")
    report, _ = incremental_equals_full()
    assert {r.name: r.days for r in report.results if r.days} == {}


def test_a_clinic_moved_to_another_region_rebuilds_both_regions(built):
    _set("emr_location", 40, parent_id=1)  # the root clinic 40 (its own region) into region 1
    pairs = planned_cells("clinic_score")
    assert {region for _, region in pairs} == {1, 40}
    # clinic 40 has rows Jan 1 .. 21, Jan 31, Feb 10, Apr 1 (and staff 3's Jan 6): each day
    # and its 28 days after, in both regions
    assert (dt.date(2024, 4, 29), 40) in pairs and (dt.date(2024, 4, 30), 40) not in pairs
    assert planned_cells("region_month") == {(dt.date(2024, m, 1), r) for m in (1, 2, 3, 4, 5) for r in (1, 40)}
    incremental_equals_full()


def ids(model, **where) -> dict[tuple, int]:
    return {(row.day, row.location_id if hasattr(row, "location_id") else row.clinic_id): row.pk
            for row in model.objects.filter(**where)}


def test_untouched_locations_of_the_same_day_are_not_rewritten(built):
    """On the old whole-day rebuild every row of 2024-01-05 was deleted and inserted again
    (new ids); now only the rows of staff 2's locations are."""
    before = dict(StaffSummary.objects.filter(day=JAN5).values_list("location_id", "pk"))
    assert set(before) == {10, 20, 40}
    _set("emr_staff", 2, role_id=11)
    incremental_equals_full_in_place()
    after = dict(StaffSummary.objects.filter(day=JAN5).values_list("location_id", "pk"))
    assert after[40] == before[40], "location 40 (staff 1 only) must keep its row"
    assert after[10] != before[10] and after[20] != before[20], "staff 2's locations are rebuilt"


def test_untouched_clinics_of_the_same_day_are_not_rewritten(built):
    before = dict(ClinicDay.objects.filter(day=MAR5).values_list("clinic_id", "pk"))
    assert {10, 21} <= set(before) and 20 not in before
    _set("emr_location", 12, parent_id=20)
    incremental_equals_full_in_place()
    after = dict(ClinicDay.objects.filter(day=MAR5).values_list("clinic_id", "pk"))
    assert after[21] == before[21], "clinic 21 is neither the old nor the new clinic of location 12"
    assert after[10] != before[10], "the old clinic is rebuilt"
    assert 20 in after, "the new clinic gets its row"


def test_untouched_regions_are_not_rewritten(built):
    """Moving department 12 between two clinics of region 1 rebuilds region 1's scores and
    months only: the rows of region 40 (clinic 40) on the same days and months keep their
    ids; a whole-day rebuild would rewrite them."""
    def region_rows(region):
        return (
            {(r.day, r.clinic_id): r.pk for r in ClinicScore.objects.filter(region_id=region)},
            {r.month: r.pk for r in RegionMonth.objects.filter(region_id=region)},
            {r.month: r.pk for r in RegionMonthPatients.objects.filter(region_id=region)},
        )

    before, before_1 = region_rows(40), region_rows(1)
    assert (FEB10, 40) in before[0] and dt.date(2024, 2, 1) in before[1] and dt.date(2024, 2, 1) in before[2]
    _set("emr_location", 12, parent_id=20)
    incremental_equals_full_in_place()
    after, after_1 = region_rows(40), region_rows(1)
    assert after == before, "region 40 is untouched: its rows keep their ids"
    assert after_1[0][(FEB10, 10)] != before_1[0][(FEB10, 10)], "region 1's scores are rebuilt"
    assert after_1[1][dt.date(2024, 3, 1)] != before_1[1][dt.date(2024, 3, 1)], "and its months"


def incremental_equals_full_in_place():
    """Build incrementally and check the tables against a full build (rolled back), so the
    incremental rows (and their ids) stay."""
    report = build_summaries()
    assert_same(tables(), full_build_tables())
    return report


def test_mixed_edits_in_one_build(built):
    """Raw visit changes, a role change, a cost change and a location move, built together."""
    add("emr_visit", visit(50020, "2024-01-05", staff=1, patient=5020, location=40),
        visit(50021, "2024-02-10", staff=3, patient=5021, location=12))
    v = raw("emr_visit")
    db.execute(update(v).where(v.c.id == 50004).values(start_at=ts("2024-01-09 10:00"), end_at=ts("2024-01-09 10:30")))
    _set("emr_staff", 2, role_id=11)
    _set("emr_staff", 3, hourly_cost=h.D("9.00"))
    _set("emr_location", 12, parent_id=20)
    _set("emr_location", 40, parent_id=1)
    report, _ = incremental_equals_full()
    by_name = {r.name: r for r in report.results}
    # Jan 5, Feb 10, Jan 6 and Jan 9 changed raw rows: whole days; staff 2's pairs fall on
    # those days (none left on its own), staff 3's visit moved away from Jan 6
    assert by_name["staff_summary"].days == 4
    assert by_name["staff_summary"].cells == 0


# --- region NULL is one region: its pairs, told apart from a real region 0 ---------------

@pytest.fixture
def region_zero(emr):
    """The clinic tree of tests/clinic_handmade.py (region NULL: clinics 50 and 60) plus a
    region whose id is 0 (any BIGINT can be an id in an export) with clinic 80, department
    61 under clinic 50, and staff 4 (15.00 an hour) who works at clinic 80 alone, on the
    days region NULL has rows (Feb 10, Mar 5)."""
    h.load()
    add("emr_location", {"id": 0, "parent_id": None, "name": "region 0", "kind": "region"},
        {"id": 80, "parent_id": 0, "name": "clinic 80", "kind": "clinic"},
        {"id": 61, "parent_id": 50, "name": "department 61", "kind": "department"})
    add("emr_staff", {"id": 4, "name": "s4", "role_id": None, "hourly_cost": h.D("15.00")})
    add("emr_visit", visit(60001, "2024-02-10", staff=1, patient=6001, location=61),
        visit(60002, "2024-02-10", staff=4, patient=6002, location=80),
        visit(60003, "2024-03-05", staff=4, patient=6003, location=80))
    add("emr_shift", {"id": 60004, "staff_id": 4, "location_id": 80, "start_at": ts("2024-03-05 08:00"),
                      "end_at": ts("2024-03-05 10:00"), "updated_at": ts("2024-05-01 00:00")})
    build_summaries()


def rows_by_region() -> dict:
    """Database ids of the score, month and patient rows, by region (None: region NULL)."""
    found: dict = {}
    for model, period in ((ClinicScore, "day"), (RegionMonth, "month"), (RegionMonthPatients, "month")):
        for row in model.objects.all():
            key = (model.__name__, getattr(row, period), getattr(row, "clinic_id", None))
            found.setdefault(row.region_id, {})[key] = row.pk
    return found


def test_a_move_within_region_null_rebuilds_its_pairs_only(region_zero):
    """Department 61 moves from clinic 50 to clinic 60, both of region NULL: the scores and
    months of region NULL are rebuilt as (day, NULL) and (month, NULL) pairs, not whole
    days; the rows of regions 0, 1 and 40 on the same days keep their ids (region 0's
    too, though a NULL key is compared as the stand-in 0: only with "key IS NULL")."""
    before = rows_by_region()
    assert {0, 1, 40, None} <= set(before)
    assert ("ClinicScore", FEB10, 80) in before[0] and ("ClinicScore", FEB10, 50) in before[None]
    _set("emr_location", 61, parent_id=60)
    assert planned_cells("clinic_day") == {(FEB10, 50), (FEB10, 60)}
    # Feb 10 and its 28 days after (to Mar 9, 2024 a leap year), of region NULL alone
    assert planned_cells("clinic_score") == {(FEB10 + dt.timedelta(days=n), None) for n in range(29)}
    # months: Feb 10's and Mar 9's, and the month after Feb; the patients: Feb alone
    assert planned_cells("region_month") == {(dt.date(2024, 2, 1), None), (dt.date(2024, 3, 1), None)}
    assert planned_cells("region_month_patients") == {(dt.date(2024, 2, 1), None)}
    described = {p.summary.name: p.describe() for p in plan()}
    assert described["clinic_score"] == (
        "clinic_score: 29 (day, region) pairs on 29 days to rebuild, 2024-02-10 .. 2024-03-09"
        " (29 pairs from location edits)")
    report = incremental_equals_full_in_place()
    assert {r.name: (r.days, r.cells) for r in report.results} == {
        "clinic_day": (0, 2), "clinic_score": (0, 29), "region_month_patients": (0, 1), "region_month": (0, 2)}
    after = rows_by_region()
    for region in (0, 1, 40):
        assert after[region] == before[region], f"region {region} is untouched: its rows keep their ids"
    rebuilt = {key for key, pk in after[None].items() if before[None].get(key) != pk}
    assert ("ClinicScore", FEB10, 60) in rebuilt and ("RegionMonth", dt.date(2024, 2, 1), None) in rebuilt
    assert ("ClinicScore", MAR5, 50) in rebuilt, "Mar 5 is within Feb 10's 28 days after"
    assert ("RegionMonth", dt.date(2024, 4, 1), None) not in rebuilt, "April is out of reach"


def test_region_zero_and_region_null_are_different_pairs(region_zero):
    """A cost change of staff 4 (clinic 80, region 0) rebuilds the pairs of region 0 only:
    the NULL region's rows of Mar 5 (clinics 50, 60) and Apr 2 (clinic 50), within the
    reach, keep their ids; 0 is a region like any other."""
    before = rows_by_region()
    _set("emr_staff", 4, hourly_cost=h.D("25.00"))
    # Mar 5 (the shift; the visits carry no cost but are staff 4's rows) and Feb 10
    assert planned_cells("clinic_day") == {(FEB10, 80), (MAR5, 80)}
    reached = {(FEB10 + dt.timedelta(days=n), 0) for n in range(29)} | {
        (MAR5 + dt.timedelta(days=n), 0) for n in range(29)}
    assert planned_cells("clinic_score") == reached
    report = incremental_equals_full_in_place()
    assert sum(r.days for r in report.results) == 0
    after = rows_by_region()
    for region in (1, 40, None):
        assert after[region] == before[region], f"region {region} is untouched: its rows keep their ids"
    assert after[0][("ClinicScore", MAR5, 80)] != before[0][("ClinicScore", MAR5, 80)], "region 0 is rebuilt"


# --- pairs on many scattered days: raw rows read by a coarser day filter, matched exactly ---

SCATTERED = [dt.date(2024, 1, d) for d in (8, 11, 15, 19, 24)] + [dt.date(2024, 2, 3)]
GAP_DAYS = [dt.date(2024, 1, d) for d in (9, 12, 16, 20, 25)]


def test_pairs_on_scattered_days_read_in_few_ranges_and_only_their_rows(built):
    """Staff 2 works at location 20 on six days three to ten days apart (six day ranges),
    staff 3 there on the days between, with a shift each day. After staff 2's cost change
    the raw rows are read in SCAN_RANGES ranges (the smallest gaps closed), which hold
    staff 3's rows of the gap days: the pairs drop them, so those rows are neither
    rebuilt (their ids stay) nor counted by the gates, and every table equals a full build."""
    add("emr_visit", *(visit(51000 + n, day.isoformat(), staff=2, patient=5100 + n, location=20)
                       for n, day in enumerate(SCATTERED)),
        *(visit(51100 + n, day.isoformat(), staff=3, patient=5200 + n, location=20)
          for n, day in enumerate(GAP_DAYS)))
    add("emr_shift", *({"id": 51200 + n, "staff_id": 3, "location_id": 20, "start_at": ts(f"{day} 08:00"),
                        "end_at": ts(f"{day} 12:00"), "updated_at": ts("2024-05-01 00:00")}
                       for n, day in enumerate(GAP_DAYS)))
    build_summaries()
    gap_rows = {
        model: {(r.day, r.location_id if model is StaffCostSummary else r.clinic_id): r.pk
                for r in model.objects.filter(day__in=GAP_DAYS)}
        for model in (StaffCostSummary, ClinicDay)
    }
    assert all(gap_rows.values()), "the gap days have rows of their own"
    _set("emr_staff", 2, hourly_cost=h.D("41.00"))
    (p,) = [p for p in plan() if p.summary.name == "staff_cost_summary"]
    assert {(day, 20) for day in SCATTERED} <= p.cells.pairs
    assert len(p.cells.window) > SCAN_RANGES >= len(p.cells.scan_window)
    scanned = {day for r in p.cells.scan_window for day in r.each_day()}
    assert set(GAP_DAYS) & scanned, "the coarse ranges hold gap days"
    report = incremental_equals_full_in_place()
    assert {r.name: r.days for r in report.results if r.days} == {}
    for model, before in gap_rows.items():
        after = {(r.day, r.location_id if model is StaffCostSummary else r.clinic_id): r.pk
                 for r in model.objects.filter(day__in=GAP_DAYS)}
        assert after == before, f"{model.__name__}: the gap days' rows are not rewritten"
