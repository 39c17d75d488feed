"""A full build on PostgreSQL behind a reader that holds a summary table open: it gives up
after SUMMARY_LOCK_TIMEOUT_SECONDS with one clear line and a non-zero exit, and keeps the
old rows (before, its TRUNCATE queued without limit and every new reader queued behind it)."""
import os
import subprocess
from urllib.parse import urlparse

import psycopg2
import pytest
from django.db import connection

from .processes import ProcessDatabase, make_database


@pytest.fixture
def pg_db(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("lock_timeout is PostgreSQL's")
    url, drop = make_database(tmp_path, "postgresql")
    env = {**os.environ, "DATABASE_URL": url, "SUMMARY_LOCK_TIMEOUT_SECONDS": "1"}
    env.pop("EMR_DATABASE_URL", None)
    database = ProcessDatabase(url, env)
    database.manage("migrate", "-v", "0")
    database.manage("init_emr", "--drop", "--noinput")
    database.manage("generate_emr", "--visits", "2000", "--days", "30", "--clinics", "2", "--seed", "3")
    database.manage("build_summaries", "--quiet")
    yield database
    drop()


def test_a_held_summary_table_makes_a_full_build_fail_fast(pg_db):
    before = pg_db.tables()
    parts = urlparse(pg_db.url)
    reader = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                              dbname=parts.path.lstrip("/"))
    try:
        with reader.cursor() as cursor:  # psycopg2 opens a transaction: ACCESS SHARE held
            cursor.execute("SELECT count(*) FROM staff_summary")
        try:
            # Without a lock_timeout the build waits as long as the reader: the timeout fails the test.
            result = pg_db.manage("build_summaries", "--full", "--quiet", check=False, timeout=120)
        except subprocess.TimeoutExpired:
            pytest.fail("the build waited for the reader without limit")
        assert result.returncode != 0
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1, result.stderr
        assert "gave up after waiting 1 s for a lock on the summary table" in lines[0]
        assert "SUMMARY_LOCK_TIMEOUT_SECONDS" in lines[0]
    finally:
        reader.rollback()
        reader.close()
    assert pg_db.tables() == before
    # The reader gone, the same build goes through.
    pg_db.manage("build_summaries", "--full", "--quiet")
    assert pg_db.tables() == before
