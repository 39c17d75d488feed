"""Writing raw EMR rows in tests, through the same bridge the ETL uses."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import insert

from etl import db
from etl.db.tables import raw


def add(table_name: str, *rows: dict) -> None:
    """Insert rows into a raw table; missing nullable columns default to NULL."""
    table = raw(table_name)
    columns = [c.name for c in table.columns]
    full_rows = [{name: row.get(name) for name in columns} for row in rows]
    db.emr_execute_many(insert(table), full_rows)


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def money(text: str) -> Decimal:
    return Decimal(text)


def summary_rows(model, fields: list[str]) -> list[tuple]:
    """All rows of a summary model as tuples of ``fields``, in the grain order, with
    ``None`` sorting first so the order is the same on every backend."""
    rows = list(model.objects.values_list(*fields))
    return sorted(rows, key=lambda row: tuple((v is not None, v) for v in row))


def visit(id_, day: str, status: str = "completed", staff=500, patient=2000, location=102, service=1,
          start: str = "10:00", end: str | None = "10:30", updated: str = "2024-03-05") -> dict:
    """A raw visit row on ``day`` (YYYY-MM-DD); ``end=None`` gives a NULL end_at."""
    return {
        "id": id_, "patient_id": patient, "location_id": location, "service_id": service, "staff_id": staff,
        "start_at": ts(f"{day} {start}"), "end_at": ts(f"{day} {end}") if end else None, "status": status,
        "updated_at": ts(f"{updated} 00:00"),
    }
