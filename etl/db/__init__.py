"""The only module that executes SQLAlchemy statements: the bridge to Django's connection.

Connection story (design "compile, then run on Django's cursor"):

- A statement is compiled for a dialect object that matches the Django backend of the
  alias (PostgreSQL: psycopg2, ``pyformat``; SQLite: pysqlite with ``format``, the style
  Django's SQLite cursor accepts even under its debug wrapper) with
  ``render_postcompile=True``, and the string runs with its parameters on
  ``django.db.connections[alias].cursor()``.
- SQLAlchemy therefore never holds a connection: it cannot commit, roll back or close
  anything. Whatever runs inside ``transaction.atomic()`` or a Django ``TestCase`` sees
  the same rows through the ORM and the ETL, and the test's rollback undoes the ETL's
  writes. Django's query log, ``assertNumQueries`` and its broken-transaction guard keep
  working, and ``override_settings`` and test databases just work because nothing is
  created at import time.
- Results come back as raw driver values (on SQLite: floats for decimals, strings for
  computed dates). Summary tables are read through Django models, which convert.
- When ``EMR_DATABASE_URL`` names another database, the raw side gets a real SQLAlchemy
  engine of its own (``pool_pre_ping``, ``pool_recycle``), created on first use and kept
  per URL; see :func:`emr_engine`. :func:`emr_session` gives loaders one transaction on the
  raw tables wherever they live, with the driver's cursor for bulk paths such as COPY.
  :func:`emr_snapshot` makes every read of the raw tables inside a block (the streamed
  summary rows, the gates' raw totals, the fingerprints) see one snapshot of them.
"""
from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any, Iterator, Sequence

from django.conf import settings
from django.db import connections, transaction
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.sql import ClauseElement

DEFAULT_ALIAS = "default"


class UnsupportedDatabase(RuntimeError):
    """The Django backend of an alias has no matching SQLAlchemy dialect here."""


@lru_cache(maxsize=None)
def _dialect(vendor: str, paramstyle: str | None) -> Dialect:
    if vendor == "postgresql":
        from sqlalchemy.dialects.postgresql.psycopg2 import PGDialect_psycopg2

        dialect = PGDialect_psycopg2(paramstyle=paramstyle) if paramstyle else PGDialect_psycopg2()
    elif vendor == "sqlite":
        from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

        dialect = SQLiteDialect_pysqlite(paramstyle=paramstyle or "format")
        # Render INSERT ... WITH ... so SQLite reports the rows an INSERT wrote (it
        # reports -1 for statements that start with WITH).
        dialect.cte_follows_insert = True
    else:
        raise UnsupportedDatabase(f"database vendor {vendor!r} is not supported (PostgreSQL, SQLite)")
    return dialect


def vendor(alias: str = DEFAULT_ALIAS) -> str:
    return connections[alias].vendor


def dialect_for(alias: str = DEFAULT_ALIAS) -> Dialect:
    """The execution dialect matching the Django backend of ``alias``."""
    return _dialect(vendor(alias), None)


def literal_dialect(vendor_name: str) -> Dialect:
    """A ``named``-paramstyle dialect for printing SQL: no ``%`` doubling in literals."""
    return _dialect(vendor_name, "named")


def compile_statement(stmt: ClauseElement, dialect: Dialect) -> tuple[str, Sequence[Any] | dict]:
    """SQL text and parameters for ``cursor.execute`` on a DBAPI of ``dialect``."""
    compiled = stmt.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    if dialect.positional:
        # DDL compilers have no positiontup (and no parameters).
        order = getattr(compiled, "positiontup", None) or []
        return compiled.string, [params[name] for name in order]
    return compiled.string, params


def literal_sql(stmt: ClauseElement, vendor_name: str) -> str:
    """The statement with every bound value inlined, runnable as is in psql or sqlite3."""
    compiled = stmt.compile(dialect=literal_dialect(vendor_name), compile_kwargs={"literal_binds": True})
    return compiled.string


def execute(stmt: ClauseElement, using: str = DEFAULT_ALIAS) -> int:
    """Run a statement on Django's connection; return the driver's row count."""
    sql, params = compile_statement(stmt, dialect_for(using))
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetch_all(stmt: ClauseElement, using: str = DEFAULT_ALIAS) -> list[tuple]:
    sql, params = compile_statement(stmt, dialect_for(using))
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def fetch_scalar(stmt: ClauseElement, using: str = DEFAULT_ALIAS) -> Any:
    rows = fetch_all(stmt, using)
    return rows[0][0] if rows else None


