"""The fan-out entry: ``build_summaries --full --fan-out`` on two real Celery workers
against the single-process ``build --full`` of the same run.

Two worker processes (``celery -A project worker --concurrency 1``, each its own node, as
two machines would run them) read a queue of the bench's own on the Redis of
``CELERY_BROKER_URL``; they are started once, before the first timed run (their start-up
is not timed), and stopped when the bench ends. Work seconds: the fan-out's ledger row
(start to publish) plus the ordinary build that follows it for section 4, as the command
runs them. Checked: every summary table equals a single-process ``--full`` build, row for
row. Skipped when Redis does not answer (``--no-fan-out`` skips it too).
"""
from __future__ import annotations

import atexit
import os
import signal
import subprocess
import sys
import time
import uuid

from .harness import ROOT, BenchFailure, Context, Entry, Measurement

NAME = "build --full --fan-out, 2 workers"
WORKERS = 2
READY_SECONDS = 120


def redis_answers() -> bool:
    import redis

    try:
        redis.Redis.from_url(os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0"),
                             socket_connect_timeout=2).ping()
    except redis.ConnectionError:
        return False
    return True


def _env(ctx: Context) -> dict:
    if "fanout_env" not in ctx.cache:
        ctx.cache["fanout_env"] = {"CELERY_TASK_DEFAULT_QUEUE": f"bench-fanout-{uuid.uuid4().hex[:8]}"}
    return ctx.cache["fanout_env"]


def _start_workers(ctx: Context) -> None:
    """The workers, once per bench run; stopped (with their pool processes) at exit."""
    if "fanout_workers" in ctx.cache:
        return
    env = {**os.environ, "DATABASE_URL": ctx.url, "PYTHONUNBUFFERED": "1", **_env(ctx)}
    env.pop("EMR_DATABASE_URL", None)
    workers = []
    for number in range(1, WORKERS + 1):
        log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"bench-fanout-worker{number}.log"), "w")
        workers.append((subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "project", "worker", "--pool", "prefork", "--concurrency", "1",
             "--hostname", f"bench{number}@%h", "--loglevel", "INFO", "--without-gossip", "--without-mingle"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log.name))
    ctx.cache["fanout_workers"] = workers
    atexit.register(_stop_workers, [process for process, _ in workers])
    deadline = time.monotonic() + READY_SECONDS
    for process, log in workers:
        while " ready." not in open(log).read():
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchFailure(f"a Celery worker did not start (see {log})")
            time.sleep(0.2)


def _stop_workers(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def fanned_out(ctx: Context, verify) -> Measurement:
    """Time ``build_summaries --full --fan-out`` on the workers; check it against ``--full``."""
    _start_workers(ctx)
    with ctx.cursor() as cur:
        cur.execute("SELECT coalesce(max(id), 0) FROM etl_build_run")
        before = cur.fetchone()[0]
    m = ctx.manage("build_summaries", "--full", "--fan-out", env=_env(ctx))
    with ctx.cursor() as cur:
        cur.execute("SELECT status, duration_seconds FROM etl_build_run WHERE id > %s ORDER BY id", (before,))
        runs = cur.fetchall()
    if [status for status, _ in runs] != ["succeeded", "succeeded"]:
        raise BenchFailure(f"the fan-out and its build for section 4 ended {runs}")
    m.work_seconds = sum(seconds for _, seconds in runs)
    m.details.update(fan_out_seconds=runs[0][1], section_4_seconds=runs[1][1],
                     batches=next((line for line in m.details["output"] if "batches published" in line), None))
    m.check = verify(ctx, "fan-out")
    return m


def entry(verify) -> Entry:
    return Entry(NAME, lambda ctx: fanned_out(ctx, verify),
                 skip=lambda c: None if c.cache["fanout"] else c.cache["fanout_skip"])
