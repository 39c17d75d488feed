"""``import_synthea``: the shared Synthea sample and hand-made exports with every defect
the importer must survive, checked against values worked out from the CSV files here,
with the csv module, and against the summaries built from the imported rows."""
from __future__ import annotations

import collections
import csv
import datetime as dt
import re
import tracemalloc
from io import StringIO
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from sqlalchemy import column, func, select, table, text, update

from etl import db
from etl.models import StaffCostSummary, StaffSummary
from etl.db.schema import init_emr
from etl.engine.service import build_summaries
from etl.sources.synthea import SyntheaImportError, import_synthea
from etl.sources.synthea.reader import Part, rows
from etl.db.tables import RAW_TABLE_NAMES, raw

from . import synthea_fixtures as fx
from .factories import add

NY = "America/New_York"
ID_MAP = table("synthea_id_map", column("kind"), column("uuid"), column("id"))


@pytest.fixture
def synthea(emr):
    db.emr_execute(text("DROP TABLE IF EXISTS synthea_id_map"))


def count(name: str) -> int:
    return db.emr_fetch_all(select(func.count()).select_from(raw(name)))[0][0]


def all_rows(name: str) -> list[tuple]:
    t = raw(name)
    return db.emr_fetch_all(select(t).order_by(t.c.id))


def ids(kind: str) -> dict[str, int]:
    return dict(db.emr_fetch_all(select(ID_MAP.c.uuid, ID_MAP.c.id).where(ID_MAP.c.kind == kind)))


def map_exists() -> bool:
    from sqlalchemy import inspect

    engine = db.emr_engine()
    if engine is None:
        from django.db import connection

        return "synthea_id_map" in connection.introspection.table_names()
    return inspect(engine).has_table("synthea_id_map")


