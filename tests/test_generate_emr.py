"""``generate_emr``: exact sizes, determinism, realistic shape, every kind of dirt, the
command's output and errors, and one transaction, on whichever backend the suite runs."""
from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from sqlalchemy import Numeric, func, select
from sqlalchemy.schema import DropTable

from etl import db as bridge
from etl.sources.generate import GenerateError, GenerateSpec, emr_rows, generate_emr
from etl.sources.generate import service as generate_service
from etl.sources.generate.writers import copy_text
from etl.db.schema import init_emr
from etl.db.tables import RAW_TABLE_NAMES, raw

from .factories import add, ts

KNOWN_STATUSES = {"completed", "cancelled", "no_show", "scheduled"}
END_DAY = dt.date(2025, 3, 31)
MEDIUM = {"visits": 5000, "days": 90, "clinics": 4, "seed": 1, "end_day": END_DAY}


def _normal(value, numeric: bool):
    """A value as the generator wrote it, whatever type the driver hands back."""
    if value is None:
        return None
    if numeric:
        return f"{Decimal(str(value)):.2f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def db_rows(name: str) -> list[tuple]:
    """All rows of a raw table in id order, values normalised to the generator's text."""
    table = raw(name)
    numeric = [isinstance(c.type, Numeric) for c in table.columns]
    rows = bridge.emr_fetch_all(select(table).order_by(table.c.id))
    return [tuple(_normal(v, n) for v, n in zip(row, numeric)) for row in rows]


def generated_rows(spec: GenerateSpec, chunk_rows: int = 100_000) -> dict[str, list[tuple]]:
    rows: dict[str, list[tuple]] = {name: [] for name in RAW_TABLE_NAMES}
    for name, chunk in emr_rows(spec, chunk_rows):
        numeric = [isinstance(c.type, Numeric) for c in raw(name).columns]
        rows[name] += [tuple(_normal(v, n) for v, n in zip(row, numeric)) for row in chunk]
    return rows


def checksum() -> str:
    digest = hashlib.sha256()
    for name in RAW_TABLE_NAMES:
        digest.update(repr((name, db_rows(name))).encode())
    return digest.hexdigest()


def dicts(name: str) -> list[dict]:
    columns = [c.name for c in raw(name).columns]
    return [dict(zip(columns, row)) for row in db_rows(name)]


