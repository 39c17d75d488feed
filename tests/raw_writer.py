"""An EMR exporter for tests: a separate process that commits small transactions to the raw
tables for a while (insert a visit, move or edit another, delete a third, add a shift),
the way a live export keeps writing while builds run.

    python -m tests.raw_writer URL SECONDS SEED

URL is a ``sqlite:///path`` or a PostgreSQL URL. Prints the number of transactions committed.
It reads nothing inside its transactions (the ids it touches are chosen up front), like an
exporter that knows its own rows, and waits for locks as any SQLite client would.
"""
from __future__ import annotations

import datetime as dt
import random
import sqlite3
import sys
import time
from urllib.parse import urlparse

import psycopg2

FIRST_NEW_ID = 50_000_000
PAUSE_SECONDS = 0.01


def connect(url: str):
    parts = urlparse(url)
    if parts.scheme.startswith("sqlite"):
        conn = sqlite3.connect(parts.path, timeout=60, isolation_level=None)
        return conn, "?"
    conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                            password=parts.password, dbname=parts.path.lstrip("/"))
    return conn, "%s"


def stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def main(url: str, seconds: float, seed: int) -> int:
    rng = random.Random(seed)
    conn, mark = connect(url)
    cursor = conn.cursor()
    cursor.execute("SELECT min(start_at), max(start_at), max(id) FROM emr_visit")
    first, last, top = cursor.fetchone()
    first, last = (dt.datetime.fromisoformat(str(v)) for v in (first, last))
    span = int((last - first).total_seconds())
    if isinstance(conn, sqlite3.Connection):
        begin, commit = (lambda: cursor.execute("BEGIN")), (lambda: cursor.execute("COMMIT"))
    else:
        begin, commit = (lambda: None), conn.commit
    next_id, committed = FIRST_NEW_ID + seed * 1_000_000, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = first + dt.timedelta(seconds=rng.randrange(span))
        now = stamp(dt.datetime(2026, 7, 1) + dt.timedelta(seconds=committed))
        begin()
        cursor.execute(
            "INSERT INTO emr_visit (id, patient_id, location_id, service_id, staff_id, start_at, end_at, status,"
            f" updated_at) VALUES ({', '.join([mark] * 9)})",
            (next_id, rng.randrange(1, 500), rng.randrange(1, 40), rng.randrange(1, 10), rng.randrange(1, 60),
             stamp(start), stamp(start + dt.timedelta(minutes=20)), rng.choice(["completed", "cancelled", "no_show"]),
             now))
        cursor.execute(f"UPDATE emr_visit SET start_at = {mark}, status = {mark}, updated_at = {mark} WHERE id = {mark}",
                       (stamp(start - dt.timedelta(days=rng.randrange(1, 20))), rng.choice(["completed", "no_show"]),
                        now, rng.randrange(1, top + 1)))
        cursor.execute(f"DELETE FROM emr_visit WHERE id = {mark}", (rng.randrange(1, top + 1),))
        cursor.execute(
            "INSERT INTO emr_shift (id, staff_id, location_id, start_at, end_at, updated_at)"
            f" VALUES ({', '.join([mark] * 6)})",
            (next_id, rng.randrange(1, 60), rng.randrange(1, 40), stamp(start), stamp(start + dt.timedelta(hours=6)),
             now))
        commit()
        next_id += 1
        committed += 1
        time.sleep(PAUSE_SECONDS)
    conn.close()
    print(committed)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], float(sys.argv[2]), int(sys.argv[3])))
