"""``explain_summary``: a summary's compiled full-rebuild SELECT and the database's plan
for it, on the database where a build runs it (the EMR side for a summary that reads raw
rows when those live elsewhere; Django's database otherwise), with the build's session
settings."""
from __future__ import annotations

import time
from dataclasses import dataclass

from django.db import DatabaseError, transaction
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from etl import db
from etl.engine import statements
from etl.engine.service import BuildError, check_ready
from etl.summaries import SUMMARIES


@dataclass(frozen=True)
class Explained:
    name: str
    vendor: str
    sql: str
    plan: tuple[str, ...]
    note: str = ""


def explain(name: str, analyze: bool = False) -> Explained:
    """The SQL and plan of ``name``; with ``analyze`` the query runs (read-only): PostgreSQL
    reports actual times per node, SQLite (no EXPLAIN ANALYZE) the rows and total time."""
    summary = SUMMARIES.get(name)
    if summary is None:
        raise BuildError(f"unknown summary {name}; choose from {', '.join(SUMMARIES)}")
    check_ready()
    on_emr = summary.reads_raw and db.emr_engine() is not None
    vendor = db.emr_vendor() if on_emr else db.vendor()
    fetch = db.emr_fetch_all if on_emr else db.fetch_all
    sql = db.literal_sql(summary.rows(None), vendor)
    note = ""
    try:
        with transaction.atomic():
            if not on_emr:  # the build's own settings (work_mem, no JIT), as it runs the query
                for stmt in statements.session_settings(vendor):
                    db.execute(stmt)
            plan, note = _plan(vendor, fetch, sql, analyze)
    except (DatabaseError, SQLAlchemyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BuildError(f"{name}: the database could not explain the query: {first}") from exc
    return Explained(name, vendor, sql, plan, note)


def _plan(vendor, fetch, sql: str, analyze: bool) -> tuple[tuple[str, ...], str]:
    note = ""
    if vendor == "postgresql":
        prefix = "EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN "
        return tuple(str(row[0]) for row in fetch(text(prefix + sql))), note
    plan = tuple(" ".join(str(v) for v in row[1:]) for row in fetch(text("EXPLAIN QUERY PLAN " + sql)))
    if analyze:
        started = time.perf_counter()
        (rows,) = fetch(text(f"SELECT count(*) FROM ({sql}) AS explained"))[0]
        note = f"SQLite has no EXPLAIN ANALYZE: the query ran in {time.perf_counter() - started:.3f} s, {rows} rows"
    return plan, note
