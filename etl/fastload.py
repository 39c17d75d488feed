"""A full rebuild on PostgreSQL loads the summary table the way bulk loads are fast.

Maintaining the secondary indexes row by row while inserting a whole table costs more
than the aggregation itself (see README, "Speed"). So a full rebuild, inside its one
transaction: ``TRUNCATE`` (transactional on PostgreSQL: readers wait for the commit and
then see the new rows, never a partial table), drops the table's secondary indexes and
unique constraints, inserts, recreates them, and runs ``ANALYZE``. The DDL comes from
Django's own schema editor for the model, so it is exactly what the migrations created.
"""
from __future__ import annotations

from django.apps import apps
from django.db import connection
from sqlalchemy import text
from sqlalchemy.sql import Executable


def _editor():
    editor = connection.SchemaEditorClass(connection, collect_sql=True)
    editor.deferred_sql = []  # used outside its context manager: only to render SQL
    return editor


def index_ddl(model_label: str) -> tuple[list[Executable], list[Executable]]:
    """(drop, create) statements for the model's secondary indexes and constraints."""
    model = apps.get_model(model_label)
    editor = _editor()
    drop, create = [], []
    for item in (*model._meta.indexes, *model._meta.constraints):
        drop.append(text(str(item.remove_sql(model, editor))))
        create.append(text(str(item.create_sql(model, editor))))
    return drop, create


def truncate(table_name: str) -> Executable:
    return text(f"TRUNCATE {connection.ops.quote_name(table_name)}")


def analyze(table_name: str) -> Executable:
    return text(f"ANALYZE {connection.ops.quote_name(table_name)}")
