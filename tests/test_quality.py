"""The data-quality report (``etl.sources.quality``, ``manage.py check_emr``): exact counts and example
ids on the hand-made dirty data set, zeros on clean data, and no patient data in the output."""
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings
from sqlalchemy.schema import DropTable

from etl import db
from etl.sources.quality import CHECKS, QualityReport, ValueCount, check_emr
from etl.db.schema import init_emr
from etl.db.tables import raw

from . import handmade
from .factories import add, money, ts

ROOT = Path(__file__).resolve().parent.parent

# Worked out by hand from tests/handmade.py. Ids there: roles 1-40, locations 100-201,
# staff 500-507, services 1-2, visits 1-18, shifts 1-8, patients 1000-1015 (no emr_patient rows).
EXPECTED_HANDMADE = {
    # Statuses: v7, v18 'scheduled'; v8 'COMPLETED' is the only one outside the four known.
    "visit_unknown_status": (1, (8,)),
    # v4 11:00 -> 10:50; every other visit with an end ends at or after its start.
    "visit_ends_before_start": (1, (4,)),
    # The longest visit, v15, lasts 30 minutes.
    "visit_longer_than_24h": (0, ()),
    # Visits without end_at: v3 completed; v5, v13, v17 cancelled and v6 no-show do not count.
    "completed_visit_without_end": (1, (3,)),
    # s4 18:00 -> 17:00; s5 runs past midnight and is valid.
    "shift_ends_before_start": (1, (4,)),
    # The longest shifts, s1 and s5, last 8 hours.
    "shift_longer_than_24h": (0, ()),
    # Every timestamp is a canonical one of 2024 (tests/test_absurd.py has the dirty ones).
    **{f"{table}_{column}_{kind}": (0, ()) for table in ("visit", "shift") for column in ("start", "end")
       for kind in ("not_timestamp", "out_of_range", "infinite")},
    # v10 -> staff 999; v9 has no staff_id at all (next check), so it is not "missing".
    "visit_staff_missing": (1, (10,)),
    "visit_without_staff": (1, (9,)),
    # s6 -> staff 888; every other shift names one of 500-507.
    "shift_staff_missing": (1, (6,)),
    # v16 -> location 999; all others are at 102.
    "visit_location_missing": (1, (16,)),
    # service_id is 1, 2 or NULL (v9, v10): NULL is "no service", not a missing row.
    "visit_service_missing": (0, ()),
    # emr_patient is empty, so all 18 visits name a missing patient; the 5 smallest visit ids.
    "visit_patient_missing": (18, (1, 2, 3, 4, 5)),
    # Every shift is at 102.
    "shift_location_missing": (0, ()),
    # s503 has role_id NULL.
    "staff_without_role": (1, (503,)),
    # Staff roles 3, 11, 20, 30, 2, 1, 40 all exist (30's *parent* is missing: a later check).
    "staff_role_missing": (0, ()),
    # 20 <-> 21 loop, 40 -> 40 self loop.
    "role_in_loop": (3, (20, 21, 40)),
    # 30 -> 999, no such role.
    "role_reaches_missing_parent": (1, (30,)),
    # 200 <-> 201 loop.
    "location_in_loop": (2, (200, 201)),
    # 101 -> 100 and 102 -> 101 reach the root 100; no location names a missing parent.
    "location_reaches_missing_parent": (0, ()),
    # Clinics: 101 itself, 102 under it, 200 and 201 (clinics in a loop: each its own);
    # 100 is a region, which has no clinic by nature and is not flagged.
    "location_without_clinic": (0, ()),
    # v16 is at location 999, which has no row; all other visits and every shift are at 102.
    "visit_without_clinic": (1, (16,)),
    "shift_without_clinic": (0, ()),
    # s503 and s505 have hourly_cost NULL.
    "staff_without_cost": (2, (503, 505)),
    # Every cost set is between 10.00 and 50.00.
    "staff_negative_cost": (0, ()),
    "staff_cost_unreadable": (0, ()),
}
# 1+1+1+1+1+1+1+1+0+18+0+1+0+3+1+2+0 + 1 (v16 without clinic) + 2, the rest 0
HANDMADE_TOTAL = 36


