"""SQLAlchemy ``Table`` objects for the raw ``emr_*`` tables and the summary tables.

Neither is a hand-written copy that could drift:

- the raw tables are reflected from ``sql/emr_schema.sql`` itself, run into a private
  in-memory SQLite database (no connection to the real databases, nothing at import time);
- the summary tables are derived from the Django models' ``_meta``.

Date and timestamp columns use the wall-clock types of :mod:`etl.db.types`.
"""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from sqlalchemy import (
    BigInteger, Boolean, Column, Float, Index, Integer, MetaData, Numeric, PrimaryKeyConstraint, String, Table, Text,
    create_engine,
)
from sqlalchemy import types as satypes

from etl.db.types import WallClockDate, WallClockTimestamp

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "sql" / "emr_schema.sql"
RAW_TABLE_NAMES = (
    "emr_location", "emr_role", "emr_staff", "emr_service", "emr_patient", "emr_visit", "emr_shift",
)


def schema_statements(path: Path = SCHEMA_FILE) -> list[str]:
    """The DDL statements of the raw schema file, comments stripped, in file order."""
    text = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
    return [stmt.strip() for stmt in text.split(";") if stmt.strip()]


def _portable_type(reflected: satypes.TypeEngine) -> satypes.TypeEngine:
    if isinstance(reflected, satypes.DateTime):
        return WallClockTimestamp()
    if isinstance(reflected, satypes.Date):
        return WallClockDate()
    if isinstance(reflected, satypes.BigInteger):
        return BigInteger()
    if isinstance(reflected, satypes.Numeric):
        return Numeric(reflected.precision, reflected.scale, asdecimal=True)
    if isinstance(reflected, satypes.String):
        return String(reflected.length)
    raise TypeError(f"sql/emr_schema.sql uses a type the ETL does not map: {reflected!r}")


@lru_cache(maxsize=1)
def raw_metadata() -> MetaData:
    scratch = create_engine("sqlite://")
    with scratch.begin() as conn:
        for stmt in schema_statements():
            conn.exec_driver_sql(stmt)
    reflected = MetaData()
    reflected.reflect(scratch)
    scratch.dispose()
    metadata = MetaData()
    for name in RAW_TABLE_NAMES:
        source = reflected.tables[name]
        Table(
            name, metadata,
            *[
                Column(col.name, _portable_type(col.type), primary_key=col.primary_key, nullable=col.nullable)
                for col in source.columns
            ],
        )
    return metadata


def raw(name: str) -> Table:
    """One raw table by name, e.g. ``raw("emr_visit")``."""
    return raw_metadata().tables[name]


# --- the ETL's own table in the EMR database ------------------------------------------

_etl_metadata = MetaData()

CHANGE_LOG = Table(
    "etl_change_log", _etl_metadata,
    # INTEGER PRIMARY KEY on SQLite is the auto-incrementing rowid; BIGSERIAL elsewhere.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True),
    Column("day", WallClockDate(), nullable=True, comment="NULL: a whole raw table changed (TRUNCATE)"),
    Column("source", String(40), nullable=False),
    Column("logged_at", WallClockTimestamp(), nullable=False, comment="UTC"),
    Index("etl_change_log_day", "day"),
)
"""Days whose raw visits or shifts changed, written by the triggers in sql/triggers/."""

# The raw tables whose changes the triggers log (the others are compared value by value).
CAPTURED_TABLES = ("emr_visit", "emr_shift")
# The source of a NULL-day change-log row that ``init_emr`` writes when it creates a
# captured table: "everything changed", like TRUNCATE.
RECREATED_SOURCE = "init_emr"

SYNTHEA_ID_MAP = Table(
    "synthea_id_map", _etl_metadata,
    Column("kind", String(20), nullable=False),
    Column("uuid", String(64), nullable=False),
    Column("id", BigInteger, nullable=False),
    PrimaryKeyConstraint("kind", "uuid"),
)
"""Synthea ids (UUIDs) → the raw tables' integer ids, kept by ``import_synthea``. It means
something only together with the raw rows: ``init_emr --drop`` and ``generate_emr``,
which replace those rows, drop it too."""


# --- summary tables, from the Django models ---------------------------------------------

def _type_for_field(field) -> satypes.TypeEngine:
    kind = field.get_internal_type()
    simple = {
        "AutoField": Integer, "BigAutoField": BigInteger, "BigIntegerField": BigInteger,
        "IntegerField": Integer, "PositiveIntegerField": Integer, "SmallIntegerField": Integer,
        "BooleanField": Boolean, "FloatField": Float, "TextField": Text,
        "DateField": WallClockDate, "DateTimeField": WallClockTimestamp,
    }
    if kind in simple:
        return simple[kind]()
    if kind == "DecimalField":
        return Numeric(field.max_digits, field.decimal_places, asdecimal=True)
    if kind == "CharField":
        return String(field.max_length)
    raise TypeError(f"{field.model.__name__}.{field.name}: no SQLAlchemy type for {kind}")


_model_metadata = MetaData()


def table_for_model(model) -> Table:
    """The SQLAlchemy Table of a Django model, column for column from ``_meta``."""
    name = model._meta.db_table
    if name in _model_metadata.tables:
        return _model_metadata.tables[name]
    return Table(
        name, _model_metadata,
        *[
            Column(f.column, _type_for_field(f), primary_key=f.primary_key, nullable=f.null)
            for f in model._meta.concrete_fields
        ],
    )


def summary_table(model_label: str) -> Table:
    """The Table of a summary model by label, e.g. ``summary_table("etl.StaffSummary")``."""
    from django.apps import apps

    return table_for_model(apps.get_model(model_label))
