"""EMR_DATABASE_URL names another database: the aggregation runs there and the rows are
streamed into Django's database, with the same result as the same-database build."""
import os
import uuid
from urllib.parse import urlparse

import psycopg2
import pytest
from django.db import connection
from django.test import override_settings

from etl import db
from etl.models import StaffCostSummary, StaffSummary
from etl.schema import init_emr, missing_raw_tables
from etl.services import build_sql, build_summaries

from . import handmade
from .factories import summary_rows


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
    db._engine(url).dispose()
    admin.cursor().execute(f'DROP DATABASE "{name}"')
    admin.close()


def build_with(url):
    with override_settings(EMR_DATABASE_URL=url):
        init_emr(drop=True)
        assert missing_raw_tables() == []
        handmade.load()
        report = build_summaries()
        script = build_sql()
    return report, script


def assert_expected_tables():
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == handmade.EXPECTED_STAFF_SUMMARY
    assert summary_rows(StaffCostSummary, handmade.STAFF_COST_FIELDS) == handmade.EXPECTED_STAFF_COST_SUMMARY


def test_sqlite_emr_database(db, tmp_path):
    report, script = build_with(f"sqlite:///{tmp_path / 'emr.sqlite3'}")
    assert_expected_tables()
    assert report.rows_written == 11
    # The raw tables are not in Django's database at all.
    assert "emr_visit" not in connection.introspection.table_names()
    assert "-- on the EMR database (sqlite)" in script


def test_postgres_emr_database(db, postgres_emr_url):
    build_with(postgres_emr_url)
    assert_expected_tables()
