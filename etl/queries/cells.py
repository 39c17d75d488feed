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

from sqlalchemy import BigInteger, Boolean, ColumnElement, column, func, literal, select, tuple_, values
from sqlalchemy.sql.selectable import CTE

from etl.dates import Cells, pair_order
from etl.db.types import WallClockDate

CELLS_PER_STATEMENT = 5000


NULL_STAND_IN = 0  # the cell_key of a NULL key, told apart from a real 0 by null_key


def cells_cte(cells: Cells) -> CTE:
    """``rebuilt_cells (day, cell_key)``: the pairs, in order; ``(day, cell_key,
    null_key)`` when a key is NULL."""
    ordered = sorted(cells.pairs, key=pair_order)
    day, key = column("day", WallClockDate()), column("cell_key", BigInteger())
    if all(k is not None for _, k in ordered):
        return values(day, key, name="rebuilt_cells").data(ordered).cte("rebuilt_cells")
    rows = [(d, NULL_STAND_IN if k is None else k, k is None) for d, k in ordered]
    return values(day, key, column("null_key", Boolean()), name="rebuilt_cells").data(rows).cte("rebuilt_cells")


def in_cells(day: ColumnElement, key: ColumnElement, cells: CTE) -> ColumnElement[bool]:
    """Predicate "(``day``, ``key``) is one of the pairs of ``cells`` (:func:`cells_cte`)",
    a NULL ``key`` matching a NULL pair."""
    if "null_key" not in cells.c:
        return tuple_(day, key).in_(select(cells.c.day, cells.c.cell_key))
    # coalesce: a NULL key compares as the stand-in, and "key IS NULL" tells it from a real 0
    keyed = tuple_(day, func.coalesce(key, literal(NULL_STAND_IN, BigInteger())), key.is_(None))
    return keyed.in_(select(cells.c.day, cells.c.cell_key, cells.c.null_key))
