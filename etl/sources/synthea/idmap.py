"""The stable map from Synthea's ids (UUIDs, and keys the importer makes up for rows the
export only implies) to the contract's integer ids.

It lives in the EMR database next to the raw tables, as ``synthea_id_map (kind, uuid,
id)``, and is written in the import's own transaction, so the map and the raw rows always
agree. A key gets its id the first time any file mentions it, even as a reference only
(an encounter's PATIENT), so the row that arrives later, or in a later export, gets the
same id. New ids are allocated per kind in order of first appearance, above both the
largest id the map knows and the largest id already in the kind's raw table, so they
never land on rows another loader wrote.

Kinds share an id space when they share a raw table: regions and clinics are both
``location``; role groups and specialties are both ``role``.
"""
from __future__ import annotations

import hashlib
from typing import Iterable, Mapping

from sqlalchemy import func, select, text
from sqlalchemy.schema import CreateTable

from etl.db.tables import SYNTHEA_ID_MAP, raw
from etl.sources.synthea.store import Store, insert_many

MAX_KEY = 64

ID_MAP = SYNTHEA_ID_MAP

KIND_TABLES: Mapping[str, str] = {
    "location": "emr_location", "role": "emr_role", "staff": "emr_staff",
    "patient": "emr_patient", "service": "emr_service", "visit": "emr_visit",
}


def map_key(prefix: str, value: str) -> str:
    """``prefix:value`` for an implied row, or a digest of ``value`` when that is too long."""
    key = f"{prefix}:{value}"
    if len(key) <= MAX_KEY:
        return key
    return f"{prefix}#{hashlib.sha256(value.encode('utf-8')).hexdigest()}"[:MAX_KEY]


def ensure_table(store: Store) -> None:
    """Create the map if needed; on PostgreSQL also lock it, so a second import waits
    for this one instead of allocating the same ids."""
    store.execute(CreateTable(ID_MAP, if_not_exists=True))
    if store.vendor == "postgresql":
        store.execute(text("LOCK TABLE synthea_id_map IN SHARE ROW EXCLUSIVE MODE"))


class IdMap:
    """Get-or-allocate lookups for one import (one transaction)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._next: dict[str, int] = {}

    def ids(self, kind: str, keys: Iterable[str], adopt_by: str | None = None) -> dict[str, int]:
        """The id of every key, allocating ids for keys never seen. ``adopt_by`` names a
        unique column of the kind's table whose existing rows a new key takes over
        (``emr_service.code``), instead of colliding with them."""
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return {}
        found = dict(self._store.fetch_all(
            select(ID_MAP.c.uuid, ID_MAP.c.id).where(ID_MAP.c.kind == kind, ID_MAP.c.uuid.in_(wanted))
        ))
        missing = [key for key in wanted if key not in found]
        new_rows = []
        if missing and adopt_by:
            table = raw(KIND_TABLES[kind])
            adopted = dict(self._store.fetch_all(
                select(table.c[adopt_by], table.c.id).where(table.c[adopt_by].in_(missing))
            ))
            new_rows += [{"kind": kind, "uuid": key, "id": adopted[key]} for key in missing if key in adopted]
            missing = [key for key in missing if key not in adopted]
        for key in missing:
            new_rows.append({"kind": kind, "uuid": key, "id": self._allocate(kind)})
        insert_many(self._store, ID_MAP, new_rows)
        found.update((row["uuid"], row["id"]) for row in new_rows)
        return {key: int(found[key]) for key in wanted}

    def _allocate(self, kind: str) -> int:
        if kind not in self._next:
            table = raw(KIND_TABLES[kind])
            mapped = self._store.fetch_all(select(func.max(ID_MAP.c.id)).where(ID_MAP.c.kind == kind))[0][0]
            present = self._store.fetch_all(select(func.max(table.c.id)))[0][0]
            self._next[kind] = max(int(mapped or 0), int(present or 0)) + 1
        allocated = self._next[kind]
        self._next[kind] += 1
        return allocated
