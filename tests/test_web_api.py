"""The REST API: pagination, filters, ordering, CSV streaming, schema and docs, token
authentication (data from tests/web_data.py; the superuser sees every row)."""
import csv
import datetime as dt
import io
import re
from decimal import Decimal as D

import pytest
from rest_framework.authtoken.models import Token

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from etl.models import ClinicScore, RegionMonth, StaffCostSummary, StaffSummary, SummaryState
from etl.web import pages, paging

from . import web_data
from .test_web_access import body, login


@pytest.fixture
def users(db):
    return web_data.load()


def results(client, url):
    return client.get(url).json()["results"]


def test_filters(client, users):
    login(client, users["root"])
    base = "/api/staff-summary/"
    # 3 staff_summary rows: Alpha Lab day 1 (service 7), Alpha Clinic day 2 (service 8), Bravo day 1 (service 7).
    assert client.get(base).json()["count"] == 3
    assert [r["day"] for r in results(client, base + "?day_from=2024-03-02")] == ["2024-03-02"]
    assert [r["day"] for r in results(client, base + "?day_to=2024-03-01&ordering=location_id")] == [
        "2024-03-01", "2024-03-01"]
    # clinic 10 = locations 10 and 11; region 1 = all three; region 2 = none.
    assert sorted(r["location_id"] for r in results(client, base + "?clinic=10")) == [10, 11]
    assert len(results(client, base + "?region=1")) == 3 and results(client, base + "?region=2") == []
    assert [r["location_id"] for r in results(client, base + "?location=20")] == [20]
    assert sorted(r["location_id"] for r in results(client, base + "?service=7")) == [11, 20]
    assert len(results(client, base + "?role_group=5")) == 3 and results(client, base + "?role_group=6") == []
    assert [r["region_id"] for r in results(client, "/api/clinic-days/?region=2")] == [2]
    assert [r["region_id"] for r in results(client, "/api/region-months/?month_from=2024-03-01&region=1")] == [1]
    assert results(client, "/api/region-months/?month_to=2024-02-01") == []


def test_ordering(client, users):
    login(client, users["root"])
    rows = results(client, "/api/staff-summary/?ordering=-nr_visits")
    assert [r["nr_visits"] for r in rows] == [987654, 30, 25]
    assert client.get("/api/staff-summary/?ordering=no_such_column").status_code == 400


def test_an_unfiltered_listing_reports_the_row_count_its_build_recorded(client, users):
    """A superuser's unfiltered listing holds the whole table: its count is the one the
    build recorded (docs/web.md, "Speed"), not a count of the table; anything filtered or
    scoped, or a table no build recorded, is counted by the database."""
    moment = timezone.now()
    SummaryState.objects.create(name="staff_summary", definition_hash="x", built_at=moment, full_built_at=moment,
                                row_count=StaffSummary.objects.count())

    def counted(user, url):
        login(client, user)
        with CaptureQueriesContext(connection) as queries:
            count = client.get(url).json()["count"]
        return count, any("COUNT(" in q["sql"].upper() and "_summary" in q["sql"] for q in queries)

    assert counted(users["root"], "/api/staff-summary/") == (3, False)
    assert counted(users["root"], "/api/staff-summary/?page=1&page_size=2") == (3, False)
    assert counted(users["root"], "/api/staff-summary/?region=1") == (3, True)
    assert counted(users["root"], "/api/staff-summary/?service=7") == (2, True)
    assert counted(users["alpha"], "/api/staff-summary/") == (2, True)  # scoped: locations 10 and 11
    assert counted(users["root"], "/api/staff-cost-summary/") == (2, True)  # no build recorded it


def test_pagination(client, users):
    login(client, users["root"])
    StaffCostSummary.objects.bulk_create([
        StaffCostSummary(day=f"2023-01-{d:02d}", location_id=10, role_group_id=5, rostered_hours=1, staff_cost=1,
                         nr_staff=1, nr_visits=20, nr_patients=20, patients_per_hour=20, cost_per_patient=0.05)
        for d in range(1, 29)
    ])   # 28 + the 2 of web_data = 30 rows
    page = client.get("/api/staff-cost-summary/?page_size=7&page=2").json()
    assert page["count"] == 30 and len(page["results"]) == 7
    assert "page=3" in page["next"] and "page_size=7" in page["next"] and page["previous"].endswith("page_size=7")
    last = client.get("/api/staff-cost-summary/?page_size=7&page=5").json()
    assert len(last["results"]) == 2 and last["next"] is None
    # page_size beyond 1000 is capped at 1000 (all 30 rows fit).
    assert len(results(client, "/api/staff-cost-summary/?page_size=5000")) == 30


