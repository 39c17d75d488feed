"""The declared clinic scores (etl/summaries/clinics.py: ``clinic_score``,
``region_month_patients``, ``region_month``) make the very rows of the hand-written
reference queries kept in etl/queries (``clinic_score_rows``, ``region_month_patients_rows``,
``region_month_rows``): an independent check of the compiler's windows, standard
deviations, z-scores, ranks and previous-month changes, on the hand-made data and on
generated data, for every day and for windows, over the same built ``clinic_day`` and
``clinic_score`` tables. Floats agree within the contract's tolerance (relative 1e-6,
absolute 1e-9): on PostgreSQL the compiler sums the exact decimals where the hand-written
query sums centred floats (etl/summaries/windowing.py); on SQLite both are the same floats.
Everything else is equal."""
import datetime as dt
import math

import pytest

from etl import db
from etl.dates import DateRange
from etl.engine.service import build_summaries
from etl.queries.clinic_score import clinic_score_rows
from etl.queries.region_month import region_month_patients_rows, region_month_rows
from etl.sources.generate.service import generate_emr
from etl.summaries import SUMMARIES

from . import clinic_handmade as h

REFERENCES = [
    ("clinic_score", clinic_score_rows), ("region_month_patients", region_month_patients_rows),
    ("region_month", region_month_rows),
]
END = dt.date(2024, 6, 30)


def rows(query) -> list[tuple]:
    """The rows, dates as ISO text (SQLite gives a date column of a CTE as text or as a date
    depending on how SQLAlchemy typed it), in a stable order."""
    def plain(value):
        return value.isoformat() if isinstance(value, dt.date) else value
    return sorted((tuple(plain(v) for v in row) for row in db.emr_fetch_all(query)), key=repr)


def same(a, b) -> bool:
    """Equal; floats on PostgreSQL within the contract's tolerance (module docstring)."""
    if isinstance(a, float) and isinstance(b, float) and db.emr_vendor() == "postgresql":
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return a == b and type(a) is type(b)


def assert_same_rows(name, reference, window, least: int) -> None:
    declared, expected = rows(SUMMARIES[name].rows(window)), rows(reference(window))
    assert len(declared) == len(expected)
    for got, want in zip(declared, expected):
        assert len(got) == len(want) and all(same(a, b) for a, b in zip(got, want)), (got, want)
    assert len(declared) >= least  # the comparison has rows to compare


def windows_of(name: str, days: list[DateRange], months: list[DateRange]):
    return months if SUMMARIES[name].period == "month" else days


@pytest.mark.parametrize("name, reference", REFERENCES)
def test_declared_scores_equal_the_hand_written_queries_on_handmade_data(emr, name, reference):
    h.load()
    build_summaries()
    assert_same_rows(name, reference, None, 8)
    days = [DateRange.inclusive(dt.date(2024, 1, 20), dt.date(2024, 2, 3)), DateRange.day(dt.date(2024, 3, 5))]
    months = [DateRange(dt.date(2024, 2, 1), dt.date(2024, 4, 1))]
    assert_same_rows(name, reference, windows_of(name, days, months), 2)


@pytest.mark.parametrize("name, reference", REFERENCES)
def test_declared_scores_equal_the_hand_written_queries_on_generated_data(emr, name, reference):
    generate_emr(visits=4000, days=75, clinics=4, seed=11, end_day=END)
    build_summaries()
    assert_same_rows(name, reference, None, 6)
    days = [DateRange.inclusive(END - dt.timedelta(days=40), END - dt.timedelta(days=33)), DateRange.day(END)]
    months = [DateRange(dt.date(2024, 5, 1), dt.date(2024, 6, 1)), DateRange(dt.date(2024, 6, 1), None)]
    assert_same_rows(name, reference, windows_of(name, days, months), 3)


def test_every_summary_is_declared():
    """The registry compiles every summary from its declaration: the engine reads one kind."""
    assert all(s.declaration is not None for s in SUMMARIES.values())


def test_sources_read_the_window_widened_by_the_frames_within_the_days_there_are():
    from etl.dates import FIRST_DAY, LAST_DAY
    from etl.summaries.compiler import widened

    d = dt.date
    assert widened([DateRange.day(LAST_DAY)], 28, 0) == [DateRange(d(9999, 12, 3), None)]
    assert widened([DateRange.day(d(1, 1, 4))], 28, 0) == [DateRange(FIRST_DAY, d(1, 1, 5))]
    assert widened([DateRange.day(d(9999, 12, 30))], 0, 2) == [DateRange(d(9999, 12, 30), None)]
    # ranges that meet once widened become one
    assert widened([DateRange.day(d(2024, 1, 1)), DateRange.day(d(2024, 1, 20))], 28, 0) == [
        DateRange(d(2023, 12, 4), d(2024, 1, 21))]
    assert widened([DateRange.day(d(2024, 1, 1)), DateRange.day(d(2024, 3, 1))], 3, 1) == [
        DateRange(d(2023, 12, 29), d(2024, 1, 3)), DateRange(d(2024, 2, 27), d(2024, 3, 3))]
