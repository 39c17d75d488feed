"""The (day, key) pairs of a partial rebuild (:class:`etl.dates.Cells`) in SQL: a
``VALUES`` list of bound values, named once per statement as the CTE ``rebuilt_cells``,
and the predicate "this row's (day, key) is one of them".

``(day, key) IN (SELECT day, key FROM rebuilt_cells)`` is a semi-join: PostgreSQL hashes
the pairs (a list of row values in ``IN (…)`` would be compared one by one), and SQLite
(3.15 and later) reads row values the same way. Both read the ``VALUES`` of a CTE with a
column list; callers keep a statement's pairs to ``CELLS_PER_STATEMENT``, well below
SQLite's limit on bound values.
"""
from __future__ import annotations

from sqlalchemy import BigInteger, ColumnElement, column, select, tuple_, values
from sqlalchemy.sql.selectable import CTE

from etl.dates import Cells
from etl.db.types import WallClockDate

CELLS_PER_STATEMENT = 5000


def cells_cte(cells: Cells) -> CTE:
    """``rebuilt_cells (day, cell_key)``: the pairs, in order."""
    rows = values(column("day", WallClockDate()), column("cell_key", BigInteger()), name="rebuilt_cells")
    return rows.data(sorted(cells.pairs)).cte("rebuilt_cells")


def in_cells(day: ColumnElement, key: ColumnElement, cells: CTE) -> ColumnElement[bool]:
    """Predicate "(``day``, ``key``) is one of the pairs of ``cells`` (:func:`cells_cte`)"."""
    return tuple_(day, key).in_(select(cells.c.day, cells.c.cell_key))
