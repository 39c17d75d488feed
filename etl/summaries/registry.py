"""The registry of summaries: each a :class:`Summary` the build engine reads, compiled from
its declaration (:func:`declared`). A summary whose query is written by hand is a plain
:class:`Summary` with its own ``rows`` builder and ``reach``; every summary of the product
is declared."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from graphlib import TopologicalSorter
from typing import Callable, Iterable, Mapping, Sequence

from sqlalchemy import Select, Table

from etl.dates import DateRange
from etl.queries import score_checks
from etl.db.tables import summary_table
from etl.summaries.compiler import summary_rows
from etl.summaries.declare import Declaration
from etl.summaries.gates import Reconciliation
from etl.summaries.clinics import CLINIC_DAY, CLINIC_SCORE, REGION_MONTH, REGION_MONTH_PATIENTS
from etl.summaries.reach import summary_reach
from etl.summaries.staff import STAFF_COST_SUMMARY, STAFF_SUMMARY

RowsBuilder = Callable[[Sequence[DateRange] | None], Select]
Reach = Callable[[Iterable[dt.date]], set]


class UnknownSummary(ValueError):
    pass


@dataclass(frozen=True)
class Summary:
    """A summary table and the query that fills it.

    ``rows(window)`` returns the table's rows in the order of :attr:`columns`, for every
    day (window None) or only the window's days. ``reads``: the change-captured raw tables
    (visits, shifts) its days are made of; replacing one of them rebuilds the summary.

    ``period``: the table's date column (``day``, or ``month`` for monthly tables, whose
    windows are whole months). ``reads_raw``: the query reads the raw tables (with a
    separate EMR database it runs there and its rows are streamed); False: it reads only
    summary tables, and runs in Django's database. ``uses_locations``: its rows depend on
    the emr_location tree (location edits rebuild the locations' days). ``reach``: the
    days a change on some days makes it rebuild (None: those days). ``reference``: the
    totals its gates compare with, one named row for a window (None: the raw totals).

    ``staff_fields``: what of a staff member its rows read (``role_group``: the group and
    its name; ``cost``: the hourly cost): an edit of anything else rebuilds nothing.
    ``cell_key``: a grain column (``location_id``, ``clinic_id``, ``region_id``) by which a
    dimension edit rebuilds only the (day, key) pairs it changes (with their forward
    reach), ``rows(window, cells=…)`` giving those pairs' rows; None: such edits rebuild
    whole days.
    """

    name: str
    model_label: str
    rows: RowsBuilder
    description: str
    grain: tuple[str, ...]
    gates: tuple[Reconciliation, ...] = ()
    depends_on: tuple[str, ...] = ()
    reads: tuple[str, ...] = ("emr_visit", "emr_shift")
    period: str = "day"
    reads_raw: bool = True
    uses_locations: bool = False
    reach: Reach | None = None
    reference: RowsBuilder | None = None
    declaration: Declaration | None = None
    staff_fields: tuple[str, ...] = ("role_group", "cost")
    cell_key: str | None = None

    @property
    def table(self) -> Table:
        return summary_table(self.model_label)

    @property
    def columns(self) -> list[str]:
        return [col.name for col in self.table.columns if not col.primary_key]


def declared(decl: Declaration, declarations: Mapping[str, Declaration] | None = None, **engine_options) -> Summary:
    """The summary a declaration describes, its rows compiled by :mod:`etl.summaries.compiler`
    and its forward reach computed from it and from the declarations it reads
    (``declarations``, by name: the registry's when not given);
    ``engine_options``: the other :class:`Summary` fields (``reads``, ``uses_locations``, …)."""
    known = {**(DECLARATIONS if declarations is None else declarations), decl.name: decl}
    return Summary(
        name=decl.name, model_label=decl.model_label, rows=partial(summary_rows, decl),
        description=decl.description, grain=decl.keys, gates=decl.gates, depends_on=decl.depends_on,
        period=decl.period, reach=summary_reach(decl.name, known), declaration=decl, **engine_options,
    )


DECLARATIONS: dict[str, Declaration] = {
    d.name: d for d in (STAFF_SUMMARY, STAFF_COST_SUMMARY, CLINIC_DAY, CLINIC_SCORE, REGION_MONTH_PATIENTS, REGION_MONTH)
}

SUMMARIES: dict[str, Summary] = {
    s.name: s
    for s in (
        declared(STAFF_SUMMARY, reads=("emr_visit",), staff_fields=("role_group",), cell_key="location_id"),
        declared(STAFF_COST_SUMMARY, cell_key="location_id"),
        declared(CLINIC_DAY, uses_locations=True, reference=score_checks.clinic_day_reference,
                 staff_fields=("cost",), cell_key="clinic_id"),
        # clinic_score and region_month read staff cost through clinic_day's staff_cost;
        # distinct patients read no staff value.
        declared(CLINIC_SCORE, reads_raw=False, uses_locations=True, reference=score_checks.clinic_score_reference,
                 staff_fields=("cost",), cell_key="region_id"),
        declared(REGION_MONTH_PATIENTS, uses_locations=True, staff_fields=(), cell_key="region_id"),
        declared(REGION_MONTH, reads_raw=False, uses_locations=True, reference=score_checks.region_month_reference,
                 staff_fields=("cost",), cell_key="region_id"),
    )
}


def ordered(names: Iterable[str] | None = None) -> list[Summary]:
    """The chosen summaries (all when ``names`` is None) and what they read, dependencies
    first: a summary of summaries is only correct over up-to-date inputs (its pending days
    are consumed when it is built)."""
    chosen = list(SUMMARIES) if names is None else list(dict.fromkeys(names))
    unknown = [n for n in chosen if n not in SUMMARIES]
    if unknown:
        raise UnknownSummary(
            f"unknown summary {', '.join(unknown)}; choose from {', '.join(SUMMARIES)}"
        )
    for name in list(chosen):
        chosen += [d for d in _dependencies(name) if d not in chosen]
    graph = {name: set(SUMMARIES[name].depends_on) for name in SUMMARIES}
    order = list(TopologicalSorter(graph).static_order())
    return [SUMMARIES[name] for name in order if name in chosen]


def _dependencies(name: str) -> list[str]:
    """What ``name`` reads, directly or through others."""
    found: list[str] = []
    frontier = list(SUMMARIES[name].depends_on)
    while frontier:
        dep = frontier.pop()
        if dep not in found:
            found.append(dep)
            frontier += SUMMARIES[dep].depends_on
    return found


def dependents(name: str) -> set[str]:
    """The summaries that read ``name``, directly or through others."""
    found: set[str] = set()
    frontier = {name}
    while frontier:
        frontier = {s.name for s in SUMMARIES.values() if set(s.depends_on) & frontier} - found
        found |= frontier
    return found