def record_count(model, moment=None):
    """Record the table's row count as a build does (etl_summary_state)."""
    moment = moment or timezone.now()
    SummaryState.objects.update_or_create(name=model._meta.db_table, defaults={
        "definition_hash": "x", "built_at": moment, "full_built_at": moment, "row_count": model.objects.count()})


def add_cost_rows(days, hours=lambda d: d % 4):
    StaffCostSummary.objects.bulk_create([
        StaffCostSummary(day=f"2023-01-{d // 2 + 1:02d}", location_id=10 + d % 2,
                         role_group_id=None if d % 3 == 0 else 5, rostered_hours=hours(d), staff_cost=1, nr_staff=1,
                         nr_visits=20, nr_patients=20, patients_per_hour=20, cost_per_patient=0.05)
        for d in days
    ])


@pytest.mark.parametrize("seek", [False, True])
@pytest.mark.parametrize("ordering", ["", "&ordering=-rostered_hours", "&ordering=role_group_id,-day",
                                      "&ordering=-day", "&ordering=day,-location_id"])
def test_pages_past_the_middle_hold_the_rows_of_the_whole_listing(client, users, ordering, seek, monkeypatch):
    """Pages past the middle are read from the end, and deep pages of a whole table
    ordered by the day start at their day (etl.web.paging.SummaryPaginator): every page
    equals its slice of the whole ordered listing, NULL groups and ties included."""
    login(client, users["root"])
    monkeypatch.setattr(paging, "KEEP_FIRST", 0)   # every page by OFFSET (first pages by ids: the test below)
    add_cost_rows(range(28))   # 28 + the 2 of web_data = 30 rows; rostered_hours ties, role group NULL on a third
    if seek:  # every page past the first seeks, from the day counts of the recorded build
        monkeypatch.setattr(paging, "SEEK_FROM", 1)
        monkeypatch.setattr(paging, "_COUNTS", {})
        record_count(StaffCostSummary)
    whole = results(client, f"/api/staff-cost-summary/?page_size=1000{ordering}")
    assert len(whole) == 30
    with CaptureQueriesContext(connection) as queries:
        read = [client.get(f"/api/staff-cost-summary/?page_size=7&page={n}{ordering}").json() for n in range(1, 6)]
    assert [row for page in read for row in page["results"]] == whole
    assert read[-1]["next"] is None and len(read[-1]["results"]) == 2
    seeks = [q["sql"] for q in queries if re.search(r'"staff_cost_summary"\."day" [<>]=', q["sql"])]
    by_day = ordering in ("", "&ordering=-day", "&ordering=day,-location_id")
    # Pages 2 to 4 have rows before them (counted from the end for page 4); page 5 none after it.
    assert len(seeks) == (3 if seek and by_day else 0)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/api/staff-cost-summary/?page_size=7&page=last{ordering}").json() == read[-1]
    read = [q["sql"] for q in queries if "LIMIT" in q["sql"].upper() and "FROM \"staff_cost_summary\"" in q["sql"]]
    assert len(read) == 1 and "OFFSET" not in read[0].upper()  # read from the end: the 2 last rows, no offset


@pytest.mark.parametrize("user,query", [("root", "&role_group=5&ordering=-day"), ("root", "&location=11"),
                                        ("alpha", ""), ("alpha", "&ordering=-day,location_id")])
