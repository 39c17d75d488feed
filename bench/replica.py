"""The raw side on a read replica: builds whose ``EMR_DATABASE_URL`` is a logical-replication
subscriber, on the real second server of ``scripts/ensure_replica.sh``, against the same
builds with everything in one database.

Set up before the rounds: ``scripts/ensure_replica.sh <bench database>`` (a primary on 5433
and a subscriber on 5434 with the raw tables, the publication and the subscription),
``init_emr`` on both (the subscriber's capture is row-level), and a summaries database of its
own on the bench server (``<bench database>_summaries``, migrated). Entries:

- ``replica: generate_emr + catch-up`` (once): the generator's arguments into the primary,
  then the wait until the subscriber's raw rows equal the primary's (work: the wait);
- ``replica: build --full``: ``build_summaries --full`` reading the subscriber;
- ``replica: build, 1 day changed``: the day's statuses flipped on the primary as in the
  same-database entry, waited for on the subscriber (untimed), then a plain build reading
  the subscriber, timed; checked equal to a ``--full`` build from the subscriber.

Skipped when the two servers cannot be started (``--no-replica`` skips them too).
"""
from __future__ import annotations

import datetime as dt
import subprocess
import time

import psycopg2

from .harness import ROOT, BenchFailure, Context, Entry, Measurement, connect

GENERATE, FULL, DAY = "replica: generate_emr + catch-up", "replica: build --full", "replica: build, 1 day changed"
CATCH_UP_SECONDS = 1800
VISITS_OF = ("SELECT md5(coalesce(string_agg(id || ':' || status || ':' || start_at, ',' ORDER BY id), ''))"
             " FROM emr_visit WHERE start_at >= %s AND start_at < %s")
RAW_CONTENT = ("SELECT (SELECT count(*) FROM emr_visit), (SELECT count(*) FROM emr_shift),"
               " (SELECT md5(coalesce(string_agg(id || ':' || status, ',' ORDER BY id), '')) FROM emr_visit)")


def prepare(ctx: Context) -> str | None:
    """Start the servers and the bench's replicated database; why not, if they cannot be."""
    name = ctx.url.rsplit("/", 1)[1]
    started = subprocess.run([str(ROOT / "scripts" / "ensure_replica.sh"), name], capture_output=True, text=True,
                             timeout=300)
    if started.returncode != 0:
        return "skipped: " + (started.stderr.strip().splitlines() or ["ensure_replica.sh failed"])[-1]
    urls = dict(line.split("=", 1) for line in started.stdout.splitlines() if "=" in line)
    summaries = ctx.url + "_summaries"
    connect(summaries).close()  # created when missing
    ctx.cache["replica"] = {**urls, "summaries": summaries}
    return None


def _env(ctx: Context, side: str) -> dict:
    return {"EMR_DATABASE_URL": ctx.cache["replica"][side]}


def _query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def _caught_up(ctx: Context, sql: str, params: tuple = ()) -> float:
    """Seconds until the subscriber's answer to ``sql`` equals the primary's."""
    urls = ctx.cache["replica"]
    started = time.perf_counter()
    expected = _query(urls["primary"], sql, params)
    while _query(urls["replica"], sql, params) != expected:
        if time.perf_counter() - started > CATCH_UP_SECONDS:
            raise BenchFailure(f"the subscriber did not catch up with the primary within {CATCH_UP_SECONDS} s")
        time.sleep(0.1)
    return time.perf_counter() - started


def generate(ctx: Context) -> Measurement:
    urls = ctx.cache["replica"]
    ctx.manage("migrate", "-v0", url=urls["summaries"])
    for side in ("primary", "replica"):
        ctx.manage("init_emr", url=urls["summaries"], env=_env(ctx, side))
    m = ctx.manage("generate_emr", "--visits", str(ctx.visits), "--days", str(ctx.days), "--clinics",
                   str(ctx.clinics), "--seed", str(ctx.seed), url=urls["summaries"], env=_env(ctx, "primary"))
    m.work_seconds = _caught_up(ctx, RAW_CONTENT)
    m.seconds += m.work_seconds
    for side in ("primary", "replica"):
        _query(urls[side], "VACUUM ANALYZE")
    return m


def full(ctx: Context) -> Measurement:
    return ctx.build("--full", url=ctx.cache["replica"]["summaries"], env=_env(ctx, "replica"))


def day_changed(ctx: Context, flip: str, verify) -> Measurement:
    urls = ctx.cache["replica"]
    first, last = _query(urls["primary"], "SELECT min(start_at)::date, max(start_at)::date FROM emr_visit")[0]
    day = dt.datetime.combine(first + (last - first) / 2, dt.time())
    window = (day, day + dt.timedelta(days=1))
    ctx.build("--quiet", url=urls["summaries"], env=_env(ctx, "replica"))  # nothing pending before the change
    _query(urls["primary"], flip, window)
    waited = _caught_up(ctx, VISITS_OF, window)
    m = ctx.build(url=urls["summaries"], env=_env(ctx, "replica"))
    m.check = verify(ctx, "replica: incremental_day", url=urls["summaries"], env=_env(ctx, "replica"))
    m.details.update(day=day.date().isoformat(), catch_up_seconds=waited)
    return m


def entries(flip: str, verify) -> list[Entry]:
    def skip(ctx: Context) -> str | None:
        return None if "replica" in ctx.cache else ctx.cache["replica_skip"]

    return [Entry(GENERATE, generate, once=True, skip=skip), Entry(FULL, full, skip=skip),
            Entry(DAY, lambda ctx: day_changed(ctx, flip, verify), skip=skip)]
