"""Calendar-day windows, portable: an integer day number for ``RANGE`` frames, and the
predicate "a day column falls in the build window".

A ``RANGE`` frame with a date or interval offset does not port (PostgreSQL rejects it
on a ``date``; SQLite frames text dates wrongly, silently). Over an integer day number
it does, and counts calendar days where a ``ROWS`` frame would count rows.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import ColumnElement, Integer, and_, false, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from etl.dates import DateRange
from etl.db.types import WallClockDate


class day_number(FunctionElement):
    """Days since a fixed epoch, as an integer, for a ``DATE`` (or SQLite date text)."""

    type = Integer()
    name = "day_number"
    inherit_cache = True


@compiles(day_number, "postgresql")
def _day_number_pg(element, compiler, **kw):
    (day,) = element.clauses
    # date - date is an integer number of days on PostgreSQL.
    return f"(CAST({compiler.process(day, **kw)} AS DATE) - DATE '1970-01-01')"


@compiles(day_number, "sqlite")
def _day_number_sqlite(element, compiler, **kw):
    (day,) = element.clauses
    # julianday() of a date is noon-based (N.5): subtracting 1970-01-01's gives whole days.
    return f"CAST(julianday({compiler.process(day, **kw)}) - 2440587.5 AS INTEGER)"


def day_in(day: ColumnElement, window: Sequence[DateRange]) -> ColumnElement[bool]:
    """Predicate "``day`` is one of the window's days"."""
    if not window:
        return false()
    # ``day <= last`` rather than ``day < end``: a range may run to 9999-12-31 (an open end).
    return or_(*(
        and_(day >= literal(r.start, WallClockDate()), day <= literal(r.last, WallClockDate())) for r in window
    ))