# Rows per round trip of execute_many on PostgreSQL.
EXECUTE_BATCH_PAGE = 500


def execute_many(stmt: ClauseElement, rows: Sequence[dict], using: str = DEFAULT_ALIAS) -> None:
    """Run one compiled INSERT for many rows of named values (``executemany``)."""
    if not rows:
        return
    dialect = dialect_for(using)
    compiled = stmt.compile(dialect=dialect, column_keys=list(rows[0]))
    if dialect.positional:
        order = compiled.positiontup
        params: list = [[row[name] for name in order] for row in rows]
    else:
        params = list(rows)
    with connections[using].cursor() as cursor:
        if dialect.name == "postgresql":
            # psycopg2's executemany sends one statement per row and waits for each: rows
            # streamed from another EMR database spent most of a build in round trips.
            # execute_batch sends them in pages, the same statement and parameters.
            from psycopg2.extras import execute_batch

            execute_batch(cursor.cursor, compiled.string, params, page_size=EXECUTE_BATCH_PAGE)
        else:
            cursor.executemany(compiled.string, params)


def execute_sql_script(statements: Sequence[str], using: str = DEFAULT_ALIAS) -> None:
    """Run already rendered statements (no parameters) on Django's connection."""
    with connections[using].cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


# --- the raw EMR database, when it is not Django's -------------------------------------

class BadDatabaseUrl(ValueError):
    """``EMR_DATABASE_URL`` is not a URL of a database this project can use."""


# The URL schemes DATABASE_URL accepts (dj-database-url) for the two databases supported,
# each mapped to the driver requirements.txt installs.
_DRIVERS = {
    "postgres": "postgresql+psycopg2", "postgresql": "postgresql+psycopg2", "pgsql": "postgresql+psycopg2",
    "postgresql+psycopg2": "postgresql+psycopg2", "sqlite": "sqlite", "sqlite+pysqlite": "sqlite",
}


def sqlalchemy_url(url: str) -> str:
    """The SQLAlchemy form of a database URL written as for ``DATABASE_URL``:
    ``postgres://``, ``postgresql://`` (and ``postgresql+psycopg2://``) use psycopg2,
    ``sqlite:///relative.db`` and ``sqlite:////absolute.db`` the standard library."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in _DRIVERS:
        shown = f"scheme {scheme!r}" if scheme else "no scheme"
        raise BadDatabaseUrl(
            f"EMR_DATABASE_URL has {shown}: use postgres://user@host:5432/name or sqlite:///path/to/file.sqlite3"
        )
    try:
        parsed = make_url(_DRIVERS[scheme] + url[len(scheme):])
    except ArgumentError as exc:
        raise BadDatabaseUrl(f"EMR_DATABASE_URL is not a database URL: {exc}") from None
    return parsed.render_as_string(hide_password=False)


def emr_url() -> str | None:
    """``EMR_DATABASE_URL`` in SQLAlchemy's form, or None when the raw tables live in
    Django's database."""
    url = getattr(settings, "EMR_DATABASE_URL", None) or None
    return sqlalchemy_url(url) if url else None


# Seconds a SQLite EMR database waits for another writer's lock before "database is locked".
SQLITE_BUSY_SECONDS = 20


@lru_cache(maxsize=4)
def _engine(url: str) -> Engine:
    connect_args = {"timeout": SQLITE_BUSY_SECONDS} if url.startswith("sqlite") else {}
    return create_engine(url, pool_pre_ping=True, pool_recycle=1800, future=True, connect_args=connect_args)


# The connection of the open :func:`emr_snapshot`, if any: raw reads go through it.
_snapshot: ContextVar[Connection | None] = ContextVar("emr_snapshot", default=None)


def emr_engine() -> Engine | None:
    url = emr_url()
    return _engine(url) if url else None


def emr_vendor() -> str:
    engine = emr_engine()
    if engine is None:
        return vendor(DEFAULT_ALIAS)
    return "postgresql" if engine.dialect.name == "postgresql" else engine.dialect.name


def emr_execute(stmt: ClauseElement) -> int:
    """Run a statement against the raw EMR tables, wherever they live."""
    engine = emr_engine()
    if engine is None:
        return execute(stmt)
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount


def emr_execute_many(stmt: ClauseElement, rows: Sequence[dict]) -> None:
    """``executemany`` of one statement against the raw EMR tables, wherever they live."""
    engine = emr_engine()
    if engine is None:
        execute_many(stmt, rows)
        return
    if rows:
        with engine.begin() as conn:
            conn.execute(stmt, list(rows))


