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
    assert report.rows_written == 19  # 11 in section 2, 8 in section 4
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


def build_clinics_with(url):
    from . import clinic_handmade

    with override_settings(EMR_DATABASE_URL=url):
        init_emr(drop=True)
        clinic_handmade.load()
        build_summaries()
        script = build_sql()
    return script


def assert_expected_clinic_tables():
    """The clinic-score tables equal the hand-worked values of the same-database build."""
    import datetime as dt

    from etl.models import ClinicDay, ClinicScore, RegionMonth

    from . import clinic_handmade as h

    rows = ClinicDay.objects.filter(day=dt.date(2024, 3, 5)).order_by("clinic_id")
    assert list(rows.values_list(*h.CLINIC_DAY_FIELDS)) == h.EXPECTED_CLINIC_DAY_MAR5
    for (day, clinic), expected in h.EXPECTED_SCORES.items():
        (row,) = ClinicScore.objects.filter(day=day, clinic_id=clinic).values_list(*h.SCORE_FIELDS)
        assert h.same(row, expected), (row, expected)
    assert {(r[0], r[1]): tuple(r[2:]) for r in RegionMonth.objects.values_list(*h.REGION_MONTH_FIELDS)} == \
        h.REGION_MONTH_BY_KEY


def test_clinic_scores_with_a_sqlite_emr_database(db, tmp_path):
    script = build_clinics_with(f"sqlite:///{tmp_path / 'emr.sqlite3'}")
    assert_expected_clinic_tables()
    # Summaries of summaries run in Django's database: their script is the plain one there.
    assert "-- region_month: " in script and "INSERT INTO region_month " in script


def test_clinic_scores_with_a_postgres_emr_database(db, postgres_emr_url):
    build_clinics_with(postgres_emr_url)
    assert_expected_clinic_tables()
