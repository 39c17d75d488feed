"""No raw row blocks a build: the last day there is (9999-12-31) builds like any other,
days outside 0001-01-01 .. 9999-12-31 are never logged and never claimed, and a claim of
hundreds of thousands of days works on SQLite (bounded IN lists)."""
import datetime as dt

import pytest
from django.db import connection

from etl.engine.service import build_summaries
from etl.dates import DateRange, merge_days
from etl.db.tables import CHANGE_LOG
from etl import db
from sqlalchemy import func, select

from .factories import add, visit
from .test_incremental import built, cells_rebuilt, days_rebuilt, full_build_tables, tables  # noqa: F401 (fixture)


def run(*statements: str) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def log_rows() -> int:
    return db.fetch_scalar(select(func.count()).select_from(CHANGE_LOG))


def test_date_ranges_reach_the_last_day():
    last = dt.date(9999, 12, 31)
    r = DateRange.day(last)
    assert (r.start, r.end, r.last, r.days, r.end_at) == (last, None, last, 1, None)
    assert merge_days([last, dt.date(9999, 12, 30), dt.date(9999, 12, 1)]) == [
        DateRange(dt.date(9999, 12, 1), dt.date(9999, 12, 2)), DateRange(dt.date(9999, 12, 30), None),
    ]
    # 40 days cut into pieces of at most 31: 31 + 9, the last one open.
    assert DateRange.inclusive(dt.date(9999, 11, 22), last).split(31) == [
        DateRange(dt.date(9999, 11, 22), dt.date(9999, 12, 23)), DateRange(dt.date(9999, 12, 23), None),
    ]
    assert list(DateRange.day(dt.date.min).each_day()) == [dt.date.min]


def test_a_visit_on_the_last_day_builds_incrementally(built):
    add("emr_visit", visit(400, "9999-12-31", staff=500))
    report = build_summaries()
    assert days_rebuilt(report) == {"staff_summary": 1, "staff_cost_summary": 1}
    assert tables() == full_build_tables()
    assert tables()[0][-1][0] == dt.date(9999, 12, 31)
    # An edit of that staff member rebuilds the (day, location) pairs they worked, the
    # last day included: (03-01, 102), (03-03, 102), (9999-12-31, 102).
    run("UPDATE emr_staff SET role_id = 11 WHERE id = 500")
    report = build_summaries()
    assert cells_rebuilt(report) == {"staff_summary": 3, "staff_cost_summary": 3}
    assert days_rebuilt(report) == {"staff_summary": 0, "staff_cost_summary": 0}
    assert tables() == full_build_tables()
    # And the first day there is.
    add("emr_visit", visit(401, "0001-01-01", staff=500))
    build_summaries()
    assert tables() == full_build_tables()


def out_of_range_start() -> str:
    # PostgreSQL takes years past 9999 and before Christ; SQLite text can say year 0000.
    return "10000-03-01 10:00:00" if connection.vendor == "postgresql" else "0000-06-01 10:00:00"


def test_rows_outside_the_days_are_never_logged(built):
    run("DELETE FROM etl_change_log",
        "INSERT INTO emr_visit (id, patient_id, location_id, service_id, staff_id, start_at, end_at, status,"
        f" updated_at) VALUES (500, 2000, 102, 1, 501, '{out_of_range_start()}', NULL, 'completed',"
        " '2024-03-05 00:00:00')")
    if connection.vendor == "postgresql":
        run("INSERT INTO emr_visit (id, patient_id, location_id, service_id, staff_id, start_at, end_at, status,"
            " updated_at) VALUES (501, 2000, 102, 1, 501, '0044-03-15 10:00:00 BC', NULL, 'completed',"
            " '2024-03-05 00:00:00')")
    assert log_rows() == 0
    # An edit of their staff member looks up that member's days: the absurd ones are no days.
    run("UPDATE emr_staff SET role_id = 11 WHERE id = 501")
    build_summaries()
    run("DELETE FROM emr_visit WHERE id >= 500")
    assert log_rows() == 0
    build_summaries()
    assert tables() == full_build_tables()


def test_an_out_of_range_day_in_the_log_is_dropped_not_claimed(built):
    # An entry an older trigger wrote for a row that is gone since: it used to fail every
    # build, --full included, because it could never be read or claimed.
    day = "10000-03-01" if connection.vendor == "postgresql" else "0000-06-01"
    run(f"INSERT INTO etl_change_log (day, source, logged_at) VALUES ('{day}', 'emr_visit', '2024-03-05 00:00:00')")
    assert build_summaries().results == ()
    assert log_rows() == 0
    run(f"INSERT INTO etl_change_log (day, source, logged_at) VALUES ('{day}', 'emr_visit', '2024-03-05 00:00:00')")
    build_summaries(full=True)
    assert tables() == built


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_a_null_day_from_an_older_sqlite_trigger_is_no_truncation(built):
    # Older SQLite triggers logged DATE('yesterday'), NULL, for a start_at that is no
    # timestamp; read as "a table was truncated" it forced full rebuilds. SQLite has no
    # TRUNCATE: it names nothing to rebuild.
    run("INSERT INTO etl_change_log (day, source, logged_at) VALUES (NULL, 'emr_visit', '2024-03-05 00:00:00')")
    assert build_summaries().results == ()
    assert log_rows() == 0
    # Today's triggers log nothing for such a row.
    run("INSERT INTO emr_visit (id, patient_id, location_id, service_id, staff_id, start_at, end_at, status,"
        " updated_at) VALUES (600, 2000, 102, 1, 501, 'yesterday', NULL, 'completed', '2024-03-05 00:00:00')",
        "UPDATE emr_visit SET status = 'cancelled' WHERE id = 600", "DELETE FROM emr_visit WHERE id = 600")
    assert log_rows() == 0


@pytest.mark.skipif("connection.vendor != 'sqlite'")
def test_more_changed_days_than_sqlite_takes_bound_values(built):
    # 250,001 visits on as many days (1700-01-01 onwards, one a day) outnumber SQLite's
    # 250,000 bound values a statement: an unbounded IN list fails every build.
    count = 250_001
    run("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
        " INSERT INTO emr_visit (id, patient_id, location_id, service_id, staff_id, start_at, end_at, status,"
        " updated_at) SELECT 100000 + i, 3000 + i %% 7, 102, 1, 500,"
        " DATETIME('1700-01-01 10:00:00', '+' || i || ' days'), NULL, 'cancelled', '2024-03-05 00:00:00'"
        " FROM n" % (count - 1))
    report = build_summaries()
    assert {r.full_reason for r in report.results} == {f"{count} changed days"}
    assert log_rows() == 0
    incremental = tables()
    # Cancelled visits only: 250,001 staff_summary rows, one per day, besides the handmade ones.
    # 2024-03-01 is one of those days: its cancelled visit joins that day's existing row.
    assert len(incremental[0]) == len(built[0]) + count - 1
    assert incremental == full_build_tables()
