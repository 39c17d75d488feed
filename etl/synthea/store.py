"""Where an import writes: one transaction on the EMR database, and set-based upserts.

The raw tables live either in Django's database (``db.emr_engine()`` is None: statements
go through the bridge in ``etl.db``, inside ``transaction.atomic()``) or in the database
of ``EMR_DATABASE_URL`` (one ``engine.begin()`` connection). Both are wrapped as a
:class:`Store`, so the importer runs the same statements, in one transaction either way:
a failed import leaves the previous raw data as it was.
"""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Protocol, Sequence

from sqlalchemy import Insert, Table, Update, bindparam, cast, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ClauseElement

from .. import db
from ..types import timestamp_text


class Store(Protocol):
    vendor: str

    def execute(self, stmt: ClauseElement) -> int: ...

    def execute_many(self, stmt: ClauseElement, rows: Sequence[dict]) -> None: ...

    def insert_many(self, table: Table, rows: Sequence[dict]) -> None: ...

    def update_many(self, table: Table, rows: Sequence[dict]) -> None: ...

    def fetch_all(self, stmt: ClauseElement) -> list[tuple]: ...


class DjangoStore:
    """The raw tables are in Django's database: run on its connection via the bridge."""

    def __init__(self) -> None:
        self.vendor = db.vendor()

    def execute(self, stmt: ClauseElement) -> int:
        return db.execute(stmt)

    def execute_many(self, stmt: ClauseElement, rows: Sequence[dict]) -> None:
        db.execute_many(stmt, rows)

    def fetch_all(self, stmt: ClauseElement) -> list[tuple]:
        return db.fetch_all(stmt)

    def insert_many(self, table: Table, rows: Sequence[dict]) -> None:
        """On PostgreSQL one ``INSERT ... SELECT FROM unnest(<one array per column>)``:
        psycopg2's executemany makes a round trip per row, and a multi-row VALUES costs
        SQLAlchemy a bind parameter per value to compile. SQLite runs in-process, where
        executemany is the fast way."""
        if self.vendor == "postgresql" and rows:
            db.execute(unnest_insert(table, rows))
        else:
            db.execute_many(insert(table), rows)

    def update_many(self, table: Table, rows: Sequence[dict]) -> None:
        """Rows of values keyed by ``b_id``; on PostgreSQL one ``UPDATE ... FROM unnest``."""
        if self.vendor == "postgresql" and rows:
            db.execute(unnest_update(table, rows))
        else:
            db.execute_many(update(table).where(table.c.id == bindparam("b_id")), rows)


class EngineStore:
    """The raw tables are in their own database: one SQLAlchemy connection in a transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.vendor = db.emr_vendor()

    def execute(self, stmt: ClauseElement) -> int:
        return self._conn.execute(stmt).rowcount

    def execute_many(self, stmt: ClauseElement, rows: Sequence[dict]) -> None:
        if rows:
            self._conn.execute(stmt, list(rows))

    def fetch_all(self, stmt: ClauseElement) -> list[tuple]:
        return [tuple(row) for row in self._conn.execute(stmt)]

    def insert_many(self, table: Table, rows: Sequence[dict]) -> None:
        """SQLAlchemy batches an executemany INSERT into multi-row statements itself."""
        self.execute_many(insert(table), rows)

    def update_many(self, table: Table, rows: Sequence[dict]) -> None:
        self.execute_many(update(table).where(table.c.id == bindparam("b_id")), rows)


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


@contextmanager
def emr_transaction() -> Iterator[Store]:
    """A :class:`Store` on the EMR database, committed when the block ends without error."""
    engine = db.emr_engine()
    if engine is None:
        from django.db import transaction

        with transaction.atomic():
            yield DjangoStore()
    else:
        with engine.begin() as conn:
            yield EngineStore(conn)


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
    store.insert_many(table, inserts)
    store.update_many(table, updates)
    return Outcome(len(inserts), len(updates), len(rows) - len(inserts) - len(updates))
