"""The build keeps dim_location, dim_service and dim_role_group equal to the raw tables,
in Django's database, also when the raw tables live in another database."""
import pytest
from django.db import connection
from django.test import override_settings
from sqlalchemy import delete

from etl import db as etl_db
from etl.engine import dimensions
from etl.engine.service import build_summaries
from etl.db.schema import init_emr
from etl.db.tables import raw
from etl.models import Location, RoleGroup, Service

from .factories import add


def load_tree():
    """Region 1 North; clinics 10 Alpha and 20 Bravo under it; department 11 under Alpha;
    department 12 directly under the region (no clinic); department 30 whose parent 999 is
    missing (no clinic, no region); clinic 40 and department 41 parents of each other (a
    loop: 40 is its own clinic and 41's, neither has a region)."""
    add("emr_location",
        {"id": 1, "parent_id": None, "name": "North", "kind": "region"},
        {"id": 10, "parent_id": 1, "name": "Alpha", "kind": "clinic"},
        {"id": 11, "parent_id": 10, "name": "Alpha Lab", "kind": "department"},
        {"id": 12, "parent_id": 1, "name": "North Desk", "kind": "department"},
        {"id": 20, "parent_id": 1, "name": "Bravo", "kind": "clinic"},
        {"id": 30, "parent_id": 999, "name": "Orphan", "kind": "department"},
        {"id": 40, "parent_id": 41, "name": "Loop Clinic", "kind": "clinic"},
        {"id": 41, "parent_id": 40, "name": "Loop Dept", "kind": "department"})
    # Roles: 1 Nurse (root) with child 2; 5 Doctor (root, alone); 3 and 4 loop: no group.
    add("emr_role", {"id": 1, "parent_id": None, "name": "Nurse"}, {"id": 2, "parent_id": 1, "name": "Nurse aide"},
        {"id": 5, "parent_id": None, "name": "Doctor"}, {"id": 3, "parent_id": 4, "name": "X"},
        {"id": 4, "parent_id": 3, "name": "Y"})
    add("emr_service", {"id": 7, "code": "GP", "name": "General practice"}, {"id": 8, "code": "DEN", "name": "Dental"})


EXPECTED_LOCATIONS = [
    (1, None, "North", "region", None, 1),
    (10, 1, "Alpha", "clinic", 10, 1),
    (11, 10, "Alpha Lab", "department", 10, 1),
    (12, 1, "North Desk", "department", None, 1),
    (20, 1, "Bravo", "clinic", 20, 1),
    (30, 999, "Orphan", "department", None, None),
    (40, 41, "Loop Clinic", "clinic", 40, None),
    (41, 40, "Loop Dept", "department", 40, None),
]


def dimension_rows():
    locations = list(Location.objects.order_by("id").values_list("id", "parent_id", "name", "kind", "clinic_id",
                                                                  "region_id"))
    services = list(Service.objects.order_by("id").values_list("id", "code", "name"))
    groups = list(RoleGroup.objects.order_by("id").values_list("id", "name"))
    return locations, services, groups


def assert_expected():
    locations, services, groups = dimension_rows()
    assert locations == EXPECTED_LOCATIONS
    assert services == [(7, "GP", "General practice"), (8, "DEN", "Dental")]
    assert groups == [(1, "Nurse"), (5, "Doctor")]


def test_refresh_copies_the_tree_with_clinics_and_regions(emr):
    load_tree()
    counts = dimensions.refresh()
    assert (counts.locations, counts.services, counts.role_groups) == (8, 2, 2)
    assert_expected()


def test_every_build_replaces_the_tables_whole(emr):
    load_tree()
    build_summaries()
    assert_expected()
    # A location and a service vanish from the export, a region is renamed: the next
    # build (with no summary work to do) follows.
    etl_db.emr_execute(delete(raw("emr_location")).where(raw("emr_location").c.id == 30))
    etl_db.emr_execute(delete(raw("emr_service")).where(raw("emr_service").c.id == 8))
    etl_db.emr_execute(raw("emr_location").update().where(raw("emr_location").c.id == 1).values(name="Nord"))
    build_summaries()
    locations, services, _ = dimension_rows()
    assert [row[0] for row in locations] == [1, 10, 11, 12, 20, 40, 41]
    assert locations[0][2] == "Nord"
    assert services == [(7, "GP", "General practice")]


def test_a_copy_is_rewritten_only_when_it_differs(emr):
    """The copies are compared with the raw tables first: a build that finds them equal
    writes none; a renamed service rewrites dim_service alone."""
    from django.test.utils import CaptureQueriesContext

    load_tree()
    dimensions.refresh()

    def written():
        with CaptureQueriesContext(connection) as queries:
            dimensions.refresh()
        statements = [q["sql"].upper() for q in queries.captured_queries]
        return {table for table in ("DIM_LOCATION", "DIM_SERVICE", "DIM_ROLE_GROUP")
                if any(table in sql and sql.lstrip().startswith(("DELETE", "INSERT")) for sql in statements)}

    assert written() == set()
    etl_db.emr_execute(raw("emr_service").update().where(raw("emr_service").c.id == 8).values(name="Dentistry"))
    assert written() == {"DIM_SERVICE"}
    assert written() == set()
    assert dimension_rows()[1] == [(7, "GP", "General practice"), (8, "DEN", "Dentistry")]


@pytest.mark.django_db
def test_raw_tables_in_another_database(tmp_path):
    with override_settings(EMR_DATABASE_URL=f"sqlite:///{tmp_path / 'emr.sqlite3'}"):
        init_emr(drop=True)
        load_tree()
        build_summaries()
    assert "emr_location" not in connection.introspection.table_names()
    assert_expected()
