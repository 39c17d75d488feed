"""``generate_emr``: replace the raw tables' content with deterministic synthetic data."""
from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from typing import Callable, Iterator

from etl.db.schema import missing_raw_tables
from etl.db.tables import RAW_TABLE_NAMES, raw
from etl.sources.generate import dimensions
from etl.sources.generate.facts import FactGenerator
from etl.sources.generate.spec import DEFAULT_END_DAY, GenerateError, GenerateSpec
from etl.sources.generate.writers import raw_writer
from etl.text import count

Progress = Callable[[str], None]
CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class GenerateReport:
    """Rows written per raw table, and the wall-clock seconds of the whole run."""

    locations: int
    roles: int
    staff: int
    services: int
    patients: int
    visits: int
    shifts: int
    seconds: float

    def summary(self) -> str:
        counts = (
            ("visits", self.visits), ("shifts", self.shifts), ("patients", self.patients), ("staff", self.staff),
            ("roles", self.roles), ("locations", self.locations), ("services", self.services),
        )
        return ", ".join(f"{n:,} {name}" for name, n in counts) + f" in {self.seconds:.1f} s"


def emr_rows(spec: GenerateSpec, chunk_rows: int = CHUNK_ROWS) -> Iterator[tuple[str, list[tuple]]]:
    """Every generated row as (raw table name, chunk of row tuples in column order):
    a pure function of ``spec``, shared by the database load and the tests."""
    rng = random.Random(spec.seed)
    locations = dimensions.build_locations(rng, spec.clinics)
    roles = dimensions.build_roles(rng, spec.staff)
    staff = dimensions.build_staff(rng, spec.staff, roles, locations)
    services = dimensions.build_services(rng)
    yield "emr_location", locations.rows
    yield "emr_role", roles.rows
    yield "emr_staff", staff.rows
    yield "emr_service", services.rows
    for chunk in dimensions.patient_rows(rng, spec.patients, spec.end_day, chunk_rows):
        yield "emr_patient", chunk
    yield from FactGenerator(spec, rng, locations, staff, services).chunks(chunk_rows)


def _quiet(_: str) -> None:
    return None


def generate_emr(
    visits: int,
    days: int = 730,
    clinics: int = 20,
    seed: int = 1,
    end_day: dt.date = DEFAULT_END_DAY,
    progress: Progress | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
) -> GenerateReport:
    """Delete every row of the raw tables and write ``visits`` visits over the ``days``
    days ending ``end_day`` at ``clinics`` clinics, with the staff, shifts, patients,
    roles, locations and services around them, all in one transaction. The same
    arguments give the same rows on every run and backend."""
    spec = GenerateSpec.checked(visits, days, clinics, seed, end_day)
    if chunk_rows < 1:
        raise GenerateError(f"chunk_rows must be positive, not {chunk_rows!r}")
    report = progress or _quiet
    missing = missing_raw_tables()
    if missing:
        raise GenerateError(f"the EMR database has no {', '.join(missing)}: run `manage.py init_emr` first")
    started = time.perf_counter()
    counts = dict.fromkeys(RAW_TABLE_NAMES, 0)
    tables = [raw(name) for name in RAW_TABLE_NAMES]
    with raw_writer() as writer:
        for table in tables:
            writer.clear(table)
        writer.forget_imported_ids()
        report(f"cleared {count(len(tables), 'raw table')}")
        for name, rows in emr_rows(spec, chunk_rows):
            writer.write(raw(name), rows)
            counts[name] += len(rows)
            report(f"{name}: {count(counts[name], 'row')} written")
        writer.finish(tables)
    return GenerateReport(
        locations=counts["emr_location"], roles=counts["emr_role"], staff=counts["emr_staff"],
        services=counts["emr_service"], patients=counts["emr_patient"], visits=counts["emr_visit"],
        shifts=counts["emr_shift"], seconds=time.perf_counter() - started,
    )
