"""SQL constructs whose spelling differs between PostgreSQL and SQLite.

Each is one SQLAlchemy element compiled per dialect, so a query is written once.

- ``has_day(ts)``: ``ts`` is a timestamp whose day lies in 0001-01-01 .. 9999-12-31
  (CONTRACT 1). On PostgreSQL: within those bounds, so never ``infinity``, BC or a year
  past 9999. On SQLite, where a column's type does not bind its content: text
  ``YYYY-MM-DD HH:MM:SS`` (optionally ``.`` and digits) naming a real date and time, year
  0001 or later. Never NULL: false for a NULL ``ts``.
- ``day_of(ts)``: the date part of such a timestamp, NULL when ``ts`` has no day.
  ``date_part(ts)`` is the same without the check, for rows a query has already filtered
  with ``has_day`` (it saves SQLite a second parse of every row). PostgreSQL casts; SQLite
  takes the text's first ten characters (``CAST(... AS DATE)`` there yields the integer
  year, silently).
- ``seconds_between(start, end)``: whole seconds from ``start`` to ``end``, each
  timestamp read to the second (fractions of a second are dropped), as an integer. Only
  for timestamps that have a day (guard it with :mod:`etl.queries.validity`).
- ``round_half_up(n, d)``: the whole number nearest ``n / d``, halves rounded up, exact:
  in integer arithmetic on both databases (SQLite's REAL arithmetic would make
  ``ROUND(18.575, 2)`` depend on binary representation; PostgreSQL's ``numeric`` is exact
  but several times slower per row). ``n`` and ``d`` must be integers, ``d > 0`` and
  ``n >= 0``: counts, seconds and cents are. Written as ``n / d`` plus one when the
  remainder is at least half of ``d``, so no intermediate exceeds ``n`` or ``2d``: exact
  for every ``n`` and ``d`` below 2**62.
- ``shift_decimal(units, places)``: ``units / 10**places`` as a decimal number, so a
  quantity counted in whole hundredths becomes its 2-decimal value.
- ``one_row_per(query, key)``: a query whose rows are already one per ``key``, saying
  so: ``DISTINCT ON (key)`` on PostgreSQL, plain ``DISTINCT`` on SQLite (which has no
  ``DISTINCT ON``). No row changes; PostgreSQL's planner learns the key is unique, which
  it cannot tell of a recursive CTE's output (:func:`one_row_per`).
- ``OnPostgres(postgresql, other)``: one expression on PostgreSQL, another on every other
  database, for a computation that is best written differently on each (the scores'
  exact ``numeric`` sums, :mod:`etl.summaries.windowing`).
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ColumnElement, Date, Numeric, Select, case, cast, literal
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.dialects.postgresql.ext import DistinctOnClause
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.visitors import InternalTraversal

from etl.db.types import WallClockTimestamp


FIRST_TIMESTAMP = dt.datetime(1, 1, 1)
LAST_TIMESTAMP = dt.datetime(9999, 12, 31, 23, 59, 59, 999999)


class has_day(FunctionElement):
    type = Boolean()
    name = "has_day"
    inherit_cache = True


@compiles(has_day, "postgresql")
def _has_day_pg(element, compiler, **kw):
    (ts,) = element.clauses
    value = compiler.process(ts, **kw)
    first = compiler.process(literal(FIRST_TIMESTAMP, WallClockTimestamp()), **kw)
    last = compiler.process(literal(LAST_TIMESTAMP, WallClockTimestamp()), **kw)
    # Both bounds are false for NULL and for 'infinity' / '-infinity'.
    return f"({value} IS NOT NULL AND {value} >= {first} AND {value} <= {last})"


def sqlite_timestamp_text(value: str, compiler, **kw) -> str:
    """SQLite: ``value`` (compiled SQL) is canonical timestamp text of a real date and time.

    The first 19 characters must survive SQLite's own parse and print unchanged: through
    julianday() and back, the date is recomputed, so 2023-02-29, 24:00:00, a 'T' separator
    or a missing seconds field change and fail (and this costs about half of strftime with a
    format). What follows may only be ``.`` and one or more digits. ``IS`` keeps the result
    true or false, never NULL."""
    dot, digits = compiler.process(literal("."), **kw), compiler.process(literal("*[^0-9]*"), **kw)
    head = f"substr({value}, 1, 19)"
    return (
        f"(typeof({value}) = 'text'"
        f" AND (length({value}) = 19 OR (length({value}) > 20 AND substr({value}, 20, 1) = {dot}"
        f" AND substr({value}, 21) NOT GLOB {digits}))"
        f" AND datetime(julianday({head})) IS {head})"
    )


@compiles(has_day, "sqlite")
def _has_day_sqlite(element, compiler, **kw):
    (ts,) = element.clauses
    value = compiler.process(ts, **kw)
    # Canonical text compares as its time: the year 0000, which SQLite accepts, sorts first.
    first = compiler.process(literal("0001-01-01"), **kw)
    return f"({sqlite_timestamp_text(value, compiler, **kw)} AND {value} >= {first})"


class date_part(FunctionElement):
    type = Date()
    name = "date_part"
    inherit_cache = True


@compiles(date_part, "postgresql")
def _date_part_pg(element, compiler, **kw):
    (ts,) = element.clauses
    return f"CAST({compiler.process(ts, **kw)} AS DATE)"


@compiles(date_part, "sqlite")
def _date_part_sqlite(element, compiler, **kw):
    (ts,) = element.clauses
    return f"substr({compiler.process(ts, **kw)}, 1, 10)"


class day_of(FunctionElement):
    type = Date()
    name = "day_of"
    inherit_cache = True


@compiles(day_of)
def _day_of(element, compiler, **kw):
    (ts,) = element.clauses
    return f"CASE WHEN {compiler.process(has_day(ts), **kw)} THEN {compiler.process(date_part(ts), **kw)} END"


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


def sqlite_whole_seconds(start: str, end: str) -> str:
    """SQLite: whole seconds from ``start`` to ``end`` (compiled SQL of canonical text).

    Only the first 19 characters: SQLite rounds a fraction of .9995 or more up to the next
    second, where PostgreSQL's date_trunc drops it. julianday() is a REAL of days (its
    error near year 9999 is below 1e-9 days, 0.1 ms), so the rounded product is exact for
    whole seconds, and it costs a third of strftime('%s')."""
    return f"CAST(round((julianday(substr({end}, 1, 19)) - julianday(substr({start}, 1, 19))) * 86400) AS INTEGER)"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return sqlite_whole_seconds(start, end)


def round_half_up(n, d) -> ColumnElement:
    """The whole number nearest ``n / d``, halves rounded up (see the module docstring)."""
    # floor(n/d + 1/2) = n / d + (1 when 2 * (n % d) >= d), in integer division on both
    # databases; no intermediate exceeds max(n, 2d). Both operands as BIGINT: PostgreSQL's
    # sum() returns numeric, where / would not truncate.
    n, d = cast(n, BigInteger), cast(d, BigInteger)
    return n // d + case((2 * (n % d) >= d, 1), else_=0)


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
    """``numerator / denominator`` rounded half up to ``places`` decimals, exactly.

    Split as ``q * 10**places + round(r * 10**places / denominator)`` (``q``, ``r``: the
    integer quotient and remainder) so the scaled numerator is never formed: with
    ``numerator`` up to 10**16 (a NUMERIC(16,2) total in cents) and 4 places it would
    pass 2**63."""
    scale = 10 ** places
    quotient = cast(numerator, BigInteger) // cast(denominator, BigInteger)
    remainder = cast(numerator, BigInteger) % cast(denominator, BigInteger)
    return shift_decimal(quotient * scale + round_half_up(remainder * scale, denominator), places)


def relative_change(value, base, places: int):
    """``(value − base) / base`` to ``places`` decimals, a half rounded away from zero,
    exactly (integers ``value`` >= 0 and ``base`` > 0: rounding the magnitude half up)."""
    scale = 10 ** places
    up = shift_decimal(round_half_up((value - base) * scale, base), places)
    down = shift_decimal(round_half_up((base - value) * scale, base), places)
    return case((value >= base, up), else_=-down)


def one_row_per(query: Select, key: ColumnElement) -> Select:
    """``query``, whose rows are already one per ``key``, with ``DISTINCT ON (key)`` on
    PostgreSQL: the same rows, and a key the planner knows to be unique where the query is
    joined (its statistics otherwise guess that a tenth of the rows share each value of a
    key read from a recursive CTE, and it hashes the million rows joined to it instead of
    the few hundred of the query). On SQLite, plain ``DISTINCT``: the same rows too."""
    return query.ext(distinct_on(key))


@compiles(DistinctOnClause, "sqlite")
def _distinct_on_sqlite(element, compiler, **kw):
    return ""  # SQLite has no DISTINCT ON; the statement stays a plain SELECT DISTINCT


class OnPostgres(ColumnElement):
    """``postgresql`` on PostgreSQL, ``other`` on every other database (one declaration,
    compiled for either)."""

    inherit_cache = True
    _traverse_internals = [("postgresql", InternalTraversal.dp_clauseelement),
                           ("other", InternalTraversal.dp_clauseelement)]

    def __init__(self, postgresql: ColumnElement, other: ColumnElement):
        self.postgresql, self.other = postgresql, other
        self.type = other.type

    @property
    def _from_objects(self):
        return self.other._from_objects


@compiles(OnPostgres)
def _on_postgres_other(element: OnPostgres, compiler, **kw) -> str:
    return compiler.process(element.other, **kw)


@compiles(OnPostgres, "postgresql")
def _on_postgres_pg(element: OnPostgres, compiler, **kw) -> str:
    return compiler.process(element.postgresql, **kw)
