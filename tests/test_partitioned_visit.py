"""A very large ``emr_visit`` as a PostgreSQL declarative partitioned table (a range of
``start_at`` per month): ``init_emr`` keeps it and installs the change-capture triggers on
it, and builds, incremental ones included, work on it as on a plain table
(docs/operations.md, "Scaling"). PostgreSQL only."""
import pytest
from django.db import connection
from sqlalchemy import update

from etl.engine.service import build_summaries
from etl.db.schema import init_emr, trigger_statements
from etl.db.tables import raw
from etl import db
from etl.models import StaffSummary

from . import handmade
from .factories import add, summary_rows, ts, visit
from .test_incremental import full_build_tables, tables

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="declarative partitions are PostgreSQL's")

# The raw contract's columns; the primary key must include the partition key.
PARTITIONED_VISIT = [
    "DROP TABLE emr_visit",
    """CREATE TABLE emr_visit (
        id BIGINT NOT NULL, patient_id BIGINT NOT NULL, location_id BIGINT NOT NULL, service_id BIGINT NULL,
        staff_id BIGINT NULL, start_at TIMESTAMP NOT NULL, end_at TIMESTAMP NULL, status VARCHAR(20) NOT NULL,
        updated_at TIMESTAMP NOT NULL, PRIMARY KEY (id, start_at)
    ) PARTITION BY RANGE (start_at)""",
    "CREATE TABLE emr_visit_2024_02 PARTITION OF emr_visit FOR VALUES FROM ('2024-02-01') TO ('2024-03-01')",
    "CREATE TABLE emr_visit_2024_03 PARTITION OF emr_visit FOR VALUES FROM ('2024-03-01') TO ('2024-04-01')",
    "CREATE TABLE emr_visit_other PARTITION OF emr_visit DEFAULT",
]


@pytest.fixture
def partitioned(emr):
    with connection.cursor() as cursor:
        for sql in PARTITIONED_VISIT:
            cursor.execute(sql)
    init_emr()  # idempotent: keeps the partitioned table, (re)installs indexes and triggers
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE relname = 'emr_visit'")
        assert cursor.fetchone()[0] == "p", "emr_visit is still the partitioned table"
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'emr_visit'::regclass AND NOT tgisinternal")
        declared = sum(1 for sql in trigger_statements("postgresql")
                       if sql.startswith("CREATE TRIGGER") and " ON emr_visit" in sql)
        assert declared and cursor.fetchone()[0] == declared, "every capture trigger sits on the partitioned table"


def test_builds_on_a_partitioned_visit_table_equal_the_hand_worked_values(partitioned):
    handmade.load()
    build_summaries()
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == handmade.EXPECTED_STAFF_SUMMARY


def test_changes_across_partitions_are_captured_and_built_incrementally(partitioned):
    handmade.load()
    build_summaries()
    visits = raw("emr_visit")
    # Visit 1 moves from March 1st to February 29th: the row moves to another partition
    # (PostgreSQL deletes it from one and inserts it into the other); both days must be rebuilt.
    db.execute(update(visits).where(visits.c.id == 1).values(start_at=ts("2024-02-29 09:00:00"),
                                                              end_at=ts("2024-02-29 09:20:00")))
    add("emr_visit", visit(60, "2025-01-15"))  # into the default partition
    report = build_summaries()
    # (section 4's forward reach on top of these days is tested in tests/test_clinic_reach.py)
    assert {r.name: r.days for r in report.results if r.name in ("staff_summary", "staff_cost_summary")} == {
        "staff_summary": 2 + 1, "staff_cost_summary": 2 + 1}
    assert tables() == full_build_tables()
    assert StaffSummary.objects.filter(day="2024-02-29").exists()
