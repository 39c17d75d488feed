"""``build_summaries --sql`` prints a script that the database runs as is, building the
same tables as the build itself."""
import datetime as dt
import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from etl.dates import DateRange
from etl.models import StaffCostSummary, StaffSummary
from etl.db.schema import init_emr
from etl.engine.service import build_sql, build_summaries

from . import handmade
from .factories import summary_rows


def run_script(script: str) -> None:
    """Run a printed script the way an operator would paste it."""
    if connection.vendor == "postgresql" and shutil.which("psql"):
        settings = connection.settings_dict
        subprocess.run(
            ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", settings["HOST"] or "127.0.0.1",
             "-p", str(settings["PORT"] or 5432), "-U", settings["USER"], "-d", settings["NAME"]],
            input=script, text=True, check=True, capture_output=True,
        )
    elif connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.cursor.execute(script)
    else:
        connection.ensure_connection()
        connection.connection.executescript(script)


def both_tables():
    return (
        summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS),
        summary_rows(StaffCostSummary, handmade.STAFF_COST_FIELDS),
    )


@pytest.fixture
def loaded(transactional_db):
    init_emr(drop=True)
    handmade.load()
    yield
    init_emr(drop=True)


def test_printed_full_build_gives_the_same_tables(loaded):
    out = StringIO()
    call_command("build_summaries", "--full", "--sql", stdout=out)
    script = out.getvalue()
    assert StaffSummary.objects.count() == 0, "--sql must not build"
    run_script(script)
    assert both_tables() == (handmade.EXPECTED_STAFF_SUMMARY, handmade.EXPECTED_STAFF_COST_SUMMARY)


def test_printed_window_build_inlines_dates_and_matches(loaded):
    build_summaries()
    built = both_tables()
    window = [DateRange(dt.date(2024, 3, 1), dt.date(2024, 3, 3))]
    script = build_sql(window=window)
    if connection.vendor == "postgresql":
        assert "TIMESTAMP '2024-03-01 00:00:00'" in script and "DATE '2024-03-03'" in script
    else:
        assert "'2024-03-01 00:00:00'" in script and ".000000" not in script
    StaffSummary.objects.filter(day=dt.date(2024, 3, 2)).update(nr_visits=99)
    run_script(script)
    assert both_tables() == built
