"""The contract's rules for absurd raw values (CONTRACT 1, "Absurd values are dirt too"),
each written once, for every summary query, the publish gates and the data-quality report.

Import them from here:

- ``has_day(ts)`` / ``day_of(ts)``: whether a ``start_at`` has a day, and that day (NULL
  when it has none); ``date_part(ts)`` is ``day_of`` for rows already filtered by
  ``has_day``. A row without a day is counted nowhere. Spelled per database in
  :mod:`etl.queries.portable`: PostgreSQL rejects ``infinity``, BC and years past 9999;
  SQLite also rejects text that is not a canonical timestamp of a real date and time.
  An ``end_at`` is usable exactly when ``has_day(end_at)``: otherwise it counts as missing
  for a visit and makes a shift invalid.
- ``valid_duration(start, end)``: both have a day and ``0 <= end - start <= 24 hours``,
  exactly (fractions of a second included). A valid shift; a completed visit whose
  minutes count. ``ends_before(start, end)`` and ``lasts_over_a_day(start, end)`` are the
  two ways a pair of usable timestamps fails it.
- ``duration_seconds(start, end)``: the whole seconds of a valid duration, else NULL.
- ``hourly_cents(cost)``: ``hourly_cost`` in whole cents as PostgreSQL stores a
  NUMERIC(10,2) (on SQLite a value with more decimals is rounded half up from its decimal
  text, not its binary value: 1.005 is 101 cents); NULL when there is no such value (NULL;
  on SQLite also text, or beyond 99,999,999.99). ``cost_cents(cost)``: what an hour costs
  in a summary — the same, with NULL, negative or unreadable counting 0.
- ``id_value(column)``: a BIGINT id as PostgreSQL stores it: on SQLite, where the column
  may hold a REAL such as 102.5, rounded half away from zero (103), as PostgreSQL casts
  a number into a BIGINT; other values as they are.
- ``not_timestamp(ts)``, ``out_of_day_range(ts)``, ``infinite(ts)``: why a non-NULL
  timestamp has no day, for the report (exactly one holds when ``has_day`` does not).

Every predicate is true or false, never NULL, and guarded so that PostgreSQL never does
arithmetic on a timestamp without a day (``infinity - x`` or year 294276 + 1 day would
fail the statement): its ``CASE`` evaluates the arithmetic only after the guard.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ColumnElement, case, false, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from etl.queries.portable import (
    date_part, day_of, has_day, seconds_between, sqlite_timestamp_text, sqlite_whole_seconds,
)

__all__ = [
    "DAY_SECONDS", "MAX_HOURLY_CENTS", "cost_cents", "date_part", "day_of", "duration_seconds", "ends_before", "has_day",
    "hourly_cents", "id_value", "infinite", "lasts_over_a_day", "not_timestamp", "out_of_day_range", "valid_duration",
]

DAY_SECONDS = 24 * 3600
MAX_HOURLY_CENTS = 9_999_999_999
"""99,999,999.99, the largest NUMERIC(10,2), in cents."""


# --- durations -------------------------------------------------------------------------

class _end_after(FunctionElement):
    """``end - start > seconds``, exact; only for timestamps that have a day."""

    type = Boolean()
    name = "end_after"
    inherit_cache = False  # ``seconds`` is compiled into the text

    def __init__(self, start, end, seconds: int):
        self.seconds = int(seconds)
        super().__init__(start, end)


class _end_before(FunctionElement):
    """``end < start``, exact; only for timestamps that have a day."""

    type = Boolean()
    name = "end_before"
    inherit_cache = True


@compiles(_end_after, "postgresql")
def _end_after_pg(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"({end} > {start} + INTERVAL '{element.seconds} seconds')"


@compiles(_end_before, "postgresql")
def _end_before_pg(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"({end} < {start})"


def _sqlite_difference(element, compiler, offset: int, **kw) -> tuple[str, str]:
    """SQLite: (whole seconds of ``end - start - offset``, the difference of the fractions).

    Whole seconds from the first 19 characters, fractions as numbers, so '.5' and '.50'
    are equal (text comparison would order them); the fraction difference is within
    (-1, 1), so it decides only when the whole seconds are equal."""
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    whole = f"({sqlite_whole_seconds(start, end)} - {offset})" if offset else sqlite_whole_seconds(start, end)
    fraction = f"(CAST(substr({end}, 20) AS REAL) - CAST(substr({start}, 20) AS REAL))"
    return whole, fraction


@compiles(_end_after, "sqlite")
def _end_after_sqlite(element, compiler, **kw):
    whole, fraction = _sqlite_difference(element, compiler, element.seconds, **kw)
    return f"({whole} > 0 OR ({whole} = 0 AND {fraction} > 0))"


@compiles(_end_before, "sqlite")
def _end_before_sqlite(element, compiler, **kw):
    whole, fraction = _sqlite_difference(element, compiler, 0, **kw)
    return f"({whole} < 0 OR ({whole} = 0 AND {fraction} < 0))"


class _within_a_day(FunctionElement):
    """``0 <= end - start <= 24 hours``, exact; only for timestamps that have a day."""

    type = Boolean()
    name = "within_a_day"
    inherit_cache = True


@compiles(_within_a_day, "postgresql")
def _within_a_day_pg(element, compiler, **kw):
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"({end} >= {start} AND {end} <= {start} + INTERVAL '{DAY_SECONDS} seconds')"


@compiles(_within_a_day, "sqlite")
def _within_a_day_sqlite(element, compiler, **kw):
    whole, fraction = _sqlite_difference(element, compiler, 0, **kw)
    # BETWEEN evaluates the difference once: the usual case costs one pair of julianday().
    return (
        f"CASE WHEN {whole} BETWEEN 1 AND {DAY_SECONDS - 1} THEN 1 WHEN {whole} = 0 THEN {fraction} >= 0"
        f" WHEN {whole} = {DAY_SECONDS} THEN {fraction} <= 0 ELSE 0 END"
    )


class _both_have_days(FunctionElement):
    """``has_day(start) AND has_day(end)``; with ``start_checked``, SQLite skips the start
    (the query's WHERE requires it, and there each check parses text). PostgreSQL always
    checks both: its WHERE conditions run in any order, so the guard must stand alone."""

    type = Boolean()
    name = "both_have_days"
    inherit_cache = False  # ``start_checked`` changes the text

    def __init__(self, start, end, start_checked: bool):
        self.start_checked = start_checked
        super().__init__(start, end)


@compiles(_both_have_days)
def _both_have_days_sql(element, compiler, **kw):
    start, end = element.clauses
    end_ok = compiler.process(has_day(end), **kw)
    if element.start_checked and compiler.dialect.name == "sqlite":
        return end_ok
    return f"({compiler.process(has_day(start), **kw)} AND {end_ok})"


def _guarded(start, end, predicate, start_has_day: bool = False) -> ColumnElement[bool]:
    """``predicate`` when both timestamps have a day, else false (evaluated in that order).
    ``start_has_day``: the caller's WHERE already requires ``has_day(start)``."""
    return case((_both_have_days(start, end, start_has_day), predicate), else_=false())


def ends_before(start, end) -> ColumnElement[bool]:
    """Both have a day and ``end`` is before ``start``."""
    return _guarded(start, end, _end_before(start, end))


def lasts_over_a_day(start, end) -> ColumnElement[bool]:
    """Both have a day and ``end`` is more than 24 hours after ``start``."""
    return _guarded(start, end, _end_after(start, end, DAY_SECONDS))


def valid_duration(start, end, *, start_has_day: bool = False) -> ColumnElement[bool]:
    """Both have a day and ``0 <= end - start <= 24 hours`` (CONTRACT 1 and 2).
    ``start_has_day=True`` when the query's WHERE already requires ``has_day(start)``:
    the start is not checked twice."""
    return _guarded(start, end, _within_a_day(start, end), start_has_day)


def duration_seconds(start, end, *, start_has_day: bool = False) -> ColumnElement:
    """Whole seconds from ``start`` to ``end`` when the duration is valid, else NULL:
    0 .. 86,400."""
    return case((valid_duration(start, end, start_has_day=start_has_day), seconds_between(start, end)))


# --- money -----------------------------------------------------------------------------

class hourly_cents(FunctionElement):
    type = BigInteger()
    name = "hourly_cents"
    inherit_cache = True


@compiles(hourly_cents, "postgresql")
def _hourly_cents_pg(element, compiler, **kw):
    (cost,) = element.clauses
    # NUMERIC(10,2): exact, and at most MAX_HOURLY_CENTS in magnitude.
    return f"CAST({compiler.process(cost, **kw)} * 100 AS BIGINT)"


@compiles(hourly_cents, "sqlite")
def _hourly_cents_sqlite(element, compiler, **kw):
    (cost,) = element.clauses
    x = compiler.process(cost, **kw)
    dot, five = compiler.process(literal("."), **kw), compiler.process(literal("5"), **kw)
    # A REAL's text is its shortest decimal (at most 15 significant digits): what was
    # loaded. From 1e-4 to 1e9 it is plain 'digits.digits'; below rounds to 0 cents.
    text = f"CAST(abs({x}) AS TEXT)"
    point = f"instr({text}, {dot})"
    fraction = f"(substr({text}, {point} + 1) || '000')"
    parsed = (
        f"(CAST(substr({text}, 1, {point} - 1) AS INTEGER) * 100"
        f" + CAST(substr({fraction}, 1, 2) AS INTEGER) + (substr({fraction}, 3, 1) >= {five}))"
    )
    cents = (
        f"CASE typeof({x}) WHEN 'integer' THEN {x} * 100"
        f" WHEN 'real' THEN CASE WHEN abs({x}) < 0.0001 THEN 0 WHEN abs({x}) < 1000000000"
        f" THEN (CASE WHEN {x} < 0 THEN -1 ELSE 1 END) * {parsed} END END"
    )
    return f"CASE WHEN abs({cents}) <= {MAX_HOURLY_CENTS} THEN {cents} END"


def cost_cents(cost) -> ColumnElement:
    """Cents an hour costs in a summary: :func:`hourly_cents`, with NULL, negative and
    unreadable costs counting 0 (CONTRACT 2); 0 .. ``MAX_HOURLY_CENTS``."""
    cents = hourly_cents(cost)
    return case((cents > 0, cents), else_=0)


# --- ids ---------------------------------------------------------------------------------

class id_value(FunctionElement):
    type = BigInteger()
    name = "id_value"
    inherit_cache = True


@compiles(id_value, "postgresql")
def _id_value_pg(element, compiler, **kw):
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(id_value, "sqlite")
def _id_value_sqlite(element, compiler, **kw):
    (column,) = element.clauses
    x = compiler.process(column, **kw)
    # INTEGER affinity already turns 102.0 and '102' into 102: only a fraction stays REAL.
    return f"CASE WHEN typeof({x}) = 'real' THEN CAST(round({x}) AS INTEGER) ELSE {x} END"


# --- why a timestamp has no day (for the report) -----------------------------------------

class _timestamp_fault(FunctionElement):
    type = Boolean()
    name = "timestamp_fault"
    inherit_cache = False  # ``kind`` is compiled into the text

    def __init__(self, ts, kind: str):
        self.kind = kind
        super().__init__(ts)


@compiles(_timestamp_fault, "postgresql")
def _fault_pg(element, compiler, **kw):
    (ts,) = element.clauses
    value = compiler.process(ts, **kw)
    if element.kind == "text":  # a TIMESTAMP column holds timestamps only
        return "false"
    if element.kind == "infinity":
        return f"({value} IS NOT NULL AND NOT isfinite({value}))"
    return f"({value} IS NOT NULL AND isfinite({value}) AND NOT {compiler.process(has_day(ts), **kw)})"


@compiles(_timestamp_fault, "sqlite")
def _fault_sqlite(element, compiler, **kw):
    (ts,) = element.clauses
    value = compiler.process(ts, **kw)
    canonical = sqlite_timestamp_text(value, compiler, **kw)
    if element.kind == "text":
        return f"({value} IS NOT NULL AND NOT {canonical})"
    if element.kind == "infinity":  # text 'infinity' is not a timestamp: kind "text"
        return "0"
    return f"({canonical} AND NOT {compiler.process(has_day(ts), **kw)})"


def not_timestamp(ts) -> ColumnElement[bool]:
    """SQLite: set, but not canonical text of a real date and time (never on PostgreSQL)."""
    return _timestamp_fault(ts, "text")


def out_of_day_range(ts) -> ColumnElement[bool]:
    """A finite timestamp whose day is before 0001-01-01 or after 9999-12-31."""
    return _timestamp_fault(ts, "range")


def infinite(ts) -> ColumnElement[bool]:
    """PostgreSQL's ``infinity`` or ``-infinity`` (never on SQLite)."""
    return _timestamp_fault(ts, "infinity")
