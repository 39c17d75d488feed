"""The window stages of a compiled declaration (:mod:`etl.summaries.compiler`), each a
named CTE over the row values before it:

- ``centred``, with standard deviations: each value as a float (``<sd>_x``) and minus its
  partition's mean over the rows read (``<sd>_y``);
- ``windowed``: rolling aggregates over ``RANGE`` frames of calendar days, ranks, previous
  values, and the sums a standard deviation is made of;
- ``spread``: the standard deviations;

and the scores the final SELECT computes from them (z-scores, outlier flags, changes).

On PostgreSQL the means and the sums a standard deviation is made of are exact
``numeric`` sums of the values (decimals: ``patients_per_hour``, ``cost_per_patient``),
made floats only at the end. A ``RANGE`` frame that slides by a day then adds the
entering rows and takes away the leaving ones (``numeric`` sums have an inverse), where a
float sum, a ``MIN`` or a ``MAX`` is recomputed over the whole frame for every row (28
days here). Exact sums need no centring and no ``MIN`` = ``MAX`` test either:
``n·Σx² − (Σx)²`` is 0 exactly when the values are equal. The ``spread`` CTE is
materialized on PostgreSQL, so each standard deviation's arithmetic runs once per row
rather than in every score that reads it. SQLite has no exact decimal arithmetic: there
the values are floats, centred, with the ``MIN`` = ``MAX`` test. Both stay within the
contract's tolerance of the true values (section 4).
"""
from __future__ import annotations

from sqlalchemy import (ColumnElement, Float, Numeric, case, cast, false, func, literal, null, or_, select, true,
                        type_coerce)
from sqlalchemy.sql.selectable import CTE

from etl.queries.calendar import month_number
from etl.queries.portable import OnPostgres, relative_change
from etl.queries.windows import day_number
from etl.summaries.declare import Change, Declaration, Outlier, Previous, Rank, Rolling, StdDev, ZScore


def windows_of(decl: Declaration, kind: type) -> list:
    return [w for w in decl.windows if isinstance(w, kind)]


def centred_cte(decl: Declaration, rows: CTE) -> CTE:
    """For each :class:`StdDev`: its value as a float (``<name>_x``) and that value minus
    its partition's mean over the rows read (``<name>_y``). Subtracting a constant per
    partition leaves the deviation as it is and keeps the sum of squares precise: the
    textbook form on raw values near 1e6 loses about 3.5e-4."""
    columns = []
    for sd in windows_of(decl, StdDev):
        x = cast(rows.c[sd.of], Float)
        mean = func.avg(x).over(partition_by=[rows.c[p] for p in sd.partition_by])
        # PostgreSQL sums the exact values instead (module docstring): no centring there.
        columns += [x.label(f"{sd.name}_x"), OnPostgres(cast(null(), Float), x - mean).label(f"{sd.name}_y")]
    return select(rows, *columns).cte("centred")


def windowed_cte(decl: Declaration, rows: CTE) -> CTE:
    """The window functions over the rows: rolling aggregates, ranks, previous values, and
    for each :class:`StdDev` over its frame the count ``_n``, ``Σy`` ``_s1``, ``Σy²`` ``_s2``
    and the extremes ``_lo``, ``_hi`` of its values."""
    columns = []
    for w in decl.windows:
        if isinstance(w, StdDev):
            columns += _spread_sums(decl, w, rows)
        else:
            columns.append(_window(decl, w, rows).label(w.name))
    return select(rows, *columns).cte("windowed")


def spread_cte(decl: Declaration, rows: CTE) -> CTE:
    """Adds each :class:`StdDev`: ``sqrt((Σy² − (Σy)²/n) / (n − 1))``; NULL below 2 values;
    the literal 0 when the frame's values are all equal (``MIN`` = ``MAX``) or a rounding
    residue leaves the sum of squares at or below 0, so equal values never give a tiny sd
    and a huge z."""
    spreads = []
    for sd in windows_of(decl, StdDev):
        n, s1, s2 = (rows.c[f"{sd.name}_{part}"] for part in ("n", "s1", "s2"))
        squares = s2 - s1 * s1 / type_coerce(n, Float)  # a float division
        floats = case(
            (n < 2, None),
            (rows.c[f"{sd.name}_lo"] == rows.c[f"{sd.name}_hi"], 0.0),
            (squares <= 0, 0.0),
            else_=func.sqrt(squares / type_coerce(n - 1, Float)),
        )
        # Exact sums: n·Σx² − (Σx)² is n(n − 1) times the variance, 0 exactly for equal values;
        # made a float before dividing (a numeric division costs more than the windows).
        spread = cast(n * s2 - s1 * s1, Float)
        exact = case((n < 2, None), (spread <= 0, 0.0), else_=func.sqrt(spread / type_coerce(n * (n - 1), Float)))
        spreads.append(OnPostgres(exact, floats).label(sd.name))
    # Computed once per row: PostgreSQL would otherwise inline each standard deviation into
    # every score that reads it (14 copies of its numeric arithmetic for clinic_score).
    return select(rows, *spreads).cte("spread").prefix_with("MATERIALIZED", dialect="postgresql")


