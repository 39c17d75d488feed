"""Real processes: a build killed with SIGKILL, two builds at once, a Celery worker."""
import os
import signal
import uuid

import pytest
import redis
from django.db import connection

from .processes import ProcessDatabase, process_database, wait_for_line

VISITS = "150000"


@pytest.fixture
def proc_db(tmp_path):
    database, drop = process_database(tmp_path, connection.vendor)
    database.manage("migrate", "-v", "0")
    database.manage("init_emr", "--drop", "--noinput")
    database.manage("generate_emr", "--visits", VISITS, "--days", "400", "--clinics", "10", "--seed", "3")
    yield database
    drop()


def full_tables(database: ProcessDatabase) -> tuple:
    database.manage("build_summaries", "--full", "--quiet")
    return database.tables()


def test_sigkill_mid_build_keeps_old_rows_and_loses_no_change(proc_db):
    database = proc_db
    database.manage("build_summaries", "--quiet")
    before = database.tables()
    # Change every seventh visit: hundreds of days to rebuild.
    database.query("UPDATE emr_visit SET status = 'cancelled' WHERE id % 7 = 0 AND status = 'completed'")

    build = database.start("build_summaries")
    wait_for_line(build, "staff_summary: ")  # its plan is printed just before its transaction
    assert build.poll() is None, "the build ended before it could be killed"
    os.kill(build.pid, signal.SIGKILL)
    build.wait()

    assert database.tables() == before, "a killed build changed the summaries"
    pending = database.query("SELECT count(*) FROM etl_pending_day WHERE summary = 'staff_summary'")[0][0]
    assert pending > 0, "the claimed changes must survive the kill"

    # A second kill, after staff_summary committed and while staff_cost_summary builds.
    build = database.start("build_summaries")
    wait_for_line(build, "staff_cost_summary: ")
    os.kill(build.pid, signal.SIGKILL)
    build.wait()
    after_second_kill = database.tables()
    assert after_second_kill[1] == before[1], "staff_cost_summary must be intact"

    finished = database.manage("build_summaries")
    assert "built" in finished.stdout
    incremental = database.tables()
    assert incremental != before
    assert incremental == full_tables(database)
    statuses = [row[0] for row in database.query("SELECT status FROM etl_build_run ORDER BY id")]
    assert statuses[1:3] == ["abandoned", "abandoned"] and statuses[3] == "succeeded"


def test_two_builds_at_once_never_double_count(proc_db):
    database = proc_db
    # Each summary's transaction pauses 1 s: the first build holds the lock for at least
    # 6 s, longer than the next process takes to start (a full build of this data can be
    # over sooner).
    first = database.start("build_summaries", "--full", env={"ETL_BUILD_PAUSE_SECONDS": "1"})
    wait_for_line(first, "full rebuild")  # it holds the lock now
    refused = database.manage("build_summaries", "--wait", "0", check=False)
    assert refused.returncode == 75
    assert refused.stderr.strip() == "CommandError: another build of the summaries is running; nothing was changed"
    waiting = database.start("build_summaries", "--full", "--wait", "300")
    assert first.wait(timeout=300) == 0
    assert waiting.wait(timeout=300) == 0, waiting.stderr.read()
    statuses = [row[0] for row in database.query("SELECT status FROM etl_build_run ORDER BY id")]
    assert sorted(statuses) == ["locked", "succeeded", "succeeded"]
    built = database.tables()
    assert built == full_tables(database)
    visits = database.query("SELECT count(*) FROM emr_visit WHERE status = 'completed'")[0][0]
    assert database.query("SELECT sum(nr_visits) FROM staff_summary")[0][0] == visits


def test_celery_worker_runs_the_scheduled_build(proc_db):
    database = proc_db
    try:
        redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("Redis is required (REQUIRE_REDIS=1) but does not answer on 127.0.0.1:6379")
        pytest.skip("Redis does not answer on 127.0.0.1:6379")
    queue = f"test-{uuid.uuid4().hex[:8]}"
    import subprocess
    import sys

    from .processes import ROOT

    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "project", "worker", "--pool", "solo", "-Q", queue,
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=database.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        from etl.tasks import build_summaries as task

        result = task.apply_async(kwargs={"trigger": "schedule"}, queue=queue).get(timeout=180)
    finally:
        worker.terminate()
        worker.wait(timeout=30)
    assert result["status"] == "succeeded"
    assert result["summaries"]["staff_summary"]["mode"] == "full"
    assert database.query("SELECT trigger, status FROM etl_build_run") == [("schedule", "succeeded")]
    assert database.query("SELECT count(*) FROM staff_summary")[0][0] == result["summaries"]["staff_summary"]["rows_written"]
