"""Compiles a :class:`~etl.summaries.declare.Declaration` into one SQLAlchemy Core SELECT
that reads like the SQL it makes, as a chain of named CTEs:

- one CTE per source (its name): the query builder's rows, with the declared filters;
- one per input (its name): the source grouped on the grain, with its aggregates;
- ``matched``, with several inputs: their full outer join on the grain, in its portable
  form (inputs stacked with ``UNION ALL``, NULL for the other inputs' measures, then each
  measure's one value taken per key, 0 without it; GROUP BY puts NULL with NULL, so a
  NULL key matches itself);
- ``rounded``, when values are rounded: each :class:`Rounded` in whole units of its last
  decimal (``<name>_units``), exactly, half up (:func:`etl.queries.portable.round_half_up`);
- with window values, ``measured`` (every value of a row, when some are computed), then
  ``centred`` when there are standard deviations (each value minus its partition's mean
  over the rows read), ``windowed`` (the window functions) and ``spread`` (the standard
  deviations from the windowed sums), from :mod:`etl.summaries.windowing`, before the
  final SELECT, which computes the scores (z-scores, outlier flags, changes) and keeps the
  build window's days; without, the final SELECT computes the ratios.

The final SELECT gives the model's columns in the model's order. Ratios divide the
row's own rounded values, so anyone can recompute them from the table.
"""
from __future__ import annotations

import datetime as dt
from typing import Sequence

from sqlalchemy import ColumnElement, Integer, Select, case, cast, func, literal, null, or_, select, union_all
from sqlalchemy.sql.selectable import CTE

from etl.dates import FIRST_DAY, LAST_DAY, Cells, DateRange, month_ranges
from etl.db.tables import summary_table
from etl.queries.cells import cells_cte, in_cells
from etl.queries.portable import round_half_up, rounded_quotient, shift_decimal
from etl.queries.windows import day_in
from etl.summaries.declare import Declaration, Input, Ratio, Rounded, StdDev
from etl.summaries.windowing import centred_cte, scores, spread_cte, windowed_cte, windows_of

Window = Sequence[DateRange] | None
MAX_LOCATIONS = 5000  # bound values of a statement's location list; past it, no early filter
Picked = tuple[str, CTE, frozenset[int] | None] | None  # a grain column, the (day, key) pairs, their raw locations
Keys = tuple[str, frozenset[int | None]] | None  # a grain column and the values whose rows are read (None: NULL)


def output_columns(decl: Declaration) -> list[str]:
    """The columns the summary writes: its model's, primary key excluded, in order."""
    return [c.name for c in summary_table(decl.model_label).columns if not c.primary_key]


def widened(window: Window, before: int, after: int) -> Window:
    """The window's days plus ``before`` days before and ``after`` after each range: what
    rolling windows must read to compute the window's days. Widening stops at the first
    and the last day there are."""
    if window is None or (before == 0 and after == 0):
        return window
    ranges: list[DateRange] = []
    for r in sorted(DateRange(_moved(r.start, -before), _moved(r.end, after)) for r in window):
        if ranges and (ranges[-1].end is None or r.start <= ranges[-1].end):
            end = None if r.end is None or ranges[-1].end is None else max(r.end, ranges[-1].end)
            ranges[-1] = DateRange(ranges[-1].start, end)
        else:
            ranges.append(r)
    return ranges


def _moved(day: dt.date | None, days: int) -> dt.date | None:
    """``day`` moved by ``days``, within the days there are; None (an open end) stays None
    and is where a move past the last day ends."""
    if day is None:
        return None
    if days < 0:
        return day + dt.timedelta(days=days) if (day - FIRST_DAY).days >= -days else FIRST_DAY
    return day + dt.timedelta(days=days) if (LAST_DAY - day).days >= days else None


