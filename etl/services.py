"""``build_summaries``: rebuild summary tables from the raw EMR tables.

Each summary is replaced in one transaction (delete its rows for the days being rebuilt,
insert them again with one ``INSERT ... SELECT`` that runs inside the database), so
readers see either the old rows or the new ones, and a failed build leaves the old rows.
When the raw tables live in another database (``EMR_DATABASE_URL``), the same SELECT runs
there and its rows are streamed into Django's database in batches, inside the same kind of
transaction on Django's side.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from django.db import DatabaseError, transaction
from sqlalchemy import delete, insert, text
from sqlalchemy.sql import Executable

from . import db
from .dates import DateRange
from .schema import missing_raw_tables
from .summaries import Summary, UnknownSummary, ordered

Progress = Callable[[str], None]
STREAM_BATCH_ROWS = 5000

# Per-transaction settings for the big aggregation on PostgreSQL (see README, "Speed"):
# sorts and hashes stay in memory, and JIT compilation (0.3-0.5 s a query) is skipped.
POSTGRES_BUILD_SETTINGS = ("SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off")


class BuildError(RuntimeError):
    """A build could not run or failed; the message is one line for the operator."""


@dataclass(frozen=True)
class SummaryResult:
    name: str
    rows_deleted: int
    rows_written: int
    seconds: float


@dataclass(frozen=True)
class BuildReport:
    results: tuple[SummaryResult, ...]
    seconds: float

    @property
    def rows_written(self) -> int:
        return sum(r.rows_written for r in self.results)


def _quiet(_: str) -> None:
    return None


def _choose(names: Iterable[str] | None) -> list[Summary]:
    try:
        return ordered(names)
    except UnknownSummary as exc:
        raise BuildError(str(exc)) from None


def _window_rows_filter(summary: Summary, window: Sequence[DateRange] | None):
    table = summary.table
    stmt = delete(table)
    if window is not None:
        from sqlalchemy import and_, false, or_

        stmt = stmt.where(
            or_(*(and_(table.c.day >= r.start, table.c.day < r.end) for r in window)) if window else false()
        )
    return stmt


def session_settings(vendor: str) -> list[Executable]:
    return [text(sql) for sql in POSTGRES_BUILD_SETTINGS] if vendor == "postgresql" else []


def rebuild_statements(summary: Summary, window: Sequence[DateRange] | None) -> list[Executable]:
    """The statements that replace ``summary``'s rows for ``window`` (None: all days),
    for the same-database path, in execution order (inside one transaction)."""
    return [
        _window_rows_filter(summary, window),
        insert(summary.table).from_select(summary.columns, summary.rows(window)),
    ]


def build_sql(names: Iterable[str] | None = None, window: Sequence[DateRange] | None = None) -> str:
    """The exact statements of a build, every bound value inlined, as a script that
    ``psql`` or ``sqlite3`` runs as is (one transaction per summary)."""
    django_vendor = db.vendor()
    emr_vendor = db.emr_vendor()
    separate = db.emr_engine() is not None
    parts: list[str] = []
    for summary in _choose(names):
        parts.append(f"-- {summary.name}: {summary.description}")
        if separate:
            delete_stmt, insert_stmt = rebuild_statements(summary, window)
            parts.append(f"-- on the EMR database ({emr_vendor}): the rows to write")
            parts.append(db.literal_sql(summary.rows(window), emr_vendor) + ";")
            parts.append(f"-- on Django's database ({django_vendor}), in one transaction: delete, then"
                         " insert the rows above in batches")
            parts.append(db.literal_sql(delete_stmt, django_vendor) + ";")
            continue
        parts.append("BEGIN;")
        for stmt in session_settings(django_vendor) + rebuild_statements(summary, window):
            parts.append(db.literal_sql(stmt, django_vendor) + ";")
        parts.append("COMMIT;")
    return "\n".join(parts) + "\n"


def _rebuild_same_database(summary: Summary, window) -> tuple[int, int]:
    for stmt in session_settings(db.vendor()):
        db.execute(stmt)
    delete_stmt, insert_stmt = rebuild_statements(summary, window)
    return db.execute(delete_stmt), db.execute(insert_stmt)


def _rebuild_streamed(summary: Summary, window, progress: Progress) -> tuple[int, int]:
    deleted = db.execute(_window_rows_filter(summary, window))
    written = 0
    insert_stmt = insert(summary.table)
    for batch in db.emr_stream(summary.rows(window), STREAM_BATCH_ROWS):
        db.execute_many(insert_stmt, [dict(zip(summary.columns, row)) for row in batch])
        written += len(batch)
        progress(f"  {summary.name}: {written:,} rows streamed")
    return deleted, written


def rebuild_summary(
    summary: Summary, window: Sequence[DateRange] | None = None, progress: Progress = _quiet,
) -> SummaryResult:
    """Replace one summary's rows for ``window`` (None: all days) in one transaction."""
    started = time.perf_counter()
    try:
        with transaction.atomic():
            if db.emr_engine() is None:
                deleted, written = _rebuild_same_database(summary, window)
            else:
                deleted, written = _rebuild_streamed(summary, window, progress)
    except DatabaseError as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BuildError(f"{summary.name}: the database refused the build: {first_line}") from exc
    return SummaryResult(summary.name, deleted, written, time.perf_counter() - started)


def check_ready() -> None:
    missing = missing_raw_tables()
    if missing:
        raise BuildError(
            f"the EMR database has no {', '.join(missing)}: run `manage.py init_emr` and load the raw data"
        )


def build_summaries(
    names: Iterable[str] | None = None, *, full: bool = True, progress: Progress = _quiet,
) -> BuildReport:
    """Rebuild the chosen summaries (all by default), dependencies first."""
    summaries = _choose(names)
    check_ready()
    started = time.perf_counter()
    results = []
    for summary in summaries:
        progress(f"{summary.name}: rebuilding all days ({summary.description})")
        result = rebuild_summary(summary, None, progress)
        progress(
            f"{summary.name}: {result.rows_written:,} rows written, {result.rows_deleted:,} replaced,"
            f" in {result.seconds:.2f} s"
        )
        results.append(result)
    return BuildReport(tuple(results), time.perf_counter() - started)
