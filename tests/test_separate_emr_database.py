"""EMR_DATABASE_URL names another database: the aggregation runs there and the rows are
streamed into Django's database, with the same result as the same-database build."""
import pytest
from django.db import connection
from django.test import override_settings

from etl import db as etl_db
from etl.models import StaffCostSummary, StaffSummary
from etl.db.schema import init_emr, missing_raw_tables
from etl.engine.service import build_sql, build_summaries

from . import handmade
from .factories import summary_rows


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
    # sqlite:/// and an absolute path, as DATABASE_URL is written.
    report, script = build_with(f"sqlite:///{tmp_path / 'emr.sqlite3'}")
    assert_expected_tables()
    assert report.rows_written == 11
    # The raw tables are not in Django's database at all.
    assert "emr_visit" not in connection.introspection.table_names()
    assert "-- on the EMR database (sqlite)" in script


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg2"])
def test_postgres_emr_database(db, postgres_emr_url, scheme):
    # Written as DATABASE_URL is (postgres://, postgresql://) or as SQLAlchemy names the driver.
    url = scheme + postgres_emr_url[postgres_emr_url.index("://"):]
    build_with(url)
    assert_expected_tables()


def test_emr_database_url_forms():
    assert etl_db.sqlalchemy_url("postgres://u:p%40ss@h:5433/emr?sslmode=require") == \
        "postgresql+psycopg2://u:p%40ss@h:5433/emr?sslmode=require"
    assert etl_db.sqlalchemy_url("postgresql://h/emr") == "postgresql+psycopg2://h/emr"
    assert etl_db.sqlalchemy_url("sqlite:////srv/emr.sqlite3") == "sqlite:////srv/emr.sqlite3"
    for bad, message in (("mysql://h/emr", "has scheme 'mysql'"), ("emr.sqlite3", "has no scheme")):
        with pytest.raises(etl_db.BadDatabaseUrl, match=message):
            etl_db.sqlalchemy_url(bad)
