"""Builds make progress while an exporter keeps committing small transactions to the raw
tables: on SQLite (where a deferred claim used to fail "database is locked"), on
PostgreSQL, and with the raw tables in a separate EMR database (where the streamed rows
and the gates' raw totals used to read different snapshots and fail the publish gate).
Every build succeeds or is refused by the build lock (exit 75), and once the writer
stops, one more build gives exactly what --full gives."""
import subprocess
import sys
from urllib.parse import urlparse

import pytest
from django.db import connection

from .processes import ROOT, make_database, process_database

WRITER_SECONDS = 8
VISITS = "4000"


def emr_database(tmp_path, vendor: str) -> tuple[str, callable]:
    """A second database for the raw tables, as EMR_DATABASE_URL takes it."""
    folder = tmp_path / "emr"
    folder.mkdir()
    url, drop = make_database(folder, vendor)
    if vendor == "postgresql":
        url = urlparse(url)._replace(scheme="postgresql+psycopg2").geturl()
    return url, drop


@pytest.fixture(params=["same database", "separate EMR database"])
def busy(request, tmp_path):
    database, drop = process_database(tmp_path, connection.vendor)
    raw_url, drop_raw = database.url, (lambda: None)
    if request.param == "separate EMR database":
        raw_url, drop_raw = emr_database(tmp_path, connection.vendor)
        database.env["EMR_DATABASE_URL"] = raw_url
    database.manage("migrate", "-v", "0")
    database.manage("init_emr", "--drop", "--noinput")
    database.manage("generate_emr", "--visits", VISITS, "--days", "60", "--clinics", "4", "--seed", "5")
    database.manage("build_summaries", "--quiet")
    yield database, raw_url.replace("postgresql+psycopg2://", "postgresql://")
    drop_raw()
    drop()


def test_builds_make_progress_under_steady_writes(busy):
    database, raw_url = busy
    writer = subprocess.Popen([sys.executable, "-m", "tests.raw_writer", raw_url, str(WRITER_SECONDS), "1"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outcomes = []
    # Two builds at a time, plain and --full in turn, for as long as the writer writes.
    rounds = 0
    while writer.poll() is None:
        mode = ["--full"] if rounds % 2 else []
        builds = [database.start("build_summaries", "--quiet", *mode) for _ in range(2)]
        for build in builds:
            out, err = build.communicate(timeout=300)
            outcomes.append((build.returncode, err.strip()))
        rounds += 1
    written = int(writer.stdout.read().strip() or 0)
    assert writer.returncode == 0, writer.stderr.read()
    assert written > 100, "the writer must have kept writing"

    assert all(code in (0, 75) for code, _ in outcomes), [o for o in outcomes if o[0] not in (0, 75)]
    succeeded = sum(1 for code, _ in outcomes if code == 0)
    assert succeeded >= rounds, f"builds must make progress: {outcomes}"
    refused = [err for code, err in outcomes if code == 75]
    assert all(err == "CommandError: another build of the summaries is running; nothing was changed"
               for err in refused)

    database.manage("build_summaries", "--quiet")
    incremental = database.tables()
    database.manage("build_summaries", "--full", "--quiet")
    assert incremental == database.tables()
