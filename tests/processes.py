"""Helpers for tests that run real ``manage.py`` and Celery processes against a database
of their own: a SQLite file, or a fresh PostgreSQL database in the PostgreSQL pass."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import sqlite3

ROOT = Path(__file__).resolve().parent.parent


class ProcessDatabase:
    def __init__(self, url: str, env: dict):
        self.url = url
        self.env = env

    def manage(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def start(self, *args: str, env: dict | None = None) -> subprocess.Popen:
        """``manage.py args`` running in the background; ``env`` added to the environment."""
        return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env={**self.env, **(env or {})},
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def query(self, sql: str) -> list[tuple]:
        parts = urlparse(self.url)
        if parts.scheme.startswith("sqlite"):
            with sqlite3.connect(parts.path) as conn:
                return conn.execute(sql).fetchall()
        conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                                password=parts.password, dbname=parts.path.lstrip("/"))
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
                return cursor.fetchall() if cursor.description else []
        finally:
            conn.commit()
            conn.close()

    def tables(self) -> tuple:
        """Both summary tables, every column but the surrogate id, in a fixed order."""
        staff = self.query(
            "SELECT day, location_id, service_id, role_group_id, role_group_name, nr_visits, nr_patients,"
            " nr_cancelled, nr_no_show, CAST(visit_minutes * 100 AS INTEGER) FROM staff_summary")
        cost = self.query(
            "SELECT day, location_id, role_group_id, CAST(rostered_hours * 10000 AS INTEGER),"
            " CAST(staff_cost * 100 AS INTEGER), nr_staff, nr_visits, nr_patients FROM staff_cost_summary")
        return sorted(staff, key=_row_key), sorted(cost, key=_row_key)

    def clinic_tables(self) -> tuple:
        """The section-4 tables (clinic_day, region_month_patients, clinic_score,
        region_month), every column but the surrogate id, each sorted."""
        from etl.models import ClinicDay, ClinicScore, RegionMonth, RegionMonthPatients

        result = []
        for model in (ClinicDay, RegionMonthPatients, ClinicScore, RegionMonth):
            columns = ", ".join(f.column for f in model._meta.concrete_fields if not f.primary_key)
            result.append(sorted(self.query(f"SELECT {columns} FROM {model._meta.db_table}"), key=_row_key))
        return tuple(result)


def _row_key(row: tuple) -> tuple:
    return tuple((v is not None, str(v)) for v in row)


def wait_for_line(process: subprocess.Popen, needle: str, timeout: float = 120) -> str:
    """Read the process's output until a line contains ``needle``; return that line."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if needle in line:
            return line
        if not line and process.poll() is not None:
            raise AssertionError(f"process ended before printing {needle!r}: {process.stderr.read()}")
    raise AssertionError(f"no {needle!r} within {timeout} s")


def process_database(tmp_path: Path, vendor: str) -> tuple[ProcessDatabase, callable]:
    """(database, drop): an empty database of the given vendor, and the environment of the
    processes that use it (Django's database only: no EMR_DATABASE_URL)."""
    if vendor == "postgresql" and not os.environ.get("TEST_POSTGRES_URL"):
        raise AssertionError("the PostgreSQL pass needs TEST_POSTGRES_URL (make test sets it)")
    url, drop = make_database(tmp_path, vendor)
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    env.pop("EMR_DATABASE_URL", None)
    return ProcessDatabase(url, env), drop


def make_database(tmp_path: Path, vendor: str) -> tuple[str, callable]:
    """(url, drop) for an empty database of the given vendor."""
    if vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'proc.sqlite3'}", lambda: None
    server = urlparse(os.environ["TEST_POSTGRES_URL"])
    name = f"emr_proc_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(host=server.hostname, port=server.port or 5432, user=server.username,
                             password=server.password, dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')

    def drop():
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()

    return server._replace(path=f"/{name}").geturl(), drop


def redis_or_skip() -> None:
    """Redis must answer for the Celery tests: skip without it, fail when CI requires it."""
    import pytest
    import redis

    try:
        redis.Redis.from_url(os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
                             socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        if os.environ.get("REQUIRE_REDIS") == "1":
            pytest.fail("Redis is required (REQUIRE_REDIS=1) but does not answer")
        pytest.skip("Redis does not answer: the Celery process tests need it")


def celery(env: dict, *args: str, log: Path | None = None) -> subprocess.Popen:
    """A real ``celery -A project ...`` process (worker, beat) in its own process group, so
    a test can kill it whole; its output goes to ``log`` (read it when a test fails)."""
    out = open(log, "w") if log else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "project", *args], cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """End a process started by :func:`celery` and all its children."""
    import signal

    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    try:
        os.killpg(process.pid, signal.SIGKILL)  # pool children left behind, if any
    except ProcessLookupError:
        pass


def wait_until(condition, timeout: float, what: str, interval: float = 0.2):
    """Poll ``condition()`` until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s: {what}")
