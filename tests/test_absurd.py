"""Absurd raw values (CONTRACT 1, "Absurd values are dirt too"): summarised by the rules or
left out, alike by --full and incremental builds, reported by check_emr, and never the
cause of a failed build. On each database the values it can hold: PostgreSQL's infinity,
BC and year-10000 timestamps; SQLite's text that is not a timestamp and year 0000."""
import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from sqlalchemy import delete, text

from etl import db
from etl.engine import gates
from etl.engine.service import build_summaries
from etl.dates import DateRange
from etl.db.tables import CHANGE_LOG
from etl.models import StaffCostSummary, StaffSummary
from etl.queries.staff_cost_summary import staff_cost_summary_rows
from etl.queries.staff_summary import staff_summary_rows
from etl.sources.quality import check_emr

from .factories import add, money, summary_rows, ts
from .handmade import STAFF_COST_FIELDS, STAFF_SUMMARY_FIELDS

DAY = dt.date(2024, 3, 1)
PG = "postgresql"


def put(table: str, **values) -> None:
    """One raw row with its values bound as given: text stays text on SQLite (no timestamp
    conversion), and PostgreSQL parses 'infinity' or '10000-01-01' itself."""
    names = list(values)
    statement = text(
        f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join(':' + n for n in names)})"
    ).bindparams(**values)
    db.emr_execute(statement)


def visit(id_, start, end, status="completed", location=102):
    # Each visit its own patient (2000 + id), so nr_patients counts visits.
    put("emr_visit", id=id_, patient_id=2000 + id_, location_id=location, service_id=1, staff_id=500,
        start_at=start, end_at=end, status=status, updated_at="2024-03-05 00:00:00")


def shift(id_, staff, start, end, location=102):
    put("emr_shift", id=id_, staff_id=staff, location_id=location, start_at=start, end_at=end,
        updated_at="2024-03-05 00:00:00")


def load_dimensions() -> None:
    add("emr_role", {"id": 1, "parent_id": None, "name": "Physicians"})
    add("emr_location",
        {"id": 100, "parent_id": None, "name": "North", "kind": "region"},
        {"id": 101, "parent_id": 100, "name": "Clinic", "kind": "clinic"},
        {"id": 102, "parent_id": 101, "name": "Dept", "kind": "department"},
        {"id": 103, "parent_id": 100, "name": "Dept under a region", "kind": "department"},
        {"id": 104, "parent_id": 999, "name": "Orphan dept", "kind": "department"})
    add("emr_service", {"id": 1, "code": "GEN", "name": "General"})
    add("emr_staff",
        {"id": 500, "name": "s500", "role_id": 1, "hourly_cost": money("40.00")},
        {"id": 510, "name": "s510", "role_id": 1, "hourly_cost": money("-5.00")},   # negative: counts 0
        # 1.005 has more decimals than NUMERIC(10,2): PostgreSQL stores 1.01 (half up);
        # SQLite holds the REAL 1.00499999..., read from its text '1.005' as 1.01 too.
        {"id": 511, "name": "s511", "role_id": 1, "hourly_cost": money("1.005")})


