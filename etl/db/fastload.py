"""A full rebuild on PostgreSQL loads the summary table the way bulk loads are fast.

Maintaining the secondary indexes row by row while inserting a whole table costs more
than the aggregation itself (see README, "Speed"). So a full rebuild, inside its one
transaction: ``TRUNCATE`` (transactional on PostgreSQL: readers wait for the commit and
then see the new rows, never a partial table), drops the table's primary key, indexes and
unique constraints, inserts, recreates them (re-adding the grain constraint checks the
grain is unique), and runs ``ANALYZE``. The DDL comes from
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


def _primary_key_name(table_name: str) -> str | None:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table_name)
    return next((name for name, c in constraints.items() if c["primary_key"]), None)


def index_ddl(model_label: str) -> tuple[list[Executable], list[Executable]]:
    """(drop, create) statements for the model's primary key, indexes and constraints.
    The primary key goes too: kept, every inserted row would also update its index."""
    model = apps.get_model(model_label)
    editor = _editor()
    drop, create = [], []
    pk_name = _primary_key_name(model._meta.db_table)
    if pk_name:
        drop.append(text(str(editor._delete_primary_key_sql(model, pk_name))))
        create.append(text(str(editor._create_primary_key_sql(model, model._meta.pk))))
    for item in (*model._meta.indexes, *model._meta.constraints):
        drop.append(text(str(item.remove_sql(model, editor))))
        create.append(text(str(item.create_sql(model, editor))))
    return drop, create


def truncate(table_name: str) -> Executable:
    return text(f"TRUNCATE {connection.ops.quote_name(table_name)}")


def analyze(table_name: str) -> Executable:
    return text(f"ANALYZE {connection.ops.quote_name(table_name)}")
