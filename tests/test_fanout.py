"""Fanned-out builds (``build_summaries --fan-out``, etl/engine/fanout.py): batches of days
built by real Celery workers into run-scoped staging tables, published in one transaction.
PostgreSQL only; on SQLite the command refuses in one line."""
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from etl.engine import fanout
from etl.db import fetch_all
from etl.models import BuildRun, FanoutRun, StaffCostSummary, StaffSummary
from etl.tasks import build_summaries as build_task, fan_out_build as fan_out_task

from . import clinic_handmade, handmade
from .processes import celery, stop, wait_until
from .test_celery_processes import WORKER, counted_once, full_tables, runs

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="fan-out runs on PostgreSQL only")


def staging_tables(database) -> list:
    return database.query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'etl_stage_%'")


def test_fan_out_refuses_sqlite_in_one_line(emr):
    if connection.vendor != "sqlite":
        pytest.skip("the refusal is SQLite's")
    with pytest.raises(CommandError) as refused:
        call_command("build_summaries", "--full", "--fan-out")
    assert str(refused.value) == ("--fan-out needs PostgreSQL (SQLite allows one writer, so batches cannot run at"
                                  " once); build without --fan-out")


def recorded_counts_agree(database) -> bool:
    """The row counts the publish recorded are the tables' (docs/web.md, "Speed")."""
    return database.query(
        "SELECT bool_and(row_count = CASE name WHEN 'staff_summary' THEN (SELECT count(*) FROM staff_summary)"
        " ELSE (SELECT count(*) FROM staff_cost_summary) END), count(*) FROM etl_summary_state"
        " WHERE name IN ('staff_summary', 'staff_cost_summary')")[0] == (True, 2)


def assert_same_tables(actual: tuple, expected: tuple) -> None:
    """Every table equal row for row; floats (clinic_score's means, deviations and z
    scores, whose last bits depend on the order of summation) within CONTRACT 4's tolerance."""
    assert len(actual) == len(expected)
    for number, (rows, expected_rows) in enumerate(zip(actual, expected)):
        assert len(rows) == len(expected_rows), number
        for row, expected_row in zip(rows, expected_rows):
            assert clinic_handmade.same(row, expected_row), (number, row, expected_row)


@postgres_only
def test_fan_out_equals_a_single_process_build_row_for_row(sched_db):
    database = sched_db

    def every_table():  # sections 2 and 4
        return database.tables() + database.clinic_tables()

    def single():  # a single-process --full build of every summary
        database.manage("build_summaries", "--full", "--quiet")
        return every_table()

    worker = celery(database.env, *WORKER, "--concurrency", "2", log=database.logs / "worker.log")
    try:
        # 40 days of data in batches of 6 days: 7 batches over two pool processes; the command
        # then builds section 4 (monthly tables, summaries of summaries) in an ordinary build.
        fanned = database.manage("build_summaries", "--full", "--fan-out", "--batch-days", "6", timeout=180)
        assert "batches 7/7 done" in fanned.stdout and "7 batches published" in fanned.stdout, fanned.stdout
        fanned_tables = every_table()
        assert all(fanned_tables), "every summary has rows"
        assert staging_tables(database) == []
        assert counted_once(database)
        assert recorded_counts_agree(database)
        assert_same_tables(fanned_tables, single())
        # A backfill fanned out after a change, then compared with a full build.
        database.query("UPDATE emr_visit SET status = 'no_show' WHERE id % 5 = 0 AND status = 'completed'")
        first, last = database.query("SELECT min(day), max(day) FROM staff_summary")[0]
        # This one from the task, as a scheduler or another service would start it: its
        # callback publishes, then builds section 4 as the command does.
        sent = fan_out_task.apply_async(kwargs={"full": False, "since": str(first), "until": str(last)},
                                        queue=database.queue).get(timeout=60)
        assert sent["status"] == "dispatched" and sent["batches"] == 2  # 40 days in batches of 31
        wait_until(lambda: len(runs(database)) == 5 and "running" not in {r[0] for r in runs(database)}, 180,
                   "the task's fan-out is published and its follow-up build finished")
        assert database.query(f"SELECT status FROM etl_fanout_run WHERE id = {int(sent['fanout_run'])}") == [
            ("published",)]
        backfilled = every_table()
        assert recorded_counts_agree(database)
    finally:
        stop(worker)
    assert_same_tables(backfilled, single())
    assert backfilled[0] != fanned_tables[0] and backfilled[2] != fanned_tables[2], "the backfill saw the change"
    # the command's fan-out and its ordinary build for section 4, a full build, the task's
    # fan-out and its follow-up build for section 4, the full build compared with
    # (a fan-out's own ledger row says full, or incremental for a backfill; the follow-up
    # builds are mixed: section 4 in full, nothing else left to do)
    assert runs(database, "status, mode") == [("succeeded", "full"), ("succeeded", "mixed"),
                                              ("succeeded", "full"), ("succeeded", "incremental"),
                                              ("succeeded", "mixed"), ("succeeded", "full")]
    follow_up = runs(database, "full_rebuilds")[4][0]
    assert "clinic_score: a fan-out rebuilt what it reads" in follow_up, follow_up
    assert database.query("SELECT status, batches_total FROM etl_fanout_run ORDER BY id")[0] == ("published", 7)


