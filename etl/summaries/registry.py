"""The registry of summaries: each a :class:`Summary` the build engine reads, compiled from
its declaration (:func:`declared`) or, for a query still written by hand, with its own
``rows`` builder."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from graphlib import TopologicalSorter
from typing import Callable, Iterable, Sequence

from sqlalchemy import Select, Table

from etl.dates import DateRange
from etl.db.tables import summary_table
from etl.summaries.compiler import summary_rows
from etl.summaries.declare import Declaration
from etl.summaries.gates import Reconciliation
from etl.summaries.staff import STAFF_COST_SUMMARY, STAFF_SUMMARY

RowsBuilder = Callable[[Sequence[DateRange] | None], Select]


class UnknownSummary(ValueError):
    pass


@dataclass(frozen=True)
class Summary:
    """A summary table and the query that fills it.

    ``rows(window)`` returns the table's rows in the order of :attr:`columns`, for every
    day (window None) or only the window's days.
    """

    name: str
    model_label: str
    rows: RowsBuilder
    description: str
    grain: tuple[str, ...]
    gates: tuple[Reconciliation, ...] = ()
    depends_on: tuple[str, ...] = ()
    declaration: Declaration | None = None

    @property
    def table(self) -> Table:
        return summary_table(self.model_label)

    @property
    def columns(self) -> list[str]:
        return [col.name for col in self.table.columns if not col.primary_key]


def declared(decl: Declaration) -> Summary:
    """The summary a declaration describes, its rows compiled by :mod:`etl.summaries.compiler`."""
    return Summary(
        name=decl.name, model_label=decl.model_label, rows=partial(summary_rows, decl),
        description=decl.description, grain=decl.keys, gates=decl.gates, depends_on=decl.depends_on,
        declaration=decl,
    )


SUMMARIES: dict[str, Summary] = {
    s.name: s for s in (declared(STAFF_SUMMARY), declared(STAFF_COST_SUMMARY))
}


def ordered(names: Iterable[str] | None = None) -> list[Summary]:
    """The chosen summaries (all when ``names`` is None), dependencies first."""
    chosen = list(SUMMARIES) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in SUMMARIES]
    if unknown:
        raise UnknownSummary(
            f"unknown summary {', '.join(unknown)}; choose from {', '.join(SUMMARIES)}"
        )
    graph = {name: set(SUMMARIES[name].depends_on) for name in SUMMARIES}
    order = list(TopologicalSorter(graph).static_order())
    return [SUMMARIES[name] for name in order if name in chosen]
