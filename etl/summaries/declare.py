"""The declaration language of summaries: plain, frozen data that says what a summary is.

A :class:`Declaration` names the rows a summary reads (its :class:`Input` s, each a
:class:`Source` with its filters and the measures aggregated from it), its grain (the
:class:`Dimension` s), the values derived from the aggregates (exactly rounded
quantities, ratios, rolling-window aggregates and standard deviations, ranks, the previous
period's value) and the scores computed from them (z-scores, outlier flags, relative
changes), its dependencies, how far a change reaches, and where each column's display format is written (:mod:`etl.summaries.formats`).
:mod:`etl.summaries.compiler` turns it into SQLAlchemy Core; :mod:`etl.summaries.checks`
checks it when Django starts.

Nothing here builds SQL by itself: every class only says which columns it reads, by
name, so that a wrong name is found by the checks before any query is built. The small
``clause``/``aggregate`` methods are what the compiler calls, one per kind, instead of
a dispatch on the kind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from math import gcd
from typing import Callable, Mapping, Sequence

from sqlalchemy import ColumnElement, Select, distinct, func

from etl.dates import DateRange
from etl.summaries.formats import ColumnFormat
from etl.summaries.gates import Reconciliation

Columns = Mapping[str, ColumnElement]
SourceRows = Callable[[Sequence[DateRange] | None], Select]


# --- filters: conditions on a source's columns --------------------------------------------

@dataclass(frozen=True)
class _OnColumn:
    column: str

    def reads(self) -> tuple[str, ...]:
        return (self.column,)


@dataclass(frozen=True)
class Equals(_OnColumn):
    """``column = value``."""

    value: object

    def clause(self, cols: Columns) -> ColumnElement[bool]:
        return cols[self.column] == self.value


@dataclass(frozen=True)
class OneOf(_OnColumn):
    """``column IN (values)``."""

    values: tuple

    def clause(self, cols: Columns) -> ColumnElement[bool]:
        return cols[self.column].in_(self.values)


@dataclass(frozen=True)
class NotNull(_OnColumn):
    """``column IS NOT NULL``."""

    def clause(self, cols: Columns) -> ColumnElement[bool]:
        return cols[self.column].is_not(None)


@dataclass(frozen=True)
class NotBefore:
    """``column >= other``, two columns of the source (an end not before its start)."""

    column: str
    other: str

    def reads(self) -> tuple[str, ...]:
        return (self.column, self.other)

    def clause(self, cols: Columns) -> ColumnElement[bool]:
        return cols[self.column] >= cols[self.other]


Filter = Equals | OneOf | NotNull | NotBefore


# --- what is read and how it is grouped ----------------------------------------------------

@dataclass(frozen=True)
class Source:
    """Rows a summary reads: ``rows(window)`` is a query builder (:mod:`etl.queries`) giving
    one row per raw record with named columns, only the window's days when a window is
    given; ``filters`` keep the rows that count. Compiled as the CTE ``name``."""

    name: str
    rows: SourceRows
    filters: tuple[Filter, ...] = ()


@dataclass(frozen=True)
class Dimension:
    """A grain column, read from the source column ``column`` (default: the same name).
    ``key=False``: grouped by and written, but not part of the grain (a name that goes
    with an id)."""

    name: str
    column: str | None = None
    key: bool = True

    @property
    def reads(self) -> str:
        return self.column or self.name


def _filtered(aggregate, when: Filter | None, cols: Columns) -> ColumnElement:
    """``aggregate FILTER (WHERE when)``, or the aggregate itself without a condition."""
    return aggregate.filter(when.clause(cols)) if when else aggregate


@dataclass(frozen=True)
class Count:
    """Rows (``count(*)``), only those matching ``when`` if given: a conditional count."""

    name: str
    when: Filter | None = None

    def reads(self) -> tuple[str, ...]:
        return self.when.reads() if self.when else ()

    def aggregate(self, cols: Columns) -> ColumnElement:
        return _filtered(func.count(), self.when, cols)


@dataclass(frozen=True)
class _OfColumn:
    """An aggregate of the values of ``column`` among the rows matching ``when``."""

    name: str
    column: str
    when: Filter | None = None

    def reads(self) -> tuple[str, ...]:
        return (self.column, *(self.when.reads() if self.when else ()))


@dataclass(frozen=True)
class CountDistinct(_OfColumn):
    """Distinct non-NULL values of ``column``, among the rows matching ``when``."""

    def aggregate(self, cols: Columns) -> ColumnElement:
        return _filtered(func.count(distinct(cols[self.column])), self.when, cols)


@dataclass(frozen=True)
class Sum(_OfColumn):
    """Sum of the integer ``column`` (seconds, cents, cent-seconds); 0, not NULL, when no
    row has a value. Exact: sums stay integers, rounding happens once in :class:`Rounded`."""

    def aggregate(self, cols: Columns) -> ColumnElement:
        return self._summed(cols[self.column], cols)

    def split(self, cols: Columns, times: int, per: int) -> tuple[ColumnElement, ColumnElement]:
        """The sum of ``column * times`` as (sum of whole quotients by ``per``, sum of the
        remainders): each stays far below 2**63 where the plain sum may not."""
        value = cols[self.column] * times if times != 1 else cols[self.column]
        return self._summed(value // per, cols), self._summed(value % per, cols)

    def _summed(self, value: ColumnElement, cols: Columns) -> ColumnElement:
        return func.coalesce(_filtered(func.sum(value), self.when, cols), 0)


@dataclass(frozen=True)
class Value:
    """The value of ``column`` itself, for a source with one row per grain key (a summary
    table): an input whose measures are all values is not grouped."""

    name: str
    column: str

    def reads(self) -> tuple[str, ...]:
        return (self.column,)


Aggregate = Count | CountDistinct | Sum
Measure = Aggregate | Value


@dataclass(frozen=True)
class Input:
    """One source aggregated on the grain, compiled as the CTE ``name``. A summary with
    several inputs matches them on the grain (a portable full outer join): a key present
    in one input only gets 0 for the other's measures. ``optional``: the input adds its
    measures to the keys of the other inputs but brings no key of its own (a left join).

    An input whose measures are all :class:`Value` s reads a source already at the grain
    and is not grouped."""

    name: str
    source: Source
    measures: tuple[Measure, ...]
    optional: bool = False

    @property
    def at_grain(self) -> bool:
        return all(isinstance(m, Value) for m in self.measures)


# --- values derived from the aggregates ---------------------------------------------------

@dataclass(frozen=True)
class Rounded:
    """``of / per`` rounded half up to ``decimals`` places, exactly (integer arithmetic):
    e.g. hours from summed seconds (``per=3600``), money from cent-seconds.

    ``split``: ``of`` is a :class:`Sum` that may pass 2**63 (money in cent-seconds): each
    row's value is split into whole units and a remainder, summed apart, and only the
    remainders' sum is rounded — the same number, in integers that stay small."""

    name: str
    of: str
    per: int
    decimals: int
    split: bool = False

    @property
    def factors(self) -> tuple[int, int]:
        """(times, per): ``of / per * 10**decimals`` as ``of * times / per`` in lowest terms."""
        common = gcd(10 ** self.decimals, self.per)
        return 10 ** self.decimals // common, self.per // common

    def reads(self) -> tuple[str, ...]:
        return (self.of,)


