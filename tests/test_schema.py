"""One source of truth for the raw tables: sql/emr_schema.sql. The SQLAlchemy tables are
reflected from it; here they are checked against what the file creates in the real
database, and the summary tables against the Django models."""
from django.core.management import call_command
from django.db import connection
from sqlalchemy import func, select

from etl import db
from etl.models import StaffCostSummary, StaffSummary
from etl.db.tables import RAW_TABLE_NAMES, raw, raw_metadata, table_for_model

from .factories import add


def live_columns(table_name: str) -> dict[str, bool]:
    with connection.cursor() as cursor:
        description = connection.introspection.get_table_description(cursor, table_name)
    return {col.name: bool(col.null_ok) for col in description}


def test_reflected_raw_tables_match_the_database(emr):
    assert set(raw_metadata().tables) == set(RAW_TABLE_NAMES)
    for name in RAW_TABLE_NAMES:
        reflected = {c.name: c.nullable for c in raw(name).columns if not c.primary_key}
        live = {k: v for k, v in live_columns(name).items() if k != "id"}
        assert reflected == live, name


def test_contract_columns():
    visit = raw("emr_visit")
    assert [c.name for c in visit.columns] == [
        "id", "patient_id", "location_id", "service_id", "staff_id", "start_at", "end_at", "status", "updated_at",
    ]
    assert raw("emr_staff").c.hourly_cost.type.scale == 2


def test_summary_tables_follow_the_models():
    for model in (StaffSummary, StaffCostSummary):
        table = table_for_model(model)
        assert [c.name for c in table.columns] == [f.column for f in model._meta.concrete_fields]
        assert {c.name for c in table.columns if c.nullable} == {f.column for f in model._meta.concrete_fields if f.null}


def test_init_emr_is_idempotent_and_drop_empties(emr, capsys):
    add("emr_role", {"id": 1, "parent_id": None, "name": "kept"})
    call_command("init_emr")
    assert db.fetch_scalar(select(func.count()).select_from(raw("emr_role"))) == 1
    call_command("init_emr", "--drop", "--noinput")
    assert db.fetch_scalar(select(func.count()).select_from(raw("emr_role"))) == 0
    assert "recreated empty" in capsys.readouterr().out
