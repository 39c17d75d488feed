"""Production scheduling with real processes: Celery beat and workers (subprocesses) on the
real Redis, the summaries in a database of their own (SQLite, or PostgreSQL in its pass).

Builds are made slow on purpose where a test kills them: ``ETL_BUILD_PAUSE_SECONDS`` makes
each summary's build sleep inside its transaction after writing its rows, so a kill lands
mid-build every time. Each test uses a queue of its own (the ``sched_db`` fixture)."""
import os
import signal
import subprocess
import sys
import time

from .processes import ROOT, ProcessDatabase, celery, stop, wait_until

WORKER = ("worker", "--pool", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle")


def runs(database: ProcessDatabase, columns: str = "status") -> list:
    return database.query(f"SELECT {columns} FROM etl_build_run ORDER BY id")


def full_tables(database: ProcessDatabase) -> tuple:
    database.manage("build_summaries", "--full", "--quiet")
    return database.tables()


def counted_once(database: ProcessDatabase) -> bool:
    """Every completed visit is in staff_summary exactly once."""
    visits = database.query("SELECT count(*) FROM emr_visit WHERE status = 'completed'")[0][0]
    return database.query("SELECT sum(nr_visits) FROM staff_summary")[0][0] == visits


def test_beat_schedules_a_worker_builds_quiet_ticks_add_no_ledger_rows_and_the_worker_answers_pings(sched_db):
    database = sched_db
    env = {**database.env, "BUILD_SCHEDULE_SECONDS": "1"}
    worker = celery(env, *WORKER, "--concurrency", "1", log=database.logs / "worker.log")
    beat = celery(env, "beat", "--loglevel", "INFO", log=database.logs / "beat.log")
    try:
        # The first tick builds; the ones after it find nothing to do and are counted on one row.
        wait_until(lambda: database.query("SELECT id FROM etl_build_run WHERE noop_runs >= 3"), 120,
                   "three quiet ticks counted on one ledger row")
        # The health check of docs/operations.md (make health): every worker answers a ping.
        ping = subprocess.run([sys.executable, "-m", "celery", "-A", "project", "inspect", "ping", "--timeout", "10"],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
        assert ping.returncode == 0 and "pong" in ping.stdout, ping.stdout + ping.stderr
    finally:
        stop(beat)
        stop(worker)
    ledger = runs(database, "trigger, status, rows_written > 0, noop_runs")
    assert ledger[0] == ("schedule", "succeeded", True, 0)
    assert len(ledger) == 2, ledger
    trigger, status, wrote, noops = ledger[1]
    assert (trigger, status, wrote) == ("schedule", "succeeded", False) and noops >= 3
    assert counted_once(database)
    assert database.tables() == full_tables(database)


def test_pool_process_killed_mid_build_is_redelivered_and_counted_once(sched_db):
    database = sched_db
    database.manage("build_summaries", "--quiet")
    before = database.tables()
    # Cancel every seventh completed visit: days of every summary to rebuild.
    database.query("UPDATE emr_visit SET status = 'cancelled' WHERE id % 7 = 0 AND status = 'completed'")
    env = {**database.env, "ETL_BUILD_PAUSE_SECONDS": "3"}
    worker = celery(env, *WORKER, "--concurrency", "1", log=database.logs / "worker.log")
    try:
        from etl.tasks import build_summaries as task

        result = task.apply_async(kwargs={"trigger": "schedule"}, queue=database.queue)
        killed_run, pid = wait_until(
            lambda: database.query("SELECT id, pid FROM etl_build_run WHERE status = 'running'"), 60,
            "the worker starts the build")[0]
        time.sleep(1)  # inside staff_summary's transaction: rows written, held open by the pause
        assert database.tables() == before, "readers see the old rows while a build runs"
        os.kill(pid, signal.SIGKILL)
        outcome = result.get(timeout=120)
    finally:
        stop(worker)
    assert outcome["status"] == "succeeded"
    ledger = runs(database, "id, status, pid, rows_written")
    assert [row[1] for row in ledger] == ["succeeded", "abandoned", "succeeded"], ledger
    assert ledger[1][0] == killed_run and ledger[1][3] == 0
    assert ledger[2][2] != pid, "the redelivered task ran in a new pool process"
    after = database.tables()
    assert after != before
    assert counted_once(database)
    assert after == full_tables(database)


def test_whole_worker_killed_its_task_returns_to_another_worker_within_seconds(sched_db):
    database = sched_db
    # A short visibility timeout, and time limits below it (settings refuse anything else).
    limits = {"CELERY_VISIBILITY_TIMEOUT": "8", "CELERY_TASK_SOFT_TIME_LIMIT": "5", "CELERY_TASK_TIME_LIMIT": "6"}
    slow = {**database.env, **limits, "ETL_BUILD_PAUSE_SECONDS": "60"}
    first = celery(slow, *WORKER, "--concurrency", "1", log=database.logs / "first.log")
    second = None
    try:
        from etl.tasks import build_summaries as task

        result = task.apply_async(kwargs={"trigger": "schedule"}, queue=database.queue)
        wait_until(lambda: database.query("SELECT id FROM etl_build_run WHERE status = 'running'"), 60,
                   "the first worker starts the build")
        os.killpg(first.pid, signal.SIGKILL)  # the whole worker: main process and pool
        first.wait()
        killed_at = time.monotonic()
        second = celery({**database.env, **limits}, *WORKER, "--concurrency", "1",
                        log=database.logs / "second.log")
        outcome = result.get(timeout=90)
        returned_after = time.monotonic() - killed_at
    finally:
        stop(first)
        if second is not None:
            stop(second)
    assert outcome["status"] == "succeeded"
    # Back after the 8 s visibility timeout (counted from the first delivery) plus a restore
    # sweep (1 s) and the second worker's start-up; kombu's defaults would take ~100 s more.
    assert returned_after < 40, f"the task came back after {returned_after:.0f} s"
    assert [row[0] for row in runs(database)] == ["abandoned", "succeeded"]
    assert counted_once(database)
    assert database.tables() == full_tables(database)


def test_two_beats_on_the_same_tick_never_build_twice(sched_db):
    database = sched_db
    env = {**database.env, "BUILD_SCHEDULE_SECONDS": "2", "ETL_BUILD_PAUSE_SECONDS": "2"}
    # Two pool processes, so the two beats' messages run at the same time.
    worker = celery(env, *WORKER, "--concurrency", "2", log=database.logs / "worker.log")
    beats = [celery({**env, "CELERY_BEAT_SCHEDULE_FILENAME": str(database.logs / f"beat-{n}")},
                    "beat", "--loglevel", "INFO", log=database.logs / f"beat-{n}.log") for n in (1, 2)]
    try:
        wait_until(lambda: database.query("SELECT id FROM etl_build_run WHERE status = 'locked'"), 120,
                   "a second build finds the lock")
        wait_until(lambda: database.query("SELECT id FROM etl_build_run WHERE noop_runs > 0"), 120,
                   "a later tick finds nothing to do")
    finally:
        for beat in beats:
            stop(beat)
        stop(worker)
    ledger = runs(database, "status, rows_written")
    # Exactly one run wrote rows, and it succeeded; every other tick was refused or found
    # nothing. (Which ledger row comes first depends on which beat's tick won the lock.)
    writers = [row for row in ledger if row[1] > 0]
    assert len(writers) == 1 and writers[0][0] == "succeeded", ledger
    assert {status for status, _ in ledger} <= {"succeeded", "locked"}
    assert counted_once(database)
    assert database.tables() == full_tables(database)
