"""Bulk writes into the raw tables, wherever they live, in one transaction.

Per-row statements would take minutes for a million visits, so rows go in by the chunk:
PostgreSQL gets ``COPY ... FROM STDIN`` in text format (psycopg2's ``copy_expert``),
SQLite one ``executemany`` of the INSERT compiled from the SQLAlchemy Table. Table and
column names always come from the Table objects, quoted by the dialect; values never
become SQL text.

The writes run in one :func:`etl.db.emr_session`: Django's connection inside
``atomic()``, or one connection of the EMR engine, committed at the end or rolled back on
any error.
"""
from __future__ import annotations

import io
from contextlib import contextmanager
from typing import Any, Iterator, Protocol, Sequence

from sqlalchemy import Numeric, delete, insert
from sqlalchemy.schema import DropTable, Table

from etl import db
from etl.db.tables import SYNTHEA_ID_MAP

NULL = "\\N"
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class RawWriter(Protocol):
    def clear(self, table: Table) -> None: ...

    def forget_imported_ids(self) -> None: ...

    def write(self, table: Table, rows: Sequence[tuple]) -> None: ...

    def finish(self, tables: Sequence[Table]) -> None: ...


def copy_text(rows: Sequence[tuple], width: int) -> str:
    """Rows in PostgreSQL's COPY text format. Values are written as they are, and
    escaped only when the result shows a tab, newline or backslash inside a value."""
    text = "".join(["\t".join([NULL if v is None else str(v) for v in row]) + "\n" for row in rows])
    nulls = sum(row.count(None) for row in rows)
    if (text.count("\t") == len(rows) * (width - 1) and text.count("\n") == len(rows)
            and text.count("\\") == nulls and "\r" not in text):
        return text
    return "".join([
        "\t".join([NULL if v is None else str(v).translate(COPY_ESCAPES) for v in row]) + "\n" for row in rows
    ])


class _SessionWriter:
    """What both writers share: the session, its driver cursor, clearing tables."""

    def __init__(self, session: db.EmrSession, cursor: Any) -> None:
        self.session, self.cursor, self.dialect = session, cursor, session.dialect

    def clear(self, table: Table) -> None:
        self.session.execute(delete(table))

    def forget_imported_ids(self) -> None:
        """The Synthea id map describes rows that are gone: drop it with them."""
        self.session.execute(DropTable(SYNTHEA_ID_MAP, if_exists=True))


class CopyWriter(_SessionWriter):
    """PostgreSQL: ``COPY`` each chunk from an in-memory text buffer."""

    def __init__(self, session: db.EmrSession, cursor: Any) -> None:
        if not hasattr(cursor, "copy_expert"):
            raise db.UnsupportedDatabase("generate_emr needs psycopg2 (cursor.copy_expert) on PostgreSQL")
        super().__init__(session, cursor)

    def write(self, table: Table, rows: Sequence[tuple]) -> None:
        quote = self.dialect.identifier_preparer
        columns = ", ".join(quote.format_column(c) for c in table.columns)
        sql = f"COPY {quote.format_table(table)} ({columns}) FROM STDIN"
        self.cursor.copy_expert(sql, io.StringIO(copy_text(rows, len(table.columns))))

    def finish(self, tables: Sequence[Table]) -> None:
        """Fresh planner statistics, so the first build after a load plans well."""
        quote = self.dialect.identifier_preparer
        for table in tables:
            self.cursor.execute(f"ANALYZE {quote.format_table(table)}")


class InsertWriter(_SessionWriter):
    """SQLite: ``executemany`` of the Table's compiled INSERT for each chunk."""

    def write(self, table: Table, rows: Sequence[tuple]) -> None:
        names = [c.name for c in table.columns]
        compiled = insert(table).compile(dialect=self.dialect, column_keys=names)
        if list(compiled.positiontup) != names:
            raise RuntimeError(f"{table.name}: INSERT parameters are not in column order")
        decimals = [i for i, c in enumerate(table.columns) if isinstance(c.type, Numeric)]
        if decimals:
            rows = [_decimals_as_text(row, decimals) for row in rows]
        self.cursor.executemany(compiled.string, rows)

    def finish(self, tables: Sequence[Table]) -> None:
        return None


def _decimals_as_text(row: tuple, positions: list[int]) -> tuple:
    """SQLite's driver has no Decimal type: pass the exact text (stored as NUMERIC)."""
    values = list(row)
    for i in positions:
        if values[i] is not None:
            values[i] = str(values[i])
    return tuple(values)


def _writer(session: db.EmrSession, cursor: Any) -> RawWriter:
    if session.vendor == "postgresql":
        return CopyWriter(session, cursor)
    if session.vendor == "sqlite":
        return InsertWriter(session, cursor)
    raise db.UnsupportedDatabase(f"generate_emr supports PostgreSQL and SQLite, not {session.vendor}")


@contextmanager
def raw_writer() -> Iterator[RawWriter]:
    """A writer on the EMR database inside one transaction: committed when the block
    ends normally, rolled back when it raises."""
    with db.emr_session() as session, session.dbapi_cursor() as cursor:
        yield _writer(session, cursor)
