"""Start-up checks of the declarations: a wrong name or a dependency cycle is one clear
error when Django starts (every ``manage.py`` command runs the system checks), not a
database error in the middle of a build.

:func:`declaration_problems` checks one declaration against its source queries and its
model; :func:`registry_problems` checks the dependencies between summaries;
:func:`partial_problems` what a summary says about staff and location edits.
"""
from __future__ import annotations

from graphlib import CycleError, TopologicalSorter
from typing import Iterable, Mapping

from django.core import checks

from etl.summaries.declare import (
    ROLLING_FUNCTIONS, Change, Count, Declaration, Outlier, Previous, Rank, Ratio, Rolling, Rounded, StdDev, Sum,
    Value, ZScore,
)

PERIODS = ("day", "month")
WINDOW_KINDS = {Rolling: "rolling", Rank: "rank", StdDev: "standard deviation", Previous: "previous value"}


def _input_problems(decl: Declaration) -> list[str]:
    problems = []
    for inp in decl.inputs:
        values = [m.name for m in inp.measures if isinstance(m, Value)]
        if values and not inp.at_grain:
            problems.append(f"input {inp.name} mixes values ({', '.join(values)}) with aggregates; "
                            f"values need a source at the grain, with no aggregate")
        if values and len(decl.inputs) > 1:
            problems.append(f"input {inp.name} takes values, which only a summary of one input can")
    if decl.inputs and all(inp.optional for inp in decl.inputs):
        problems.append("every input is optional: one must bring the rows")
    if decl.period not in PERIODS:
        problems.append(f"period {decl.period} is not one of {', '.join(PERIODS)}")
    return problems


def _source_problems(decl: Declaration) -> list[str]:
    problems = []
    for inp in decl.inputs:
        columns = set(inp.source.rows(None).selected_columns.keys())
        where = f"source {inp.source.name}"
        wanted = [(f"dimension {d.name}", d.reads) for d in decl.grain]
        wanted += [(f"filter of {where}", c) for f in inp.source.filters for c in f.reads()]
        wanted += [(f"measure {m.name}", c) for m in inp.measures for c in m.reads()]
        problems += [
            f"{what} reads {column}, which {where} does not have (it has {', '.join(sorted(columns))})"
            for what, column in wanted if column not in columns
        ]
    return problems


def _derived_problems(decl: Declaration) -> list[str]:
    aggregates = {m.name for m in decl.aggregates}
    rounded = {r.name: r.decimals for r in decl.derived if isinstance(r, Rounded)}
    problems = []
    for d in decl.derived:
        if isinstance(d, Rounded):
            if d.of not in aggregates:
                problems.append(f"rounded {d.name} is of {d.of}, which is not a count or sum of this summary")
            if d.split and not any(isinstance(m, Sum) and m.name == d.of for m in decl.aggregates):
                problems.append(f"rounded {d.name} splits {d.of}, which is not a sum")
            if d.per <= 0 or d.decimals < 0:
                problems.append(f"rounded {d.name} needs per > 0 and decimals >= 0")
        elif isinstance(d, Ratio):
            missing = [n for n in d.reads() if n not in aggregates and n not in rounded]
            problems += [
                f"ratio {d.name} divides {d.numerator} by {' + '.join(d.denominators)}, but {n} is not a measure "
                f"of this summary (a count, a sum or a rounded value)"
                for n in missing
            ]
            scales = {rounded.get(n, 0) for n in d.denominators if n not in missing}
            if len(scales) > 1:
                problems.append(f"ratio {d.name} adds values of different decimals in its denominator")
    return problems


def _window_problems(decl: Declaration) -> list[str]:
    dims = {d.name for d in decl.grain}
    values = set(decl.declared) - {w.name for w in decl.windows} - {s.name for s in decl.scores}
    problems = []
    for w in decl.windows:
        kind = WINDOW_KINDS[type(w)]
        if w.of not in values:
            problems.append(f"{kind} {w.name} is of {w.of}, which is not a measure of this summary")
        problems += [f"{kind} {w.name} is partitioned by {p}, which is not a dimension" for p in w.partition_by
                     if p not in dims]
        if isinstance(w, Rolling) and w.function not in ROLLING_FUNCTIONS:
            problems.append(f"rolling {w.name} uses {w.function}; choose from {', '.join(ROLLING_FUNCTIONS)}")
        if isinstance(w, (Rolling, StdDev)) and w.days[0] > w.days[1]:
            problems.append(f"{kind} {w.name} has an empty frame {w.days}")
    if (decl.windows or decl.scores) and decl.day not in dims:
        problems.append(f"windows need the day dimension {decl.day}")
    return problems


