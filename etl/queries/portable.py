"""SQL constructs whose spelling differs between PostgreSQL and SQLite.

Each is one SQLAlchemy element compiled per dialect, so a query is written once.

- ``day_of(ts)``: the date part of a wall-clock timestamp. PostgreSQL casts; SQLite uses
  ``DATE()`` (``CAST(... AS DATE)`` there yields the integer year, silently).
- ``seconds_between(start, end)``: whole seconds from ``start`` to ``end``, each
  timestamp read to the second (fractions of a second are dropped), as an integer.
- ``round_half_up(n, d)``: the whole number nearest ``n / d``, halves rounded up, exact:
  in integer arithmetic on both databases (SQLite's REAL arithmetic would make
  ``ROUND(18.575, 2)`` depend on binary representation; PostgreSQL's ``numeric`` is exact
  but several times slower per row). ``n`` and ``d`` must be integers, ``d > 0`` and
  ``n >= 0``: counts, seconds and cents are.
- ``shift_decimal(units, places)``: ``units / 10**places`` as a decimal number, so a
  quantity counted in whole hundredths becomes its 2-decimal value.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Date, Numeric, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class day_of(FunctionElement):
    type = Date()
    name = "day_of"
    inherit_cache = True


@compiles(day_of, "postgresql")
def _day_of_pg(element, compiler, **kw):
    (ts,) = element.clauses
    return f"CAST({compiler.process(ts, **kw)} AS DATE)"


@compiles(day_of, "sqlite")
def _day_of_sqlite(element, compiler, **kw):
    (ts,) = element.clauses
    return f"DATE({compiler.process(ts, **kw)})"


class seconds_between(FunctionElement):
    type = BigInteger()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_pg(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # Whole seconds as BIGINT: integer sums and rounding are exact and far cheaper than
    # the numeric that EXTRACT returns.
    return (
        f"CAST(EXTRACT(EPOCH FROM (date_trunc('second', {end}) - date_trunc('second', {start}))) AS BIGINT)"
    )


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    start, end = element.clauses
    # strftime's format is a bound value, so '%s' is escaped correctly for every paramstyle.
    fmt = compiler.process(literal("%s"), **kw)
    return (
        f"(CAST(strftime({fmt}, {compiler.process(end, **kw)}) AS INTEGER)"
        f" - CAST(strftime({fmt}, {compiler.process(start, **kw)}) AS INTEGER))"
    )


class round_half_up(FunctionElement):
    type = BigInteger()
    name = "round_half_up"
    inherit_cache = True


@compiles(round_half_up)
def _round_half_up(element, compiler, **kw):
    n, d = (compiler.process(c, **kw) for c in element.clauses)
    # floor((2n + d) / 2d) = floor(n/d + 1/2), in integer division on both databases.
    # Both operands as BIGINT: PostgreSQL's sum() returns numeric, where / would not truncate.
    return f"((CAST({n} AS BIGINT) * 2 + CAST({d} AS BIGINT)) / (2 * CAST({d} AS BIGINT)))"


class shift_decimal(FunctionElement):
    type = Numeric()
    name = "shift_decimal"
    # ``places`` is compiled into the SQL text, not bound: keep it out of the statement cache.
    inherit_cache = False

    def __init__(self, units, places: int):
        self.places = places
        super().__init__(units)


@compiles(shift_decimal)
def _shift_decimal(element, compiler, **kw):
    (units,) = element.clauses
    divisor = f"{10 ** element.places}.0" if compiler.dialect.name == "sqlite" else f"{10 ** element.places}"
    cast = "" if compiler.dialect.name == "sqlite" else "NUMERIC"
    inner = compiler.process(units, **kw)
    return f"(CAST({inner} AS {cast}) / {divisor})" if cast else f"(({inner}) / {divisor})"


def rounded_quotient(numerator, denominator, places: int):
    """``numerator / denominator`` rounded half up to ``places`` decimals, exactly."""
    return shift_decimal(round_half_up(numerator * (10 ** places), denominator), places)
