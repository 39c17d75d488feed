"""Adding a summary is one declaration and one model: the test summaries of
tests/declared.py are built by build_summaries (full and incremental) on the configured
database, and their values are worked out by hand here. The suite runs on SQLite and on
PostgreSQL: the same expected tables hold on both."""
import datetime as dt
from decimal import Decimal as D

import pytest
from sqlalchemy import delete

from etl import db
from etl.engine.service import build_summaries
from etl.dates import DateRange
from etl.db.tables import raw
from etl.summaries import SUMMARIES

from .declared import VISIT_DAY_SUMMARY, VISIT_TREND, VISIT_TREND_SUMMARY, VisitDay, VisitTrend, create_tables
from .factories import add, summary_rows, visit

DAY_FIELDS = ["day", "location_id", "nr_visits", "nr_patients", "nr_no_show", "no_show_rate", "visits_per_patient"]
TREND_FIELDS = ["day", "location_id", "nr_visits", "no_show_rate", "visits_3d", "busiest_rank", "no_show_rank",
                "no_show_pct_rank"]
MAY1, MAY2, MAY3, MAY4, MAY7 = (dt.date(2024, 5, d) for d in (1, 2, 3, 4, 7))


@pytest.fixture
def declared(emr, monkeypatch):
    """The test summaries registered like any other, their tables created."""
    create_tables(VisitDay, VisitTrend)
    monkeypatch.setitem(SUMMARIES, "visit_day", VISIT_DAY_SUMMARY)
    monkeypatch.setitem(SUMMARIES, "visit_trend", VISIT_TREND_SUMMARY)


def visits(first_id, day, location, *statuses_and_patients):
    return [
        visit(first_id + i, day, status, location=location, patient=patient)
        for i, (status, patient) in enumerate(statuses_and_patients)
    ]


# --- visit_day: counts, a conditional count, a distinct count, two ratios -----------------

def load_visit_day():
    add("emr_visit",
        # 2024-05-01, location 1: completed by patients 1, 1, 2; a no-show; a cancelled visit;
        # a scheduled one and an unknown status, counted nowhere.
        *visits(1, "2024-05-01", 1, ("completed", 1), ("completed", 1), ("completed", 2), ("no_show", 3),
                ("cancelled", 4), ("scheduled", 5), ("COMPLETED", 6)),
        # location 2: a cancelled visit only: a row of zeros, both ratios NULL (0 / 0).
        *visits(10, "2024-05-01", 2, ("cancelled", 7)),
        # 2024-05-02, location 1: three patients, two no-shows.
        *visits(20, "2024-05-02", 1, ("completed", 1), ("completed", 2), ("completed", 3), ("no_show", 4),
                ("no_show", 5)),
        # location 2: 25 completed visits by 8 patients (100 .. 107), 7 no-shows.
        *visits(100, "2024-05-02", 2, *(("completed", 100 + i % 8) for i in range(25)),
                *(("no_show", 200 + i) for i in range(7))))


# (day, location, nr_visits, nr_patients, nr_no_show, no_show_rate, visits_per_patient)
# no_show_rate = no-shows / (completed + no-shows), 4 decimals; visits_per_patient 2 decimals.
EXPECTED_VISIT_DAY = [
    (MAY1, 1, 3, 2, 1, D("0.2500"), D("1.50")),   # 1/4; 3/2
    (MAY1, 2, 0, 0, 0, None, None),               # 0/0 both
    (MAY2, 1, 3, 3, 2, D("0.4000"), D("1.00")),   # 2/5; 3/3
    # 7/32 = 0.21875 -> 0.2188; 25/8 = 3.125 -> 3.13: halves round up (round-half-even
    # and Python's float round() would give 3.12).
    (MAY2, 2, 25, 8, 7, D("0.2188"), D("3.13")),
]


def test_a_new_summary_builds_in_full(declared):
    load_visit_day()
    report = build_summaries(["visit_day"])
    assert [(r.name, r.full_reason) for r in report.results] == [("visit_day", "never built")]
    assert summary_rows(VisitDay, DAY_FIELDS) == EXPECTED_VISIT_DAY