def test_deep_pages_of_a_filtered_listing_start_at_their_day(client, users, monkeypatch, user, query):
    """A filtered or scoped listing's deep pages start at their day too, from the day
    counts of its own rows (counted by the request): the same rows as its slices."""
    login(client, users[user])
    monkeypatch.setattr(paging, "SEEK_FROM", 1)
    add_cost_rows(range(28))
    whole = results(client, f"/api/staff-cost-summary/?page_size=1000{query}")
    assert 10 <= len(whole) < 30
    with CaptureQueriesContext(connection) as queries:
        read = [row for n in range(1, -(-len(whole) // 4) + 1)
                for row in results(client, f"/api/staff-cost-summary/?page_size=4&page={n}{query}")]
    assert read == whole
    assert any(re.search(r'"staff_cost_summary"\."day" [<>]=', q["sql"]) for q in queries)
    assert not SummaryState.objects.exists()  # nothing recorded: the counts are the request's own


def test_day_counts_follow_the_recorded_build(client, users, monkeypatch):
    """The day counts a deep page starts from are those of the table's last recorded
    build: a new build (another recorded time and count) counts again, and a table that
    does not hold the recorded count of rows (changed since) is read by OFFSET."""
    login(client, users["root"])
    monkeypatch.setattr(paging, "SEEK_FROM", 1)
    monkeypatch.setattr(paging, "_COUNTS", {})
    add_cost_rows(range(20))
    record_count(StaffCostSummary)

    def paged():
        return [row for n in range(1, 6)
                for row in results(client, f"/api/staff-cost-summary/?page_size=5&page={n}")]

    assert paged() == results(client, "/api/staff-cost-summary/?page_size=1000")  # 22 rows
    add_cost_rows(range(20, 28), hours=lambda d: 7)   # days 11 to 14, before web_data's 2024 days
    record_count(StaffCostSummary, timezone.now() + timezone.timedelta(seconds=1))  # the next build
    whole = results(client, "/api/staff-cost-summary/?page_size=1000")
    assert len(whole) == 30 and [row for n in range(1, 7) for row in results(
        client, f"/api/staff-cost-summary/?page_size=5&page={n}")] == whole
    assert [r["rostered_hours"] for r in whole[20:28]] == [7] * 8
    StaffCostSummary.objects.filter(day="2023-01-01").delete()   # by hand, no build recorded it
    monkeypatch.setattr(paging, "_COUNTS", {})   # a process that has not counted the days yet
    with CaptureQueriesContext(connection) as queries:
        page = results(client, "/api/staff-cost-summary/?page_size=5&page=2")
    assert page == results(client, "/api/staff-cost-summary/?page_size=1000")[5:10]
    assert not any('"staff_cost_summary"."day" >=' in q["sql"] for q in queries)


@pytest.mark.parametrize("ordering", ["-rostered_hours,day", "role_group_id,-day"])
def test_first_pages_by_a_measure_follow_the_recorded_build(client, users, monkeypatch, ordering):
    """A listing ordered by a measure: its first pages are read by the ids of its first
    rows, sorted once per recorded build (etl.web.paging.first_ids): every page equals its
    slice of the listing read by OFFSET, a new build sorts again, a table changed by hand
    since its build is read plainly, and a scoped listing keeps the ids of its own rows
    (ties and NULLs: ``role_group_id`` is NULL on a third of the rows)."""
    login(client, users["root"])
    monkeypatch.setattr(paging, "KEEP_FIRST", 12)
    monkeypatch.setattr(paging, "_FIRST", paging.OrderedDict())
    add_cost_rows(range(28), hours=lambda d: (d * 7) % 5)   # 30 rows, 5 values of rostered_hours: ties by id
    record_count(StaffCostSummary)
    url = f"/api/staff-cost-summary/?ordering={ordering}"

    def plain():  # the whole listing, in the database's order (no kept ids beyond 12 rows)
        return [(r["day"], r["location_id"], r["rostered_hours"]) for r in results(client, url + "&page_size=1000")]

    def paged(pages=3, size=4):
        return [(r["day"], r["location_id"], r["rostered_hours"])
                for n in range(1, pages + 1) for r in results(client, f"{url}&page_size={size}&page={n}")]

    def sorts(queries):
        return [q["sql"] for q in queries if re.search(r"LIMIT 12\b", q["sql"])]

    whole = plain()
    assert len(whole) == 30
    with CaptureQueriesContext(connection) as queries:
        assert paged() == whole[:12]
    assert len(sorts(queries)) == 1   # one sort for pages 1 to 3; pages 4 on read by OFFSET
    with CaptureQueriesContext(connection) as queries:
        assert paged() == whole[:12]
    assert sorts(queries) == []
    # Pages past the middle are the first rows of the reversed order, kept the same way.
    assert paged(pages=6, size=5) == whole
    # The next build: sorted again, the new order served.
    before = whole
    StaffCostSummary.objects.filter(id__in=[StaffCostSummary.objects.order_by("id").last().id]).update(
        rostered_hours=9, role_group_id=1, day="2022-12-31")
    record_count(StaffCostSummary, timezone.now() + timezone.timedelta(seconds=1))
    whole = plain()
    assert whole[:12] != before[:12]
    with CaptureQueriesContext(connection) as queries:
        assert paged() == whole[:12]
    assert len(sorts(queries)) == 1
    # A first row deleted by hand: the kept ids miss it; pages are read by OFFSET again.
    day, location, hours = whole[0]
    StaffCostSummary.objects.filter(day=day, location_id=location, rostered_hours=hours).delete()
    after = plain()
    assert len(after) < 30 and after[0] != whole[0]
    assert paged() == after[:12]
    # A scoped listing (clinic 10: locations 10 and 11) keeps ids of its own rows, sorted
    # with its WHERE; the whole table's first rows in that order include location 20's.
    StaffCostSummary.objects.bulk_create([
        StaffCostSummary(day=f"2023-02-{d:02d}", location_id=20, role_group_id=1, rostered_hours=99, staff_cost=1,
                         nr_staff=1, nr_visits=20, nr_patients=20, patients_per_hour=20, cost_per_patient=0.05)
        for d in range(1, 13)
    ])
    record_count(StaffCostSummary, timezone.now() + timezone.timedelta(seconds=2))
    assert 20 in {location for _, location, _ in plain()[:12]}
    login(client, users["alpha"])
    mine = plain()
    assert len(mine) >= 12 and {location for _, location, _ in mine} <= {10, 11}
    with CaptureQueriesContext(connection) as queries:
        assert paged() == mine[:12]
    assert len(sorts(queries)) == 1 and "IN (" in sorts(queries)[0].upper()
    with CaptureQueriesContext(connection) as queries:
        assert paged() == mine[:12]
    assert sorts(queries) == []


@pytest.mark.parametrize("listing", [
    "staff-cost-summary/?ordering=rostered_hours", "staff-cost-summary/?ordering=-role_group_id,day",
    "staff-cost-summary/?ordering=-rostered_hours,-role_group_id", "clinic-scores/?ordering=-pph_z",
    "clinic-scores/?ordering=visits_7d,-patients_per_hour", "clinic-scores/?ordering=-is_outlier,cpp_z",
])
def test_pages_by_kept_ids_equal_the_listing(client, users, monkeypatch, listing):
    """Every page read by kept ids, forwards and past the middle, equals its slice of the
    listing read by OFFSET: ties, NULLs (role groups, z scores), and clinic_score's
    listing with the day's patient count beside each row."""
    from . import web_data

    login(client, users["root"])
    add_cost_rows(range(28))
    ClinicScore.objects.bulk_create([
        web_data.score(10 + 10 * (d % 3), dt.date(2023, 5, 1) + dt.timedelta(days=d), 1, D(d % 4), D(d % 5),
                       outlier=d % 6 == 0, visits_7d=d % 3, z=None if d % 4 == 0 else float(d % 5) - 2)
        for d in range(27)
    ])   # 27 + the 4 of web_data = 31 rows
    record_count(StaffCostSummary)
    record_count(ClinicScore)
    url = f"/api/{listing}"
    monkeypatch.setattr(paging, "KEEP_FIRST", 1000)
    monkeypatch.setattr(paging, "_FIRST", paging.OrderedDict())
    pages = [results(client, f"{url}&page_size=4&page={n}") for n in range(1, 9)]
    assert len(paging._FIRST) == 2   # the order and its reverse (pages past the middle)
    monkeypatch.setattr(paging, "KEEP_FIRST", 0)   # the listing read by OFFSET
    assert [row for page in pages for row in page] == results(client, f"{url}&page_size=1000")


def test_first_ids_are_kept_only_while_they_hold_the_listing(client, users, monkeypatch):
    """A listing whose WHERE reads another table (the clinic filter reads dim_location,
    which a build may change without a new recorded count for this summary) keeps no
    ids; a listing counted in the request whose count moved since its ids were sorted
    (rows added by hand in a user's scope) is sorted again."""
    from etl.models import Location

    login(client, users["root"])
    monkeypatch.setattr(paging, "_FIRST", paging.OrderedDict())
    add_cost_rows(range(28))
    record_count(StaffCostSummary)
    filtered = "/api/staff-cost-summary/?clinic=10&ordering=-rostered_hours&page_size=5"
    before = results(client, filtered)
    assert len(paging._FIRST) == 0 and {r["location_id"] for r in before} <= {10, 11}
    Location.objects.filter(id=20).update(parent_id=10, clinic_id=10)   # Bravo now under clinic 10
    StaffCostSummary.objects.filter(location_id=20).update(rostered_hours=50)
    assert [r["location_id"] for r in results(client, filtered)][:1] == [20]
    # A scoped user's listing: its count is the request's own.
    login(client, users["alpha"])
    scoped = "/api/staff-cost-summary/?ordering=-rostered_hours&page_size=5"
    assert all(r["rostered_hours"] < 90 for r in results(client, scoped)) and len(paging._FIRST) == 1
    add_cost_rows(range(28, 30), hours=lambda d: 90)   # by hand: no build recorded them
    assert [r["rostered_hours"] for r in results(client, scoped)][:2] == [90, 90]


def test_only_the_listings_used_last_keep_their_first_ids(client, users, monkeypatch):
    """The process keeps the first ids of the KEEP_ORDERS listings used last: a listing
    left out is sorted again when it comes back, and its pages stay the same."""
    login(client, users["root"])
    monkeypatch.setattr(paging, "KEEP_ORDERS", 2)
    monkeypatch.setattr(paging, "_FIRST", paging.OrderedDict())
    add_cost_rows(range(28))
    record_count(StaffCostSummary)
    orders = ["-rostered_hours", "role_group_id,-day", "-staff_cost,location_id"]
    first = {o: results(client, f"/api/staff-cost-summary/?ordering={o}&page_size=5") for o in orders}

    def sorted_again(order):
        with CaptureQueriesContext(connection) as queries:
            assert results(client, f"/api/staff-cost-summary/?ordering={order}&page_size=5") == first[order]
        return any(re.search(r"LIMIT 5000\b", q["sql"]) for q in queries)

    assert len(paging._FIRST) == 2
    assert not sorted_again(orders[2]) and not sorted_again(orders[1])   # the two used last
    assert sorted_again(orders[0])   # left out when the third came, sorted again now
    assert not sorted_again(orders[0]) and sorted_again(orders[2])   # ... which left out the next oldest


def test_pages_share_the_paginator(client, users, monkeypatch):
    """The pages paginate as the API does: the same rows on every page (regions by month,
    one row a page, each deep page started at its month)."""
    login(client, users["root"])
    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    monkeypatch.setattr(paging, "SEEK_FROM", 1)
    monkeypatch.setattr(paging, "_COUNTS", {})
    RegionMonth.objects.bulk_create([   # months of 1, 2 and 3 rows (a region left out, a NULL region)
        RegionMonth(month=f"2023-{m:02d}-01", region_id=r, nr_clinics=1, nr_visits=100, nr_no_show=0, nr_patients=50,
                    rostered_hours=10, staff_cost=500, outlier_days=0)
        for m, regions in ((1, [2]), (2, [None, 1]), (3, [2, 1, None])) for r in regions
    ])
    record_count(RegionMonth)
    whole = [(r["month"], r["region_id"]) for r in results(client, "/api/region-months/")]
    # (where a NULL region sorts among the others is the database's choice)
    assert [month for month, _ in whole[:6]] == ["2023-01-01"] + ["2023-02-01"] * 2 + ["2023-03-01"] * 3
    assert len(whole) == 8 and len(set(whole)) == 8
    shown = []
    with CaptureQueriesContext(connection) as queries:
        for n in range(1, len(whole) + 1):
            rows = client.get(f"/regions/?page={n}").context["rows"]
            shown += [(r["month"].isoformat(), r["region_id"]) for r in rows]
    assert shown == whole
    # Pages 2 to 7 start at their month (page 8 is the last row, read from the end).
    assert sum(bool(re.search(r'"region_month"\."month" [<>]=', q["sql"])) for q in queries) == 6


def test_csv_streams_every_filtered_row(client, users):
    login(client, users["root"])
    response = client.get("/api/clinic-days/?format=csv&region=1&page_size=1")
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(body(response))))
    # page_size does not cut a CSV: all 3 rows of region 1.
    assert [(r["clinic_name"], r["day"]) for r in rows] == [
        ("Alpha Clinic", "2024-03-01"), ("Bravo Clinic", "2024-03-01"), ("Alpha Clinic", "2024-03-02")]
    assert rows[0]["region_name"] == "North Region" and rows[0]["nr_visits"] == "40"


def test_formula_injection_is_escaped(client, users):
    from etl.models import Location
    Location.objects.filter(id=11).update(name="=HYPERLINK(\"x\")")
    login(client, users["root"])
    text = body(client.get("/api/staff-summary/?format=csv&location=11"))
    assert "'=HYPERLINK" in text


def test_schema_docs_and_token(client, users):
    login(client, users["alpha"])
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/clinic-scores/" in schema["paths"]
    docs = body(client.get("/api/docs/"))
    assert "swagger-ui" in docs and "https://" not in docs.split("<body")[0]
    client.logout()
    token = Token.objects.create(user=users["alpha"])
    assert client.get("/api/clinic-days/").status_code == 401
    response = client.get("/api/clinic-days/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200 and response.json()["count"] == 2
