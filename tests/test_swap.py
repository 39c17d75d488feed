"""Full rebuilds on PostgreSQL as a table swap (etl/db/swap.py): the schema still agrees
with the models afterwards, owner, grants and ids survive, a reader holding the table
delays the swap without breaking it, and a table with a dependent view is rebuilt in
place. Real processes: readers during a build, a SIGKILLed build. PostgreSQL only: on
SQLite a full rebuild deletes and inserts in place."""
import os
import signal
import threading
import time
import uuid
from contextlib import contextmanager
from io import StringIO

import psycopg2
import pytest
from django.core.management import call_command
from django.db import connection

from etl.engine import statements
from etl.engine.service import BuildError, build_summaries
from etl.models import StaffSummary, SummaryState
from etl.summaries import SUMMARIES

from . import handmade
from .factories import add, summary_rows, visit
from .processes import ProcessDatabase, make_database

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the swap is PostgreSQL's")


def other_connection():
    s = connection.settings_dict
    return psycopg2.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"],
                            password=s["PASSWORD"], dbname=s["NAME"])


def schema_of(table: str) -> dict:
    """Columns (type, null, default), constraints and indexes with their definitions, and
    the identity sequence, as the catalog shows them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, format_type(atttypid, atttypmod), attnotnull, attidentity FROM pg_attribute"
            " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum", [table])
        columns = cursor.fetchall()
        cursor.execute("SELECT indexname, replace(indexdef, %s, '') FROM pg_indexes WHERE tablename = %s"
                       " ORDER BY indexname", [table, table])
        indexes = cursor.fetchall()
        cursor.execute("SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint"
                       " WHERE conrelid = %s::regclass ORDER BY conname", [table])
        constraints = cursor.fetchall()
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        sequence = cursor.fetchone()[0]
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'etl_swap%%'")
        strays = cursor.fetchall()
    with connection.cursor() as cursor:
        introspected = connection.introspection.get_constraints(cursor, table)
    return {"columns": columns, "indexes": indexes, "constraints": constraints, "sequence": sequence,
            "strays": strays, "django": introspected}


def test_schema_agrees_with_the_models_after_a_swap(emr):
    before = {t: schema_of(t) for t in ("staff_summary", "staff_cost_summary")}
    handmade.load()
    build_summaries(full=True)
    build_summaries(full=True)  # a swap of a swapped table too
    assert {t: schema_of(t) for t in before} == before
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == handmade.EXPECTED_STAFF_SUMMARY
    # The row count recorded for the unfiltered API listings is the swapped-in table's.
    assert SummaryState.objects.get(name="staff_summary").row_count == len(handmade.EXPECTED_STAFF_SUMMARY)
    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    call_command("migrate", "etl", "--check")


def test_new_ids_keep_working_and_are_never_reused(emr):
    handmade.load()
    with connection.cursor() as cursor:
        # Sequences are not transactional: earlier tests may have used this one.
        cursor.execute("SELECT coalesce(pg_sequence_last_value('staff_summary_id_seq'), 0)")
        base = cursor.fetchone()[0]
    build_summaries(full=True)
    first = sorted(StaffSummary.objects.values_list("id", flat=True))
    # A swap numbers its n rows after the live sequence's last value: base+1 .. base+n.
    assert first == list(range(base + 1, base + len(first) + 1))
    build_summaries(full=True)
    second = sorted(StaffSummary.objects.values_list("id", flat=True))
    assert second == list(range(base + len(first) + 1, base + 2 * len(first) + 1))
    # An incremental build inserts through the identity of the swapped-in table.
    add("emr_visit", visit(90, "2024-03-01", "cancelled", start="08:00", end=None))
    build_summaries()
    third = set(StaffSummary.objects.values_list("id", flat=True))
    assert max(third) > max(second) and len(third) == StaffSummary.objects.count()


@pytest.fixture
def reader_role():
    name = f"etl_reader_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'REVOKE ALL ON staff_summary FROM "{name}"')
        cursor.execute(f'REVOKE ALL ON SEQUENCE staff_summary_id_seq FROM "{name}"')
        cursor.execute(f'DROP ROLE "{name}"')


def privileges(table: str) -> tuple:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_userbyid(relowner), relacl::text[] FROM pg_class WHERE oid = %s::regclass",
                       [table])
        owner, acl = cursor.fetchone()
    return owner, sorted(acl or [])


def test_owner_and_grants_survive_a_swap(emr, reader_role):
    with connection.cursor() as cursor:
        cursor.execute(f'GRANT SELECT ON staff_summary TO "{reader_role}"')
        cursor.execute(f'GRANT SELECT, INSERT ON staff_summary TO "{reader_role}" WITH GRANT OPTION')
        cursor.execute(f'GRANT USAGE ON SEQUENCE staff_summary_id_seq TO "{reader_role}"')
    table, sequence = privileges("staff_summary"), privileges("staff_summary_id_seq")
    assert any(entry.startswith(f"{reader_role}=") for entry in table[1])
    handmade.load()
    build_summaries(["staff_summary"], full=True)
    assert privileges("staff_summary") == table
    assert privileges("staff_summary_id_seq") == sequence
    with connection.cursor() as cursor:
        cursor.execute("SELECT has_table_privilege(%s, 'staff_summary', 'SELECT WITH GRANT OPTION')", [reader_role])
        assert cursor.fetchone()[0] is True


def test_a_table_with_a_dependent_view_is_rebuilt_in_place(emr):
    with connection.cursor() as cursor:
        cursor.execute("CREATE VIEW staff_summary_days AS SELECT DISTINCT day FROM staff_summary")
    handmade.load()
    assert statements.table_swap(SUMMARIES["staff_summary"], None) is None
    build_summaries(full=True)
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == handmade.EXPECTED_STAFF_SUMMARY
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM staff_summary_days")
        # handmade.EXPECTED_STAFF_SUMMARY covers these distinct days.
        assert cursor.fetchone()[0] == len({row[0] for row in handmade.EXPECTED_STAFF_SUMMARY})


def test_a_reader_holding_the_table_delays_the_swap(emr, monkeypatch):
    handmade.load()
    other = other_connection()
    with other.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM staff_summary")  # holds ACCESS SHARE until commit
    threading.Timer(2.5, other.commit).start()
    started = time.monotonic()
    build_summaries(["staff_summary"], full=True)
    # The swap's lock waits 1 s per try, so it got through after the reader let go, not before.
    assert time.monotonic() - started >= 2.5
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == handmade.EXPECTED_STAFF_SUMMARY
    other.close()


def test_a_reader_holding_the_table_too_long_fails_the_build_cleanly(emr, settings):
    # The swap's lock waits are bounded by the same setting as every other lock wait.
    settings.SUMMARY_LOCK_TIMEOUT_SECONDS = 1.5
    handmade.load()
    other = other_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM staff_summary")
        with pytest.raises(BuildError, match=r"^staff_summary: gave up after waiting 1.5 s for a lock on the summary table"):
            build_summaries(["staff_summary"], full=True)
    finally:
        other.rollback()
        other.close()
    assert StaffSummary.objects.count() == 0


def test_a_stray_staging_table_is_dropped_by_the_next_full_build(emr):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE etl_swap_staff_summary (junk integer)")
    handmade.load()
    build_summaries(full=True)
    assert schema_of("staff_summary")["strays"] == []
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == handmade.EXPECTED_STAFF_SUMMARY


# --- real processes ----------------------------------------------------------------------

@pytest.fixture
def proc_db(tmp_path):
    if not os.environ.get("TEST_POSTGRES_URL"):
        pytest.fail("the PostgreSQL pass needs TEST_POSTGRES_URL (make test sets it)")
    url, drop = make_database(tmp_path, "postgresql")
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    env.pop("EMR_DATABASE_URL", None)
    database = ProcessDatabase(url, env)
    database.manage("migrate", "-v", "0")
    database.manage("init_emr", "--drop", "--noinput")
    database.manage("generate_emr", "--visits", "5000", "--days", "40", "--clinics", "3", "--seed", "3")
    database.manage("build_summaries", "--full", "--quiet")
    # Every seventh completed visit is cancelled: the next build's rows differ from these.
    database.query("UPDATE emr_visit SET status = 'cancelled' WHERE id % 7 = 0 AND status = 'completed'")
    yield database
    drop()


def connect(database: ProcessDatabase):
    from urllib.parse import urlparse

    parts = urlparse(database.url)
    return psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                            password=parts.password, dbname=parts.path.lstrip("/"))


def wait_for_lock_wait(database: ProcessDatabase, timeout: float = 60) -> int:
    """The backend pid of the build, once it waits for a lock (on emr_shift, see below)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = database.query(
            "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%emr_shift%'"
            " AND datname = current_database()")
        if rows:
            return rows[0][0]
        time.sleep(0.1)
    raise AssertionError("the build never waited for emr_shift")


