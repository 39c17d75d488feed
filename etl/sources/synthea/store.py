"""Where an import writes: one transaction on the EMR database, and set-based upserts.

The import runs in one :func:`etl.db.emr_session` (Django's ``atomic()``, or one
connection of the EMR engine when the raw tables live elsewhere), so a failed import
leaves the previous raw data as it was.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from sqlalchemy import Insert, Table, Update, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY

from etl import db
from etl.db.types import timestamp_text


Store = db.EmrSession


def insert_many(store: Store, table: Table, rows: Sequence[dict]) -> None:
    """On PostgreSQL in Django's database one ``INSERT ... SELECT FROM unnest(<one array per
    column>)``: psycopg2's executemany makes a round trip per row, and a multi-row VALUES
    costs SQLAlchemy a bind parameter per value to compile. Elsewhere executemany (SQLite
    runs in-process; SQLAlchemy's engine batches an executemany INSERT itself)."""
    if store.vendor == "postgresql" and rows:
        store.execute(unnest_insert(table, rows))
    else:
        store.execute_many(insert(table), rows)


def update_many(store: Store, table: Table, rows: Sequence[dict]) -> None:
    """Rows of values keyed by ``b_id``; on PostgreSQL one ``UPDATE ... FROM unnest``."""
    if store.vendor == "postgresql" and rows:
        store.execute(unnest_update(table, rows))
    else:
        store.execute_many(update(table).where(table.c.id == bindparam("b_id")), rows)


def _unnest(table: Table, rows: Sequence[Mapping[str, Any]], key: str | None = None):
    """PostgreSQL: ``unnest(<one bound array per column>) AS anon(columns)``; ``key``
    names the id column of an update (typed as ``id``)."""
    columns = list(rows[0])
    arrays = [
        cast(bindparam(f"values_{name}", value=[row[name] for row in rows]),
             ARRAY(table.c["id" if name == key else name].type))
        for name in columns
    ]
    return func.unnest(*arrays).table_valued(*columns).render_derived()


def unnest_insert(table: Table, rows: Sequence[Mapping[str, Any]]) -> Insert:
    """PostgreSQL: insert ``rows`` in one statement with one bound array per column."""
    source = _unnest(table, rows)
    columns = list(rows[0])
    return insert(table).from_select(columns, select(*(source.c[name] for name in columns)))


def unnest_update(table: Table, rows: Sequence[Mapping[str, Any]]) -> Update:
    """PostgreSQL: update the rows whose id is each row's ``b_id``, in one statement."""
    source = _unnest(table, rows, key="b_id")
    values = {name: source.c[name] for name in rows[0] if name != "b_id"}
    return update(table).values(values).where(table.c.id == source.c.b_id)


@dataclass(frozen=True)
class Outcome:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: "Outcome") -> "Outcome":
        return Outcome(self.inserted + other.inserted, self.updated + other.updated,
                       self.unchanged + other.unchanged)


def comparable(value: Any) -> Any:
    """A value as stored, in one form for every driver (datetimes and dates as text)."""
    kind = type(value)
    if kind is dt.datetime:
        return timestamp_text(value)
    if kind is dt.date:
        return value.isoformat()
    return value


def upsert(
    store: Store, table: Table, rows: Mapping[int, Mapping[str, Any]], stamp: Mapping[str, Any] | None = None,
) -> Outcome:
    """Write ``rows`` (id → values of the same columns) into ``table``: insert the ids it
    lacks, update the rows whose values differ, leave equal rows untouched. ``stamp``
    (e.g. ``updated_at``) is written with inserted and updated rows only, never compared."""
    if not rows:
        return Outcome()
    columns = list(next(iter(rows.values())))
    stored = {
        row[0]: tuple(comparable(value) for value in row[1:])
        for row in store.fetch_all(select(table.c.id, *(table.c[c] for c in columns)).where(table.c.id.in_(list(rows))))
    }
    extra = dict(stamp or {})
    inserts, updates = [], []
    for row_id, values in rows.items():
        if row_id not in stored:
            inserts.append({"id": row_id, **values, **extra})
        elif stored[row_id] != tuple(comparable(values[c]) for c in columns):
            updates.append({"b_id": row_id, **values, **extra})
    insert_many(store, table, inserts)
    update_many(store, table, updates)
    return Outcome(len(inserts), len(updates), len(rows) - len(inserts) - len(updates))
