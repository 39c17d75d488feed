"""The declared summaries (etl/summaries/staff.py, clinics.py) make the very rows of the
hand-written reference queries kept in etl/queries (``staff_summary_rows``,
``staff_cost_summary_rows``, ``clinic_day_rows``): an independent check of the compiler,
on generated data with its dirt and on the hand-made data, for every day and for a
window of days."""
import datetime as dt

import pytest

from etl import db
from etl.dates import DateRange
from etl.queries.clinic_day import clinic_day_rows
from etl.queries.staff_cost_summary import staff_cost_summary_rows
from etl.queries.staff_summary import staff_summary_rows
from etl.sources.generate.service import generate_emr
from etl.summaries import SUMMARIES

from . import handmade

REFERENCES = [
    ("staff_summary", staff_summary_rows), ("staff_cost_summary", staff_cost_summary_rows),
    ("clinic_day", clinic_day_rows),
]
END = dt.date(2024, 6, 30)
WINDOWS = [None, [DateRange(END - dt.timedelta(days=9), END - dt.timedelta(days=6)), DateRange.day(END)]]


def rows(query) -> list[tuple]:
    return sorted((tuple(row) for row in db.emr_fetch_all(query)), key=repr)


@pytest.mark.parametrize("name, reference", REFERENCES)
def test_declared_summaries_equal_the_hand_written_queries_on_generated_data(emr, name, reference):
    generate_emr(visits=3000, days=20, clinics=3, seed=7, end_day=END)
    for window in WINDOWS:
        declared = rows(SUMMARIES[name].rows(window))
        assert declared == rows(reference(window))
        assert len(declared) > (50 if window is None else 5)  # the test has rows to compare


@pytest.mark.parametrize("name, reference", REFERENCES)
def test_declared_summaries_equal_the_hand_written_queries_on_handmade_data(emr, name, reference):
    handmade.load()
    assert rows(SUMMARIES[name].rows(None)) == rows(reference(None))
