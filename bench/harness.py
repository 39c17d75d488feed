"""The bench's machinery: a run's :class:`Context`, :class:`Measurement` and the
:class:`Entry` registry it runs (:func:`run_entries`), apart from what is measured
(:mod:`bench.run`) and how it is reported (:mod:`bench.report`).

Commands run as processes of their own against the bench database, timed on the wall
clock with their peak memory read by ``/usr/bin/time -f %M``; the harness itself talks
to PostgreSQL through one autocommit psycopg2 connection.
"""
from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

import psycopg2
from psycopg2 import sql

ROOT = Path(__file__).resolve().parent.parent
TIME = Path("/usr/bin/time")


class BenchFailure(RuntimeError):
    """The benchmark cannot go on: a command failed, or the reference computes other rows."""


@dataclass
class Measurement:
    """One timed run. ``seconds``: wall clock (of the whole process, for commands);
    ``work_seconds``: the work alone when known (a command's own report, the reference's
    statements); ``check``: the result of a correctness check, if the entry has one."""

    seconds: float
    work_seconds: float | None = None
    peak_mb: float | None = None
    check: str | None = None
    details: dict = field(default_factory=dict)


@dataclass
class Context:
    """What entries share: the run's settings, a connection (autocommit) to the bench
    database, and whether the summary tables are the project's build of the current data."""

    size: str
    visits: int
    clinics: int
    url: str
    repeat: int
    orm: bool
    reuse_data: bool
    conn: "psycopg2.extensions.connection"
    shape: str = "sparse"
    days: int = 730
    seed: int = 1
    built: bool = False
    failures: list[str] = field(default_factory=list)
    cache: dict = field(default_factory=dict)

    def process(self, argv: list[str], url: str | None = None, output_lines: int | None = 12,
                env: dict | None = None) -> Measurement:
        """Run ``argv`` in the project directory against the bench database (or ``url``),
        with ``env`` added to the environment: wall seconds, peak resident memory
        (``/usr/bin/time -f %M``), the last ``output_lines`` lines of its output (None: all)."""
        extra = env or {}
        env = {**os.environ, "DATABASE_URL": url or self.url, "DJANGO_SETTINGS_MODULE": "project.settings"}
        env.pop("EMR_DATABASE_URL", None)  # raw and summary tables in the one database, unless ``env`` says
        env.update(extra)
        with tempfile.NamedTemporaryFile("r", suffix=".tmp") as rss:
            timer = [str(TIME), "-f", "%M", "-o", rss.name] if TIME.exists() else []
            started = time.perf_counter()
            done = subprocess.run(timer + argv, cwd=ROOT, env=env, capture_output=True, text=True)
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                raise BenchFailure(f"`{' '.join(argv[1:])}` exited {done.returncode}: {done.stderr.strip()[-2000:]}")
            # Without /usr/bin/time: the largest child so far, an upper bound.
            kb = int(rss.read().split()[-1]) if timer else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        lines = done.stdout.strip().splitlines()
        return Measurement(seconds, peak_mb=kb / 1024,
                           details={"output": lines if output_lines is None else lines[-output_lines:]})

    def manage(self, *args: str, url: str | None = None, output_lines: int | None = 12,
               env: dict | None = None) -> Measurement:
        return self.process([sys.executable, "manage.py", *args], url, output_lines, env)

    def build(self, *args: str, url: str | None = None, env: dict | None = None) -> Measurement:
        """``build_summaries`` with ``args`` (on ``url``, else the bench database; ``env``
        added to its environment); ``work_seconds`` is the build's own time."""
        m = self.manage("build_summaries", *args, url=url, env=env)
        m.work_seconds = reported(m, r"built \d+ summaries: .* in ([\d.]+) s")
        self.built = self.built or url is None
        return m

    def ensure_built(self) -> None:
        if not self.built:
            self.build("--full", "--quiet")

    def cursor(self):
        return self.conn.cursor()


@dataclass(frozen=True)
class Entry:
    name: str
    run: Callable[[Context], Measurement]
    once: bool = False  # run once, before the repeated rounds
    skip: Callable[[Context], str | None] = lambda ctx: None  # why it is skipped, if it is


def reported(m: Measurement, pattern: str) -> float | None:
    found = [re.search(pattern, line) for line in m.details["output"]]
    return next((float(f.group(1)) for f in found if f), None)


def run_entries(ctx: Context, entries: list[Entry]) -> dict[str, list[Measurement] | str]:
    """Each entry's measurements (or why it was skipped): the ``once`` entries first, then
    ``ctx.repeat`` interleaved rounds of the others."""
    results: dict[str, list[Measurement] | str] = {}
    active = []
    for e in entries:
        reason = e.skip(ctx)
        results[e.name] = reason if reason else []
        if not reason:
            active.append(e)
    rounds = [[e for e in active if e.once]] + [[e for e in active if not e.once]] * ctx.repeat
    for number, batch in enumerate(rounds):
        for e in batch:
            m = e.run(ctx)
            results[e.name].append(m)
            work = "" if m.work_seconds is None else f" (work {m.work_seconds:.2f} s)"
            print(f"[{number}/{ctx.repeat}] {e.name}: {m.seconds:.2f} s{work} {m.check or ''}", file=sys.stderr)
    ctx.ensure_built()  # leave the summaries as the project builds them
    return results


def connect(url: str) -> "psycopg2.extensions.connection":
    """An autocommit connection to the bench database, created first if it is missing."""
    name = urlsplit(url).path.lstrip("/")
    if "bench" not in name:
        raise BenchFailure(f"refusing to use database {name!r}: the bench recreates its tables (use emr_bench)")
    admin = psycopg2.connect(urlsplit(url)._replace(path="/postgres").geturl())
    admin.autocommit = True
    with admin.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin.close()
    conn = psycopg2.connect(url)
    conn.autocommit = True
    return conn


