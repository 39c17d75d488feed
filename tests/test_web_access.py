"""Who sees what, on every URL of the reading side (the list comes from the URLconf, so a
new URL cannot skip these checks)."""
import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import URLPattern, URLResolver, get_resolver

from etl.models import LocationGrant
from etl.web.access import at_level, covered, location_tree

from . import web_data
from .web_data import LEAK

PUBLIC = {"login", "logout"}


def web_urls() -> list[str]:
    """Every route of etl.web.urls as a concrete path (clinic 10 for <clinic_id>)."""
    out = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                if "admin" in str(p.pattern):
                    continue
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name not in PUBLIC:
                out.append("/" + prefix + str(p.pattern).replace("<int:clinic_id>", "10"))
    walk(get_resolver().url_patterns)
    return out


@pytest.fixture
def users(db):
    return web_data.load()


def login(client, user):
    client.force_login(user)
    return client


def body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_the_url_list_covers_every_page_and_endpoint():
    urls = web_urls()
    assert {"/", "/clinics/", "/clinics/10/", "/outliers/", "/staff/", "/regions/", "/builds/", "/api/schema/",
            "/api/docs/", "/api/staff-summary/", "/api/staff-cost-summary/", "/api/clinic-days/",
            "/api/clinic-scores/", "/api/region-months/"} <= set(urls)


def test_login_required_everywhere(client, users):
    for url in web_urls():
        response = client.get(url)
        if url.startswith("/api/"):
            assert response.status_code in (401, 403), url
        else:
            assert response.status_code == 302 and response["Location"].startswith("/login/"), url


# Each URL with no filter, filtered on an ungranted clinic, region or location, and as CSV.
VARIANTS = ["", "?clinic=20", "?region=1", "?region=2", "?location=20", "?format=csv", "?clinic=20&format=csv",
            "?day_from=2024-03-01&day_to=2024-03-02&ordering=-day"]


@pytest.mark.parametrize("who", ["alpha", "nobody", "counter"])
def test_ungranted_rows_never_show(client, users, who):
    login(client, users[who])
    for url in web_urls():
        for variant in VARIANTS:
            response = client.get(url + variant)
            assert response.status_code in (200, 400, 404), (url, variant, response.status_code)
            text = body(response)
            assert LEAK not in text and "Bravo" not in text and "Charlie" not in text, (url + variant)
            if who == "nobody":
                assert "Alpha" not in text, url + variant


def test_an_ungranted_clinic_page_is_404(client, users):
    login(client, users["alpha"])
    assert client.get("/clinics/20/").status_code == 404
    assert client.get("/clinics/11/").status_code == 404   # a department is no clinic
    assert client.get("/clinics/10/").status_code == 200
    login(client, users["nobody"])
    assert client.get("/clinics/10/").status_code == 404


def test_grant_on_a_region_shows_its_clinics_and_months(client, users):
    login(client, users["north"])
    scores = client.get("/api/clinic-scores/?format=json").json()
    assert sorted({r["clinic_id"] for r in scores["results"]}) == [10, 20]
    months = client.get("/api/region-months/").json()
    assert [r["region_name"] for r in months["results"]] == ["North Region"]
    # alpha (one clinic of the region) sees no region row.
    login(client, users["alpha"])
    assert client.get("/api/region-months/").json()["count"] == 0


def test_superuser_sees_everything(client, users):
    login(client, users["root"])
    assert client.get("/api/clinic-days/").json()["count"] == 4
    assert "Bravo Clinic" in body(client.get("/clinics/"))


def test_covered_walks_down_the_tree_and_survives_loops(users):
    tree = location_tree()
    assert covered([10], tree) == {10, 11}
    assert covered([1], tree) == {1, 10, 11, 20}
    assert covered([999], tree) == {999}   # a grant on an id the dimension lacks covers only it


def test_clinic_and_region_rows_are_scoped_by_the_covered_clinics_and_regions(users):
    tree = location_tree()
    north = covered([1], tree)
    assert at_level(north, None, tree) == [1, 10, 11, 20]
    assert at_level(north, "clinic_id", tree) == [10, 20]   # the department 11 carries no clinic row
    assert at_level(north, "region_id", tree) == [1]
    assert at_level(covered([11], tree), "clinic_id", tree) == []   # a department's grant: not its clinic
    assert at_level(frozenset({999, 10}), "clinic_id", tree) == [10, 999]   # an id the dimension lacks is kept


def test_a_department_grant_sees_no_clinic_rows(client, users):
    LocationGrant.objects.create(user=users["nobody"], location_id=11)
    login(client, users["nobody"])
    assert client.get("/api/clinic-days/").json()["count"] == 0
    assert client.get("/api/clinic-scores/").json()["count"] == 0
    assert client.get("/api/region-months/").json()["count"] == 0
    assert client.get("/api/staff-summary/?format=json").json()["count"] > 0   # its own rows


def test_filter_choices_list_only_granted_locations(client, users):
    login(client, users["alpha"])
    text = body(client.get("/staff/?clinic=10"))
    assert "Alpha Lab" in text and "North Region" not in text
    assert '<option value="10" selected>Alpha Clinic</option>' in text


def test_grant_locations_command(users):
    call_command("grant_locations", "nobody", "20", "30")
    assert sorted(LocationGrant.objects.filter(user=users["nobody"]).values_list("location_id", flat=True)) == [20, 30]
    call_command("grant_locations", "nobody", "20", "--revoke")
    assert list(LocationGrant.objects.filter(user=users["nobody"]).values_list("location_id", flat=True)) == [30]
    with pytest.raises(CommandError, match="no user named"):
        call_command("grant_locations", "ghost", "10")