def source_cte(decl: Declaration, inp: Input, window: Window, cells: Picked = None, keys: Keys = None) -> CTE:
    """The source's rows (the window's days only, when given) that pass its filters; with
    ``cells`` (a grain column and :func:`etl.queries.cells.cells_cte`), only the rows of
    those (day, key) pairs; with ``keys`` (a grain column and values), only the rows of
    those values."""
    rows = inp.source.rows(window)
    cols = rows.selected_columns
    filters = [f.clause(cols) for f in inp.source.filters] + _keys_filter(decl, cols, keys)
    if cells is not None:
        key, pairs, locations = cells
        reads = {d.name: d.reads for d in decl.grain}
        if locations is not None and "location_id" in cols:
            # The same rows, told early: every other location's rows are skipped before any join.
            filters.append(cols["location_id"].in_(sorted(locations)))
        filters.append(in_cells(cols[reads[decl.day]], cols[reads[key]], pairs))
    return (rows.where(*filters) if filters else rows).cte(inp.source.name)


def at_grain_cte(decl: Declaration, inp: Input, window: Window, keys: Keys = None) -> CTE:
    """A source already at the grain (a summary table), named after the input: its rows
    (the window's days only, when given) that pass its filters, with the grain and the
    values the input takes; with ``keys`` (a grain column and values), only the rows of
    those values."""
    rows = inp.source.rows(window)
    cols = rows.selected_columns
    filters = [f.clause(cols) for f in inp.source.filters] + _keys_filter(decl, cols, keys)
    taken = rows.with_only_columns(
        *(cols[d.reads].label(d.name) if d.reads != d.name else cols[d.name] for d in decl.grain),
        *(cols[m.column].label(m.name) if m.column != m.name else cols[m.name] for m in inp.measures),
    )
    return (taken.where(*filters) if filters else taken).cte(inp.name)


def _keys_filter(decl: Declaration, cols, keys: Keys) -> list[ColumnElement[bool]]:
    """"The row's ``keys`` column is one of its values" (none without ``keys``)."""
    if keys is None:
        return []
    key, values = keys
    reads = {d.name: d.reads for d in decl.grain}
    column, ids = cols[reads[key]], sorted(v for v in values if v is not None)
    if None not in values:
        return [column.in_(ids)]
    # The NULL key (region NULL, one region): IN never matches NULL.
    return [or_(column.in_(ids), column.is_(None)) if ids else column.is_(None)]


def grouped_cte(decl: Declaration, inp: Input, window: Window, cells: Picked = None, keys: Keys = None) -> CTE:
    """One row per grain value of the source, with the input's aggregates."""
    if inp.at_grain:
        if cells is not None:
            raise ValueError(f"{decl.name}: a source at the grain is read by whole days, not (day, key) pairs")
        return at_grain_cte(decl, inp, window, keys)
    cols = source_cte(decl, inp, window, cells, keys).c
    keys = [cols[d.reads] for d in decl.grain]
    splits = _splits(decl)
    aggregates = []
    for m in inp.measures:
        if m.name in splits:
            whole, rest = m.split(cols, *splits[m.name])
            aggregates += [whole.label(f"{m.name}_whole"), rest.label(f"{m.name}_rest")]
        else:
            aggregates.append(m.aggregate(cols).label(m.name))
    return (
        select(
            *(cols[d.name] if d.reads == d.name else cols[d.reads].label(d.name) for d in decl.grain),
            *aggregates,
        )
        .group_by(*keys)
        .cte(inp.name)
    )


