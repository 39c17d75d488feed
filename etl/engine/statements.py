"""The statements of a rebuild, and the script ``build_summaries --sql`` prints.

One place decides what a rebuild of a summary runs, so the build and its printed script
never differ: delete the rows of the days being rebuilt and insert them again with one
``INSERT ... SELECT`` per piece of at most ``MAX_RANGE_DAYS`` days; then the same for the
(day, key) pairs a dimension edit changed (:class:`~etl.dates.Cells`), at most
``CELLS_PER_STATEMENT`` pairs a piece, their rows alone. A full rebuild on
PostgreSQL (raw tables in the same database) is a table swap (:mod:`etl.db.swap`), or,
for a table the swap cannot carry everything of, a bulk load in place
(:mod:`etl.db.fastload`).
"""
from __future__ import annotations

import datetime as dt
import time
from typing import Iterable, Sequence

from django.db import OperationalError, transaction
from sqlalchemy import and_, delete, false, func, insert, or_, select, text
from sqlalchemy.sql import Executable

from etl import db
from etl.db import fastload, swap
from etl.dates import Cells, DateRange
from etl.engine.plan import SummaryPlan
from etl.queries.cells import CELLS_PER_STATEMENT, cells_cte, in_cells
from etl.summaries import Summary

RANGES_PER_STATEMENT = 31
MAX_RANGE_DAYS = 31

# Per-transaction settings on PostgreSQL, as measured by `make bench` (README, "Speed"):
# JIT compilation costs more than it saves on these queries (1m visits: the build's SQL
# 18.2 s with jit off against 24.3 s with server defaults). work_mem = 256MB did not win
# (20.3 s with jit off) and let one hash aggregate hold 0.5 GB; parallel workers are
# never planned here (the role-group walk is a recursive CTE, parallel-restricted), so
# max_parallel_workers_per_gather stays the server's.
POSTGRES_BUILD_SETTINGS = ("SET LOCAL jit = off",)
LOCK_NOT_AVAILABLE = "55P03"
"""PostgreSQL's SQLSTATE when ``lock_timeout`` ends a wait."""


def day_predicate(summary: Summary, window: Sequence[DateRange]):
    period = summary.table.c[summary.period]
    return or_(*(and_(period >= r.start, period < r.end if r.end else period <= r.last)
                 for r in window)) if window else false()


def cells_predicate(summary: Summary, cells: Cells):
    """The summary's rows of those (day, key) pairs (their days' ranges first, for the index)."""
    table = summary.table
    return and_(day_predicate(summary, cells.window),
                in_cells(table.c[summary.period], table.c[cells.key], cells_cte(cells)))


def removal(summary: Summary, window: Sequence[DateRange] | None, cells: Cells | None = None):
    """DELETE of the rows a piece rebuilds: the window's days, or the pairs of ``cells``."""
    remove = delete(summary.table)
    if cells is not None:
        return remove.where(cells_predicate(summary, cells))
    return remove if window is None else remove.where(day_predicate(summary, window))


def rows_of(summary: Summary, window: Sequence[DateRange] | None, cells: Cells | None = None):
    """The summary's rows for a piece: the window's days, or the pairs of ``cells``."""
    return summary.rows(window) if cells is None else summary.rows(cells.window, cells=cells)


def pieces(p: SummaryPlan, split: bool = True) -> list[tuple[Sequence[DateRange] | None, Cells | None]]:
    """A plan's statements' pieces, (window, None) for whole days (all days when the plan is
    full; cut by :func:`statement_windows` when ``split``) then (None, cells) for the pairs a
    dimension edit changed."""
    windows = statement_windows(p.window) if split else [p.window]
    whole = [(w, None) for w in windows] if p.full or p.days else []
    cells = p.cells.chunks(CELLS_PER_STATEMENT) if p.cells and not p.full else []
    return whole + [(None, c) for c in cells]


def lock_timeout_ms() -> int:
    """``settings.SUMMARY_LOCK_TIMEOUT_SECONDS`` in whole milliseconds (0: no limit)."""
    from django.conf import settings

    return max(0, round(float(getattr(settings, "SUMMARY_LOCK_TIMEOUT_SECONDS", 10)) * 1000))


def session_settings(vendor: str) -> list[Executable]:
    """The transaction's settings on PostgreSQL: no JIT, and a ``lock_timeout`` so
    a rebuild that cannot lock its summary table (a reader holds it in an open transaction)
    fails after that long instead of queueing without limit while every new reader of the
    table queues behind it (``set_config(..., true)`` is ``SET LOCAL`` with a bound value)."""
    if vendor != "postgresql":
        return []
    timeout = select(func.set_config("lock_timeout", f"{lock_timeout_ms()}ms", True))
    return [*(text(sql) for sql in POSTGRES_BUILD_SETTINGS), timeout]


def lock_wait_ended(exc: BaseException) -> bool:
    """Whether a database error is PostgreSQL's ``lock_timeout`` (SQLSTATE 55P03)."""
    cause = getattr(exc, "__cause__", None)
    return getattr(cause, "pgcode", None) == LOCK_NOT_AVAILABLE or getattr(exc, "pgcode", None) == LOCK_NOT_AVAILABLE


def lock_refusal() -> str:
    """Why a rebuild gave up waiting for its summary table's lock; the old rows are kept."""
    return (
        f"gave up after waiting {lock_timeout_ms() / 1000:g} s for a lock on the summary table (another"
        " session holds it, e.g. a reader in an open transaction); the previous rows were kept. Retry"
        " later, or raise SUMMARY_LOCK_TIMEOUT_SECONDS"
    )