def found(report: QualityReport) -> dict[str, tuple[int, tuple[int, ...]]]:
    return {r.name: (r.count, r.example_ids) for r in report.results}


def by_name(report: QualityReport, name: str):
    return next(r for r in report.results if r.name == name)


def test_every_check_is_tested():
    assert [c.name for c in CHECKS] == list(EXPECTED_HANDMADE)


def test_handmade_counts_and_examples(emr):
    handmade.load()
    report = check_emr()
    assert found(report) == EXPECTED_HANDMADE
    assert report.total == HANDMADE_TOTAL
    assert len(report.dirty) == 15
    status = by_name(report, "visit_unknown_status")
    assert status.values == (ValueCount("COMPLETED", 1),)
    assert status.distinct_values == 1
    assert all(r.values is None for r in report.results if r.name != "visit_unknown_status")


def test_examples_are_the_smallest_ids_whatever_the_insert_order(emr):
    handmade.load()
    visit = {"patient_id": 1000, "location_id": 102, "start_at": ts("2024-03-04 09:00"),
             "updated_at": ts("2024-03-05 00:00")}
    # Inserted largest id first; 'arrived' twice, so it lists before the single 'COMPLETED'
    # (most frequent first), and 'Cancelled' ties 'COMPLETED' on 1 and sorts after it.
    add("emr_visit",
        {**visit, "id": 30, "status": "arrived"},
        {**visit, "id": 25, "status": "Cancelled"},
        {**visit, "id": 19, "status": "arrived"})
    report = check_emr(examples=3)
    status = by_name(report, "visit_unknown_status")
    assert (status.count, status.example_ids) == (4, (8, 19, 25))
    assert status.values == (ValueCount("arrived", 2), ValueCount("COMPLETED", 1), ValueCount("Cancelled", 1))
    assert status.distinct_values == 3
    # 18 hand-made visits + 3 new ones, all naming patient 1000-1015 with no emr_patient row.
    assert found(report)["visit_patient_missing"] == (21, (1, 2, 3))


def test_zero_examples_still_counts(emr):
    handmade.load()
    report = check_emr(examples=0)
    assert {name: count for name, (count, _) in found(report).items()} == {
        name: count for name, (count, _) in EXPECTED_HANDMADE.items()}
    assert all(r.example_ids == () for r in report.results)


def test_loops_and_missing_parents_are_told_apart_below_them(emr):
    handmade.load()
    add("emr_role",
        {"id": 22, "parent_id": 21, "name": "under the 20/21 loop"},
        {"id": 31, "parent_id": 30, "name": "under orphan 30"},
        {"id": 32, "parent_id": 31, "name": "two under orphan 30"})
    add("emr_location",
        {"id": 202, "parent_id": 200, "name": "under the loop", "kind": "department"},
        {"id": 300, "parent_id": 998, "name": "orphan", "kind": "clinic"},
        {"id": 301, "parent_id": 300, "name": "under the orphan", "kind": "department"})
    result = found(check_emr())
    assert result["role_in_loop"] == (4, (20, 21, 22, 40))
    assert result["role_reaches_missing_parent"] == (3, (30, 31, 32))
    assert result["location_in_loop"] == (3, (200, 201, 202))
    assert result["location_reaches_missing_parent"] == (2, (300, 301))


