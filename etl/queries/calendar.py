"""Calendar arithmetic on ``DATE`` values, spelled per dialect (CONTRACT section 4).

- ``day_number(day)`` (from :mod:`etl.queries.windows`): days since 1970-01-01 as an
  integer, for ``RANGE`` frames.
- ``month_start(day)``: the first day of the day's month, as a date.
- ``day_filter(day, window, days_before)``: ``day`` is one of the window's days, or of the
  ``days_before`` days before each of its ranges.
- ``month_number(day)``: ``year * 12 + month``, so the calendar month just before is
  ``month_number - 1`` (a previous *row* may be months earlier).
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from sqlalchemy import Date, Integer, and_, false, literal, or_
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from etl.dates import DateRange


class month_start(FunctionElement):
    type = Date()
    name = "month_start"
    inherit_cache = True


@compiles(month_start, "postgresql")
def _month_start_pg(element, compiler, **kw):
    (day,) = element.clauses
    return f"CAST(date_trunc('month', {compiler.process(day, **kw)}) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element, compiler, **kw):
    (day,) = element.clauses
    modifier = compiler.process(literal("start of month"), **kw)
    return f"date({compiler.process(day, **kw)}, {modifier})"


class month_number(FunctionElement):
    type = Integer()
    name = "month_number"
    inherit_cache = True


@compiles(month_number, "postgresql")
def _month_number_pg(element, compiler, **kw):
    (day,) = element.clauses
    d = compiler.process(day, **kw)
    return f"CAST(EXTRACT(YEAR FROM {d}) * 12 + EXTRACT(MONTH FROM {d}) AS INTEGER)"


@compiles(month_number, "sqlite")
def _month_number_sqlite(element, compiler, **kw):
    (day,) = element.clauses
    d = compiler.process(day, **kw)
    year, month = (compiler.process(literal(f), **kw) for f in ("%Y", "%m"))
    return f"(CAST(strftime({year}, {d}) AS INTEGER) * 12 + CAST(strftime({month}, {d}) AS INTEGER))"


def day_filter(day, window: Sequence[DateRange] | None, days_before: int = 0):
    """``day`` falls in one of the window's ranges, each widened ``days_before`` back."""
    if window is None:
        return None
    if not window:
        return false()
    # ``day <= r.last`` rather than ``day < r.end``: a range may run to 9999-12-31 (open end),
    # and widening stops at 0001-01-01.
    return or_(*(and_(day >= _days_back(r.start, days_before), day <= r.last) for r in window))


def _days_back(day: dt.date, days: int) -> dt.date:
    return day - dt.timedelta(days=days) if (day - dt.date.min).days >= days else dt.date.min