def load_facts(vendor: str) -> None:
    """Visits and shifts on 2024-03-01, the valid ones shared by both databases."""
    visit(1, "2024-03-01 10:00:00", "2024-03-01 10:30:00")              # 30 min
    visit(2, "2024-03-01 08:00:00", "2024-03-02 08:00:00")              # exactly 24 h: 1440 min
    visit(3, "2024-03-01 08:00:00", "2024-03-02 08:00:01")              # 24 h 1 s: counts, no minutes
    # Exactly 24 h with fractions that differ as text ('.50' vs '.5'): 1440 min.
    visit(4, "2024-03-01 09:00:00.50", "2024-03-02 09:00:00.5")
    visit(5, "2024-03-01 12:00:00", "2024-03-05 12:00:00", "cancelled")  # long, cancelled: counts
    visit(6, "2024-03-01 10:00:00", "2024-03-01 10:10:00", location=103)  # no clinic: 10 min
    # Each timestamp read to the second: 11:00:00 to 11:30:00, 30 min (SQLite's strftime
    # rounded .9999 up to 11:00:01: 29.98 min, where PostgreSQL's date_trunc gives 30).
    visit(7, "2024-03-01 11:00:00.9999", "2024-03-01 11:30:00", location=103)
    # Ids with decimals, read as PostgreSQL stores a number in a BIGINT (rounded: 102, 1,
    # 500, 2027); SQLite keeps the REAL, PostgreSQL rounds on insert.
    put("emr_visit", id=27, patient_id=2027.4, location_id=101.6, service_id=1.2, staff_id=500.4,
        start_at="2024-03-01 15:00:00", end_at="2024-03-01 15:20:00", status="completed",
        updated_at="2024-03-05 00:00:00")                            # 20 min
    shift(8, 510.4, "2024-03-01 12:00:00", "2024-03-01 13:00:00", location=101.6)  # 510, 102: 1 h, cost 0
    shift(1, 500, "2024-03-01 08:00:00", "2024-03-01 16:00:00")  # 8 h x 40.00 = 320.00
    shift(2, 500, "2024-03-01 00:00:00", "2024-03-02 00:00:00")  # exactly 24 h x 40.00 = 960.00
    shift(3, 500, "2024-03-01 00:00:00", "2024-03-02 00:00:01")  # 24 h 1 s: invalid
    shift(4, 510, "2024-03-01 09:00:00", "2024-03-01 11:00:00")  # 2 h, negative cost: 0
    shift(5, 511, "2024-03-01 10:00:00", "2024-03-01 11:00:00")  # 1 h x 1.01 = 1.01
    shift(6, 500, "2024-03-01 18:00:00", "2024-03-01 17:00:00")  # ends before it starts: invalid
    shift(7, 500, "2024-03-01 09:00:00", "2024-03-01 10:00:00", location=104)  # no clinic: 1 h, 40.00
    if vendor == PG:
        visit(20, "10000-01-01 10:00:00", "10000-01-01 10:30:00")   # after 9999: no day (and no end)
        visit(21, "0044-03-15 10:00:00 BC", None)                   # BC: no day
        visit(22, "-infinity", "2024-03-01 10:00:00")               # no day
        visit(23, "2024-03-01 13:00:00", "infinity")                # end missing: counts, no minutes
        visit(24, "2024-03-01 14:00:00", "10000-01-01 00:00:00")    # end missing: counts, no minutes
        shift(20, 500, "2024-03-01 10:00:00", "infinity")           # invalid
        shift(21, 500, "infinity", "infinity")                      # no day
        shift(22, 500, "10000-01-01 00:00:00", "10000-01-01 01:00:00")  # no day
        shift(23, 500, "2024-03-01 10:00:00", "10000-01-01 00:00:00")   # invalid
    else:
        visit(20, "0000-06-01 10:00:00", "0000-06-01 10:30:00")     # year 0000: no day (and no end)
        visit(21, "2024-03-01", "2024-03-01 10:30:00")              # a date alone: no day
        visit(22, "2024-03-01 10:00:00+02:00", None)                # a zone suffix: no day
        visit(23, "2024-03-01 13:00:00", "2024-03-01 13:30")        # end without seconds: missing
        visit(24, "2024-03-01 14:00:00", "0000-01-01 00:00:00")     # end in year 0000: missing
        visit(25, 20240301, None)                                   # a number: no day
        visit(26, "2024-02-30 10:00:00", None)                      # no such date: no day
        shift(20, 500, "2024-03-01 10:00:00", "2024-03-01 16:00:00+00:00")  # invalid
        shift(21, 500, "2024-03-01T08:00:00", "2024-03-01T09:00:00")        # no day
        shift(22, 500, "0000-03-01 10:00:00", "0000-03-01 11:00:00")        # no day
        shift(23, 500, "2024-03-01 10:00:00", "soon")                       # invalid


EXPECTED_STAFF_SUMMARY = [
    # Completed v1, v2, v3, v4, v23, v24, v27 (7 patients); v5 cancelled. Minutes: v1 30
    # + v2 1440 + v4 1440 + v27 20 = 2930; v3 lasts over 24 h, v23 and v24 have an end
    # without a day.
    (DAY, 102, 1, 1, "Physicians", 7, 7, 1, 0, D("2930.00")),
    # v6 10 min + v7 30 min
    (DAY, 103, 1, 1, "Physicians", 2, 2, 0, 0, D("40.00")),
]
EXPECTED_STAFF_COST_SUMMARY = [
    # s1 8 h + s2 24 h + s4 2 h + s5 1 h + s8 1 h = 36 h; 320.00 + 960.00 + 0 + 1.01 + 0
    # = 1281.01; staff 500, 510, 511; 7 visits, 7 patients; 7 / 36 = 0.19444.. -> 0.1944;
    # 1281.01 / 7 = 183.00142.. -> 183.0014
    (DAY, 102, 1, D("36.0000"), D("1281.01"), 3, 7, 7, D("0.1944"), D("183.0014")),
    (DAY, 103, 1, D("0.0000"), D("0.00"), 0, 2, 2, None, D("0.0000")),
    (DAY, 104, 1, D("1.0000"), D("40.00"), 1, 0, 0, D("0.0000"), None),
]


