"""The recursive top-ancestor CTE on trees of any depth, loops and missing parents."""
from sqlalchemy import select

from etl import db
from etl.queries.groups import role_groups
from etl.queries.hierarchy import top_ancestors
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