def load_clean() -> None:
    add("emr_role", {"id": 1, "parent_id": None, "name": "Physicians"}, {"id": 2, "parent_id": 1, "name": "GP"})
    add("emr_location",
        {"id": 100, "parent_id": None, "name": "North", "kind": "region"},
        {"id": 101, "parent_id": 100, "name": "Clinic", "kind": "clinic"})
    add("emr_staff", {"id": 500, "name": "s500", "role_id": 2, "hourly_cost": money("40.00")})
    add("emr_service", {"id": 1, "code": "GEN", "name": "General"})
    add("emr_patient", {"id": 1000, "birth_date": None, "sex": None})
    add("emr_visit",
        {"id": 1, "patient_id": 1000, "location_id": 101, "service_id": 1, "staff_id": 500,
         "start_at": ts("2024-03-01 09:00"), "end_at": ts("2024-03-01 09:20"), "status": "completed",
         "updated_at": ts("2024-03-05 00:00")},
        {"id": 2, "patient_id": 1000, "location_id": 101, "service_id": None, "staff_id": 500,
         "start_at": ts("2024-03-01 10:00"), "end_at": None, "status": "cancelled",
         "updated_at": ts("2024-03-05 00:00")})
    add("emr_shift",
        {"id": 1, "staff_id": 500, "location_id": 101, "start_at": ts("2024-03-01 08:00"),
         "end_at": ts("2024-03-01 16:00"), "updated_at": ts("2024-03-05 00:00")})


def test_clean_data_gives_all_zeros(emr):
    load_clean()
    report = check_emr()
    assert found(report) == {name: (0, ()) for name in EXPECTED_HANDMADE}
    assert report.total == 0
    assert by_name(report, "visit_unknown_status").values == ()


def test_empty_tables_give_all_zeros(emr):
    assert check_emr().total == 0


def test_separate_sqlite_emr_database(db, tmp_path):
    with override_settings(EMR_DATABASE_URL=f"sqlite:///{tmp_path / 'emr.sqlite3'}"):
        init_emr(drop=True)
        handmade.load()
        report = check_emr()
    assert found(report) == EXPECTED_HANDMADE
    assert "emr_visit" not in connection.introspection.table_names()


def test_separate_postgres_emr_database(db, postgres_emr_url):
    with override_settings(EMR_DATABASE_URL=postgres_emr_url):
        init_emr(drop=True)
        handmade.load()
        report = check_emr()
    assert found(report) == EXPECTED_HANDMADE


# --- the command ----------------------------------------------------------------------------

def run(*args: str, capsys) -> str:
    call_command("check_emr", *args)
    return capsys.readouterr().out


def test_text_output(emr, capsys):
    handmade.load()
    lines = run(capsys=capsys).splitlines()
    width = max(len(name) for name in EXPECTED_HANDMADE)
    checks = iter(CHECKS)
    expected = []
    for name, (count, ids) in EXPECTED_HANDMADE.items():
        examples = f"; e.g. ids {', '.join(map(str, ids))}" if ids else ""
        expected.append(f"{count:>9}  {name:<{width}}  {next(checks).description}{examples}")
        if name == "visit_unknown_status":
            expected.append(f"{'':>9}  {'':<{width}}  values: 'COMPLETED': 1")
    expected.append("       36  findings in 15 of 37 checks")
    assert lines == expected
    assert lines[0].startswith("        1  visit_unknown_status             visits whose status is none of")
    assert lines[24] == (
        "       18  visit_patient_missing            visits whose patient_id names no emr_patient row"
        " (still counted); e.g. ids 1, 2, 3, 4, 5"
    )


def test_json_output(emr, capsys):
    handmade.load()
    data = json.loads(run("--json", "--examples", "2", capsys=capsys))
    assert data == check_emr(examples=2).as_dict()
    assert data["total"] == HANDMADE_TOTAL
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["visit_patient_missing"]["count"] == 18
    assert checks["visit_patient_missing"]["example_ids"] == [1, 2]
    assert checks["role_in_loop"]["example_ids"] == [20, 21]
    assert checks["role_in_loop"]["table"] == "emr_role"
    assert checks["visit_unknown_status"]["values"] == [{"value": "COMPLETED", "count": 1}]
    assert checks["visit_ends_before_start"]["values"] is None


