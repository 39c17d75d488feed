"""``build_summaries --sql`` prints a script that the database runs as is, building the
same tables as the build itself."""
import datetime as dt
import shutil
import subprocess
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from sqlalchemy import update

from etl import db
from etl.dates import DateRange
from etl.db.tables import raw
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


def test_printed_full_build_gives_the_same_tables(committed_handmade):
    out = StringIO()
    call_command("build_summaries", "--full", "--sql", stdout=out)
    script = out.getvalue()
    assert StaffSummary.objects.count() == 0, "--sql must not build"
    run_script(script)
    assert both_tables() == (handmade.EXPECTED_STAFF_SUMMARY, handmade.EXPECTED_STAFF_COST_SUMMARY)


def test_printed_window_build_inlines_dates_and_matches(committed_handmade):
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


def test_printed_build_after_a_role_change_rebuilds_its_pairs_and_matches(committed_handmade):
    build_summaries()
    staff = raw("emr_staff")
    db.execute(update(staff).where(staff.c.id == 500).values(role_id=11))  # Physicians -> Nursing
    out = StringIO()
    call_command("build_summaries", "--sql", "--summary", "staff_summary", "--summary", "staff_cost_summary",
                 stdout=out)
    script = out.getvalue()
    # the (day, location) pairs of staff 500 as bound values inlined: no whole day
    assert "rebuilt_cells" in script
    run_script(script)
    printed = both_tables()
    build_summaries(full=True)
    assert printed == both_tables()


CLINIC_TABLES = {
    "clinic_day": "day, clinic_id", "clinic_score": "day, clinic_id",
    "region_month_patients": "month, region_id IS NULL, region_id", "region_month": "month, region_id IS NULL, region_id",
}


def clinic_tables(cursor) -> dict[str, list[tuple]]:
    """Every row of the clinic-score tables (without ids), read with plain SQL."""
    out = {}
    for table, order in CLINIC_TABLES.items():
        cursor.execute(f"SELECT * FROM {table} ORDER BY {order}")
        names = [c[0] for c in cursor.description]
        out[table] = [tuple(_plain(v) for n, v in zip(names, row) if n != "id") for row in cursor.fetchall()]
    return out


def _plain(value):
    """One spelling per value, whichever driver converted it: dates as text, decimals as
    floats (compared with a tolerance), booleans as 0 or 1."""
    import datetime as dt
    from decimal import Decimal

    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return float(value)
    return value


def same_tables(printed, built) -> bool:
    from .clinic_handmade import same

    return printed.keys() == built.keys() and all(
        len(printed[t]) == len(built[t]) and all(same(a, b) for a, b in zip(printed[t], built[t]))
        for t in built
    )


def run_in_sqlite3_shell(script: str, tmp_path) -> dict[str, list[tuple]]:
    """Copy the test database to a file, empty the clinic tables there, run the script
    with the ``sqlite3`` command-line shell, and read the tables back."""
    import sqlite3

    path = tmp_path / "copy.sqlite3"
    connection.ensure_connection()
    copy = sqlite3.connect(path)
    connection.connection.backup(copy)
    for table in CLINIC_TABLES:
        copy.execute(f"DELETE FROM {table}")
    copy.commit()
    copy.close()
    subprocess.run(["sqlite3", "-bail", str(path)], input=script, text=True, check=True, capture_output=True)
    copy = sqlite3.connect(path)
    try:
        return clinic_tables(copy.cursor())
    finally:
        copy.close()


@pytest.fixture
def clinics_loaded(transactional_db):
    from . import clinic_handmade

    init_emr(drop=True)
    clinic_handmade.load()
    yield
    init_emr(drop=True)


def test_printed_clinic_score_build_gives_the_same_tables(clinics_loaded, tmp_path):
    """The --sql script of a full build, run by psql or by the sqlite3 shell, builds the
    same clinic-score tables as build_summaries (window functions, sqrt and all)."""
    build_summaries()
    with connection.cursor() as cursor:
        built = clinic_tables(cursor)
    assert len(built["clinic_score"]) == len(built["clinic_day"]) > 50
    out = StringIO()
    call_command("build_summaries", "--full", "--sql", stdout=out)
    script = out.getvalue()
    if connection.vendor == "sqlite":
        if not shutil.which("sqlite3"):
            pytest.skip("no sqlite3 shell")
        printed = run_in_sqlite3_shell(script, tmp_path)
    else:
        with connection.cursor() as cursor:
            for table in CLINIC_TABLES:
                cursor.execute(f"DELETE FROM {table}")
        run_script(script)
        with connection.cursor() as cursor:
            printed = clinic_tables(cursor)
    assert same_tables(printed, built)
