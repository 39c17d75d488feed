"""Wall-clock date and timestamp types that read and write the text Django uses.

EMR timestamps are naive clinic wall-clock times. SQLAlchemy's stock SQLite DateTime
writes ``.000000`` after the seconds, so its binds and literals compare wrongly against
text stored as ``YYYY-MM-DD HH:MM:SS`` (the format Django and the importers write). These
types write exactly that format, read both strings and datetimes, and render literals that
``psql`` and ``sqlite3`` accept as typed values (``TIMESTAMP '...'`` on PostgreSQL: an
untyped string literal inside a CTE is ``text`` there, not a timestamp).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import types


def timestamp_text(value: dt.datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` with microseconds only when there are any (Django's format)."""
    return value.isoformat(sep=" ")


class _WallClock(types.TypeDecorator):
    cache_ok = True
    python_type_: type
    sql_keyword: str

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(types.String())
        return dialect.type_descriptor(self.impl)

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        return self._to_text(value)

    def process_result_value(self, value, dialect):
        if value is None or not isinstance(value, str):
            return value
        return self._from_text(value)

    def literal_processor(self, dialect):
        keyword = "" if dialect.name == "sqlite" else f"{self.sql_keyword} "

        def render(value) -> str:
            return f"{keyword}'{self._to_text(value)}'"

        return render


class WallClockTimestamp(_WallClock):
    """A naive ``TIMESTAMP`` (clinic wall-clock time)."""

    impl = types.DateTime
    cache_ok = True
    sql_keyword = "TIMESTAMP"

    @staticmethod
    def _to_text(value) -> str:
        if isinstance(value, dt.datetime):
            return timestamp_text(value.replace(tzinfo=None))
        if isinstance(value, dt.date):
            return timestamp_text(dt.datetime.combine(value, dt.time()))
        return str(value)

    @staticmethod
    def _from_text(value: str) -> dt.datetime:
        return dt.datetime.fromisoformat(value)


class WallClockDate(_WallClock):
    """A ``DATE``."""

    impl = types.Date
    cache_ok = True
    sql_keyword = "DATE"

    @staticmethod
    def _to_text(value) -> str:
        if isinstance(value, dt.datetime):
            value = value.date()
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    @staticmethod
    def _from_text(value: str) -> dt.date:
        return dt.date.fromisoformat(value[:10])
