"""The data-quality report of the raw ``emr_*`` tables: how much of each kind of dirt
CONTRACT sections 1 and 4 warn about is there, with a few example ids.

The checks are declared in :mod:`etl.sources.quality_checks` (``CHECKS``);
:func:`check_emr` runs them all, each as one query (:func:`etl.db.emr_fetch_all`).

Privacy: a check reports ids of the rows it flags (visits, shifts, staff, roles,
locations), never patient ids and never a name or a patient attribute. A visit that
refers to a missing patient is reported by its visit id.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from etl import db
from etl.sources.quality_checks import CHECKS, Check

__all__ = ["CHECKS", "Check", "CheckResult", "QualityReport", "ValueCount", "check_emr", "report_lines", "run_check"]


@dataclass(frozen=True)
class ValueCount:
    value: str
    count: int


@dataclass(frozen=True)
class CheckResult:
    """What one check found: ``count`` flagged rows; ``example_ids`` the smallest of them."""

    name: str
    table: str
    description: str
    count: int
    example_ids: tuple[int, ...]
    values: tuple[ValueCount, ...] | None = None
    distinct_values: int | None = None

    def as_dict(self) -> dict:
        values = None if self.values is None else [{"value": v.value, "count": v.count} for v in self.values]
        return {
            "name": self.name, "table": self.table, "description": self.description, "count": self.count,
            "example_ids": list(self.example_ids), "values": values, "distinct_values": self.distinct_values,
        }


@dataclass(frozen=True)
class QualityReport:
    results: tuple[CheckResult, ...]

    @property
    def total(self) -> int:
        """Findings over all checks (a row flagged by two checks counts twice)."""
        return sum(r.count for r in self.results)

    @property
    def dirty(self) -> tuple[CheckResult, ...]:
        return tuple(r for r in self.results if r.count)

    def as_dict(self) -> dict:
        return {"total": self.total, "checks": [r.as_dict() for r in self.results]}


# --- running them ------------------------------------------------------------------------

def _counted_examples(flagged: Select, examples: int) -> Select:
    """The smallest ``examples`` flagged ids (at least one row, for the count) and, on
    every row, the number of flagged rows."""
    rows = flagged.subquery("flagged")
    return (
        select(rows.c.id, func.count().over().label("total"))
        .order_by(rows.c.id)
        .limit(max(examples, 1))
    )


def run_check(check: Check, examples: int = 5) -> CheckResult:
    rows = db.emr_fetch_all(_counted_examples(check.query_builder(), examples))
    count = int(rows[0][1]) if rows else 0
    ids = tuple(int(row[0]) for row in rows[:examples])
    values = distinct = None
    if check.values_builder is not None:
        value_rows = db.emr_fetch_all(check.values_builder())
        values = tuple(ValueCount(str(value), int(n)) for value, n, _ in value_rows)
        distinct = int(value_rows[0][2]) if value_rows else 0
    return CheckResult(check.name, check.table, check.description, count, ids, values, distinct)


def check_emr(examples: int = 5, checks: tuple[Check, ...] = CHECKS) -> QualityReport:
    """Run every check against the raw tables, wherever they live; ``examples`` ids each."""
    if examples < 0:
        raise ValueError(f"examples must be 0 or more, not {examples}")
    return QualityReport(tuple(run_check(check, examples) for check in checks))


def report_lines(report: QualityReport) -> list[str]:
    """One line per check (count, name, description, example ids), a line of unknown values
    under a check that lists them, and a total line."""
    width = max((len(r.name) for r in report.results), default=0)
    lines = []
    for r in report.results:
        examples = f"; e.g. ids {', '.join(map(str, r.example_ids))}" if r.example_ids else ""
        lines.append(f"{r.count:>9,}  {r.name:<{width}}  {r.description}{examples}")
        if r.values:
            shown = ", ".join(f"{v.value!r}: {v.count:,}" for v in r.values)
            more = (r.distinct_values or 0) - len(r.values)
            lines.append(f"{'':>9}  {'':<{width}}  values: {shown}{f' and {more:,} more' if more > 0 else ''}")
    lines.append(f"{report.total:>9,}  findings in {len(report.dirty)} of {len(report.results)} checks")
    return lines