def test_a_new_summary_builds_incrementally(declared):
    load_visit_day()
    build_summaries(["visit_day"])
    add("emr_visit",
        visit(300, "2024-05-02", "completed", location=1, patient=6),   # MAY2/1: 4 visits, 4 patients, 2/6
        visit(301, "2024-05-03", "no_show", location=1, patient=1))     # MAY3/1: only a no-show: 1/1
    db.emr_execute(delete(raw("emr_visit")).where(raw("emr_visit").c.id == 10))  # MAY1/2 disappears
    report = build_summaries(["visit_day"])
    assert [(r.name, r.mode, r.days) for r in report.results] == [("visit_day", "incremental", 3)]
    expected = [
        EXPECTED_VISIT_DAY[0],
        (MAY2, 1, 4, 4, 2, D("0.3333"), D("1.00")),   # 2/6 = 0.33333
        EXPECTED_VISIT_DAY[3],
        (MAY3, 1, 0, 0, 1, D("1.0000"), None),        # 1/1; no patients: NULL
    ]
    assert summary_rows(VisitDay, DAY_FIELDS) == expected
    build_summaries(["visit_day"], full=True)
    assert summary_rows(VisitDay, DAY_FIELDS) == expected


# --- visit_trend: a rolling window over calendar days, ranks with ties and NULLs ----------

def load_visit_trend():
    add("emr_visit",
        *visits(1, "2024-05-01", 1, ("completed", 1), ("completed", 2)),
        *visits(10, "2024-05-01", 2, ("completed", 1), ("completed", 2), ("no_show", 3)),
        *visits(20, "2024-05-01", 3, ("cancelled", 1)),
        *visits(30, "2024-05-02", 1, ("completed", 1), ("no_show", 2)),
        *visits(40, "2024-05-02", 2, ("completed", 1), ("completed", 2), ("completed", 3)),
        *visits(50, "2024-05-02", 3, ("completed", 1), ("completed", 2)),
        *visits(60, "2024-05-03", 1, ("scheduled", 1)),   # no row on May 3
        *visits(70, "2024-05-04", 1, *(("completed", p) for p in range(4))),
        *visits(80, "2024-05-07", 1, ("completed", 1)),
        *visits(90, "2024-05-07", 2, ("no_show", 1)))


# visits_3d: completed visits of the location over the 3 calendar days ending on the day
# (location 1 on May 4 covers May 2 .. 4: 1 + 4; on May 7, May 5 .. 7: just 1, where a
# 3-row frame would add May 2 and 4). busiest_rank: by nr_visits, highest first, ties
# share a rank and the next skips (May 1: 1, 1, 3). no_show_rank: by no_show_rate, highest
# first, non-NULL only (location 3 on May 1 has none: NULL, never first). no_show_pct_rank:
# lowest rate first, (rank - 1) / (n - 1) over the n non-NULL rates; 0 when n is 1 (May 4).
EXPECTED_VISIT_TREND = [
    (MAY1, 1, 2, D("0.0000"), 2, 1, 2, 0.0),
    (MAY1, 2, 2, D("0.3333"), 2, 1, 1, 1.0),      # 1/3
    (MAY1, 3, 0, None, 0, 3, None, None),
    (MAY2, 1, 1, D("0.5000"), 3, 3, 1, 1.0),      # 2 + 1; rates 0.5, 0, 0: ranks 3 of n = 3
    (MAY2, 2, 3, D("0.0000"), 5, 1, 2, 0.0),      # 2 + 3; ties with location 3
    (MAY2, 3, 2, D("0.0000"), 2, 2, 2, 0.0),      # 0 + 2
    (MAY4, 1, 4, D("0.0000"), 5, 1, 1, 0.0),
    (MAY7, 1, 1, D("0.0000"), 1, 1, 2, 0.0),
    (MAY7, 2, 0, D("1.0000"), 0, 2, 1, 1.0),
]


def test_rolling_window_and_ranks(declared):
    load_visit_trend()
    build_summaries(["visit_trend"], full=True)
    assert summary_rows(VisitTrend, TREND_FIELDS) == EXPECTED_VISIT_TREND


def test_a_window_of_days_reads_the_days_its_rolling_window_needs(declared):
    """Rows for May 4 .. 7 and for May 2 alone are those of the full query: the rolling
    sum reads the two days before the window (May 2 for May 4)."""
    load_visit_trend()
    for window, days in (([DateRange(MAY4, MAY7 + dt.timedelta(days=1))], {MAY4, MAY7}), ([DateRange.day(MAY2)], {MAY2})):
        rows = db.emr_fetch_all(VISIT_TREND_SUMMARY.rows(window))
        built = sorted(tuple(row[:3]) + tuple(row[4:7]) for row in rows)
        expected = [(d, loc, n, v3, r, nr) for d, loc, n, _, v3, r, nr, _ in EXPECTED_VISIT_TREND if d in days]
        assert [(dt.date.fromisoformat(str(r[0])), *r[1:]) for r in built] == expected
    assert VISIT_TREND.lookback == (2, 0) and VISIT_TREND.reach_days == 2
