"""The statements of a rebuild, and the script ``build_summaries --sql`` prints.

One place decides what a rebuild of a summary runs, so the build and its printed script
never differ: delete the rows of the days being rebuilt and insert them again with one
``INSERT ... SELECT`` per piece of at most ``MAX_RANGE_DAYS`` days; a full rebuild on
PostgreSQL is a bulk load instead (:mod:`etl.db.fastload`).
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable, Sequence

from sqlalchemy import and_, delete, false, insert, or_, text
from sqlalchemy.sql import Executable

from etl import db
from etl.db import fastload
from etl.dates import DateRange
from etl.engine.plan import SummaryPlan
from etl.summaries import Summary

RANGES_PER_STATEMENT = 31
MAX_RANGE_DAYS = 31

# Per-transaction settings for the big aggregation on PostgreSQL (see README, "Speed"):
# sorts and hashes stay in memory, and JIT compilation (0.3-0.5 s a query) is skipped.
POSTGRES_BUILD_SETTINGS = ("SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off")


def day_predicate(summary: Summary, window: Sequence[DateRange]):
    table = summary.table
    return or_(*(and_(table.c.day >= r.start, table.c.day < r.end) for r in window)) if window else false()


def session_settings(vendor: str) -> list[Executable]:
    return [text(sql) for sql in POSTGRES_BUILD_SETTINGS] if vendor == "postgresql" else []


def statement_windows(window: Sequence[DateRange] | None) -> list[Sequence[DateRange] | None]:
    """The window cut into pieces of at most ``MAX_RANGE_DAYS`` days and
    ``RANGES_PER_STATEMENT`` ranges: one delete and insert each, for progress."""
    if window is None:
        return [None]
    pieces: list[DateRange] = []
    for r in window:
        start = r.start
        while start < r.end:
            end = min(r.end, start + dt.timedelta(days=MAX_RANGE_DAYS))
            pieces.append(DateRange(start, end))
            start = end
    return [pieces[i:i + RANGES_PER_STATEMENT] for i in range(0, len(pieces), RANGES_PER_STATEMENT)]


def bulk_load(window: Sequence[DateRange] | None) -> bool:
    """A full rebuild on PostgreSQL, in the same database: load it as a bulk load."""
    return window is None and db.vendor() == "postgresql" and db.emr_engine() is None


def rebuild_statements(summary: Summary, window: Sequence[DateRange] | None) -> list[Executable]:
    """Delete and re-insert ``summary``'s rows for ``window`` (None: all days). A full
    rebuild on PostgreSQL is a bulk load instead (:mod:`etl.db.fastload`)."""
    add = insert(summary.table).from_select(summary.columns, summary.rows(window))
    if bulk_load(window):
        drop, create = fastload.index_ddl(summary.model_label)
        name = summary.table.name
        return [fastload.truncate(name), *drop, add, *create, fastload.analyze(name)]
    remove = delete(summary.table)
    if window is not None:
        remove = remove.where(day_predicate(summary, window))
    return [remove, add]


def build_sql(
    summaries: Iterable[Summary], window: Sequence[DateRange] | None = None, *,
    plans: list[SummaryPlan] | None = None,
) -> str:
    """The exact statements of a build, every bound value inlined, as a script that
    ``psql`` or ``sqlite3`` runs as is (one transaction per summary). With ``plans``, the
    statements of those planned rebuilds; otherwise a rebuild of ``window`` (None: all)."""
    django_vendor, emr_vendor = db.vendor(), db.emr_vendor()
    separate = db.emr_engine() is not None
    if plans is None:
        items = [(s, window) for s in summaries]
    else:
        items = [(p.summary, p.window) for p in plans]
    parts: list[str] = []
    for summary, win in items:
        parts.append(f"-- {summary.name}: {summary.description}")
        if win == []:
            parts.append("-- up to date: nothing to rebuild")
            continue
        if separate:
            remove = delete(summary.table)
            if win is not None:
                remove = remove.where(day_predicate(summary, win))
            parts.append(f"-- on the EMR database ({emr_vendor}): the rows to write")
            parts.append(db.literal_sql(summary.rows(win), emr_vendor) + ";")
            parts.append(f"-- on Django's database ({django_vendor}), in one transaction: delete, then"
                         " insert the rows above in batches")
            parts.append(db.literal_sql(remove, django_vendor) + ";")
            continue
        parts.append("BEGIN;")
        for stmt in session_settings(django_vendor) + rebuild_statements(summary, win):
            parts.append(db.literal_sql(stmt, django_vendor) + ";")
        parts.append("COMMIT;")
    return "\n".join(parts) + "\n"