@contextmanager
def build_held_before_its_swap(database: ProcessDatabase):
    """A full build of staff_summary in its own process, held (while the block runs) by a
    connection locking emr_shift: staff_summary's query does not read emr_shift, its
    publish gates do (rostered hours), after the staging table is built and indexed. So
    the build waits right before its swap. Yields (process, its backend's pid)."""
    holder = connect(database)
    with holder.cursor() as cursor:
        cursor.execute("LOCK TABLE emr_shift IN ACCESS EXCLUSIVE MODE")
    build = database.start("build_summaries", "--full", "--summary", "staff_summary")
    try:
        yield build, wait_for_lock_wait(database)
    finally:
        holder.rollback()
        holder.close()


def test_readers_see_old_rows_during_a_build_then_new_never_blocked(proc_db):
    database = proc_db
    before = database.tables()[0]
    with build_held_before_its_swap(database) as (build, _):
        reader = connect(database)
        with reader.cursor() as cursor:
            # Blocked readers would hit this timeout and fail the test.
            cursor.execute("SET statement_timeout = '5s'")
            cursor.execute("SELECT count(*), sum(nr_visits), sum(nr_cancelled) FROM staff_summary")
            during = cursor.fetchone()
        reader.close()
        assert during == (len(before), sum(r[5] for r in before), sum(r[7] for r in before))
        assert database.tables()[0] == before
    assert build.wait(timeout=120) == 0, build.stderr.read()
    after = database.tables()[0]
    assert after != before
    database.manage("build_summaries", "--full", "--summary", "staff_summary", "--quiet")
    assert database.tables()[0] == after  # the swapped-in rows are a full build's
    assert database.query("SELECT relname FROM pg_class WHERE relname LIKE 'etl_swap%'") == []


def test_a_sigkilled_swap_leaves_no_staging_table_and_the_old_rows(proc_db):
    database = proc_db
    before = database.tables()[0]
    with build_held_before_its_swap(database) as (build, backend):
        os.kill(build.pid, signal.SIGKILL)
        build.wait()
    # The orphaned backend ends when it next talks to its dead client; its transaction,
    # staging table included, is rolled back.
    deadline = time.monotonic() + 60
    while database.query(f"SELECT 1 FROM pg_stat_activity WHERE pid = {int(backend)}"):
        assert time.monotonic() < deadline, "the killed build's backend lingers"
        time.sleep(0.2)
    assert database.query("SELECT relname FROM pg_class WHERE relname LIKE 'etl_swap%'") == []
    assert database.tables()[0] == before
    database.manage("build_summaries", "--full", "--summary", "staff_summary", "--quiet")
    assert database.tables()[0] != before