def emr_fetch_all(stmt: ClauseElement) -> list[tuple]:
    engine = emr_engine()
    if engine is None:
        return fetch_all(stmt)
    snapshot = _snapshot.get()
    if snapshot is not None:
        return [tuple(row) for row in snapshot.execute(stmt)]
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(stmt)]


def emr_stream(stmt: ClauseElement, batch_size: int) -> Iterator[list[tuple]]:
    """Rows of a SELECT on the raw EMR database in batches, with a server-side cursor."""
    engine = emr_engine()
    if engine is None:
        raise RuntimeError("the raw EMR tables are in Django's database: use INSERT ... SELECT")
    snapshot = _snapshot.get()
    with (engine.connect() if snapshot is None else _borrowed(snapshot)) as conn:
        result = conn.execute(stmt, execution_options={"stream_results": True, "yield_per": batch_size})
        for partition in result.partitions(batch_size):
            yield [tuple(row) for row in partition]


@contextmanager
def _borrowed(conn: Connection) -> Iterator[Connection]:
    """The open snapshot's connection, left open when the block ends."""
    yield conn


@contextmanager
def emr_snapshot() -> Iterator[None]:
    """Within the block, every read of the separate EMR database sees one snapshot: one
    read-only transaction, REPEATABLE READ on PostgreSQL, a read transaction on SQLite
    (WAL readers keep their snapshot; otherwise the shared lock holds writers off). A
    no-op when the raw tables are in Django's database, whose build transaction already
    reads one snapshot."""
    engine = emr_engine()
    if engine is None or _snapshot.get() is not None:
        yield
        return
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # pysqlite opens no transaction for a SELECT: open one by hand, in autocommit mode.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("BEGIN")
        else:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            conn.begin()
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        token = _snapshot.set(conn)
        try:
            yield
        finally:
            _snapshot.reset(token)
            if engine.dialect.name == "sqlite":
                conn.exec_driver_sql("ROLLBACK")
            else:
                conn.rollback()


class EmrSession:
    """One open transaction on the raw EMR database (see :func:`emr_session`)."""

    def __init__(self, dialect: Dialect, conn: Connection | None):
        self.dialect = dialect
        self.vendor = dialect.name
        self._conn = conn

    def execute(self, stmt: ClauseElement) -> int:
        if self._conn is None:
            return execute(stmt)
        return self._conn.execute(stmt).rowcount

    def execute_many(self, stmt: ClauseElement, rows: Sequence[dict]) -> None:
        if self._conn is None:
            execute_many(stmt, rows)
        elif rows:
            self._conn.execute(stmt, list(rows))

    def fetch_all(self, stmt: ClauseElement) -> list[tuple]:
        if self._conn is None:
            return fetch_all(stmt)
        return [tuple(row) for row in self._conn.execute(stmt)]

    @contextmanager
    def dbapi_cursor(self) -> Iterator[Any]:
        """The driver's cursor inside this transaction, for bulk paths SQLAlchemy has no
        construct for (``copy_expert``, ``executemany`` of precompiled rows). Statements
        for it are compiled for :attr:`dialect`."""
        with _blocking_driver():
            with self._dbapi_cursor() as cursor:
                yield cursor

    @contextmanager
    def _dbapi_cursor(self) -> Iterator[Any]:
        if self._conn is None:
            with connections[DEFAULT_ALIAS].cursor() as wrapper:
                yield wrapper.cursor  # psycopg2's cursor; Django's SQLite cursor (format style)
            return
        cursor = self._conn.connection.dbapi_connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()


@contextmanager
def _blocking_driver() -> Iterator[None]:
    """Suspend psycopg2's wait callback, if a command installed one to make Ctrl-C cancel
    statements (``etl.management.interrupts``): COPY refuses to run under it."""
    from psycopg2.extensions import get_wait_callback, set_wait_callback

    previous = get_wait_callback()
    set_wait_callback(None)
    try:
        yield
    finally:
        set_wait_callback(previous)


@contextmanager
def emr_session() -> Iterator[EmrSession]:
    """One transaction on the raw EMR database: Django's ``atomic()`` when the raw tables
    are in Django's database, else one connection of the EMR engine. Committed when the
    block ends normally, rolled back when it raises."""
    engine = emr_engine()
    if engine is None:
        with transaction.atomic(using=DEFAULT_ALIAS):
            yield EmrSession(dialect_for(DEFAULT_ALIAS), None)
        return
    with engine.begin() as conn:
        yield EmrSession(engine.dialect, conn)
