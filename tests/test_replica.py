"""The raw side on a read replica: ``EMR_DATABASE_URL`` names a logical-replication
subscriber of the EMR primary, two real PostgreSQL servers that ``scripts/ensure_replica.sh``
starts. Visits and shifts written on the primary reach the subscriber through the apply
process, which fires row-level triggers only: the row-level capture triggers of
``init_emr --replica`` log them, so an incremental build reading the subscriber rebuilds the
changed days and equals a ``--full`` build. Django's database is either backend.

Skipped only when the servers cannot be started (no PostgreSQL here); CI starts them
(``.ci/run``) and sets REQUIRE_POSTGRES=1, which makes that a failure."""
import os
import subprocess
import time
import uuid

import psycopg2
import pytest
from django.test import override_settings

from etl import db as etl_db
from etl.db.schema import init_emr, subscribed_tables, trigger_statements
from etl.engine import capture
from etl.engine.service import build_summaries

from . import test_clinic_reach as section_4
from .processes import ROOT
from .test_incremental import full_build_tables, tables

SCRIPT = ROOT / "scripts" / "ensure_replica.sh"


@pytest.fixture
def replica(db):
    """(primary URL, subscriber URL): a fresh database on each server, the raw tables on
    both, a publication and a subscription; dropped after the test."""
    name = f"emr_rep_{uuid.uuid4().hex[:8]}"
    started = subprocess.run([str(SCRIPT), name], capture_output=True, text=True, timeout=300)
    if started.returncode != 0:
        why = (started.stderr.strip().splitlines() or ["no output"])[-1]
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"the replication servers are required (REQUIRE_POSTGRES=1) but did not start: {why}")
        pytest.skip(f"the replication servers did not start: {why}")
    urls = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    yield urls["primary"], urls["replica"]
    for url in urls.values():
        etl_db._engine(etl_db.sqlalchemy_url(url)).dispose()
    subprocess.run([str(SCRIPT), "--drop", name], capture_output=True, timeout=120, check=True)


def query(url: str, sql: str) -> list[tuple]:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(sql)
            return cursor.fetchall() if cursor.description else []
    finally:
        conn.close()


RAW_CONTENT = ("SELECT (SELECT md5(coalesce(string_agg(v::text, ',' ORDER BY id), '')) FROM emr_visit v),"
               " (SELECT md5(coalesce(string_agg(s::text, ',' ORDER BY id), '')) FROM emr_shift s)")


def wait_for_replication(primary: str, subscriber: str, timeout: float = 120) -> None:
    """Until the subscriber's visits and shifts equal the primary's, row for row."""
    deadline = time.monotonic() + timeout
    expected = query(primary, RAW_CONTENT)
    while query(subscriber, RAW_CONTENT) != expected:
        if time.monotonic() > deadline:
            raise AssertionError(f"the subscriber did not catch up with the primary within {timeout} s")
        time.sleep(0.2)


def every_table() -> tuple:
    return tables() + section_4.tables()


def assert_equal_to_full(built: tuple) -> None:
    full = full_build_tables() + section_4.full_build_tables()
    assert built[:2] == full[:2]
    section_4.assert_same(built[2:], full[2:])


# What the primary's export changes: statuses, visits moved a day on, shifts deleted, and
# visits of a new season; and the days they touch: every logged day is rebuilt in every
# day summary (etl/engine/changes.py), a visit's day or a shift's.
CHANGES = [
    "UPDATE emr_visit SET status = 'no_show' WHERE id % 7 = 0 AND status = 'completed'",
    "UPDATE emr_visit SET start_at = start_at + INTERVAL '1 day', end_at = end_at + INTERVAL '1 day'"
    " WHERE id % 11 = 0",
    "DELETE FROM emr_shift WHERE id % 13 = 0",
    "INSERT INTO emr_visit SELECT id + 10000000, patient_id, location_id, service_id, staff_id,"
    " start_at + INTERVAL '400 days', end_at + INTERVAL '400 days', status, updated_at FROM emr_visit"
    " WHERE id % 17 = 0",
]
DAYS_CHANGED = (
    "SELECT count(*) FROM (SELECT CAST(start_at AS DATE) FROM emr_visit WHERE id % 7 = 0 AND status = 'completed'"
    " UNION SELECT CAST(start_at AS DATE) FROM emr_visit WHERE id % 11 = 0"
    " UNION SELECT CAST(start_at + INTERVAL '1 day' AS DATE) FROM emr_visit WHERE id % 11 = 0"
    " UNION SELECT CAST(start_at + INTERVAL '400 days' + CASE WHEN id % 11 = 0 THEN INTERVAL '1 day'"
    " ELSE INTERVAL '0 days' END AS DATE) FROM emr_visit WHERE id % 17 = 0"  # copied after the move
    " UNION SELECT CAST(start_at AS DATE) FROM emr_shift WHERE id % 13 = 0) AS days"
)


def test_an_incremental_build_from_the_replica_sees_what_was_written_on_the_primary(replica):
    from django.core.management import call_command

    primary, subscriber = replica
    with override_settings(EMR_DATABASE_URL=primary):
        init_emr()  # the primary's own change log and triggers, as an EMR database has them
        call_command("generate_emr", "--visits", "3000", "--days", "40", "--clinics", "4", "--seed", "3")
    with override_settings(EMR_DATABASE_URL=subscriber):
        # The subscription exists: init_emr installs the row-level triggers by itself.
        assert subscribed_tables() == ["emr_visit", "emr_shift"]
        # init_emr's DDL and the apply worker's writes lock the same tables in different
        # orders: set up capture once the subscriber has caught up (docs/operations.md).
        wait_for_replication(primary, subscriber)
        init_emr()
        assert capture.inspect().problems == {}
        first = build_summaries()
        assert {r.mode for r in first.results} == {"full"}  # never built
        built = every_table()
        assert all(built) and built[:2] == tables()
        assert_equal_to_full(built)

        changed_days = query(primary, DAYS_CHANGED)[0][0]
        for sql in CHANGES:
            query(primary, sql)
        wait_for_replication(primary, subscriber)
        report = build_summaries()
        assert {r.name: r.mode for r in report.results} == {r.name: "incremental" for r in report.results}
        assert {r.name: r.days for r in report.results}["staff_summary"] == changed_days
        after = every_table()
        assert after != built
        assert_equal_to_full(after)


def test_statement_level_triggers_on_a_subscriber_are_reported_and_rebuilt_in_full(replica):
    primary, subscriber = replica
    with override_settings(EMR_DATABASE_URL=subscriber):
        init_emr()
        build_summaries()
        with etl_db.emr_engine().begin() as conn:  # as an EMR database set up before its subscription
            conn.exec_driver_sql("DROP TRIGGER etl_changes_row ON emr_visit")
            for sql in trigger_statements("postgresql"):
                conn.exec_driver_sql(sql)
        problems = capture.inspect().problems
        assert problems == {"emr_visit": "emr_visit: etl_changes_row missing (a logical-replication subscriber fires"
                                         " row-level triggers only)"}
        report = build_summaries()
        reasons = {r.name: r.full_reason for r in report.results}
        assert "change capture is not working (emr_visit: etl_changes_row missing" in reasons["staff_summary"]
        init_emr()  # repairs it
        assert capture.inspect().problems == {}