def matched_cte(decl: Declaration, grouped: list[CTE]) -> CTE:
    """The inputs matched on the grain: every key of any input that is not optional, each
    measure taken from the one input that has it, 0 where that input has no row for the key.

    Each key has at most one row per input, and each measure comes from one input (names
    are unique) and is never NULL (counts, and sums that are 0 without rows): so the
    other inputs stack NULL for it and ``coalesce(max(...), 0)`` picks the input's value.
    The same rows as summing 0s, but on PostgreSQL ``sum`` of a BIGINT is a ``numeric``
    aggregate with a large state per group, where ``max`` keeps one value: about a
    second less per 400,000 keys."""
    measures = _aggregate_columns(decl)
    dims = [d.name for d in decl.grain]
    # An integer NULL, as the 0 it stands for: PostgreSQL types each UNION ALL column
    # from its branches, pairwise, and two untyped NULLs would make it text.
    missing = cast(null(), Integer)
    optional = any(inp.optional for inp in decl.inputs)
    stacked = union_all(*(
        select(
            *(g.c[d] for d in dims),
            *(g.c[m] if m in g.c else missing.label(m) for m in measures),
            *([literal(0 if inp.optional else 1).label("keyed")] if optional else []),
        )
        for inp, g in zip(decl.inputs, grouped)
    )).subquery("stacked_inputs")
    matched = (
        select(*(stacked.c[d] for d in dims),
               *(func.coalesce(func.max(stacked.c[m]), 0).label(m) for m in measures))
        .group_by(*(stacked.c[d] for d in dims))
    )
    # An optional input's key alone makes no row (a left join).
    return (matched.having(func.max(stacked.c.keyed) == 1) if optional else matched).cte("matched")


def rounded_cte(decl: Declaration, totals: CTE) -> CTE:
    """Adds ``<name>_units`` for each :class:`Rounded`: ``of / per`` in whole units of its
    last decimal, rounded half up once (the fraction ``10**decimals / per`` reduced, so
    the integers stay small)."""
    units = []
    for r in _of_kind(decl, Rounded):
        times, per = r.factors
        if r.split:
            value = totals.c[f"{r.of}_whole"] + round_half_up(totals.c[f"{r.of}_rest"], per)
        elif per == 1:  # already in units of the last decimal, or a multiple: nothing to round
            value = totals.c[r.of] * times if times != 1 else totals.c[r.of]
        else:
            value = round_half_up(totals.c[r.of] * times if times != 1 else totals.c[r.of], per)
        units.append(value.label(f"{r.name}_units"))
    return select(totals, *units).cte("rounded")


def read_window(decl: Declaration, window: Window) -> Window:
    """The days the sources read for the window's rows: a monthly summary's whole months
    (and the month before each, for a :class:`Previous` value); a daily summary's days
    widened by its rolling frames (and a day for a :class:`Previous` value)."""
    if decl.period == "month":
        return month_ranges(window, decl.periods_back)
    before, after = decl.lookback
    return widened(window, before + decl.periods_back, after) if decl.windows else window


def by_partition(decl: Declaration) -> bool:
    """Whether (day, key) pairs of ``decl`` are rebuilt by reading whole partitions (every
    row of the pairs' keys over the days they read) rather than only the pairs' rows: so
    are summaries with rolling windows, months, previous values or a source at the grain,
    whose every window lies within one key (the start-up checks see to it)."""
    return bool(decl.windows or decl.period == "month" or decl.periods_back
                or any(inp.at_grain for inp in decl.inputs))