def stamp(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


def test_sizes_follow_the_arguments(emr):
    lines: list[str] = []
    report = generate_emr(**MEDIUM, progress=lines.append, chunk_rows=1000)
    counts = {name: bridge.emr_fetch_all(select(func.count()).select_from(raw(name)))[0][0] for name in RAW_TABLE_NAMES}
    assert counts["emr_visit"] == report.visits == 5000
    assert counts["emr_staff"] == report.staff == 25
    assert counts["emr_patient"] == report.patients == 1000
    assert counts["emr_service"] == report.services == 50
    assert counts["emr_shift"] == report.shifts and 0 < report.shifts <= report.visits
    assert counts["emr_role"] == report.roles and 30 <= report.roles <= 120
    assert counts["emr_location"] == report.locations
    locations = dicts("emr_location")
    regions = {row["id"] for row in locations if row["kind"] == "region"}
    assert len([row for row in locations if row["kind"] == "clinic" and row["parent_id"] in regions]) == 4
    written = [int(line.split()[1].replace(",", "")) for line in lines if line.startswith("emr_visit:")]
    assert len(written) >= 4 and written == sorted(written) and written[-1] == 5000
    assert all(1000 <= after - before < 1200 for before, after in zip([0] + written[:-2], written[:-1]))
    assert report.seconds > 0


def test_database_holds_exactly_the_generated_rows(emr):
    generate_emr(**MEDIUM, chunk_rows=700)
    expected = generated_rows(GenerateSpec.checked(**MEDIUM))
    assert generated_rows(GenerateSpec.checked(**MEDIUM), chunk_rows=700) == expected
    for name in RAW_TABLE_NAMES:
        assert db_rows(name) == expected[name], name


def test_same_seed_same_rows_other_seed_other_rows(emr):
    small = {**MEDIUM, "visits": 800}
    generate_emr(**small)
    first = checksum()
    generate_emr(**small)
    assert checksum() == first
    generate_emr(**{**small, "seed": 2})
    assert checksum() != first


def test_replaces_what_was_there(emr):
    add("emr_visit", {"id": 10**9, "patient_id": 1, "location_id": 1, "start_at": ts("2020-01-01 09:00"),
                      "status": "completed", "updated_at": ts("2020-01-01 10:00")})
    generate_emr(**{**MEDIUM, "visits": 300})
    visits = db_rows("emr_visit")
    assert len(visits) == 300 and visits[-1][0] == 300


def test_every_kind_of_dirt_is_present(emr):
    generate_emr(**MEDIUM)
    roles, locations = dicts("emr_role"), dicts("emr_location")
    staff, visits, shifts = dicts("emr_staff"), dicts("emr_visit"), dicts("emr_shift")
    ids = {name: {row[0] for row in db_rows(name)} for name in RAW_TABLE_NAMES}

    def loops(rows: list[dict]) -> bool:
        parent = {row["id"]: row["parent_id"] for row in rows}
        return any(parent.get(p) == i for i, p in parent.items() if p is not None and p != i)

    for rows, name in ((roles, "emr_role"), (locations, "emr_location")):
        assert loops(rows), name
        assert any(r["parent_id"] is not None and r["parent_id"] not in ids[name] for r in rows), name
    assert any(s["role_id"] is None for s in staff)
    assert any(s["role_id"] is not None and s["role_id"] not in ids["emr_role"] for s in staff)
    assert any(s["hourly_cost"] is None for s in staff)
    visit_checks = {
        "no staff": lambda v: v["staff_id"] is None,
        "missing staff": lambda v: v["staff_id"] is not None and v["staff_id"] not in ids["emr_staff"],
        "no service": lambda v: v["service_id"] is None,
        "missing service": lambda v: v["service_id"] is not None and v["service_id"] not in ids["emr_service"],
        "missing location": lambda v: v["location_id"] not in ids["emr_location"],
        "missing patient": lambda v: v["patient_id"] not in ids["emr_patient"],
        "end before start": lambda v: v["end_at"] is not None and v["end_at"] < v["start_at"],
        "no end": lambda v: v["end_at"] is None,
        "unknown status": lambda v: v["status"] not in KNOWN_STATUSES,
        "crosses midnight": lambda v: v["end_at"] is not None and v["end_at"][:10] > v["start_at"][:10],
    }
    for kind, check in visit_checks.items():
        hits = sum(1 for v in visits if check(v))
        assert 0 < hits < 0.05 * len(visits), kind
    assert {"arrived", "COMPLETED"} & {v["status"] for v in visits}
    assert any(s["end_at"] < s["start_at"] for s in shifts)
    assert any(s["staff_id"] not in ids["emr_staff"] for s in shifts)
    completed = sum(1 for v in visits if v["status"] == "completed")
    assert 0.80 < completed / len(visits) < 0.90


def test_times_fall_in_the_requested_days_and_opening_hours(emr):
    generate_emr(**MEDIUM)
    first = END_DAY - dt.timedelta(days=89)
    for row in dicts("emr_visit"):
        start, end, updated = stamp(row["start_at"]), stamp(row["end_at"]), stamp(row["updated_at"])
        assert first <= start.date() <= END_DAY and start.second == 0
        assert updated > start
        if end is not None and end.date() > start.date():
            assert start.hour == 23
        else:
            assert dt.time(8) <= start.time() <= dt.time(17, 50), row
        if end is not None and start <= end and end.date() == start.date():
            assert 10 * 60 <= (end - start).total_seconds() <= 60 * 60
    for row in dicts("emr_shift"):
        start, end = sorted((stamp(row["start_at"]), stamp(row["end_at"])))
        assert first <= start.date() <= END_DAY
        assert 4 * 3600 <= (end - start).total_seconds() <= 10 * 3600
    costs = [Decimal(s["hourly_cost"]) for s in dicts("emr_staff") if s["hourly_cost"] is not None]
    assert all(Decimal("20") <= cost <= Decimal("150") for cost in costs)


def test_command_prints_progress_and_counts(emr):
    out = StringIO()
    call_command("generate_emr", "--visits", "300", "--days", "10", "--clinics", "2", "--seed", "5", stdout=out)
    text = out.getvalue()
    assert "emr_visit: 300 rows written" in text
    assert text.splitlines()[-1].startswith("generated 300 visits, ")
    assert " 50 services in " in text.splitlines()[-1]


@pytest.mark.parametrize("args, kwargs, message", [
    (["--visits", "0"], {}, "--visits: must be at least 1"),
    (["--visits", "many"], {}, "'many' is not a whole number"),
    (["--visits", "10", "--seed", "-1"], {}, "--seed: must be at least 0"),
    ([], {}, "--visits"),
    (["--visits", "10"], {"days": 0}, "--days must be a positive whole number"),
    (["--visits", "10"], {"clinics": -3}, "--clinics must be a positive whole number"),
    (["--visits", "10"], {"days": 10**6}, "--days must be at most"),
])
def test_bad_arguments_are_one_clear_error(emr, args, kwargs, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate_emr", *args, **kwargs, stdout=StringIO())


def test_missing_raw_tables_is_one_clear_error(emr):
    bridge.emr_execute(DropTable(raw("emr_visit")))
    with pytest.raises(CommandError, match=r"^the EMR database has no emr_visit: run `manage.py init_emr` first$"):
        call_command("generate_emr", "--visits", "10", stdout=StringIO())


def test_a_failed_run_leaves_the_previous_rows(emr, monkeypatch):
    generate_emr(**{**MEDIUM, "visits": 200})
    before = checksum()
    real_rows = generate_service.emr_rows

    def failing(spec, chunk_rows):
        for name, rows in real_rows(spec, chunk_rows):
            yield name, rows
            if name == "emr_patient":
                raise RuntimeError("disk full")

    monkeypatch.setattr(generate_service, "emr_rows", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        generate_emr(**{**MEDIUM, "visits": 300, "seed": 9})
    assert checksum() == before


def test_service_rejects_bad_arguments():
    with pytest.raises(GenerateError, match="end_day must be a date"):
        GenerateSpec.checked(10, 10, 1, 1, "2025-01-01")
    with pytest.raises(GenerateError, match="--visits must be a positive whole number, not True"):
        GenerateSpec.checked(True, 10, 1, 1, END_DAY)


def test_copy_text_escapes_only_when_a_value_needs_it():
    assert copy_text([(1, "2025-01-01 08:00:00", None, Decimal("12.50"))], 4) == "1\t2025-01-01 08:00:00\t\\N\t12.50\n"
    assert copy_text([(1, "a\tb", None, "c\\N\nd")], 4) == "1\ta\\tb\t\\N\tc\\\\N\\nd\n"


def _generate_into(url: str) -> dict[str, list[tuple]]:
    with override_settings(EMR_DATABASE_URL=url):
        init_emr(drop=True)
        generate_emr(**{**MEDIUM, "visits": 400}, chunk_rows=150)
        return {name: db_rows(name) for name in RAW_TABLE_NAMES}


def test_separate_sqlite_emr_database(db, tmp_path):
    url = f"sqlite:///{tmp_path / 'emr.sqlite3'}"
    try:
        assert _generate_into(url) == generated_rows(GenerateSpec.checked(**{**MEDIUM, "visits": 400}))
    finally:
        bridge._engine(url).dispose()


def test_separate_postgres_emr_database(db, postgres_emr_url):
    assert _generate_into(postgres_emr_url) == generated_rows(GenerateSpec.checked(**{**MEDIUM, "visits": 400}))
