"""Session settings, measured: the build's own SQL under each variant of ``work_mem``,
``jit`` and ``max_parallel_workers_per_gather``.

``build_summaries --full --sql`` prints the exact statements of a full build (on
PostgreSQL: the table swap, one transaction per summary, opened by the build's
``SET LOCAL`` lines). Each variant runs that script with those lines replaced by its
own, in a fresh session, and is timed; the build itself (gates, bookkeeping, Python) is
not in it, so the variants differ only in the settings. The script is printed once per
run; running it replaces the summary tables with the same rows.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg2

from .harness import Context, Entry, Measurement

PREFIX = "build SQL, "


@dataclass(frozen=True)
class Variant:
    name: str
    settings: tuple[str, ...]


VARIANTS = (
    Variant("server defaults", ()),
    Variant("work_mem 256MB", ("SET LOCAL work_mem = '256MB'",)),
    Variant("jit off", ("SET LOCAL jit = off",)),
    Variant("work_mem 256MB + jit off", ("SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off")),
    Variant("work_mem 256MB + jit off + no parallel workers",
            ("SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off", "SET LOCAL max_parallel_workers_per_gather = 0")),
    Variant("work_mem 256MB + jit off + parallel encouraged",
            ("SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off", "SET LOCAL parallel_setup_cost = 100",
             "SET LOCAL parallel_tuple_cost = 0.01", "SET LOCAL min_parallel_table_scan_size = '1MB'")),
)


def script(ctx: Context) -> str:
    """The full build's printed script, the build's own settings lines removed."""
    if "script" not in ctx.cache:
        m = ctx.manage("build_summaries", "--full", "--sql", output_lines=None)
        lines = [line for line in m.details["output"] if not line.startswith("SET LOCAL ")]
        ctx.cache["script"] = "\n".join(lines)
    return ctx.cache["script"]


def with_settings(text: str, variant: Variant) -> str:
    opening = "\n".join(("BEGIN;", *(f"{s};" for s in variant.settings)))
    return "\n".join(opening if line == "BEGIN;" else line for line in text.splitlines())


def runner(variant: Variant):
    def run(ctx: Context) -> Measurement:
        ctx.ensure_built()
        sql = with_settings(script(ctx), variant)
        conn = psycopg2.connect(ctx.url)  # a fresh session: nothing cached by an earlier variant
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                started = time.perf_counter()
                cur.execute(sql)
                seconds = time.perf_counter() - started
        finally:
            conn.close()
        return Measurement(seconds, seconds, details={"settings": list(variant.settings)})
    return run


ENTRIES = [Entry(PREFIX + v.name, runner(v)) for v in VARIANTS]