@dataclass(frozen=True)
class Ratio:
    """``numerator / denominator`` of measures (the denominator may be a sum of several),
    rounded half up to ``decimals`` places from the row's own rounded values; NULL when
    the denominator is 0."""

    name: str
    numerator: str
    denominator: str | tuple[str, ...]
    decimals: int

    @property
    def denominators(self) -> tuple[str, ...]:
        return (self.denominator,) if isinstance(self.denominator, str) else tuple(self.denominator)

    def reads(self) -> tuple[str, ...]:
        return (self.numerator, *self.denominators)


ROLLING_FUNCTIONS = ("sum", "count", "avg", "min", "max")


@dataclass(frozen=True)
class Rolling:
    """``function(of)`` over the rows of the same ``partition_by`` whose day lies in
    ``days`` (offsets from the row's day, both inclusive: ``(-6, 0)`` is the 7 calendar
    days ending on it). A ``RANGE`` frame over an integer day number: calendar days, not
    rows, on both databases. ``avg`` is a float (a mean of decimals is not exact)."""

    name: str
    of: str
    function: str
    partition_by: tuple[str, ...]
    days: tuple[int, int]

    def reads(self) -> tuple[str, ...]:
        return (self.of, *self.partition_by)


@dataclass(frozen=True)
class Rank:
    """Rank of ``of`` within ``partition_by`` (highest first unless ``descending`` is
    False); ties share a rank and the next skips (1, 1, 3). Only non-NULL values are
    ranked (NULLS LAST, on both databases); a NULL gets rank NULL. ``percent``: the percent
    rank ``(rank - 1) / (n - 1)`` instead, n being the values ranked, 0 when n is 1."""

    name: str
    of: str
    partition_by: tuple[str, ...]
    descending: bool = True
    percent: bool = False

    def reads(self) -> tuple[str, ...]:
        return (self.of, *self.partition_by)


