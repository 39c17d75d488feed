"""Creating the raw ``emr_*`` tables (``sql/emr_schema.sql``) and the change capture that
incremental builds read (the ``etl_change_log`` table and the triggers of
``sql/triggers/<dialect>.sql``) in the EMR database."""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import datetime as dt

from sqlalchemy import column, func, insert, select, table
from sqlalchemy.schema import CreateIndex, CreateTable, DropTable

from etl import db
from etl.db.tables import (
    CAPTURED_TABLES, CHANGE_LOG, RAW_TABLE_NAMES, RECREATED_SOURCE, SYNTHEA_ID_MAP, raw, schema_statements,
)

TRIGGER_DIR = Path(__file__).resolve().parents[2] / "sql" / "triggers"


def trigger_statements(vendor: str, replica: bool = False) -> list[str]:
    """The change-capture trigger DDL for a dialect, split on its ``--;`` separators;
    ``replica``: PostgreSQL's, then the row-level triggers of a logical-replication
    subscriber that replace the statement-level ones (``postgresql-replica.sql``)."""
    if replica:
        return trigger_statements(vendor) + _split((TRIGGER_DIR / f"{vendor}-replica.sql").read_text(encoding="utf-8"))
    return _split((TRIGGER_DIR / f"{vendor}.sql").read_text(encoding="utf-8"))


def _split(text: str) -> list[str]:
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


class NotReplicable(ValueError):
    """``init_emr --replica`` on an EMR database that is not PostgreSQL."""


def init_emr(drop: bool = False, replica: bool = False) -> list[str]:
    """Create the raw tables, the change log and its triggers in the EMR database
    (idempotent); ``drop`` recreates them empty. ``replica`` (or a PostgreSQL database that
    subscribes to a captured table, found by :func:`subscribed_tables`) installs the
    row-level capture triggers of a logical-replication subscriber. Returns the raw table
    names."""
    vendor = db.emr_vendor()
    if replica and vendor != "postgresql":
        raise NotReplicable("--replica is for a PostgreSQL EMR database fed by logical replication")
    elements, raw_sql = _ddl(drop)
    created = list(RAW_TABLE_NAMES) if drop else missing_raw_tables()
    replica = replica or (vendor == "postgresql" and bool(subscribed_tables()))
    triggers = trigger_statements(vendor, replica)
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


def subscribed_tables(names: tuple[str, ...] = CAPTURED_TABLES) -> list[str]:
    """Those of ``names`` (the captured tables) that a logical-replication subscription of
    the (PostgreSQL) EMR database writes into: their changes arrive through the apply process."""
    subscribed = table("pg_subscription_rel", column("srrelid"))
    return [name for name in names if db.emr_fetch_all(
        select(func.count()).select_from(subscribed).where(subscribed.c.srrelid == func.to_regclass(name)))[0][0]]


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


def _present_columns(name: str) -> set[str]:
    engine = db.emr_engine()
    if engine is None:
        from django.db import connection

        if connection.vendor == "sqlite":
            # Not Django's introspection: its first use on a connection probes for JSON
            # support inside a transaction, which begins IMMEDIATE here and so waits for a
            # running build's write lock; this read must not (a second build is refused at
            # once, see etl.engine.locks).
            from sqlalchemy import func, literal_column, select

            columns = select(literal_column("name")).select_from(func.pragma_table_info(name))
            return {row[0] for row in db.fetch_all(columns)}
        with connection.cursor() as cursor:
            return {column.name for column in connection.introspection.get_table_description(cursor, name)}
    from sqlalchemy import inspect

    return {column["name"] for column in inspect(engine).get_columns(name)}


def missing_raw_columns(with_change_log: bool = True) -> list[str]:
    """``table.column`` for every column of ``sql/emr_schema.sql`` (and of the change log)
    that an existing raw table lacks. ``CREATE TABLE IF NOT EXISTS`` leaves such a table as
    it is, so ``init_emr`` alone cannot repair it; the queries would fail on it later."""
    missing = []
    absent = set(missing_raw_tables())
    tables = [raw(name) for name in RAW_TABLE_NAMES] + ([CHANGE_LOG] if with_change_log else [])
    for table in tables:
        if table.name in absent:
            continue
        present = _present_columns(table.name)
        missing += [f"{table.name}.{column.name}" for column in table.columns if column.name not in present]
    return missing


# Inside :func:`checked_once`: False until the raw tables (with the change log) were found
# complete, then True; None outside it (every call looks).
_found_complete: ContextVar[bool | None] = ContextVar("raw_schema_found_complete", default=None)


@contextmanager
def checked_once():
    """Within the block, once the raw tables (with the change log) were found complete, a
    later :func:`raw_schema_problem` does not look again: a command checks them before it
    starts and the build it runs checks them too (about 0.03 s at a time: the catalogue
    queries of every raw table)."""
    token = _found_complete.set(False)
    try:
        yield
    finally:
        _found_complete.reset(token)


def raw_schema_problem(hint: str = "and load the raw data", with_change_log: bool = True) -> str | None:
    """One line saying what is wrong with the raw tables (and the change log), or None when
    they are complete. ``hint`` ends the advice to run ``init_emr``."""
    found = _found_complete.get()
    if found and with_change_log:
        return None
    problem = _raw_schema_problem(hint, with_change_log)
    if found is False and problem is None and with_change_log:
        _found_complete.set(True)
    return problem


def _raw_schema_problem(hint: str, with_change_log: bool) -> str | None:
    missing = [name for name in missing_raw_tables() if with_change_log or name != CHANGE_LOG.name]
    if missing:
        return f"the EMR database has no {', '.join(missing)}: run `manage.py init_emr` {hint}"
    columns = missing_raw_columns(with_change_log)
    if columns:
        return (
            f"the raw tables lack {', '.join(columns)} (declared in sql/emr_schema.sql): add "
            f"{'them' if len(columns) > 1 else 'it'}, or recreate the raw tables empty with "
            "`manage.py init_emr --drop` (every raw row is lost)"
        )
    return None