def local(text_utc: str, zone: str = NY) -> dt.datetime:
    moment = dt.datetime.strptime(text_utc, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def visits_by_uuid() -> dict[str, tuple]:
    by_id = {row[0]: row for row in all_rows("emr_visit")}
    return {uuid: by_id[i] for uuid, i in ids("visit").items()}


# --- the sample ---------------------------------------------------------------------

def test_sample_imports_every_row(synthea):
    sample = fx.require_sample()
    report = import_synthea(sample, NY)
    encounters = fx.read_csv(sample / "encounters.csv")
    organizations = fx.read_csv(sample / "organizations.csv")
    providers = fx.read_csv(sample / "providers.csv")
    groups = fx.specialty_groups()
    specialties = {p["SPECIALITY"] for p in providers}

    assert (count("emr_patient"), count("emr_visit")) == (27, 604)
    assert count("emr_staff") == len(providers) == 166
    assert count("emr_location") == len(organizations) + len({o["STATE"] for o in organizations}) == 64
    assert count("emr_role") == len(specialties) + len({groups.get(s, "other") for s in specialties})
    assert count("emr_service") == len({(e["ENCOUNTERCLASS"], e["CODE"]) for e in encounters})
    assert count("emr_shift") == 0
    assert report.rejected == 0 and report.shifts_written == 0
    assert [(f.file, f.table, f.read, f.inserted) for f in report.files] == [
        ("organizations.csv", "emr_location", 63, 63), ("providers.csv", "emr_staff", 166, 166),
        ("patients.csv", "emr_patient", 27, 27), ("encounters.csv", "emr_visit", 604, 604),
    ]
    assert {row[7] for row in all_rows("emr_visit")} == {"completed"}


def test_sample_timestamps_become_local_wall_clock(synthea):
    sample = fx.require_sample()
    import_synthea(sample, NY)
    visits = visits_by_uuid()
    assert visits["57f2562b-445c-f11c-ba40-edc55af3c84f"][5:7] == (
        dt.datetime(2023, 1, 27, 11, 17, 47), dt.datetime(2023, 1, 27, 11, 32, 47))
    for e in fx.read_csv(sample / "encounters.csv"):
        assert visits[e["Id"]][5:7] == (local(e["START"]), local(e["STOP"]))


def test_sample_stores_no_patient_identifiers(synthea):
    sample = fx.require_sample()
    import_synthea(sample, NY)
    patients = fx.read_csv(sample / "patients.csv")
    assert [c.name for c in raw("emr_patient").columns] == ["id", "birth_date", "sex"]
    stored = repr([all_rows(name) for name in RAW_TABLE_NAMES])
    for p in patients:
        # First names alone are not unique: a provider may share one.
        for value in (p["SSN"], p["ADDRESS"], p["DRIVERS"], p["PASSPORT"], f"{p['FIRST']} {p['LAST']}"):
            assert not value or value not in stored


def test_reimport_changes_nothing(synthea):
    sample = fx.require_sample()
    import_synthea(sample, NY)
    before = {name: all_rows(name) for name in RAW_TABLE_NAMES}
    map_before = db.emr_fetch_all(select(ID_MAP).order_by(ID_MAP.c.kind, ID_MAP.c.uuid))
    report = import_synthea(sample, NY)
    assert [(f.inserted, f.updated) for f in report.files] == [(0, 0)] * 4
    assert [(d.inserted, d.updated) for d in report.derived] == [(0, 0)] * 3
    assert {name: all_rows(name) for name in RAW_TABLE_NAMES} == before
    assert db.emr_fetch_all(select(ID_MAP).order_by(ID_MAP.c.kind, ID_MAP.c.uuid)) == map_before


def test_newer_export_updates_the_changed_row_and_adds_new_ones(synthea, tmp_path):
    sample = fx.require_sample()
    import_synthea(sample, NY)
    old = dt.datetime(2000, 1, 1)
    db.emr_execute(update(raw("emr_visit")).values(updated_at=old))
    header, lines = fx.sample_lines("encounters")
    changed = lines[10].split(",")
    changed[2] = "2099-01-01T00:00:00Z"
    new = [",".join([f"new-{n}"] + lines[n].split(",")[1:]) for n in (1, 2)]
    newer = tmp_path / "newer"
    fx.copy_sample(newer)
    (newer / "encounters.csv").write_text("\n".join([header, *lines[:10], ",".join(changed), *lines[11:], *new]) + "\n")

    report = import_synthea(newer, NY)
    stats = report.stats("encounters.csv")
    assert (stats.read, stats.inserted, stats.updated, stats.unchanged) == (606, 2, 1, 603)
    visits = visits_by_uuid()
    touched = {uuid for uuid, row in visits.items() if row[8] != old}
    assert touched == {changed[0], "new-1", "new-2"}
    assert visits[changed[0]][6] == dt.datetime(2098, 12, 31, 19, 0)
    assert count("emr_visit") == 606
    assert report.stats("patients.csv").inserted == 0


def test_incremental_build_after_a_newer_export_equals_a_full_build(synthea, tmp_path):
    import_synthea(fx.require_sample(), NY)
    build_summaries(full=True)
    header, lines = fx.sample_lines("encounters")
    moved = lines[0].split(",")
    moved[1] = "2023-02-01T15:00:00Z"
    newer = fx.copy_sample(tmp_path / "newer")
    (newer / "encounters.csv").write_text("\n".join([header, ",".join(moved), *lines[1:]]) + "\n")
    import_synthea(newer, NY)
    build_summaries()
    fields = ["day", "location_id", "service_id", "role_group_id", "nr_visits", "nr_patients", "visit_minutes"]
    incremental = sorted(StaffSummary.objects.values_list(*fields), key=repr)
    build_summaries(full=True)
    assert incremental == sorted(StaffSummary.objects.values_list(*fields), key=repr)


def test_ids_stay_clear_of_other_rows_and_go_with_dropped_tables(synthea):
    add("emr_visit", {"id": 5000, "patient_id": 1, "location_id": 1, "start_at": dt.datetime(2024, 1, 1),
                      "status": "completed", "updated_at": dt.datetime(2024, 1, 1)})
    add("emr_service", {"id": 77, "code": "ambulatory:185345009", "name": "Symptom visit"})
    import_synthea(fx.require_sample(), NY)
    visit_ids = ids("visit")
    assert min(visit_ids.values()) == 5001 and count("emr_visit") == 605
    assert ids("service")["ambulatory:185345009"] == 77
    assert count("emr_service") == 28
    # Dropping the raw tables drops the map with them: a new import starts afresh at 1.
    init_emr(drop=True)
    assert not map_exists()
    report = import_synthea(fx.require_sample(), NY)
    assert report.stats("encounters.csv").inserted == 604
    assert sorted(ids("visit").values()) == list(range(1, 605))
    # generate_emr replaces the raw rows, and forgets the imported ids too.
    call_command("generate_emr", "--visits", "50", "--days", "5", "--clinics", "1", stdout=StringIO())
    assert not map_exists()


# --- summaries built from the sample, against the CSV ------------------------------

def test_summaries_match_the_csv(synthea):
    sample = fx.require_sample()
    import_synthea(sample, NY)
    build_summaries(full=True)
    locations = ids("location")
    groups = fx.specialty_groups()
    group_of = {p["Id"]: fx.GROUP_NAMES[groups.get(p["SPECIALITY"], "other")]
                for p in fx.read_csv(sample / "providers.csv")}
    by_service = collections.defaultdict(lambda: [0, set(), Decimal(0)])
    by_group = collections.defaultdict(lambda: [0, set()])
    for e in fx.read_csv(sample / "encounters.csv"):
        start, stop = local(e["START"]), local(e["STOP"])
        where = (start.date(), locations[e["ORGANIZATION"]])
        cell = by_service[(*where, f"{e['ENCOUNTERCLASS']}:{e['CODE']}", group_of[e["PROVIDER"]])]
        cell[0] += 1
        cell[1].add(e["PATIENT"])
        # CONTRACT 1: a visit longer than 24 hours (Synthea has multi-day inpatient stays)
        # counts, with no visit minutes.
        if 0 <= (stop - start).total_seconds() <= 24 * 3600:
            cell[2] += Decimal((stop - start).total_seconds()) / 60
        by_group[(*where, group_of[e["PROVIDER"]])][0] += 1
        by_group[(*where, group_of[e["PROVIDER"]])][1].add(e["PATIENT"])

    codes = {i: code for i, code, _ in all_rows("emr_service")}
    staff_rows = StaffSummary.objects.values_list(
        "day", "location_id", "service_id", "role_group_name", "nr_visits", "nr_patients", "visit_minutes",
        "nr_cancelled", "nr_no_show")
    assert {(day, loc, codes[service], group): tuple(counts)
            for day, loc, service, group, *counts in staff_rows} == {
        key: (n, len(patients), minutes.quantize(Decimal("0.01")), 0, 0)
        for key, (n, patients, minutes) in by_service.items()}

    names = dict(StaffSummary.objects.values_list("role_group_id", "role_group_name"))
    cost_rows = StaffCostSummary.objects.values_list(
        "day", "location_id", "role_group_id", "nr_visits", "nr_patients",
        "rostered_hours", "staff_cost", "nr_staff", "patients_per_hour")
    assert {(day, loc, names[group]): (n, p) for day, loc, group, n, p, *_ in cost_rows} == {
        key: (n, len(patients)) for key, (n, patients) in by_group.items()}
    # No shifts: nothing rostered, nothing paid, no patients-per-hour ratio.
    assert {tuple(row[5:]) for row in cost_rows} == {(Decimal(0), Decimal(0), 0, None)}


# --- releases, split files, line endings ---------------------------------------------

SUPPORTED = ["v2.6.0", "v2.7.0", "v3.0.0", "v3.1.0", "v3.2.0", "v3.3.0", "v3.4.0", "v4.0.0", "master-after-v4.0.0"]


@pytest.mark.parametrize("release", SUPPORTED)
def test_headers_of_each_supported_release(synthea, tmp_path, release):
    headers = fx.release_headers()[release]
    import_synthea(fx.write_export(tmp_path / release, headers), NY)
    visits = visits_by_uuid()
    assert visits["enc-1"][5:7] == (dt.datetime(2023, 1, 27, 11, 17, 47), dt.datetime(2023, 1, 27, 11, 32, 47))
    assert visits["enc-2"][5] == dt.datetime(2023, 7, 1, 12, 0)  # EDT: UTC-4
    assert visits["enc-3"][5:7] == (dt.datetime(2023, 1, 27, 22, 0), None)
    assert (count("emr_patient"), count("emr_staff"), count("emr_visit")) == (2, 3, 3)


def test_header_names_match_in_any_case(synthea, tmp_path):
    headers = {name: [c.lower() for c in cols] for name, cols in fx.release_headers()["v3.0.0"].items()}
    headers["encounters"][0] = "ID"
    report = import_synthea(fx.write_export(tmp_path, headers), NY)
    assert report.rejected == 0 and count("emr_visit") == 3


def test_hand_made_rows_map_to_locations_roles_and_services(synthea, tmp_path):
    import_synthea(fx.write_export(tmp_path, fx.release_headers()["v3.3.0"]), "UTC")
    location = {name: (parent, kind) for _, parent, name, kind in all_rows("emr_location")}
    regions = {name: i for i, _, name, kind in all_rows("emr_location") if kind == "region"}
    assert regions.keys() == {"MA", "NY", "State unknown"}
    assert location["Clinic C"] == (regions["State unknown"], "clinic")
    roles = {i: (parent, name) for i, parent, name in all_rows("emr_role")}
    staff = {name: role for _, name, role, cost in all_rows("emr_staff")}
    assert roles[roles[staff["Dr One"]][0]] == (None, "Physicians, primary care")
    assert roles[staff["Dr Two"]][1] == "SPACE MEDICINE"
    assert roles[roles[staff["Dr Two"]][0]] == (None, "Other specialties")
    assert staff["Dr Three"] is None
    assert {code for _, code, _ in all_rows("emr_service")} == {"ambulatory:185345009", "wellness:410620009"}
    assert [row[1:] for row in all_rows("emr_patient")] == [(dt.date(1990, 5, 1), "F"), (dt.date(2000, 1, 2), "M")]
    assert visits_by_uuid()["enc-1"][5] == dt.datetime(2023, 1, 27, 16, 17, 47)


@pytest.mark.parametrize("release, missing", [
    ("v2.5.0", "encounters.csv has no ORGANIZATION column"),
    ("v2.2.0", "organizations.csv is missing; providers.csv is missing"),
])
def test_older_releases_are_refused_clearly(synthea, tmp_path, release, missing):
    with pytest.raises(CommandError, match=missing):
        call_command("import_synthea", str(fx.write_export(tmp_path, fx.release_headers()[release])))
    assert not map_exists()


def test_split_files_and_crlf_give_the_same_rows(synthea, tmp_path):
    split = fx.copy_sample(tmp_path / "split", newline="\r\n")
    header, lines = fx.sample_lines("encounters")
    (split / "encounters.csv").unlink()
    for number, chunk in ((1, lines[:250]), (2, lines[250:500]), (10, lines[500:])):
        fx.write_file(split / f"encounters-{number:03d}.csv", header.split(","), chunk, "\r\n")
    report = import_synthea(split, NY)
    assert [(f.file, f.read) for f in report.files if f.table == "emr_visit"] == [
        ("encounters-001.csv", 250), ("encounters-002.csv", 250), ("encounters-010.csv", 104)]
    assert count("emr_visit") == 604 and report.rejected == 0
    again = import_synthea(fx.require_sample(), NY)
    assert [(f.inserted, f.updated, f.unchanged) for f in again.files][-1] == (0, 0, 604)


def test_small_batches_and_repeated_ids(synthea, tmp_path):
    encounters = fx.ENCOUNTERS + [fx.encounter("enc-1", "2023-01-27T16:17:47Z", "2023-01-27T17:00:00Z")]
    report = import_synthea(fx.write_export(tmp_path, fx.release_headers()["v3.0.0"], encounters=encounters),
                            "UTC", batch_rows=2)
    stats = report.stats("encounters.csv")
    assert (stats.read, stats.inserted, stats.updated, stats.unchanged) == (4, 3, 1, 0)
    assert visits_by_uuid()["enc-1"][6] == dt.datetime(2023, 1, 27, 17, 0)


# --- malformed rows and unusable exports -------------------------------------------------

def test_malformed_rows_are_reported_and_the_rest_imported(synthea, tmp_path):
    headers = fx.release_headers()["v3.0.0"]
    good = fx.encounter("enc-ok", "2023-03-01T12:00:00Z", "2023-03-01T12:30:00Z")
    encounters = [
        good,                                                               # line 2
        fx.encounter("enc-bad-start", "2023-13-45T00:00:00Z"),              # 3
        fx.encounter("", "2023-03-01T12:00:00Z"),                           # 4
        fx.csv_line(headers["encounters"], fx.encounter("enc-wide", "2023-03-01T12:00:00Z")) + ",extra",  # 5
        fx.csv_line(headers["encounters"], fx.encounter("enc-bytes", "2023-03-01T12:00:00Z",
                                                        description="caf\xe9")).encode("latin-1"),  # 6
        fx.encounter("enc-date-only", "2023-03-01"),                        # 7
        fx.encounter("enc-orphan", "2023-03-01T13:00:00Z", patient="pat-unknown"),  # 8: kept
        fx.encounter("enc-bad-stop", "2023-03-01T12:00:00Z", "soon"),        # 9
        fx.encounter("enc-multiline", "2023-03-02T12:00:00Z", description="Check\nup"),  # 10-11
        fx.encounter("enc-no-patient", "2023-03-01T12:00:00Z", patient=""),  # 12
    ]
    patients = fx.PATIENTS + [{"ID": "pat-3", "BIRTHDATE": "1990-02-30", "GENDER": "F"}]
    export = fx.write_export(tmp_path, headers, "\r\n", encounters=encounters, patients=patients)
    report = import_synthea(export, NY)
    assert [(r.file, r.line, r.reason) for r in report.rejections] == [
        ("patients.csv", 4, "BIRTHDATE is not a date (YYYY-MM-DD)"),
        ("encounters.csv", 3, "START is not an ISO 8601 timestamp"),
        ("encounters.csv", 4, "no ID"),
        ("encounters.csv", 5, "16 fields where the header has 15"),
        ("encounters.csv", 6, "bytes that are not UTF-8 text"),
        ("encounters.csv", 7, "START is a date without a time of day"),
        ("encounters.csv", 9, "STOP is not an ISO 8601 timestamp"),
        ("encounters.csv", 12, "no PATIENT"),
    ]
    visits = visits_by_uuid()
    assert set(visits) == {"enc-ok", "enc-orphan", "enc-multiline"}
    assert visits["enc-orphan"][1] == ids("patient")["pat-unknown"]
    assert count("emr_patient") == 2
    stats = report.stats("encounters.csv")
    assert (stats.read, stats.inserted, stats.rejected) == (10, 3, 7)


def test_missing_file_is_one_error_and_nothing_is_written(synthea, tmp_path):
    export = fx.copy_sample(tmp_path)
    (export / "patients.csv").unlink()
    with pytest.raises(CommandError, match=r"^cannot import .*: patients.csv is missing$"):
        call_command("import_synthea", str(export))
    assert [count(name) for name in RAW_TABLE_NAMES] == [0] * len(RAW_TABLE_NAMES)
    assert not map_exists()


def test_missing_column_is_one_error_and_nothing_is_written(synthea, tmp_path):
    export = fx.copy_sample(tmp_path)
    header, lines = fx.sample_lines("encounters")
    (export / "encounters-2.csv").write_text(header.replace("START,", "BEGIN,") + "\n" + lines[0] + "\n")
    (export / "providers.csv").write_text("")
    with pytest.raises(CommandError) as raised:
        call_command("import_synthea", str(export), "--timezone", NY)
    message = str(raised.value)
    assert "encounters-2.csv has no START column" in message
    assert "providers.csv: the file is empty (no header line)" in message
    assert "\n" not in message
    assert [count(name) for name in RAW_TABLE_NAMES] == [0] * len(RAW_TABLE_NAMES)
    assert not map_exists()


def test_a_database_error_rolls_back_the_whole_import(synthea, tmp_path):
    headers = fx.release_headers()["v3.0.0"]
    import_synthea(fx.write_export(tmp_path / "first", headers), "UTC")
    before = {name: all_rows(name) for name in RAW_TABLE_NAMES}
    map_before = db.emr_fetch_all(select(ID_MAP).order_by(ID_MAP.c.kind, ID_MAP.c.uuid))
    db.emr_execute(text("ALTER TABLE emr_visit DROP COLUMN status"))
    patients = [{**fx.PATIENTS[0], "BIRTHDATE": "1991-01-01"}, fx.PATIENTS[1]]
    newer = fx.write_export(tmp_path / "newer", headers, patients=patients,
                            encounters=fx.ENCOUNTERS + [fx.encounter("enc-4", "2023-03-01T12:00:00Z")])
    # The command refuses before it starts, naming the column; the service, which does not
    # check columns, meets the database error mid-import and rolls everything back.
    with pytest.raises(CommandError, match=r"^the raw tables lack emr_visit.status "):
        call_command("import_synthea", str(newer))
    with pytest.raises(SyntheaImportError, match=r"^the database refused the import; nothing was written: "):
        import_synthea(newer, "UTC")
    assert {name: all_rows(name) for name in RAW_TABLE_NAMES if name != "emr_visit"} == {
        name: rows for name, rows in before.items() if name != "emr_visit"}
    assert db.emr_fetch_all(select(ID_MAP).order_by(ID_MAP.c.kind, ID_MAP.c.uuid)) == map_before


def test_unknown_time_zone_is_one_error(synthea):
    with pytest.raises(CommandError, match="unknown time zone 'Mars/Olympus'"):
        call_command("import_synthea", str(fx.require_sample()), "--timezone", "Mars/Olympus")


# --- the command's output ----------------------------------------------------------------

def test_command_prints_progress_summary_and_no_patient_data(synthea, tmp_path, capsys):
    headers = fx.release_headers()["v3.0.0"]
    encounters = fx.ENCOUNTERS + [fx.encounter("enc-bad", "yesterday", patient="pat-2")]
    export = fx.write_export(tmp_path / "export", headers, encounters=encounters)
    rejects = tmp_path / "rejects.csv"
    call_command("import_synthea", str(export), "--timezone", NY, "--progress-every", "2", "--rejects", str(rejects))
    out = capsys.readouterr().out
    assert "encounters.csv -> emr_visit" in out
    assert "  encounters.csv: 2 rows read, " in out
    assert re.search(r"^  encounters.csv +emr_visit +4 +3 +0 +0 +1$", out, re.MULTILINE)
    assert "rostered_hours 0, staff_cost 0 and patients_per_hour NULL" in out
    assert "    encounters.csv:5: START is not an ISO 8601 timestamp" in out
    for p in fx.PATIENTS:
        for value in (p["ID"], p["BIRTHDATE"], p["FIRST"], p["LAST"], p["SSN"], p["ADDRESS"]):
            assert value not in out
    with rejects.open(newline="") as handle:
        assert list(csv.reader(handle)) == [["file", "line", "reason"],
                                            ["encounters.csv", "5", "START is not an ISO 8601 timestamp"]]


# --- where the raw tables live, and memory -----------------------------------------------

def import_into(url: str) -> None:
    with override_settings(EMR_DATABASE_URL=url):
        init_emr(drop=True)
        first = import_synthea(fx.require_sample(), NY)
        changed = import_synthea(fx.require_sample(), "UTC")
        assert count("emr_visit") == 604 and first.stats("encounters.csv").inserted == 604
        assert [(f.inserted, f.updated) for f in changed.files][-1] == (0, 604)
        assert visits_by_uuid()["57f2562b-445c-f11c-ba40-edc55af3c84f"][5] == dt.datetime(2023, 1, 27, 16, 17, 47)


@pytest.mark.django_db
def test_separate_sqlite_emr_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'emr.sqlite3'}"
    import_into(url)
    db._engine(url).dispose()


@pytest.mark.django_db
def test_separate_postgres_emr_database(postgres_emr_url):
    import_into(postgres_emr_url)


def test_reading_streams_in_constant_memory(tmp_path):
    header, lines = fx.sample_lines("encounters")
    path = tmp_path / "encounters.csv"
    with path.open("w") as handle:
        handle.write(header + "\n")
        for _ in range(40):
            handle.write("\n".join(lines) + "\n")
    columns = {name.upper(): i for i, name in enumerate(header.split(","))}
    tracemalloc.start()
    try:
        seen = sum(1 for _ in rows(Part(path, columns, len(columns))))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert seen == 24_160
    assert path.stat().st_size > 7_000_000
    assert peak < 1_000_000