@postgres_only
def test_a_failed_batch_changes_no_live_row_and_leaves_no_staging(sched_db):
    database = sched_db
    database.manage("build_summaries", "--quiet")
    before = database.tables()
    database.query("UPDATE emr_visit SET status = 'cancelled' WHERE id % 3 = 0 AND status = 'completed'")
    env = {**database.env, "ETL_FANOUT_FAIL_BATCH": "2"}
    worker = celery(env, *WORKER, "--concurrency", "2", log=database.logs / "worker.log")
    try:
        failed = database.manage("build_summaries", "--full", "--fan-out", "--batch-days", "6", check=False,
                                 timeout=180)
    finally:
        stop(worker)
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines()[-1] == (
        "CommandError: fan-out 1: batch 2 failed: batch 2 failed on purpose (ETL_FANOUT_FAIL_BATCH, a test setting);"
        " nothing was published")
    assert database.tables() == before
    assert staging_tables(database) == []
    assert database.query("SELECT status FROM etl_fanout_run") == [("failed",)]
    assert [row[0] for row in runs(database)] == ["succeeded", "failed"]
    # The next build is not blocked by the closed run, and brings the change.
    database.manage("build_summaries", "--quiet")
    assert database.tables() == full_tables(database) != before


@postgres_only
def test_a_lost_publish_is_finished_by_the_next_scheduled_build(emr, settings):
    handmade.load()
    settings.ETL_FANOUT_GRACE_SECONDS = 0
    run = fanout.start(full=True, batch_days=1)  # the hand-made data: 3 days, 3 batches
    for number in range(1, run.batches_total + 1):
        fanout.build_batch(run.pk, number, worker="test")
    # The chord's callback never came. A build now would race the publish: it refuses.
    assert build_task.apply(kwargs={"trigger": "schedule"}).get()["status"] == "succeeded"
    assert FanoutRun.objects.get().status == "published"
    assert StaffSummary.objects.count() == len(handmade.EXPECTED_STAFF_SUMMARY)
    assert StaffCostSummary.objects.count() == len(handmade.EXPECTED_STAFF_COST_SUMMARY)
    assert fetch_all(fanout_stage_query()) == []
    # Ledger: the fan-out's run published; the scheduled build after it built, in full, the
    # section 4 summaries that the fan-out could not (here never built before).
    assert list(BuildRun.objects.order_by("id").values_list("status", "noop_runs")) == [("succeeded", 0),
                                                                                        ("succeeded", 0)]
    after = BuildRun.objects.order_by("id").last().full_rebuilds
    assert "clinic_score: never built" in after and "region_month: never built" in after


@postgres_only
def test_an_unfinished_fan_out_is_cleaned_by_the_next_scheduled_build(emr, settings):
    handmade.load()
    call_command("build_summaries", "--quiet")
    before = list(StaffSummary.objects.values_list("day", "location_id", "service_id", "role_group_id", "nr_visits"))
    run = fanout.start(full=True, batch_days=1)
    fanout.build_batch(run.pk, 1, worker="test")  # batches 2 and 3 never ran (their worker vanished)
    status = StringIO()
    call_command("build_summaries", "--status", stdout=status)
    assert f"fan-out {run.pk} open since" in status.getvalue() and "batches 1/3 done" in status.getvalue()
    assert build_task.apply(kwargs={"trigger": "schedule"}).get()["status"] == "skipped"  # still open: wait
    settings.ETL_FANOUT_TIMEOUT_SECONDS = 0
    assert build_task.apply(kwargs={"trigger": "schedule"}).get()["status"] == "succeeded"
    run.refresh_from_db()
    assert run.status == "failed" and "not every batch finished" in run.error
    assert fetch_all(fanout_stage_query()) == []
    assert list(StaffSummary.objects.values_list("day", "location_id", "service_id", "role_group_id",
                                                 "nr_visits")) == before


def fanout_stage_query():
    from sqlalchemy import Column, MetaData, Table, select

    tables = Table("pg_tables", MetaData(), Column("tablename"))
    return select(tables.c.tablename).where(tables.c.tablename.startswith(fanout.STAGE_PREFIX, autoescape=True))


@postgres_only
def test_a_fan_out_whose_gate_fails_publishes_nothing(emr, monkeypatch):
    from etl.engine.service import GateFailed
    from etl.queries.staff_summary import staff_summary_rows

    from .test_build_safety import replace_definition

    handmade.load()
    call_command("build_summaries", "--quiet")
    before = list(StaffSummary.objects.values_list("day", "location_id", "service_id", "role_group_id", "nr_visits"))

    def faulty(window):  # drops service 2's rows: the totals no longer reconcile with the raw rows
        query = staff_summary_rows(window)
        return query.having(query.selected_columns.service_id != 2)

    replace_definition(monkeypatch, "staff_summary", faulty)
    run = fanout.start(full=True, batch_days=2)
    for number in (1, 2):
        fanout.build_batch(run.pk, number)
    with pytest.raises(GateFailed):
        fanout.publish(run.pk)
    run.refresh_from_db()
    assert run.status == "failed" and "publish gate failed" in run.error
    assert BuildRun.objects.order_by("-id").values_list("status", flat=True)[0] == "gate_failed"
    assert fetch_all(fanout_stage_query()) == []
    assert list(StaffSummary.objects.values_list("day", "location_id", "service_id", "role_group_id",
                                                 "nr_visits")) == before
