"""Per-day fingerprints of the raw rows, for ``build_summaries --verify``.

A day's fingerprint digests, for each change-captured raw table a summary reads, the
day's row count, the sum of its ids and the sum of its ``updated_at`` values: any insert,
delete or id change, and any edit that touches ``updated_at`` (what EMR exports do),
changes it. The build records the fingerprints of the days it rebuilds in the same
transaction and snapshot as the rebuild; ``--verify`` recomputes every day in one scan of
each table and rebuilds exactly the days whose fingerprint differs (a day that appeared or
vanished included). It finds what no trigger logged: triggers disabled during a load and
enabled again before the build, writes by a connection that bypassed them.

Sums stay exact and order-independent, so the same rows always give the same digest:
ids are summed modulo a prime (a BIGINT sum could overflow), and ``updated_at`` as
integer milliseconds on SQLite (its float arithmetic is not associative) or as the exact
``numeric`` epoch on PostgreSQL.

A summary that reads only other summaries (``reads_raw`` False: ``clinic_score``,
``region_month``) was built from the raw rows its input was built from, not from the raw
rows of its own moment: it records the fingerprints its input summary recorded for those
days (:func:`copy`), one statement in Django's database instead of a scan of the raw
days again (the 29 and 61 days a one-day change reaches). A day on which the input
drifted has drifted for it too.

A row belongs to the day of its ``start_at`` exactly as the builds select it
(:func:`etl.queries.groups.dated`): a ``start_at`` without a day (CONTRACT section 1) is in
no fingerprint, as it is in no summary.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from typing import Iterable, Sequence

from sqlalchemy import Numeric, and_, func, insert, literal, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from etl import db
from etl.dates import DateRange
from etl.db.tables import raw, table_for_model
from etl.db.values import as_day
from etl.queries.groups import dated
from etl.queries.portable import day_of

ID_MODULUS = 1_000_000_007


class moment_value(FunctionElement):
    """A timestamp as an exact number: PostgreSQL's numeric epoch, SQLite's integer ms."""

    type = Numeric()
    name = "moment_value"
    inherit_cache = True


@compiles(moment_value, "postgresql")
def _moment_pg(element, compiler, **kw):
    (ts,) = element.clauses
    return f"EXTRACT(EPOCH FROM {compiler.process(ts, **kw)})"


@compiles(moment_value, "sqlite")
def _moment_sqlite(element, compiler, **kw):
    (ts,) = element.clauses
    return f"CAST(ROUND((julianday({compiler.process(ts, **kw)}) - 2440587.5) * 86400000) AS INTEGER)"


def table_terms(name: str, window: Sequence[DateRange] | None, *extra):
    """Per day of ``name``'s rows in the window: the day, its row count, sum of ids and sum
    of ``updated_at`` values (the fingerprint's terms), then the ``extra`` aggregates."""
    table = raw(name)
    day = day_of(table.c.start_at)
    return select(
        day, func.count(), func.sum(table.c.id % ID_MODULUS), func.sum(moment_value(table.c.updated_at)), *extra,
    ).where(dated(table.c.start_at, window)).group_by(day)


def _number(value) -> str:
    """Driver values as canonical text: Decimal('12.000') and 12 both read ``12``."""
    if value is None:
        return "-"
    text = format(value, "f") if not isinstance(value, (int, str)) else str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def day_fingerprints(tables: Iterable[str], window: Sequence[DateRange] | None = None,
                     days=None) -> dict[dt.date, str]:
    """The fingerprint of every day with raw rows in ``tables`` (within ``window``; None:
    all); with ``days`` (a rebuild's :class:`etl.engine.rawdays.RawDays` of that window),
    from its scan of each table."""
    parts: dict[dt.date, list[str]] = {}
    for name in sorted(tables):
        rows = days.terms(name) if days is not None else db.emr_fetch_all(table_terms(name, window))
        for day, count, ids, moments, *_ in rows:
            if (known := as_day(day)) is not None:
                parts.setdefault(known, []).append(f"{name}:{count}:{_number(ids)}:{_number(moments)}")
    return {day: hashlib.sha1("|".join(items).encode()).hexdigest() for day, items in parts.items()}


def record(summary: str, tables: Iterable[str], window: Sequence[DateRange] | None, days=None) -> None:
    """Store the fingerprints of the window's days (None: all days) as built by ``summary``;
    run inside the transaction that rebuilds them (``days``: its scan of the raw rows)."""
    from etl.models import DayFingerprint

    current = day_fingerprints(tables, window, days)
    _forget(summary, window)
    # One executemany, not model instances: a full build may record hundreds of thousands.
    db.execute_many(
        insert(table_for_model(DayFingerprint)),
        [{"summary": summary, "day": day, "fingerprint": digest} for day, digest in current.items()],
    )


def _forget(summary: str, window: Sequence[DateRange] | None) -> None:
    """Delete ``summary``'s stored fingerprints of the window's days (None: all)."""
    from etl.models import DayFingerprint

    stored = DayFingerprint.objects.filter(summary=summary)
    if window is None:
        stored.delete()
    else:
        for r in window:
            stored.filter(day__gte=r.start, day__lte=r.last).delete()


def copy(summary: str, source: str, window: Sequence[DateRange] | None) -> None:
    """Store, for the window's days (None: all days), the fingerprints ``source`` recorded
    as ``summary``'s: those of the raw rows ``source``'s rows, which ``summary`` read,
    were built from. Run inside the transaction that rebuilds them."""
    from etl.models import DayFingerprint

    if window is not None and not window:  # no whole day rebuilt (only (day, key) pairs)
        return
    _forget(summary, window)
    table = table_for_model(DayFingerprint)
    rows = select(literal(summary), table.c.day, table.c.fingerprint).where(table.c.summary == source)
    if window is not None:
        rows = rows.where(or_(*(and_(table.c.day >= r.start, table.c.day <= r.last) for r in window)))
    db.execute(insert(table).from_select(["summary", "day", "fingerprint"], rows))


def drifted_days(summary: str, tables: Iterable[str]) -> set[dt.date]:
    """Days whose raw rows differ from what ``summary`` last built them from."""
    from etl.models import DayFingerprint

    current = day_fingerprints(tables)
    stored = dict(DayFingerprint.objects.filter(summary=summary).values_list("day", "fingerprint"))
    return {day for day in current.keys() | stored.keys() if current.get(day) != stored.get(day)}
