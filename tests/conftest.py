"""Shared fixtures. The suite runs against whatever DATABASE_URL names (SQLite by default;
``make test`` runs it on SQLite and again on PostgreSQL)."""
import datetime as dt
import os
import uuid
from urllib.parse import urlparse

import psycopg2
import pytest

from django.db import connection

from etl import db as etl_db
from etl.db.schema import init_emr

from .processes import ProcessDatabase, make_database, redis_or_skip


@pytest.fixture
def emr(db):
    """The raw emr_* tables, created empty in the test database (rolled back after)."""
    init_emr(drop=True)
    return None


@pytest.fixture
def committed_handmade(transactional_db):
    """The raw tables with the hand-made data (tests/handmade.py), committed, so other
    connections see them (a printed script run in psql, a build's lanes)."""
    from . import handmade

    init_emr(drop=True)
    handmade.load()
    yield
    init_emr(drop=True)


@pytest.fixture
def postgres_emr_url():
    """A throw-away PostgreSQL database for the raw tables, on the server named by
    TEST_POSTGRES_URL (``make test`` sets it whenever PostgreSQL is configured)."""
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        pytest.skip("TEST_POSTGRES_URL is not set: no PostgreSQL server configured for tests")
    parts = urlparse(server)
    name = f"emr_raw_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                             password=parts.password, dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    url = parts._replace(scheme="postgresql+psycopg2", path=f"/{name}").geturl()
    yield url
    etl_db._engine(url).dispose()
    admin.cursor().execute(f'DROP DATABASE "{name}"')
    admin.close()


@pytest.fixture
def sched_db(tmp_path):
    """For real Celery processes: a database of its own (SQLite, or PostgreSQL in its pass)
    with generated raw data, and an environment with a queue of its own, so beat and
    workers of different tests never share messages."""
    redis_or_skip()
    url, drop = make_database(tmp_path, connection.vendor)
    # Crontab entries at an hour far from now, so only the interval build fires in a test.
    far_hour = str((dt.datetime.now(dt.timezone.utc).hour + 12) % 24)
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1", "CELERY_TASK_DEFAULT_QUEUE": queue,
           "ETL_NIGHTLY_HOUR": far_hour, "ETL_QUALITY_HOUR": far_hour,
           "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp_path / "beat-schedule")}
    env.pop("EMR_DATABASE_URL", None)
    database = ProcessDatabase(url, env)
    database.queue = queue
    database.logs = tmp_path
    database.manage("migrate", "-v", "0")
    database.manage("init_emr", "--drop", "--noinput")
    database.manage("generate_emr", "--visits", "4000", "--days", "40", "--clinics", "3", "--seed", "5")
    yield database
    drop()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users in tests need no slow key stretching."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