def refusal_message(summary_name: str, exc: BaseException) -> str:
    """One line saying why the database refused a rebuild; the old rows are kept."""
    if lock_wait_ended(exc):
        return f"{summary_name}: {lock_refusal()}"
    first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return f"{summary_name}: the database refused the build: {first_line}"


def statement_windows(window: Sequence[DateRange] | None) -> list[Sequence[DateRange] | None]:
    """The window cut into pieces of at most ``MAX_RANGE_DAYS`` days and
    ``RANGES_PER_STATEMENT`` ranges: one delete and insert each, for progress."""
    if window is None:
        return [None]
    pieces = [piece for r in window for piece in r.split(MAX_RANGE_DAYS)]
    return [pieces[i:i + RANGES_PER_STATEMENT] for i in range(0, len(pieces), RANGES_PER_STATEMENT)]


def bulk_load(window: Sequence[DateRange] | None) -> bool:
    """A full rebuild on PostgreSQL, in the same database: load it as a bulk load."""
    return window is None and db.vendor() == "postgresql" and db.emr_engine() is None


# The swap waits at most this long for the live table's lock per try, so readers queued
# behind it wait no longer; it retries until SUMMARY_LOCK_TIMEOUT_SECONDS have passed
# (0: without limit), the same bound as every other lock wait of a rebuild.
SWAP_LOCK_TIMEOUT = "1s"
SWAP_RETRY_SECONDS = 0.5


class SwapLocked(RuntimeError):
    """The live table stayed locked by readers for SUMMARY_LOCK_TIMEOUT_SECONDS: nothing changed."""


def table_swap(summary: Summary, window: Sequence[DateRange] | None) -> swap.Swap | None:
    """The table swap of a full rebuild on PostgreSQL, or None: not a full rebuild there,
    or the table has something a swap would lose (:func:`etl.db.swap.blockers`)."""
    if not bulk_load(window) or swap.blockers(summary.table):
        return None
    return swap.plan(summary.model_label, summary.table, summary.columns, summary.rows(None))


def swap_statements(plan: swap.Swap) -> list[Executable]:
    return [*plan.build, plan.lock, *swap.publish(plan)]


def swap_in(plan: swap.Swap) -> None:
    """Take the live table's lock (bounded waits, retried), then publish the staging
    table under its name. Runs inside the build's transaction; the commit follows."""
    previous = db.fetch_scalar(select(func.current_setting("lock_timeout")))
    db.execute(select(func.set_config("lock_timeout", SWAP_LOCK_TIMEOUT, True)))
    wait = lock_timeout_ms() / 1000
    deadline = time.monotonic() + wait if wait else None
    while True:
        try:
            with transaction.atomic():  # a savepoint: a timed-out try is undone alone
                db.execute(plan.lock)
            break
        except OperationalError as exc:
            if getattr(exc.__cause__, "pgcode", None) != LOCK_NOT_AVAILABLE:
                raise
            if deadline is not None and time.monotonic() > deadline:
                raise SwapLocked(lock_refusal()) from None
            time.sleep(SWAP_RETRY_SECONDS)
    db.execute(select(func.set_config("lock_timeout", previous, True)))
    for stmt in swap.publish(plan):
        db.execute(stmt)


def rebuild_statements(summary: Summary, window: Sequence[DateRange] | None,
                       cells: Cells | None = None) -> list[Executable]:
    """Delete and re-insert ``summary``'s rows for ``window`` (None: all days), or for the
    pairs of ``cells``. A full rebuild on PostgreSQL is a bulk load instead
    (:mod:`etl.db.fastload`)."""
    add = insert(summary.table).from_select(summary.columns, rows_of(summary, window, cells))
    if cells is None and bulk_load(window):
        drop, create = fastload.index_ddl(summary.model_label)
        name = summary.table.name
        return [fastload.truncate(name), *drop, add, *create, fastload.analyze(name)]
    return [removal(summary, window, cells), add]


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
        items = [(s, [(window, None)]) for s in summaries]
    else:
        items = [(p.summary, pieces(p, split=False)) for p in plans]
    parts: list[str] = []
    for summary, parts_of_summary in items:
        parts.append(f"-- {summary.name}: {summary.description}")
        if not parts_of_summary or parts_of_summary == [([], None)]:  # an empty window: nothing
            parts.append("-- up to date: nothing to rebuild")
            continue
        if separate and summary.reads_raw:
            for win, cells in parts_of_summary:
                parts.append(f"-- on the EMR database ({emr_vendor}): the rows to write")
                parts.append(db.literal_sql(rows_of(summary, win, cells), emr_vendor) + ";")
                parts.append(f"-- on Django's database ({django_vendor}), in one transaction: delete, then"
                             " insert the rows above in batches")
                parts.append(db.literal_sql(removal(summary, win, cells), django_vendor) + ";")
            continue
        parts.append("BEGIN;")
        parts += [db.literal_sql(stmt, django_vendor) + ";" for stmt in session_settings(django_vendor)]
        for win, cells in parts_of_summary:
            plan = table_swap(summary, win) if cells is None else None
            rebuild = swap_statements(plan) if plan else rebuild_statements(summary, win, cells)
            parts += [db.literal_sql(stmt, django_vendor) + ";" for stmt in rebuild]
        parts.append("COMMIT;")
    return "\n".join(parts) + "\n"
