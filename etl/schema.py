"""Creating and dropping the raw ``emr_*`` tables from ``sql/emr_schema.sql``."""
from __future__ import annotations

from sqlalchemy.schema import DropTable

from . import db
from .tables import RAW_TABLE_NAMES, raw, schema_statements


def init_emr(drop: bool = False) -> list[str]:
    """Create the raw tables in the EMR database (idempotent); ``drop`` recreates them
    empty. Returns the names of the tables it ensured."""
    statements = []
    if drop:
        statements += [DropTable(raw(name), if_exists=True) for name in RAW_TABLE_NAMES]
    engine = db.emr_engine()
    if engine is None:
        from django.db import transaction

        with transaction.atomic():
            for stmt in statements:
                db.execute(stmt)
            db.execute_sql_script(schema_statements())
    else:
        with engine.begin() as conn:
            for stmt in statements:
                conn.execute(stmt)
            for sql in schema_statements():
                conn.exec_driver_sql(sql)
    return list(RAW_TABLE_NAMES)


def missing_raw_tables() -> list[str]:
    """Raw tables the EMR database lacks (empty when ``init_emr`` has run)."""
    engine = db.emr_engine()
    if engine is None:
        from django.db import connection

        present = set(connection.introspection.table_names())
    else:
        from sqlalchemy import inspect

        present = set(inspect(engine).get_table_names())
    return [name for name in RAW_TABLE_NAMES if name not in present]
