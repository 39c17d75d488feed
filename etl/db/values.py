"""Normalising raw driver values: Django's cursor returns computed dates and timestamps
as strings on SQLite and as date objects on PostgreSQL."""
from __future__ import annotations

import datetime as dt


def as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def as_day(value) -> dt.date | None:
    """A day read from the database, or None when it is no calendar date (SQLite's date
    functions accept and return text such as '0300-02-29')."""
    if value is None:
        return None
    try:
        return as_date(value)
    except ValueError:
        return None


def as_datetime(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value))
