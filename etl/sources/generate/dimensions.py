"""The small raw tables: locations, roles, staff, services, patients.

Each builder draws from the one shared ``random.Random`` in a fixed order, so the same
seed gives the same rows. Rows are tuples in the column order of the raw tables. The
dirt of CONTRACT section 1 is planted on purpose: a few staff without a role, with a
missing role, with a role in a loop or under a missing parent, without an hourly cost;
a location loop and a location under a missing parent.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal
from itertools import accumulate
from typing import Iterator

from etl.sources.generate import vocab

# Share of the department visit weight that goes to clinic-level locations and to each
# of the two dirty locations (the loop department and the orphan department).
CLINIC_LEVEL_SHARE = 0.03
DIRTY_LOCATION_SHARE = 0.004
STAFF_DIRT = {"null_role": 0.03, "missing_role": 0.02, "loop_role": 0.01, "orphan_role": 0.01, "null_cost": 0.03}
DIRTY_ROLE_COST = (25, 90)
FULL_SIZE_STAFF = 5000


@dataclass(frozen=True)
class Locations:
    rows: list[tuple]
    visit_ids: list[int]
    """Locations that hold visits and shifts: departments, clinics and the dirty ones."""
    cum_weights: list[float]
    max_id: int


@dataclass(frozen=True)
class Roles:
    rows: list[tuple]
    by_group: list[tuple[list[int], list[int]]]
    """Per role group (as in ``vocab.ROLE_GROUPS``): (leaf role ids, other role ids)."""
    loop_ids: tuple[int, int]
    orphan_id: int
    max_id: int


@dataclass(frozen=True)
class Staff:
    rows: list[tuple]
    ids: list[int]
    pools: dict[int, list[int]]
    """Staff ids by home location id: who is rostered there."""
    max_id: int


@dataclass(frozen=True)
class Services:
    rows: list[tuple]
    ids: list[int]
    cum_weights: list[float]
    max_id: int


def build_locations(rng: random.Random, clinics: int) -> Locations:
    """Regions, ``clinics`` clinics with 2-5 departments each, and two dirty locations:
    a clinic and department that are each other's parent, a department whose parent is
    missing."""
    n_regions = max(1, min(len(vocab.REGIONS), round(clinics / 5)))
    rows: list[tuple] = [(i + 1, None, f"{vocab.REGIONS[i]} region", "region") for i in range(n_regions)]
    clinic_rows, departments = [], []
    next_id = n_regions + clinics + 1
    for c in range(clinics):
        clinic_id = n_regions + c + 1
        town = vocab.TOWNS[c % len(vocab.TOWNS)] + (f" {c // len(vocab.TOWNS) + 1}" if c >= len(vocab.TOWNS) else "")
        clinic_rows.append((clinic_id, c % n_regions + 1, f"{town} clinic", "clinic"))
        clinic_size = rng.uniform(0.6, 1.6)
        for name in rng.sample(vocab.DEPARTMENTS, rng.randint(2, 5)):
            departments.append(((next_id, clinic_id, f"{name}, {town}", "department"), clinic_size * rng.uniform(0.5, 2.0)))
            next_id += 1
    loop_clinic, loop_department, orphan = next_id, next_id + 1, next_id + 2
    rows += clinic_rows + [row for row, _ in departments] + [
        (loop_clinic, loop_department, "Legacy annex", "clinic"),
        (loop_department, loop_clinic, "General practice, legacy annex", "department"),
        (orphan, orphan + 1000, "Mobile unit", "department"),
    ]
    department_weight = sum(weight for _, weight in departments)
    weighted = [(row[0], weight) for row, weight in departments]
    weighted += [(row[0], CLINIC_LEVEL_SHARE * department_weight / clinics) for row in clinic_rows]
    weighted += [(loop_department, DIRTY_LOCATION_SHARE * department_weight),
                 (orphan, DIRTY_LOCATION_SHARE * department_weight)]
    return Locations(rows, [i for i, _ in weighted], list(accumulate(w for _, w in weighted)), orphan)


def build_roles(rng: random.Random, staff: int) -> Roles:
    """A four-level role tree (group, specialty, grade, sub-grade) of about 35 roles for
    small runs up to about 100 for large ones, plus a two-role loop and an orphan."""
    scale = min(1.0, staff / FULL_SIZE_STAFF)
    rows: list[tuple] = []
    by_group: list[tuple[list[int], list[int]]] = []

    def add(parent: int | None, name: str) -> int:
        rows.append((len(rows) + 1, parent, name))
        return len(rows)

    for group, specialties, grades, _ in vocab.ROLE_GROUPS:
        leaves: list[int] = []
        inner = [add(None, group)]
        for specialty in rng.sample(specialties, 2 + round(scale * 3)):
            specialty_id = add(inner[0], specialty)
            inner.append(specialty_id)
            for grade in grades[:rng.randint(2, 3)]:
                grade_id = add(specialty_id, f"{specialty}: {grade}")
                if rng.random() < 0.1 + 0.15 * scale:
                    inner.append(grade_id)
                    leaves += [add(grade_id, f"{specialty}: {grade}, {sub}") for sub in vocab.SUB_GRADES]
                else:
                    leaves.append(grade_id)
        by_group.append((leaves, inner))
    loop_a = add(None, "Locum pool")
    loop_b = add(loop_a, "Locum pool, legacy")
    rows[loop_a - 1] = (loop_a, loop_b, "Locum pool")
    orphan = add(loop_b + 1000, "Agency staff")
    return Roles(rows, by_group, (loop_a, loop_b), orphan, orphan)



def _dirty_indices(rng: random.Random, n: int, rates: dict[str, float]) -> dict[int, str]:
    """Disjoint row indices for each kind of dirt: ``rate`` of ``n``, at least one each."""
    counts = {kind: max(1, round(rate * n)) for kind, rate in rates.items()}
    chosen = iter(rng.sample(range(n), sum(counts.values())))
    return {next(chosen): kind for kind, count in counts.items() for _ in range(count)}


def _cost(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)).scaleb(-2)


def build_staff(rng: random.Random, n: int, roles: Roles, locations: Locations) -> Staff:
    """``n`` staff members: mostly in leaf roles, costed by role group, each with a home
    location (weighted like the visits) where they are rostered."""
    dirt = _dirty_indices(rng, n, STAFF_DIRT)
    group_cum = list(accumulate(vocab.GROUP_SHARE))
    rows = []
    for i in range(n):
        group = rng.choices(range(len(vocab.ROLE_GROUPS)), cum_weights=group_cum)[0]
        leaves, inner = roles.by_group[group]
        role: int | None = rng.choice(leaves) if rng.random() < 0.9 else rng.choice(inner)
        cost: Decimal | None = _cost(rng, *vocab.ROLE_GROUPS[group][3])
        kind = dirt.get(i)
        if kind == "null_role":
            role = None
        elif kind == "missing_role":
            role = roles.max_id + 1 + rng.randrange(50)
        elif kind in ("loop_role", "orphan_role"):
            role = rng.choice(roles.loop_ids) if kind == "loop_role" else roles.orphan_id
            cost = _cost(rng, *DIRTY_ROLE_COST)
        elif kind == "null_cost":
            cost = None
        name = f"{rng.choice(vocab.FIRST_NAMES)} {rng.choice(vocab.LAST_NAMES)}"
        rows.append((i + 1, name, role, cost))
    homes = rng.choices(locations.visit_ids, cum_weights=locations.cum_weights, k=n)
    pools: dict[int, list[int]] = {}
    for staff_id, home in enumerate(homes, start=1):
        pools.setdefault(home, []).append(staff_id)
    return Staff(rows, list(range(1, n + 1)), pools, n)


def build_services(rng: random.Random) -> Services:
    """50 services (category x variant) with unique codes; a few are far more common."""
    rows = [
        (len(vocab.SERVICE_VARIANTS) * c + v + 1, f"{code}-{variant}", f"{name}, {label}")
        for c, (code, name) in enumerate(vocab.SERVICE_CATEGORIES)
        for v, (variant, label) in enumerate(vocab.SERVICE_VARIANTS)
    ]
    ranks = rng.sample(range(1, len(rows) + 1), len(rows))
    ids = [row[0] for row in rows]
    return Services(rows, ids, list(accumulate(1 / rank ** 0.9 for rank in ranks)), len(rows))


def patient_rows(rng: random.Random, n: int, end_day: dt.date, chunk_rows: int) -> Iterator[list[tuple]]:
    """``n`` patients (birth date, sex; about 1% of each unknown) in chunks."""
    end = end_day.toordinal()
    chunk: list[tuple] = []
    for patient_id in range(1, n + 1):
        birth = None
        if rng.random() >= 0.01:
            birth = dt.date.fromordinal(end - int(rng.triangular(0, 95, 40) * 365.25)).isoformat()
        s = rng.random()
        sex = "F" if s < 0.505 else "M" if s < 0.985 else "X" if s < 0.99 else None
        chunk.append((patient_id, birth, sex))
        if len(chunk) >= chunk_rows:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