def tables():
    return summary_rows(StaffSummary, STAFF_SUMMARY_FIELDS), summary_rows(StaffCostSummary, STAFF_COST_FIELDS)


def forget_logged_days_out_of_range() -> None:
    """The triggers log the day of a start without a day (year 0000 or 10000, BC,
    infinity) as the database reads it; leaving those entries out of the change log is
    change capture's part of CONTRACT 1. Here only the summaries' side is under test."""
    log = CHANGE_LOG
    if connection.vendor == PG:
        db.emr_execute(delete(log).where((log.c.day < dt.date(1, 1, 1)) | (log.c.day > dt.date(9999, 12, 31))))
    else:  # SQLite's DATE() passes 2024-02-30 through as is, and gives NULL for 20240301
        db.emr_execute(text(
            "DELETE FROM etl_change_log WHERE day IS NULL OR day < '0001' OR date(day, '+0 days') IS NOT day"))


def test_full_build_summarises_absurd_rows_by_the_rules(emr):
    load_dimensions()
    load_facts(connection.vendor)
    forget_logged_days_out_of_range()
    build_summaries(full=True)
    assert tables() == (EXPECTED_STAFF_SUMMARY, EXPECTED_STAFF_COST_SUMMARY)


def test_incremental_build_equals_full(emr):
    load_dimensions()
    build_summaries()  # never built: a full build of no facts
    load_facts(connection.vendor)
    forget_logged_days_out_of_range()
    report = build_summaries()
    assert {r.mode for r in report.results} == {"incremental"}
    assert tables() == (EXPECTED_STAFF_SUMMARY, EXPECTED_STAFF_COST_SUMMARY)
    build_summaries(full=True)
    assert tables() == (EXPECTED_STAFF_SUMMARY, EXPECTED_STAFF_COST_SUMMARY)


@pytest.mark.parametrize("rows", [staff_summary_rows, staff_cost_summary_rows])
def test_the_incremental_window_selects_what_full_selects(emr, rows):
    """The window compares start_at with day bounds; the day comes from day_of. Both must
    agree on every row, whatever its text: the window's rows are the full rows of its days."""
    load_dimensions()
    load_facts(connection.vendor)
    full = sorted(map(tuple, db.emr_fetch_all(rows(None))), key=repr)
    window = sorted(map(tuple, db.emr_fetch_all(rows([DateRange(DAY, DAY + dt.timedelta(days=1))]))), key=repr)
    assert len(full) == (2 if rows is staff_summary_rows else 3)
    assert window == full


EXPECTED_REPORT_BOTH = {
    "visit_longer_than_24h": (2, (3, 5)),
    "visit_ends_before_start": (0, ()),
    "shift_longer_than_24h": (1, (3,)),
    "shift_ends_before_start": (1, (6,)),
    "staff_negative_cost": (1, (510,)),
    # 103 is under a region, 104's parent is missing; the region 100 is not dirt.
    "location_without_clinic": (2, (103, 104)),
    "visit_without_clinic": (2, (6, 7)),
    "shift_without_clinic": (1, (7,)),
}
EXPECTED_REPORT = {
    PG: {
        "visit_start_out_of_range": (2, (20, 21)), "visit_start_infinite": (1, (22,)),
        "visit_start_not_timestamp": (0, ()),
        "visit_end_infinite": (1, (23,)), "visit_end_out_of_range": (2, (20, 24)), "visit_end_not_timestamp": (0, ()),
        "shift_start_infinite": (1, (21,)), "shift_start_out_of_range": (1, (22,)),
        "shift_start_not_timestamp": (0, ()),
        "shift_end_infinite": (2, (20, 21)), "shift_end_out_of_range": (2, (22, 23)),
        "shift_end_not_timestamp": (0, ()),
        "staff_cost_unreadable": (0, ()),
    },
    "sqlite": {
        "visit_start_out_of_range": (1, (20,)), "visit_start_not_timestamp": (4, (21, 22, 25, 26)),
        "visit_start_infinite": (0, ()),
        "visit_end_not_timestamp": (1, (23,)), "visit_end_out_of_range": (2, (20, 24)), "visit_end_infinite": (0, ()),
        "shift_start_not_timestamp": (1, (21,)), "shift_start_out_of_range": (1, (22,)),
        "shift_start_infinite": (0, ()),
        # s21's end is 'T'-separated too
        "shift_end_not_timestamp": (3, (20, 21, 23)), "shift_end_out_of_range": (1, (22,)),
        "shift_end_infinite": (0, ()),
        # 513: text; 514: beyond 99,999,999.99 (PostgreSQL could store neither)
        "staff_cost_unreadable": (2, (513, 514)),
    },
}