def _score_problems(decl: Declaration) -> list[str]:
    """Scores read the row's values and windows; an outlier flag reads z-scores declared
    before it; a change reads a count or sum and its previous value."""
    windows = {w.name: w for w in decl.windows}
    readable = (set(decl.declared) - {s.name for s in decl.scores})
    counted = {m.name for m in decl.aggregates if isinstance(m, (Count, Sum))}
    problems, z_scores = [], set()
    for s in decl.scores:
        if isinstance(s, ZScore):
            problems += [f"z-score {s.name} reads {n}, which is not a measure or window of this summary"
                         for n in s.reads() if n not in readable]
            if s.sd in readable and not isinstance(windows.get(s.sd), StdDev):
                problems.append(f"z-score {s.name} divides by {s.sd}, which is not a standard deviation")
            z_scores.add(s.name)
        elif isinstance(s, Outlier):
            problems += [f"outlier {s.name} reads {n}, which is not a z-score declared before it"
                         for n in s.scores if n not in z_scores]
        elif isinstance(s, Change):
            if s.of not in counted:
                problems.append(f"change {s.name} is of {s.of}, which is not a count or sum of this summary")
            if not isinstance(windows.get(s.previous), Previous):
                problems.append(f"change {s.name} compares with {s.previous}, which is not a previous value")
            if s.decimals < 0:
                problems.append(f"change {s.name} needs decimals >= 0")
    return problems


def _model_problems(decl: Declaration) -> list[str]:
    from etl.summaries.compiler import output_columns

    try:
        columns = output_columns(decl)
    except LookupError:
        return [f"model {decl.model_label} does not exist"]
    declared = set(decl.declared)
    problems = [f"column {c} of {decl.model_label} is not declared" for c in columns if c not in declared]
    problems += [f"column {c} of {decl.model_label} has no display format" for c in columns if c not in decl.formats]
    problems += [f"display format for {c}, which {decl.model_label} does not have"
                 for c in decl.formats if c not in columns]
    return problems


def declaration_problems(decl: Declaration) -> list[str]:
    """What is wrong with one declaration, each as one sentence naming the summary."""
    names = list(decl.declared)
    problems = [f"{n} is declared twice" for n in sorted({n for n in names if names.count(n) > 1})]
    problems += _input_problems(decl) + _source_problems(decl) + _derived_problems(decl)
    problems += _window_problems(decl) + _score_problems(decl) + _model_problems(decl)
    return [f"summary {decl.name}: {p}" for p in problems]


def registry_problems(depends_on: Mapping[str, Iterable[str]]) -> list[str]:
    """Dependencies on summaries that do not exist, and dependency cycles."""
    problems = [
        f"summary {name} depends on {dep}, which is not a summary"
        for name, deps in depends_on.items() for dep in deps if dep not in depends_on
    ]
    try:
        TopologicalSorter({name: set(deps) for name, deps in depends_on.items()}).prepare()
    except CycleError as exc:
        problems.append(f"dependency cycle: {' -> '.join(reversed(exc.args[1]))} (each depends on the next)")
    return problems


STAFF_FIELDS = ("role_group", "cost")


def partial_problems(s) -> list[str]:
    """What a summary says about dimension edits that cannot work: a staff field that does
    not exist, or a ``cell_key`` its rows cannot be rebuilt by."""
    problems = [f"staff_fields names {f}, which is not one of {', '.join(STAFF_FIELDS)}"
                for f in s.staff_fields if f not in STAFF_FIELDS]
    if s.cell_key is not None:
        if s.declaration is None:
            problems.append(f"cell_key {s.cell_key} needs a declared summary: only those rebuild (day, key) pairs")
        elif s.cell_key not in (columns := [d.name for d in s.declaration.grain]):
            problems.append(f"cell_key {s.cell_key} is not a column of its grain ({', '.join(columns)})")
        else:
            problems += _split_windows(s.declaration, s.cell_key)
    return [f"summary {s.name}: {p}" for p in problems]


def _split_windows(decl, key: str) -> list[str]:
    """The windows of ``decl`` that reach across values of ``key``: a (day, key) pair is
    rebuilt from the rows of its key alone, so every window must lie within one key — be
    partitioned by it or, for a key that is not part of the grain (a region that goes with
    a clinic), by a grain column that determines it."""
    keyed = next(d for d in decl.grain if d.name == key).key
    within = {key} | (set() if keyed else {k for k in decl.keys if k != decl.day})
    return [f"cell_key {key}: window {w.name} is not partitioned within one {key}"
            f" (by {', '.join(w.partition_by) or 'nothing'}), so (day, key) pairs cannot be rebuilt on their own"
            for w in decl.windows if not within & set(w.partition_by)]


def summary_problems(summaries) -> list[str]:
    """Everything wrong in a registry of :class:`~etl.summaries.registry.Summary` objects."""
    problems = registry_problems({s.name: s.depends_on for s in summaries})
    for s in summaries:
        if s.declaration is not None:
            problems += declaration_problems(s.declaration)
        problems += partial_problems(s)
    return problems


@checks.register("etl")
def check_declarations(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The Django system check: one error per problem, the summaries' build refused."""
    from etl.summaries.registry import SUMMARIES

    return [checks.Error(problem, id="etl.E001") for problem in summary_problems(SUMMARIES.values())]