def _window(decl: Declaration, w: Rolling | Rank | Previous, rows: CTE) -> ColumnElement:
    partition = [rows.c[p] for p in w.partition_by]
    value = rows.c[w.of]
    if isinstance(w, Rolling):
        frame = dict(partition_by=partition, order_by=day_number(rows.c[decl.day]), range_=w.days)
        if w.function == "avg":  # a mean is a float, as PostgreSQL's avg of a decimal would not be
            return OnPostgres(cast(func.avg(cast(value, Numeric)).over(**frame), Float),
                              func.avg(cast(value, Float)).over(**frame))
        return getattr(func, w.function)(value).over(**frame)
    if isinstance(w, Previous):
        return _previous(decl, value, partition, rows.c[decl.day])
    return _rank(w, value, partition)


def _spread_sums(decl: Declaration, sd: StdDev, rows: CTE) -> list[ColumnElement]:
    """The sums a standard deviation is made of, over a ``RANGE`` frame of calendar days."""
    frame = dict(partition_by=[rows.c[p] for p in sd.partition_by], order_by=day_number(rows.c[decl.day]),
                 range_=sd.days)
    x, y = rows.c[f"{sd.name}_x"], rows.c[f"{sd.name}_y"]
    exact = cast(rows.c[sd.of], Numeric)  # PostgreSQL (module docstring)
    nothing = cast(null(), Float)
    return [
        func.count(x).over(**frame).label(f"{sd.name}_n"),
        OnPostgres(func.sum(exact).over(**frame), func.sum(y).over(**frame)).label(f"{sd.name}_s1"),
        OnPostgres(func.sum(exact * exact).over(**frame), func.sum(y * y).over(**frame)).label(f"{sd.name}_s2"),
        OnPostgres(nothing, func.min(x).over(**frame)).label(f"{sd.name}_lo"),
        OnPostgres(nothing, func.max(x).over(**frame)).label(f"{sd.name}_hi"),
    ]


def _previous(decl: Declaration, value: ColumnElement, partition: list[ColumnElement],
              day: ColumnElement) -> ColumnElement:
    """``LAG`` gives the previous *row*; its period number tells whether it is the calendar
    period just before (a month number is ``year * 12 + month``)."""
    number = month_number(day) if decl.period == "month" else day_number(day)
    order = dict(partition_by=partition, order_by=number)
    return case((func.lag(number).over(**order) == number - 1, func.lag(value).over(**order)))


def scores(decl: Declaration, rows: CTE) -> dict[str, ColumnElement]:
    """The values computed from a row's window values, by name, in declaration order (an
    outlier flag reads the z-scores before it)."""
    scores: dict[str, ColumnElement] = {}
    for s in decl.scores:
        if isinstance(s, ZScore):
            sd = rows.c[s.sd]
            scores[s.name] = case(
                (or_(rows.c[s.of].is_(None), rows.c[s.count] < s.min_count, sd.is_(None), sd == 0), None),
                else_=(cast(rows.c[s.of], Float) - cast(rows.c[s.mean], Float)) / sd,
            )
        elif isinstance(s, Outlier):
            # A NULL score compares to NULL, never true: it never makes an outlier.
            flagged = or_(*(func.abs(scores[z]) >= s.threshold for z in s.scores))
            scores[s.name] = case((flagged, true()), else_=false())
        elif isinstance(s, Change):
            previous = rows.c[s.previous]
            scores[s.name] = case((previous > 0, relative_change(rows.c[s.of], previous, s.decimals)))
    return {name: expr.label(name) for name, expr in scores.items()}


def _rank(w: Rank, value: ColumnElement, partition: list[ColumnElement]) -> ColumnElement:
    """Rank among the non-NULL values: NULLs sort last on both databases (they sort first
    on one and last on the other by default), so they never push a value's rank down."""
    order = (value.desc() if w.descending else value.asc()).nulls_last()
    rank = func.rank().over(partition_by=partition, order_by=order)
    if not w.percent:
        return case((value.is_not(None), rank))
    ranked = func.count(value).over(partition_by=partition)
    return case(
        (value.is_(None), None),
        (ranked == 1, literal(0.0, Float)),
        else_=cast(rank - 1, Float) / (ranked - 1),
    )