def test_check_emr_lists_each_kind_with_example_ids(emr):
    load_dimensions()
    load_facts(connection.vendor)
    if connection.vendor != PG:
        put("emr_staff", id=513, name="s513", role_id=1, hourly_cost="a lot")
        put("emr_staff", id=514, name="s514", role_id=1, hourly_cost=123456789012.5)
    found = {r.name: (r.count, r.example_ids) for r in check_emr().results}
    expected = {**EXPECTED_REPORT_BOTH, **EXPECTED_REPORT[connection.vendor]}
    assert {name: found[name] for name in expected} == expected


# --- the extremes of the declared ranges ---------------------------------------------------

MAX_COST = money("99999999.99")
MANY = 11_000


def test_money_is_exact_at_the_extremes(emr):
    """11,000 shifts of exactly 24 hours at 99,999,999.99 an hour in one group: 9.5e18
    cent-seconds, past 2**63 (SQLite's sum() raised "integer overflow", PostgreSQL's cast
    "bigint out of range"); the cost per patient's scaled numerator passed it too."""
    load_dimensions()
    add("emr_staff", {"id": 512, "name": "s512", "role_id": 1, "hourly_cost": MAX_COST})
    add("emr_shift", *(
        {"id": 100_000 + i, "staff_id": 512, "location_id": 300, "start_at": ts("2024-05-01 00:00"),
         "end_at": ts("2024-05-02 00:00"), "updated_at": ts("2024-05-05 00:00")}
        for i in range(MANY)
    ), {"id": 99_999, "staff_id": 512, "location_id": 301, "start_at": ts("2024-05-01 00:00"),
        "end_at": ts("2024-05-02 00:00"), "updated_at": ts("2024-05-05 00:00")})
    add("emr_visit", *(
        {"id": 100_000 + i, "patient_id": 5000 + i, "location_id": 300, "service_id": None, "staff_id": 512,
         "start_at": ts("2024-05-01 10:00"), "end_at": ts("2024-05-01 10:30"), "status": "completed",
         "updated_at": ts("2024-05-05 00:00")}
        for i in range(50)
    ))
    build_summaries(full=True)
    day = dt.date(2024, 5, 1)
    assert summary_rows(StaffCostSummary, STAFF_COST_FIELDS) == [
        # 11,000 x 24 h = 264,000 h; x 99,999,999.99 = 26,399,999,997,360.00;
        # 50 / 264,000 = 0.000189.. -> 0.0002; 26,399,999,997,360.00 / 50 = 527,999,999,947.2
        (day, 300, 1, D("264000.0000"), D("26399999997360.00"), 1, 50, 50, D("0.0002"), D("527999999947.2000")),
        # one maximal shift: 24 x 99,999,999.99 = 2,399,999,999.76
        (day, 301, 1, D("24.0000"), D("2399999999.76"), 1, 0, 0, D("0.0000"), None),
    ]
    # 50 visits of 30 minutes
    assert summary_rows(StaffSummary, ["day", "location_id", "nr_visits", "visit_minutes"]) == [
        (day, 300, 50, D("1500.00"))]


# --- gates --------------------------------------------------------------------------------

