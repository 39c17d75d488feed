"""The (day, key) pairs of a partial rebuild (:class:`etl.dates.Cells`) in SQL: a
``VALUES`` list of bound values, named once per statement as the CTE ``rebuilt_cells``,
and the predicate "this row's (day, key) is one of them".

``(day, key) IN (SELECT day, key FROM rebuilt_cells)`` is a semi-join: PostgreSQL hashes
the pairs (a list of row values in ``IN (…)`` would be compared one by one), and SQLite
(3.15 and later) reads row values the same way. Both read the ``VALUES`` of a CTE with a
column list; callers keep a statement's pairs to ``CELLS_PER_STATEMENT``, well below
SQLite's limit on bound values.

A key may be NULL (region NULL is one region, CONTRACT 4), which no ``IN`` or ``=``
matches. Pairs with a NULL key carry a third column, ``null_key``: the pair (day, NULL)
is the row (day, 0, true) and a row's key is compared as (coalesce(key, 0), key IS NULL),
so NULL matches only NULL and a real id 0 (ids are any BIGINT) never matches it: the same
hashed semi-join, with NULL as a value. Pairs without a NULL key keep two columns.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ColumnElement, Date, cast, column, func, literal, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.selectable import CTE, Values

from etl.dates import Cells, pair_order
from etl.db.types import WallClockDate

CELLS_PER_STATEMENT = 5000


NULL_STAND_IN = 0  # the cell_key of a NULL key, told apart from a real 0 by null_key


class CellValues(Values):
    """The pairs' ``VALUES`` list. On PostgreSQL it is sent as one array a column
    (``SELECT * FROM unnest(CAST(%(p)s AS DATE[]), …)``): thousands of pairs as bound
    values in a ``VALUES`` list took SQLAlchemy ~0.1 s to compile a statement, and a
    rebuild compiles a handful of statements with them; arrays take a millisecond."""

    inherit_cache = False  # the rows are data, compiled fresh each time


ARRAY_TYPES = (ARRAY(Date()), ARRAY(BigInteger()), ARRAY(Boolean()))


@compiles(CellValues, "postgresql")
def _cell_arrays(element: CellValues, compiler, **kw) -> str:
    rows = [row for chunk in element._data for row in chunk]
    arrays = [cast(literal(list(column_values), kind), kind)
              for column_values, kind in zip(zip(*rows), ARRAY_TYPES)] if rows else []
    if not arrays:  # no pairs: no rows, with the columns' types
        return "SELECT " + ", ".join(f"CAST(NULL AS {t.item_type.compile(compiler.dialect)})"
                                     for t in ARRAY_TYPES[:len(element.columns)]) + " WHERE false"
    return "SELECT * FROM unnest(" + ", ".join(compiler.process(a, **kw) for a in arrays[:len(element.columns)]) + ")"


def cells_cte(cells: Cells) -> CTE:
    """``rebuilt_cells (day, cell_key)``: the pairs, in order; ``(day, cell_key,
    null_key)`` when a key is NULL."""
    ordered = sorted(cells.pairs, key=pair_order)
    day, key = column("day", WallClockDate()), column("cell_key", BigInteger())
    if all(k is not None for _, k in ordered):
        return CellValues(day, key, name="rebuilt_cells").data(ordered).cte("rebuilt_cells")
    rows = [(d, NULL_STAND_IN if k is None else k, k is None) for d, k in ordered]
    return CellValues(day, key, column("null_key", Boolean()), name="rebuilt_cells").data(rows).cte("rebuilt_cells")


def in_cells(day: ColumnElement, key: ColumnElement, cells: CTE) -> ColumnElement[bool]:
    """Predicate "(``day``, ``key``) is one of the pairs of ``cells`` (:func:`cells_cte`)",
    a NULL ``key`` matching a NULL pair."""
    if "null_key" not in cells.c:
        return tuple_(day, key).in_(select(cells.c.day, cells.c.cell_key))
    # coalesce: a NULL key compares as the stand-in, and "key IS NULL" tells it from a real 0
    keyed = tuple_(day, func.coalesce(key, literal(NULL_STAND_IN, BigInteger())), key.is_(None))
    return keyed.in_(select(cells.c.day, cells.c.cell_key, cells.c.null_key))
