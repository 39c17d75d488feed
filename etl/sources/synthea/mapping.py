"""From Synthea CSV rows to the values of the raw tables.

Which columns each file must have is the subset of its header present in every release
the importer supports (Synthea v2.6.0 and later: earlier encounters have no ORGANIZATION
column, and before v2.5.0 there are no organizations or providers files at all). Only the
columns listed here are read: patients' names, SSNs, addresses and every other
identifier are never even parsed.

A row that cannot be converted raises :class:`RowError`; its reason names columns, never
values, so it can be shown and logged without leaking patient data.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from etl.sources.synthea.idmap import MAX_KEY
from etl.sources.synthea.reader import Row

REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    "organizations": ("ID", "NAME", "STATE"),
    "providers": ("ID", "NAME", "SPECIALITY"),
    "patients": ("ID", "BIRTHDATE", "GENDER"),
    "encounters": (
        "ID", "START", "STOP", "PATIENT", "ORGANIZATION", "PROVIDER", "ENCOUNTERCLASS", "CODE", "DESCRIPTION",
    ),
}
"""Per logical file, in import order (locations and roles before what refers to them)."""

NAME_LENGTH = 200
SERVICE_CODE_LENGTH = 50
SEX_LENGTH = 10
UNKNOWN_STATE = "State unknown"

_DATE_ONLY = re.compile(r"\d{4}-?\d{2}-?\d{2}")


class RowError(ValueError):
    """Why a row is rejected; mentions columns only."""


@dataclass(frozen=True)
class Organization:
    uuid: str
    name: str
    state: str


@dataclass(frozen=True)
class Provider:
    uuid: str
    name: str
    specialty: str


@dataclass(frozen=True)
class Patient:
    uuid: str
    birth_date: dt.date | None
    sex: str | None


@dataclass(frozen=True)
class Encounter:
    uuid: str
    patient: str
    organization: str
    provider: str | None
    service_code: str | None
    service_name: str
    start_at: dt.datetime
    end_at: dt.datetime | None


def _reference(row: Row, column: str, required: bool = True) -> str | None:
    value = row[column]
    if not value:
        if required:
            raise RowError(f"no {column}")
        return None
    if len(value) > MAX_KEY:
        raise RowError(f"{column} is longer than {MAX_KEY} characters")
    return value


def _name(row: Row, column: str) -> str:
    value = re.sub(r"\s+", " ", row[column])
    if not value:
        raise RowError(f"no {column}")
    return value[:NAME_LENGTH]


def wall_clock(text: str, column: str, zone: ZoneInfo) -> dt.datetime:
    """A Synthea timestamp (UTC: ``2023-01-27T16:17:47Z``) as naive wall-clock time in
    ``zone``. A timestamp with another offset is converted from that offset; one without
    an offset is taken as UTC, like every timestamp Synthea writes."""
    if _DATE_ONLY.fullmatch(text):
        raise RowError(f"{column} is a date without a time of day")
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        raise RowError(f"{column} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    try:
        return moment.astimezone(zone).replace(tzinfo=None)
    except OverflowError:
        raise RowError(f"{column} is out of range") from None


def organization(row: Row) -> Organization:
    return Organization(_reference(row, "ID"), _name(row, "NAME"), row["STATE"][:NAME_LENGTH])


def provider(row: Row) -> Provider:
    return Provider(_reference(row, "ID"), _name(row, "NAME"), row["SPECIALITY"])


def patient(row: Row) -> Patient:
    birth_date = None
    if row["BIRTHDATE"]:
        try:
            birth_date = dt.date.fromisoformat(row["BIRTHDATE"])
        except ValueError:
            raise RowError("BIRTHDATE is not a date (YYYY-MM-DD)") from None
    sex = row["GENDER"] or None
    if sex is not None and len(sex) > SEX_LENGTH:
        raise RowError(f"GENDER is longer than {SEX_LENGTH} characters")
    return Patient(_reference(row, "ID"), birth_date, sex)


def service_code(encounter_class: str, code: str) -> str | None:
    """``ambulatory:185345009``: the stable ``emr_service.code`` of a class and code;
    None when either is empty (the visit then has no service)."""
    if not encounter_class or not code:
        return None
    value = f"{encounter_class.lower()}:{code}"
    if len(value) > SERVICE_CODE_LENGTH:
        raise RowError(f"ENCOUNTERCLASS and CODE are longer than {SERVICE_CODE_LENGTH} characters together")
    return value


def encounter(row: Row, zone: ZoneInfo) -> Encounter:
    uuid = _reference(row, "ID")
    start_at = wall_clock(row["START"], "START", zone) if row["START"] else None
    if start_at is None:
        raise RowError("no START")
    end_at = wall_clock(row["STOP"], "STOP", zone) if row["STOP"] else None
    code = service_code(row["ENCOUNTERCLASS"], row["CODE"])
    description = re.sub(r"\s+", " ", row["DESCRIPTION"])[:NAME_LENGTH]
    return Encounter(
        uuid=uuid,
        patient=_reference(row, "PATIENT"),
        organization=_reference(row, "ORGANIZATION"),
        provider=_reference(row, "PROVIDER", required=False),
        service_code=code,
        service_name=description or (code or ""),
        start_at=start_at,
        end_at=end_at,
    )