def test_negative_examples_is_an_error(emr):
    with pytest.raises(CommandError, match="--examples must be 0 or more"):
        call_command("check_emr", "--examples", "-1")


def test_missing_raw_tables_is_one_clear_error(emr):
    db.execute(DropTable(raw("emr_visit")))
    with pytest.raises(CommandError, match=r"no emr_visit: run `manage.py init_emr`"):
        call_command("check_emr")


def test_dirt_still_exits_0(tmp_path):
    path = tmp_path / "emr.sqlite3"
    env = {"DATABASE_URL": f"sqlite:///{path}", "PATH": "/usr/bin:/bin"}
    init = subprocess.run([sys.executable, "manage.py", "init_emr"], cwd=ROOT, env=env, capture_output=True)
    assert init.returncode == 0, init.stderr
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO emr_visit VALUES (7, 1, 1, NULL, NULL, '2024-03-01 09:00:00', NULL,"
                     " 'arrived', '2024-03-01 09:00:00')")
    result = subprocess.run([sys.executable, "manage.py", "check_emr"], cwd=ROOT, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # unknown status, no staff, missing location (so also no clinic), missing patient
    assert result.stdout.splitlines()[-1] == "        5  findings in 5 of 37 checks"


# --- privacy ---------------------------------------------------------------------------------

def test_every_check_reports_ids_of_its_own_non_patient_table():
    """Each query's only column is the primary key of the table it flags, and no check
    flags patient rows: an example id is never a patient id."""
    for check in CHECKS:
        query = check.query_builder()
        assert check.table != "emr_patient"
        assert list(query.selected_columns.keys()) == ["id"], check.name
        assert query.selected_columns["id"].element is raw(check.table).c.id, check.name


def test_handmade_output_names_no_patient(emr, capsys):
    handmade.load()
    # Every hand-made visit names a patient 1000-1015, and visit_patient_missing flags all of
    # them: a report that printed the patient ids it looked up would print 1000-1004 there.
    # No other hand-made id or count falls in 1000-1015, so any such number is a leak.
    text = run(capsys=capsys) + run("--json", "--examples", "100", capsys=capsys)
    numbers = {int(n) for n in re.findall(r"\d+", text.replace(",", ""))}
    assert "visit_patient_missing            visits whose patient_id names no emr_patient row" \
        " (still counted); e.g. ids 1, 2, 3, 4, 5" in text
    assert not numbers & set(range(1000, 1016))


def test_no_patient_or_staff_attribute_reaches_the_output(emr, capsys):
    """Patient rows with tell-tale ids and attributes, visits with dirt that refer to them:
    the visits are reported (by visit id), none of the tell-tales is."""
    add("emr_patient", {"id": 42424201, "birth_date": ts("1911-11-11 00:00").date(), "sex": "canarysex"})
    add("emr_staff", {"id": 7, "name": "Canary Staffname", "role_id": None, "hourly_cost": None})
    visit = {"location_id": 5, "service_id": None, "staff_id": 7, "updated_at": ts("2024-03-05 00:00")}
    add("emr_visit",
        {**visit, "id": 1, "patient_id": 42424201, "start_at": ts("2024-03-01 10:00"),
         "end_at": ts("2024-03-01 09:00"), "status": "completed"},
        {**visit, "id": 2, "patient_id": 42424299, "start_at": ts("2024-03-01 10:00"),
         "end_at": None, "status": "completed"})
    text = run(capsys=capsys) + run("--json", capsys=capsys)
    assert "visits whose end_at is before start_at (no visit minutes); e.g. ids 1" in text
    assert "visits whose patient_id names no emr_patient row (still counted); e.g. ids 2" in text
    for tell_tale in ("4242", "1911", "canary", "Canary", "Staffname"):
        assert tell_tale not in text