def summary_rows(decl: Declaration, window: Window = None, cells: Cells | None = None) -> Select:
    """The summary's rows in its model's column order: every day (``window`` None) or only
    the window's days (rolling windows read the days around them too); with ``cells``, only
    the rows of those (day, key) pairs (``window`` is then their days). A summary with
    windows, months or sources at the grain reads, for ``cells``, every row of the pairs'
    keys over the days the pairs read (each window lies within one key), then keeps the
    pairs' rows."""
    picked: Picked = None
    keys: Keys = None
    if cells is not None:
        window = cells.window
        if by_partition(decl):
            keys = (cells.key, frozenset(key for _, key in cells.pairs))
        else:
            locations = cells.raw_locations
            if locations is not None and len(locations) > MAX_LOCATIONS:
                locations = None
            picked = (cells.key, cells_cte(cells), locations)
            # Every source row is matched against the pairs: a coarser day filter reads the same rows.
            window = cells.scan_window
    grouped = [grouped_cte(decl, inp, read_window(decl, window), picked, keys) for inp in decl.inputs]
    rows = grouped[0] if len(grouped) == 1 else matched_cte(decl, grouped)
    if _of_kind(decl, Rounded):
        rows = rounded_cte(decl, rows)
    values = _values(decl, rows)
    columns = output_columns(decl)
    if not decl.windows:
        final = select(*(values[c] for c in columns))
        return final if keys is None else final.where(in_cells(values[decl.day], values[cells.key], cells_cte(cells)))
    # Without derived values every value is a column of ``rows`` already.
    rows = select(*values.values()).cte("measured") if decl.derived else rows
    if windows_of(decl, StdDev):
        rows = spread_cte(decl, windowed_cte(decl, centred_cte(decl, rows)))
    else:
        rows = windowed_cte(decl, rows)
    scored = scores(decl, rows)
    final = select(*(scored[c] if c in scored else rows.c[c] for c in columns))
    if keys is not None:
        return final.where(in_cells(rows.c[decl.day], rows.c[cells.key], cells_cte(cells)))
    return final if window is None else final.where(day_in(rows.c[decl.day], window))


# --- values of a row -------------------------------------------------------------------------

def _of_kind(decl: Declaration, kind: type) -> list:
    return [d for d in decl.derived if isinstance(d, kind)]


def _splits(decl: Declaration) -> dict[str, tuple[int, int]]:
    """Sums kept as whole units and remainders: name -> (times, per) of their Rounded."""
    return {r.of: r.factors for r in _of_kind(decl, Rounded) if r.split}


def _aggregate_columns(decl: Declaration) -> list[str]:
    """The grouped columns of the aggregates (a split sum is two)."""
    splits = _splits(decl)
    return [
        name for m in decl.aggregates
        for name in ((f"{m.name}_whole", f"{m.name}_rest") if m.name in splits else (m.name,))
    ]


def _values(decl: Declaration, rows: CTE) -> dict[str, ColumnElement]:
    """Every non-window column of a row, named: grain and aggregates as they are, rounded
    values as decimals, ratios of the rounded values."""
    values: dict[str, ColumnElement] = {d.name: rows.c[d.name] for d in decl.grain}
    values.update({m.name: rows.c[m.name] for m in decl.aggregates if m.name in rows.c})
    for r in _of_kind(decl, Rounded):
        values[r.name] = shift_decimal(rows.c[f"{r.name}_units"], r.decimals).label(r.name)
    for r in _of_kind(decl, Ratio):
        values[r.name] = _ratio(decl, r, rows).label(r.name)
    return values


def _units(decl: Declaration, name: str, rows: CTE) -> tuple[ColumnElement, int]:
    """(the value as an integer, its decimals): a count or sum as is, a rounded value in
    whole units of its last decimal."""
    rounded = {r.name: r for r in _of_kind(decl, Rounded)}
    if name in rounded:
        return rows.c[f"{name}_units"], rounded[name].decimals
    return rows.c[name], 0


def _scaled(expr: ColumnElement, places: int) -> ColumnElement:
    return expr * (10 ** places) if places else expr


def _ratio(decl: Declaration, ratio: Ratio, rows: CTE) -> ColumnElement:
    """``numerator / denominator`` to ``decimals`` places, exact, half up; NULL when the
    denominator is 0. Both as integers of their own scale: a/10^sa / (b/10^sb) = a·10^sb / (b·10^sa)."""
    numerator, num_places = _units(decl, ratio.numerator, rows)
    parts = [_units(decl, name, rows) for name in ratio.denominators]
    den_places = parts[0][1]  # the checks make every part of a denominator the same scale
    denominator = parts[0][0]
    for part, _ in parts[1:]:
        denominator = denominator + part
    quotient = rounded_quotient(_scaled(numerator, den_places), _scaled(denominator, num_places), ratio.decimals)
    return case((denominator > 0, quotient))