@dataclass(frozen=True)
class StdDev:
    """The sample standard deviation (divisor n − 1) of the non-NULL values of ``of`` over
    a :class:`Rolling` frame, as a float: NULL below 2 values, exactly 0 when they are all
    equal (the frame's ``MIN`` equals its ``MAX``), whatever the floating-point arithmetic.
    Each value is first centred on its partition's mean over the rows read, so the sum of
    squares stays precise for large values (SQLite has no ``stddev_samp``)."""

    name: str
    of: str
    partition_by: tuple[str, ...]
    days: tuple[int, int]

    def reads(self) -> tuple[str, ...]:
        return (self.of, *self.partition_by)


@dataclass(frozen=True)
class Previous:
    """The value of ``of`` in the same partition's row for the calendar period just before
    (the day before, or the month before in a monthly summary); NULL when that period has
    no row — the previous *row* may be older."""

    name: str
    of: str
    partition_by: tuple[str, ...]

    def reads(self) -> tuple[str, ...]:
        return (self.of, *self.partition_by)


Derived = Rounded | Ratio
Window = Rolling | Rank | StdDev | Previous


# --- values computed from the windows -----------------------------------------------------

@dataclass(frozen=True)
class ZScore:
    """``(of − mean) / sd`` as a float: how far a value lies from its baseline. NULL when
    the value is NULL, when ``count`` (the baseline's values) is below ``min_count``, or
    when ``sd`` is NULL or 0 (all baseline values equal)."""

    name: str
    of: str
    mean: str
    sd: str
    count: str
    min_count: int

    def reads(self) -> tuple[str, ...]:
        return (self.of, self.mean, self.sd, self.count)


@dataclass(frozen=True)
class Outlier:
    """True when ``abs(score) >= threshold`` for one of the ``scores`` (z-scores of this
    summary); a NULL score never makes an outlier. Never NULL."""

    name: str
    scores: tuple[str, ...]
    threshold: float

    def reads(self) -> tuple[str, ...]:
        return self.scores


@dataclass(frozen=True)
class Change:
    """The relative change ``(of − previous) / previous`` of a count or sum from its
    :class:`Previous` value, rounded to ``decimals`` places, a half away from zero,
    exactly; NULL when there is no previous value or it is 0."""

    name: str
    of: str
    previous: str
    decimals: int

    def reads(self) -> tuple[str, ...]:
        return (self.of, self.previous)


Score = ZScore | Outlier | Change


@dataclass(frozen=True)
class Reach:
    """How far a change on day D reaches in this summary: days D .. D + ``days_after``.
    Rolling windows, :class:`Previous` values and the summaries it reads add their own
    (see :attr:`Declaration.reach_days`, :attr:`Declaration.periods_back` and
    :func:`etl.summaries.reach.summary_reach`)."""

    days_after: int = 0


# --- the declaration ----------------------------------------------------------------------

@dataclass(frozen=True)
class Declaration:
    """One summary table: what it reads, its grain, measures, formats and dependencies.
    The written columns are the model's (``model_label``), in its order; every one of them
    must be declared here, and any other measure is an intermediate value."""

    name: str
    model_label: str
    description: str
    grain: tuple[Dimension, ...]
    inputs: tuple[Input, ...]
    formats: Mapping[str, ColumnFormat]
    derived: tuple[Derived, ...] = ()
    windows: tuple[Window, ...] = ()
    scores: tuple[Score, ...] = ()
    gates: tuple[Reconciliation, ...] = ()
    depends_on: tuple[str, ...] = ()
    reach: Reach = field(default_factory=Reach)
    day: str = "day"
    period: str = "day"

    @property
    def keys(self) -> tuple[str, ...]:
        """The grain: dimensions that identify a row."""
        return tuple(d.name for d in self.grain if d.key)

    @property
    def aggregates(self) -> tuple[Measure, ...]:
        return tuple(m for i in self.inputs for m in i.measures)

    @property
    def declared(self) -> tuple[str, ...]:
        """Every declared column name, in declaration order."""
        return (
            *(d.name for d in self.grain), *(m.name for m in self.aggregates),
            *(d.name for d in self.derived), *(w.name for w in self.windows), *(s.name for s in self.scores),
        )

    @property
    def lookback(self) -> tuple[int, int]:
        """(days before, days after) a day that its rolling windows read."""
        frames = [w.days for w in self.windows if isinstance(w, (Rolling, StdDev))]
        return max([0, *(-lo for lo, _ in frames)]), max([0, *(hi for _, hi in frames)])

    @property
    def periods_back(self) -> int:
        """Whole periods before a period that its :class:`Previous` values read."""
        return 1 if any(isinstance(w, Previous) for w in self.windows) else 0

    @property
    def reach_days(self) -> int:
        """A change on day D changes this summary's rows on D .. D + ``reach_days``, and,
        through what it reads (:attr:`depends_on`), on the days their reach adds."""
        return max(self.reach.days_after, self.lookback[0])

