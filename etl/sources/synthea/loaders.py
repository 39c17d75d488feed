"""One batch of converted rows of a file → raw rows, with the rows they imply.

- organizations → ``emr_location``: a ``region`` per STATE (an empty STATE gives the
  region "State unknown"), each organization a ``clinic`` under its state's region;
- providers → ``emr_staff`` (NAME, role = their specialty; ``hourly_cost`` is inserted
  NULL and never updated, so a cost an operator sets by hand survives re-imports) and
  ``emr_role``: a root role per role group, each specialty a child of its group;
- patients → ``emr_patient`` (birth date and sex only);
- encounters → ``emr_visit`` (status ``completed``; ``updated_at`` set only on rows
  inserted or changed) and ``emr_service``: one per (ENCOUNTERCLASS, CODE), named by the
  DESCRIPTION first seen in the import.

References (an encounter's PATIENT, ORGANIZATION, PROVIDER) get ids through the id map
whether or not their own row exists: the contract keeps such visits.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from etl.db.tables import raw
from etl.sources.synthea import mapping
from etl.sources.synthea.idmap import KIND_TABLES, IdMap, map_key
from etl.sources.synthea.mapping import UNKNOWN_STATE, Encounter, Organization, Patient, Provider
from etl.sources.synthea.reader import Row
from etl.sources.synthea.specialties import role_path
from etl.sources.synthea.store import Outcome, Store, upsert

DERIVED = (("regions", "location"), ("roles", "role"), ("services", "service"))
"""Rows without a file of their own: (what, id-map kind)."""


class Run:
    """The state of one import: its store, id map and clock, and the implied rows
    (regions, roles, services) already written, which a vocabulary bounds, not the rows."""

    def __init__(self, store: Store, now: dt.datetime) -> None:
        self.store = store
        self.ids = IdMap(store)
        self.now = now
        self._seen: dict[str, set[str]] = {what: set() for what, _ in DERIVED}
        self.derived: dict[str, Outcome] = {what: Outcome() for what, _ in DERIVED}

    def derive(self, what: str, kind: str, rows: Mapping[str, Mapping[str, Any]], adopt_by: str | None = None,
               ) -> dict[str, int]:
        """Ids of implied rows by key, writing those not yet written by this import."""
        ids = self.ids.ids(kind, rows, adopt_by)
        fresh = {ids[key]: values for key, values in rows.items() if key not in self._seen[what]}
        self._seen[what].update(rows)
        self.derived[what] += upsert(self.store, raw(KIND_TABLES[kind]), fresh)
        return ids


def _region(state: str) -> tuple[str, str]:
    name = state or UNKNOWN_STATE
    return map_key("region", name), name


def organizations(run: Run, batch: Sequence[Organization]) -> Outcome:
    region_of = {o.state: _region(o.state) for o in batch}
    region_ids = run.derive("regions", "location", {
        key: {"parent_id": None, "name": name, "kind": "region"} for key, name in region_of.values()
    })
    ids = run.ids.ids("location", (o.uuid for o in batch))
    rows = {
        ids[o.uuid]: {"parent_id": region_ids[region_of[o.state][0]], "name": o.name, "kind": "clinic"}
        for o in batch
    }
    return upsert(run.store, raw("emr_location"), rows)


def providers(run: Run, batch: Sequence[Provider]) -> Outcome:
    paths = {p.specialty: role_path(p.specialty) for p in batch if p.specialty}
    group_ids = run.derive("roles", "role", {
        group.key: {"parent_id": None, "name": group.name} for group, _ in paths.values()
    })
    role_ids = run.derive("roles", "role", {
        role.key: {"parent_id": group_ids[role.parent_key], "name": role.name} for _, role in paths.values()
    })
    ids = run.ids.ids("staff", (p.uuid for p in batch))
    rows = {
        ids[p.uuid]: {"name": p.name, "role_id": role_ids[paths[p.specialty][1].key] if p.specialty else None}
        for p in batch
    }
    return upsert(run.store, raw("emr_staff"), rows)


def patients(run: Run, batch: Sequence[Patient]) -> Outcome:
    ids = run.ids.ids("patient", (p.uuid for p in batch))
    rows = {ids[p.uuid]: {"birth_date": p.birth_date, "sex": p.sex} for p in batch}
    return upsert(run.store, raw("emr_patient"), rows)


def encounters(run: Run, batch: Sequence[Encounter]) -> Outcome:
    services: dict[str, dict[str, Any]] = {}
    for e in batch:
        if e.service_code:
            services.setdefault(e.service_code, {"code": e.service_code, "name": e.service_name})
    service_ids = run.derive("services", "service", services, adopt_by="code")
    patient_ids = run.ids.ids("patient", (e.patient for e in batch))
    location_ids = run.ids.ids("location", (e.organization for e in batch))
    staff_ids = run.ids.ids("staff", (e.provider for e in batch if e.provider))
    ids = run.ids.ids("visit", (e.uuid for e in batch))
    rows = {
        ids[e.uuid]: {
            "patient_id": patient_ids[e.patient],
            "location_id": location_ids[e.organization],
            "service_id": service_ids[e.service_code] if e.service_code else None,
            "staff_id": staff_ids[e.provider] if e.provider else None,
            "start_at": e.start_at,
            "end_at": e.end_at,
            "status": "completed",
        }
        for e in batch
    }
    return upsert(run.store, raw("emr_visit"), rows, stamp={"updated_at": run.now})


@dataclass(frozen=True)
class FileLoader:
    """How one Synthea file is imported: its raw table, row converter and batch loader."""

    table: str
    convert: Callable[[Row, ZoneInfo], Any]
    load: Callable[[Run, Sequence[Any]], Outcome]


LOADERS: dict[str, FileLoader] = {
    "organizations": FileLoader("emr_location", lambda row, zone: mapping.organization(row), organizations),
    "providers": FileLoader("emr_staff", lambda row, zone: mapping.provider(row), providers),
    "patients": FileLoader("emr_patient", lambda row, zone: mapping.patient(row), patients),
    "encounters": FileLoader("emr_visit", mapping.encounter, encounters),
}
"""Logical file → its loader, for every file of ``mapping.REQUIRED_COLUMNS``."""
