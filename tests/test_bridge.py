"""The SQLAlchemy bridge shares Django's connection and transaction."""
import pytest
from django.db import connection, transaction
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from sqlalchemy import func, select

from etl import db
from etl.models import StaffSummary
from etl.db.schema import init_emr
from etl.engine.service import build_summaries
from etl.db.tables import raw

from . import handmade


class BuildInsideTestCase(TestCase):
    """Two tests that each build: if the ETL committed, rolled back or closed Django's
    transaction, the second would see the first's rows or fail with
    TransactionManagementError (the classic recipe's symptom)."""

    def setUp(self):
        init_emr(drop=True)
        handmade.load()

    def test_first_build_is_seen_by_the_orm(self):
        build_summaries()
        self.assertEqual(StaffSummary.objects.count(), len(handmade.EXPECTED_STAFF_SUMMARY))

    def test_second_build_starts_from_a_clean_slate(self):
        self.assertEqual(StaffSummary.objects.count(), 0)
        build_summaries()
        self.assertEqual(StaffSummary.objects.count(), len(handmade.EXPECTED_STAFF_SUMMARY))


@pytest.mark.django_db(transaction=True)
def test_atomic_rollback_undoes_the_etl_writes():
    init_emr(drop=True)
    handmade.load()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            build_summaries()
            # The ORM sees the ETL's uncommitted rows: same connection, same transaction.
            assert StaffSummary.objects.count() == len(handmade.EXPECTED_STAFF_SUMMARY)
            raise RuntimeError("roll back")
    assert StaffSummary.objects.count() == 0
    assert connection.in_atomic_block is False
    init_emr(drop=True)


def test_etl_sees_rows_written_by_django_in_the_same_transaction(emr):
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO emr_role (id, parent_id, name) VALUES (%s, %s, %s)", [7, None, "Written by Django"]
        )
    assert db.fetch_scalar(select(func.count()).select_from(raw("emr_role"))) == 1


def test_queries_show_in_djangos_query_log(emr):
    handmade.load()
    with CaptureQueriesContext(connection) as queries:
        build_summaries(["staff_summary"])
    # The first build is full: on PostgreSQL a table swap, which writes a staging table.
    written = 'CREATE TABLE "etl_swap_staff_summary" AS' if connection.vendor == "postgresql" else "INSERT INTO staff_summary"
    assert any(written in q["sql"] for q in queries.captured_queries)


def test_orm_keeps_working_after_the_etl(emr):
    handmade.load()
    build_summaries()
    # Django's SQLite REGEXP function must survive (a stock dialect's connect hook replaces it).
    assert StaffSummary.objects.filter(role_group_name__regex=r"^Phys").count() == 2
    assert connection.connection is not None
