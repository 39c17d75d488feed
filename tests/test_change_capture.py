"""Raw tables changed behind the triggers' back: each way is captured, detected at the
next build (a full rebuild that says why), or found by ``--verify``; every build ends
equal to a ``--full`` build on the same raw data, row for row."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection

from etl.engine.capture import expected_triggers
from etl.engine.fingerprints import day_fingerprints
from etl.engine.service import build_summaries, plan
from etl.engine.status import status_lines
from etl.db.schema import init_emr
from etl.models import DayFingerprint
from etl.summaries import SUMMARIES

from . import handmade
from .factories import add, visit
from .test_incremental import built, days_rebuilt, full_build_tables, tables  # noqa: F401 (fixture)

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'")
sqlite_only = pytest.mark.skipif("connection.vendor != 'sqlite'")


def run(*statements: str) -> None:
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


def full_reasons(report) -> set:
    return {r.full_reason for r in report.results}


def assert_equals_full():
    assert tables() == full_build_tables()


# --- detected: a raw table replaced ---------------------------------------------------

def test_init_emr_drop_then_new_data(built):
    # The old visits are gone; one new visit on a day that had none. Today only the new
    # day was rebuilt and every old row stayed.
    init_emr(drop=True)
    add("emr_visit", visit(1, "2024-04-01"))
    report = build_summaries()
    # On PostgreSQL the tables' identity changed too; on SQLite the root page may be reused,
    # and the "recreated" entry that init_emr logs is what tells.
    assert all(r.mode == "full" for r in report.results) and len(report.results) == len(SUMMARIES)
    assert full_reasons(report) <= {"the raw tables were recreated (init_emr)",
                                    "emr_shift, emr_visit replaced since the last build (another table of that name)",
                                    "emr_visit replaced since the last build (another table of that name)"}
    assert_equals_full()
    # Completed visit 1 on 2024-04-01 is all there is: one staff_summary row.
    assert len(tables()[0]) == 1


def test_init_emr_drop_and_nothing_new(built):
    init_emr(drop=True)
    build_summaries()
    assert tables() == ([], [])


def test_table_swapped_in_by_rename(built):
    # A loader builds a new emr_visit beside the old one (no triggers log its rows) and
    # swaps it in by rename: visit 16 (2024-03-02) is gone, visit 1 moved to 2024-03-09.
    run("CREATE TABLE emr_visit_new AS SELECT * FROM emr_visit WHERE id <> 16",
        "UPDATE emr_visit_new SET start_at = '2024-03-09 09:00:00', end_at = '2024-03-09 09:20:00' WHERE id = 1",
        "ALTER TABLE emr_visit RENAME TO emr_visit_old",
        "ALTER TABLE emr_visit_new RENAME TO emr_visit")
    report = build_summaries()
    reason = "change capture is not working (emr_visit: "
    assert all(r.full_reason.startswith(reason) and "run `manage.py init_emr`" in r.full_reason
               for r in report.results)
    assert_equals_full()
    # init_emr puts triggers on the new table; from then on builds are incremental again.
    init_emr()
    add("emr_visit", visit(200, "2024-03-20"))
    report = build_summaries()
    assert days_rebuilt(report) == {"staff_summary": 1, "staff_cost_summary": 1}
    assert_equals_full()


@postgres_only
def test_table_recreated_with_its_triggers_is_caught_by_identity(built):
    # Dropped and created again by hand, triggers included (init_emr without --drop):
    # the change log saw nothing, but the table's identity changed.
    run("DROP TABLE emr_shift")
    init_emr()
    report = build_summaries()
    assert full_reasons(report) >= {"emr_shift replaced since the last build (another table of that name)"}
    assert_equals_full()
    assert tables()[1] != built[1]


# --- detected: triggers dropped or disabled --------------------------------------------

def test_dropped_trigger(built):
    trigger = "etl_changes_delete" if connection.vendor == "postgresql" else "etl_emr_visit_delete"
    assert trigger in expected_triggers(connection.vendor, "emr_visit")
    run(f"DROP TRIGGER {trigger} ON emr_visit" if connection.vendor == "postgresql" else f"DROP TRIGGER {trigger}")
    run("DELETE FROM emr_visit WHERE id = 16")  # the only visit at location 999
    report = build_summaries()
    assert all(f"emr_visit: {trigger} missing" in r.full_reason for r in report.results)
    assert_equals_full()
    assert not any(row[1] == 999 for row in tables()[0])
    # Until init_emr reinstalls it, every build stays full and says why, and --status says so.
    assert all(p.full for p in plan())
    assert f"  emr_visit: {trigger} missing" in status_lines()
    init_emr()
    assert not any(p.full for p in plan())
    assert "change capture: every trigger in place" in status_lines()


@postgres_only
def test_disabled_trigger(built):
    run("ALTER TABLE emr_visit DISABLE TRIGGER etl_changes_update",
        "UPDATE emr_visit SET status = 'cancelled' WHERE id = 1")
    report = build_summaries()
    assert all("(emr_visit: etl_changes_update disabled)" in r.full_reason for r in report.results)
    assert_equals_full()


@postgres_only
def test_trigger_that_skips_replicated_writes_is_reported(built):
    run("ALTER TABLE emr_shift ENABLE TRIGGER etl_changes_insert")  # back to the default: not under replica
    report = build_summaries()
    reason = ("change capture is not working (emr_shift: etl_changes_insert not ENABLE ALWAYS"
              " (replicated writes go unlogged)): run `manage.py init_emr`")
    # Every summary made of shifts is rebuilt in full; staff_summary reads visits only.
    assert {r.name: r.full_reason for r in report.results} == {
        name: reason for name in SUMMARIES if name != "staff_summary"}


# --- captured: replica role and SQLite REPLACE --------------------------------------------

@postgres_only
def test_replica_role_writes_are_logged(built):
    # What logical-replication apply workers and pg_restore --disable-triggers run under.
    run("SET session_replication_role = replica",
        "UPDATE emr_visit SET start_at = '2024-03-05 09:00:00', end_at = '2024-03-05 09:20:00' WHERE id = 1",
        "SET session_replication_role = DEFAULT")
    report = build_summaries()
    assert days_rebuilt(report) == {"staff_summary": 2, "staff_cost_summary": 2}  # 2024-03-01 and 2024-03-05
    assert_equals_full()


@sqlite_only
@pytest.mark.parametrize("statement", [
    # Visit 1 (2024-03-01) replaced by a row on 2024-03-06: its old day must be rebuilt too.
    "INSERT OR REPLACE INTO emr_visit (id, patient_id, location_id, service_id, staff_id, start_at, end_at, status,"
    " updated_at) VALUES (1, 1000, 102, 1, 500, '2024-03-06 09:00:00', '2024-03-06 09:20:00', 'completed',"
    " '2024-03-06 10:00:00')",
    "REPLACE INTO emr_visit (id, patient_id, location_id, service_id, staff_id, start_at, end_at, status,"
    " updated_at) VALUES (1, 1000, 102, 1, 500, '2024-03-06 09:00:00', '2024-03-06 09:20:00', 'completed',"
    " '2024-03-06 10:00:00')",
    # Visit 16 (2024-03-02) takes visit 1's id: visit 1 (2024-03-01) is deleted silently.
    "UPDATE OR REPLACE emr_visit SET id = 1 WHERE id = 16",
], ids=["insert-or-replace", "replace-into", "update-or-replace-id"])
def test_sqlite_replace_forms(built, statement):
    run(statement)
    report = build_summaries()
    assert all(r.mode == "incremental" for r in report.results)
    assert_equals_full()
    assert tables() != built


@sqlite_only
def test_replace_is_logged_on_a_connection_that_is_not_the_projects(built, tmp_path):
    # Triggers live in the database: a plain sqlite3 connection (an exporter) is caught too.
    import sqlite3

    path = tmp_path / "emr.sqlite3"
    from django.test import override_settings

    with override_settings(EMR_DATABASE_URL=f"sqlite:///{path}"):
        init_emr(drop=True)
        handmade.load()
        build_summaries()
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE OR REPLACE emr_visit SET id = 2 WHERE id = 17")
        build_summaries()
        assert_equals_full()


# --- found by --verify ---------------------------------------------------------------------

def test_verify_rebuilds_exactly_the_days_that_drifted(built):
    # Triggers off during a load and on again before the build: the log never saw these
    # changes. Emptying the log after them is the same thing, on both databases.
    run("UPDATE emr_visit SET status = 'no_show', updated_at = '2024-04-01 00:00:00' WHERE id = 1",  # 2024-03-01
        "DELETE FROM emr_visit WHERE id = 16")                                                      # 2024-03-02
    add("emr_visit", visit(300, "2024-03-12", updated="2024-04-01"))                                # new day
    add("emr_shift", {"id": 300, "staff_id": 500, "location_id": 102, "start_at": dt.datetime(2024, 3, 14, 8),
                      "end_at": dt.datetime(2024, 3, 14, 12), "updated_at": dt.datetime(2024, 4, 1)})
    run("DELETE FROM etl_change_log")
    assert build_summaries().results == ()
    assert tables() == built != full_build_tables()  # stale: what --verify is for

    dry = [p.describe() for p in plan(verify=True)]
    assert dry == [
        "staff_summary: 3 days to rebuild, 2024-03-01 .. 2024-03-12"
        " (3 from raw rows changed without a logged change (--verify))",
        "staff_cost_summary: 4 days to rebuild, 2024-03-01 .. 2024-03-14"
        " (4 from raw rows changed without a logged change (--verify))",
        "clinic_day: 4 days to rebuild, 2024-03-01 .. 2024-03-14"
        " (4 from raw rows changed without a logged change (--verify))",
        # Section 4's forward reach: the helper, the months of the drifted days; region_month
        # those and the month after; clinic_score 28 days past the last drifted day
        # (03-14 + 28 = 04-11).
        "region_month_patients: 31 days to rebuild, 2024-03-01 .. 2024-03-31"
        " (4 from raw rows changed without a logged change (--verify), 27 from their forward reach)",
        "clinic_score: 42 days to rebuild, 2024-03-01 .. 2024-04-11"
        " (4 from raw rows changed without a logged change (--verify), 38 from their forward reach)",
        "region_month: 61 days to rebuild, 2024-03-01 .. 2024-04-30"
        " (4 from raw rows changed without a logged change (--verify), 57 from their forward reach)",
    ]
    report = build_summaries(verify=True)
    # staff_summary reads visits only: 2024-03-01, -02, -12; staff_cost_summary also the shift's -14.
    assert {r.name: r.days for r in report.results} == {
        "staff_summary": 3, "staff_cost_summary": 4, "clinic_day": 4,
        "region_month_patients": 31, "clinic_score": 42, "region_month": 61}
    assert_equals_full()
    # Nothing drifted any more: a second verify rebuilds nothing.
    assert build_summaries(verify=True).results == ()


def test_fingerprints_are_recorded_for_the_days_built(built):
    # Handmade visits cover 2024-03-01 .. 03-03 (plus the idle shift day 03-03).
    days = set(DayFingerprint.objects.filter(summary="staff_summary").values_list("day", flat=True))
    assert days == {handmade.DAY1, handmade.DAY2, handmade.DAY3}


def test_summaries_of_summaries_keep_the_fingerprints_of_what_they_read(built):
    """clinic_score and region_month read clinic_day's rows, not the raw rows: they keep
    the fingerprints clinic_day was built from, which equal the raw rows' own (recomputed
    here apart from any build) when nothing changed in between."""
    def stored(name):
        return dict(DayFingerprint.objects.filter(summary=name).values_list("day", "fingerprint"))

    add("emr_visit", visit(301, "2024-03-02", updated="2024-04-01"))
    raw_now = day_fingerprints(("emr_visit", "emr_shift"))
    assert stored("clinic_score")[handmade.DAY2] != raw_now[handmade.DAY2]
    build_summaries()
    assert stored("clinic_day") == stored("clinic_score") == stored("region_month") == raw_now
    assert build_summaries(verify=True).results == ()


def test_verify_from_the_command(built):
    from io import StringIO

    run("UPDATE emr_visit SET status = 'no_show', updated_at = '2024-04-01 00:00:00' WHERE id = 1",
        "DELETE FROM etl_change_log")
    out = StringIO()
    call_command("build_summaries", "--verify", stdout=out)
    assert "staff_summary: verified, 1 day drifted" in out.getvalue()
    assert_equals_full()


def test_the_nightly_reconcile_task_verifies(built):
    from django.conf import settings

    from etl.tasks import NIGHTLY_RECONCILE, reconcile_summaries

    assert settings.CELERY_BEAT_SCHEDULE["reconcile-summaries"]["task"] == reconcile_summaries.name
    assert NIGHTLY_RECONCILE == {"verify": True}
    run("DELETE FROM emr_visit WHERE id = 16", "DELETE FROM etl_change_log")  # 2024-03-02, unlogged
    result = reconcile_summaries.apply().get()
    # 03-02 in both section 2 summaries and clinic_day; clinic_score 03-02 .. 03-30 (29 days);
    # region_month March and April (61 days), its helper March (31 days).
    assert {name: s["days"] for name, s in result["summaries"].items()} == {
        "staff_summary": 1, "staff_cost_summary": 1, "clinic_day": 1, "region_month_patients": 31,
        "clinic_score": 29, "region_month": 61}
    assert_equals_full()
