"""The recursive top-ancestor CTE on trees of any depth, loops and missing parents."""
from sqlalchemy import select

from etl import db
from etl.queries.groups import role_groups
from etl.queries.hierarchy import top_ancestors
from etl.queries.locations import clinic_locations, location_clinics, regions
from etl.db.tables import raw

from .factories import add


def groups() -> dict[int, int]:
    cte = role_groups()
    return dict(db.fetch_all(select(cte.c.node_id, cte.c.top_id)))


def test_roots_chains_loops_and_orphans(emr):
    add("emr_role",
        {"id": 1, "parent_id": None, "name": "root"},
        {"id": 2, "parent_id": 1, "name": "child"},
        {"id": 3, "parent_id": 2, "name": "grandchild"},
        {"id": 4, "parent_id": 5, "name": "loop a"},
        {"id": 5, "parent_id": 4, "name": "loop b"},
        {"id": 6, "parent_id": 4, "name": "under a loop"},
        {"id": 7, "parent_id": 7, "name": "self loop"},
        {"id": 8, "parent_id": 99, "name": "missing parent"},
        {"id": 9, "parent_id": 8, "name": "under an orphan"})
    assert groups() == {1: 1, 2: 1, 3: 1}


def test_chain_of_any_depth(emr):
    depth = 300
    add("emr_role", *({"id": i, "parent_id": i - 1 if i > 1 else None, "name": f"r{i}"} for i in range(1, depth + 1)))
    assert groups() == {i: 1 for i in range(1, depth + 1)}


def test_long_loop_terminates_with_no_group(emr):
    size = 200
    add("emr_role", *({"id": i, "parent_id": i % size + 1, "name": f"r{i}"} for i in range(1, size + 1)))
    assert groups() == {}


def test_regions_use_the_same_builder(emr):
    add("emr_location",
        {"id": 1, "parent_id": None, "name": "region", "kind": "region"},
        {"id": 2, "parent_id": 1, "name": "clinic", "kind": "clinic"},
        {"id": 3, "parent_id": 2, "name": "dept", "kind": "department"},
        {"id": 4, "parent_id": 4, "name": "self", "kind": "clinic"})
    regions = top_ancestors(raw("emr_location"), "regions")
    assert dict(db.fetch_all(select(regions.c.node_id, regions.c.top_id))) == {1: 1, 2: 1, 3: 1}


def test_a_chain_thousands_deep_stays_linear(emr):
    """A walk up from every node would visit depth²/2 = 12.5M rows here; the walk down
    visits each of the 5,000 once."""
    depth = 5000
    add("emr_role", *({"id": i, "parent_id": i - 1 if i > 1 else None, "name": f"r{i}"} for i in range(1, depth + 1)))
    assert groups() == {i: 1 for i in range(1, depth + 1)}


def clinics_and_regions() -> dict[int, tuple[int, int | None]]:
    clinics = location_clinics()
    located = clinic_locations(clinics, regions())
    return {loc: (clinic, region) for loc, clinic, region in db.fetch_all(
        select(located.c.location_id, located.c.clinic_id, located.c.region_id))}


def test_the_clinic_of_a_location_is_the_nearest_clinic_above_it(emr):
    add("emr_location",
        {"id": 1, "parent_id": None, "name": "north", "kind": "region"},
        {"id": 2, "parent_id": 1, "name": "clinic a", "kind": "clinic"},
        {"id": 3, "parent_id": 2, "name": "dept under a", "kind": "department"},
        {"id": 4, "parent_id": 3, "name": "dept under a dept", "kind": "department"},
        {"id": 5, "parent_id": 2, "name": "clinic under a clinic", "kind": "clinic"},
        {"id": 6, "parent_id": 5, "name": "dept of the inner clinic", "kind": "department"},
        {"id": 7, "parent_id": 1, "name": "dept directly under the region", "kind": "department"},
        {"id": 8, "parent_id": 99, "name": "clinic under a missing row", "kind": "clinic"},
        {"id": 9, "parent_id": 8, "name": "dept of that clinic", "kind": "department"},
        {"id": 10, "parent_id": 98, "name": "orphan dept", "kind": "department"},
        # A loop with a clinic in it: 11 -> 12 (clinic) -> 13 -> 11.
        {"id": 11, "parent_id": 12, "name": "loop dept", "kind": "department"},
        {"id": 12, "parent_id": 13, "name": "loop clinic", "kind": "clinic"},
        {"id": 13, "parent_id": 11, "name": "loop dept 2", "kind": "department"},
        # A loop of departments only: no clinic.
        {"id": 14, "parent_id": 15, "name": "dept loop a", "kind": "department"},
        {"id": 15, "parent_id": 14, "name": "dept loop b", "kind": "department"},
        {"id": 16, "parent_id": None, "name": "root clinic", "kind": "clinic"})
    # Worked out by following parent_id up to the first clinic; the region is the clinic's
    # top-most ancestor (NULL when its chain breaks or loops; a root clinic is its own).
    assert clinics_and_regions() == {
        2: (2, 1), 3: (2, 1), 4: (2, 1),
        5: (5, 1), 6: (5, 1),
        8: (8, None), 9: (8, None),
        11: (12, None), 12: (12, None), 13: (12, None),
        16: (16, 16),
    }