def test_a_shift_at_infinity_fails_no_build(emr):
    """Before, the publish gates of both summaries summed every shift's seconds, and
    'infinity' - start failed the statement: one bad shift blocked staff_summary too."""
    if connection.vendor != PG:
        pytest.skip("only PostgreSQL has an infinite timestamp")
    load_dimensions()
    visit(1, "2024-03-01 10:00:00", "2024-03-01 10:30:00")
    shift(1, 500, "2024-03-01 08:00:00", "infinity")
    shift(2, 500, "2024-03-01 08:00:00", "2024-03-01 09:00:00")
    build_summaries(["staff_summary"], full=True)
    assert tables()[0] == [(DAY, 102, 1, 1, "Physicians", 1, 1, 0, 0, D("30.00"))]
    build_summaries(full=True)
    # s1 is invalid; s2: 1 h x 40.00; v1: 1 patient
    assert tables()[1] == [(DAY, 102, 1, D("1.0000"), D("40.00"), 1, 1, 1, D("1.0000"), D("40.0000"))]


def test_each_summary_gate_scans_only_the_raw_tables_it_needs(emr):
    load_dimensions()
    load_facts(connection.vendor)
    totals = gates.raw_totals(None)
    with CaptureQueriesContext(connection) as visits_only:
        # v1-v4, v6, v7, v23, v24, v27 completed, v5 cancelled (rows without a day are not counted)
        assert (totals["completed visits"], totals["cancelled visits"], totals["no-show visits"]) == (9, 1, 0)
    assert len(visits_only) == 1 and "emr_shift" not in visits_only[0]["sql"]
    with CaptureQueriesContext(connection) as shifts_only:
        assert totals["rostered hours"] == D("37")  # s1 8 + s2 24 + s4 2 + s5 1 + s7 1 + s8 1
        assert totals["completed visits"] == 9  # computed once
    assert len(shifts_only) == 1 and "emr_visit" not in shifts_only[0]["sql"]


@pytest.mark.parametrize("window", [None, [DateRange.day(DAY)], []])
def test_one_scan_per_raw_table_gives_the_gates_totals_and_the_fingerprints(emr, window):
    """A rebuild's gates and day fingerprints read each raw table once (etl.engine.rawdays):
    the same totals and fingerprints as their own scans, dirty rows included."""
    from etl.engine import fingerprints
    from etl.engine.rawdays import RawDays

    load_dimensions()
    load_facts(connection.vendor)
    tables = ("emr_visit", "emr_shift")
    alone = dict(gates.raw_totals(window))
    if window is None:  # the hand-counted totals of the test above
        assert [alone[m] for m in ("completed visits", "cancelled visits", "no-show visits", "rostered hours")] \
            == [9, 1, 0, D("37")]
    days = RawDays(window)
    with CaptureQueriesContext(connection) as reads:
        assert dict(gates.raw_totals(window, days=days)) == alone
        assert fingerprints.day_fingerprints(tables, window, days) == fingerprints.day_fingerprints(tables, window)
    assert len(reads) == 2 + 2  # one scan of each table for both; the check's own scans
    assert all(" GROUP BY " in q["sql"] for q in reads)


@pytest.mark.parametrize("full", [True, False])
def test_a_rebuild_reads_each_raw_table_once_after_writing_its_rows(emr, full):
    """staff_cost_summary's gates need visits and shifts, and its fingerprints cover both:
    one read of each, besides the statement that writes the rows."""
    load_dimensions()
    load_facts(connection.vendor)
    if not full:
        build_summaries(["staff_cost_summary"], full=True)
        db.execute(text("UPDATE emr_visit SET status = 'cancelled' WHERE id = 1"))
    with CaptureQueriesContext(connection) as build:
        build_summaries(["staff_cost_summary"], full=full)
    writes = ("INSERT", "CREATE TABLE")
    for name in ("emr_visit", "emr_shift"):
        reads = [q["sql"] for q in build if f"FROM {name}" in q["sql"]
                 and not any(w in q["sql"].upper() for w in writes) and "DISTINCT" not in q["sql"].upper()]
        assert len(reads) == 1, reads


def test_the_first_and_last_days_count(emr):
    """0001-01-01 and 9999-12-31 are days (CONTRACT 1): a full build counts their rows,
    one microsecond before the end of year 9999 included."""
    load_dimensions()
    visit(1, "0001-01-01 00:00:00", "0001-01-01 00:30:00")
    visit(2, "9999-12-31 23:00:00", "9999-12-31 23:59:59.999999")
    build_summaries(full=True)
    assert summary_rows(StaffSummary, ["day", "nr_visits", "visit_minutes"]) == [
        (dt.date(1, 1, 1), 1, D("30.00")),
        (dt.date(9999, 12, 31), 1, D("59.98")),  # 3599 whole seconds
    ]
