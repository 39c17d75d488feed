"""Creating the raw ``emr_*`` tables (``sql/emr_schema.sql``) and the change capture that
incremental builds read (the ``etl_change_log`` table and the triggers of
``sql/triggers/<dialect>.sql``) in the EMR database."""
from __future__ import annotations

import re
from pathlib import Path

import datetime as dt

from sqlalchemy import insert
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from etl import db
from etl.db.tables import (
    CAPTURED_TABLES, CHANGE_LOG, RAW_TABLE_NAMES, RECREATED_SOURCE, SYNTHEA_ID_MAP, raw, schema_statements,
)

TRIGGER_DIR = Path(__file__).resolve().parents[2] / "sql" / "triggers"


def trigger_statements(vendor: str) -> list[str]:
    """The change-capture trigger DDL for a dialect, split on its ``--;`` separators."""
    text = (TRIGGER_DIR / f"{vendor}.sql").read_text(encoding="utf-8")
    parts = re.split(r"^--;\s*$", text, flags=re.MULTILINE)
    statements = []
    for part in parts:
        lines = [line for line in part.splitlines() if not line.startswith("--")]
        if "\n".join(lines).strip():
            statements.append("\n".join(lines).strip())
    return statements


def _ddl(drop: bool) -> tuple[list, list[str]]:
    """(SQLAlchemy DDL elements, plain SQL strings) in execution order."""
    elements = []
    if drop:
        elements += [DropTable(raw(name), if_exists=True) for name in RAW_TABLE_NAMES]
        elements.append(DropTable(CHANGE_LOG, if_exists=True))
        elements.append(DropTable(SYNTHEA_ID_MAP, if_exists=True))
    return elements, schema_statements()


def _after_tables(created: list[str]) -> list:
    """The change log, and in it "everything changed" for each captured table created now:
    summaries built from the table it replaces are rebuilt in full (the change log, dropped
    or not, never saw the old rows go)."""
    moment = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    return [CreateTable(CHANGE_LOG, if_not_exists=True)] + [
        CreateIndex(index, if_not_exists=True) for index in CHANGE_LOG.indexes
    ] + ([insert(CHANGE_LOG).values(day=None, source=RECREATED_SOURCE, logged_at=moment)]
         if set(CAPTURED_TABLES) & set(created) else [])


def init_emr(drop: bool = False) -> list[str]:
    """Create the raw tables, the change log and its triggers in the EMR database
    (idempotent); ``drop`` recreates them empty. Returns the raw table names."""
    elements, raw_sql = _ddl(drop)
    created = list(RAW_TABLE_NAMES) if drop else missing_raw_tables()
    triggers = trigger_statements(db.emr_vendor())
    engine = db.emr_engine()
    if engine is None:
        from django.db import transaction

        with transaction.atomic():
            for element in elements:
                db.execute(element)
            db.execute_sql_script(raw_sql)
            for element in _after_tables(created):
                db.execute(element)
            db.execute_sql_script(triggers)
    else:
        with engine.begin() as conn:
            for element in elements:
                conn.execute(element)
            for sql in raw_sql:
                conn.exec_driver_sql(sql)
            for element in _after_tables(created):
                conn.execute(element)
            for sql in triggers:
                conn.exec_driver_sql(sql)
    return list(RAW_TABLE_NAMES)


def missing_raw_tables() -> list[str]:
    """Raw tables (and the change log) the EMR database lacks: empty once ``init_emr`` ran."""
    engine = db.emr_engine()
    if engine is None:
        from django.db import connection

        present = set(connection.introspection.table_names())
    else:
        from sqlalchemy import inspect

        present = set(inspect(engine).get_table_names())
    return [name for name in (*RAW_TABLE_NAMES, CHANGE_LOG.name) if name not in present]
