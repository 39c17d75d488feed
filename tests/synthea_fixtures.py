"""Synthea exports for the import tests: the shared sample, its release headers, and small
hand-made exports written into ``tmp_path`` with whatever header, line ending and
defects a test needs. Nothing here calls the importer's code."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Iterable, Sequence, Union

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = Path(os.environ.get("SYNTHEA_SAMPLE_DIR", ROOT / "data" / "synthea-sample"))
HEADERS_FILE = SAMPLE / "synthea_csv_headers_by_release.csv"
SPECIALTIES_FILE = SAMPLE / "synthea_clinician_specialties.csv"
FILES = ("organizations", "providers", "patients", "encounters")

# The role-group names docs/synthea.md promises, by suggested_role_group.
GROUP_NAMES = {
    "physician_primary_care": "Physicians, primary care",
    "physician_specialist": "Physicians, specialists",
    "physician_emergency_acute": "Physicians, emergency and acute care",
    "advanced_practice_provider": "Advanced practice providers",
    "allied_health": "Allied health",
    "behavioral_health": "Behavioral health",
    "dental": "Dental",
    "unknown": "Undefined physician type",
    "other": "Other specialties",
}

Line = Union[dict, str, bytes]
"""A record by column name (upper case), or a raw line written as is (no line ending)."""


def require_sample() -> Path:
    if not (SAMPLE / "encounters.csv").exists():
        pytest.fail(f"the Synthea sample is not at {SAMPLE}: it ships in data/synthea-sample")
    return SAMPLE


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def release_headers() -> dict[str, dict[str, list[str]]]:
    """Release → file name (``encounters``) → header columns, from the shared table."""
    headers: dict[str, dict[str, list[str]]] = {}
    for row in read_csv(require_sample() / HEADERS_FILE.name):
        headers.setdefault(row["synthea_release"], {})[row["file"].removesuffix(".csv")] = row["header"].split(",")
    return headers


def specialty_groups() -> dict[str, str]:
    return {row["speciality_value"]: row["suggested_role_group"] for row in read_csv(SPECIALTIES_FILE)}


def csv_line(header: Sequence[str], record: dict) -> str:
    """One record as a CSV line (no line ending), columns filled by upper-case name."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([record.get(column.upper(), "") for column in header])
    return out.getvalue().removesuffix("\r\n")


def write_file(path: Path, header: Sequence[str], lines: Iterable[Line], newline: str = "\n") -> Path:
    """A CSV file: ``header``, then each line; dict records fill columns by name."""
    chunks = [",".join(header).encode()]
    for line in lines:
        if isinstance(line, dict):
            line = csv_line(header, line)
        chunks.append(line if isinstance(line, bytes) else line.encode())
    path.write_bytes(newline.encode().join(chunks) + newline.encode())
    return path


def copy_sample(directory: Path, newline: str = "\n") -> Path:
    """The sample's four files, re-written with ``newline`` line endings."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        text = (require_sample() / f"{name}.csv").read_text(encoding="utf-8")
        (directory / f"{name}.csv").write_bytes(text.replace("\r\n", "\n").replace("\n", newline).encode())
    return directory


def sample_lines(name: str) -> tuple[str, list[str]]:
    """(header line, data lines) of a sample file, without line endings."""
    lines = (require_sample() / f"{name}.csv").read_text(encoding="utf-8").splitlines()
    return lines[0], lines[1:]


# --- a small hand-made export ------------------------------------------------------

ORGANIZATIONS = [
    {"ID": "org-a", "NAME": "Clinic A", "CITY": "Boston", "STATE": "MA", "ZIP": "02110"},
    {"ID": "org-b", "NAME": "Clinic B", "CITY": "Albany", "STATE": "NY", "ZIP": "12207"},
    {"ID": "org-c", "NAME": "Clinic C", "CITY": "", "STATE": "", "ZIP": ""},
]
PROVIDERS = [
    {"ID": "prov-1", "ORGANIZATION": "org-a", "NAME": "Dr One", "GENDER": "F", "SPECIALITY": "GENERAL PRACTICE"},
    {"ID": "prov-2", "ORGANIZATION": "org-b", "NAME": "Dr Two", "GENDER": "M", "SPECIALITY": "space medicine"},
    {"ID": "prov-3", "ORGANIZATION": "org-c", "NAME": "Dr Three", "GENDER": "M", "SPECIALITY": ""},
]
PATIENTS = [
    {"ID": "pat-1", "BIRTHDATE": "1990-05-01", "FIRST": "Secret1", "LAST": "Name1", "SSN": "999-11-1111",
     "GENDER": "F", "ADDRESS": "1 Hidden Street"},
    {"ID": "pat-2", "BIRTHDATE": "2000-01-02", "FIRST": "Secret2", "LAST": "Name2", "SSN": "999-22-2222",
     "GENDER": "M", "ADDRESS": "2 Hidden Street"},
]


def encounter(uid: str, start: str, stop: str = "", patient: str = "pat-1", org: str = "org-a",
              provider: str = "prov-1", cls: str = "ambulatory", code: str = "185345009",
              description: str = "Encounter for symptom") -> dict:
    return {"ID": uid, "START": start, "STOP": stop, "PATIENT": patient, "ORGANIZATION": org,
            "PROVIDER": provider, "PAYER": "payer-1", "ENCOUNTERCLASS": cls, "CODE": code,
            "DESCRIPTION": description, "BASE_ENCOUNTER_COST": "77.49"}


ENCOUNTERS = [
    encounter("enc-1", "2023-01-27T16:17:47Z", "2023-01-27T16:32:47Z"),
    encounter("enc-2", "2023-07-01T16:00:00Z", "2023-07-01T17:30:00Z", patient="pat-2", org="org-b",
              provider="prov-2", cls="wellness", code="410620009", description="Well child visit"),
    # 03:00 UTC is the evening before in New York: the local day changes.
    encounter("enc-3", "2023-01-28T03:00:00Z", "", org="org-c", provider="prov-3"),
]


def write_export(directory: Path, headers: dict[str, list[str]], newline: str = "\n",
                 encounters: Iterable[Line] = ENCOUNTERS, patients: Iterable[Line] = PATIENTS) -> Path:
    """The hand-made export under one release's ``headers`` (file name → columns)."""
    directory.mkdir(parents=True, exist_ok=True)
    records = {"organizations": ORGANIZATIONS, "providers": PROVIDERS, "patients": patients,
               "encounters": encounters}
    for name, header in headers.items():
        if name in records:
            write_file(directory / f"{name}.csv", header, records[name], newline)
    return directory
