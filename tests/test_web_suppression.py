"""Small-cell suppression in JSON, CSV and pages, with values worked out by hand from
tests/web_data.py (SUPPRESS_BELOW 11: counts 1..10 hidden)."""
import csv
import io

import pytest
from django.test import override_settings

from etl.web.suppression import suppress, suppress_with_totals

from . import web_data
from .test_web_access import body, login


@pytest.fixture
def users(db):
    return web_data.load()


DERIVED_OF_CLINIC_DAY = ["no_show_rate", "patients_per_hour", "cost_per_patient"]


def test_suppress_unit():
    # 5 patients is small: hidden, and so is every value derived from the row's counts.
    row = suppress({"nr_visits": 25, "nr_patients": 5, "nr_no_show": 0, "patients_per_hour": 0.625}, allowed=False)
    assert row == {"nr_visits": 25, "nr_patients": None, "nr_no_show": 0, "patients_per_hour": None,
                   "suppressed": ["nr_patients", "patients_per_hour"]}
    # 0 and 11 reveal no one: shown.
    row = suppress({"nr_visits": 11, "nr_patients": 0, "cost_per_patient": None}, allowed=False)
    assert row["suppressed"] == []
    assert suppress({"nr_patients": 5}, allowed=True) == {"nr_patients": 5, "suppressed": []}


def test_totals_beside_hidden_cells_get_a_complementary_cell():
    # Visits 40 and 8 (hidden): the total 48 would give 8 back, so 40 is hidden too
    # (complementary); 48 then tells only that the two add up to 48.
    parts, totals = suppress_with_totals([{"nr_visits": 40}, {"nr_visits": 8}], {"nr_visits": 48}, allowed=False)
    assert [(p["nr_visits"], p["suppressed"], p["complementary"]) for p in parts] == [
        (None, ["nr_visits"], ["nr_visits"]), (None, ["nr_visits"], [])]
    assert totals["nr_visits"] == 48
    # 3 (hidden) + 4 (hidden) + 0 + 30: the smallest non-zero shown cell (30) is added
    # because 3 + 4 < 11; the 0 is no help.
    parts, totals = suppress_with_totals(
        [{"nr_visits": 3}, {"nr_visits": 4}, {"nr_visits": 0}, {"nr_visits": 30}], {"nr_visits": 37}, allowed=False)
    assert [p["nr_visits"] for p in parts] == [None, None, 0, None] and totals["nr_visits"] == 37
    # One hidden cell and nothing to pair it with: the total goes instead, with the derived values.
    parts, totals = suppress_with_totals([{"nr_visits": 8}, {"nr_visits": 0}], {"nr_visits": 8, "no_show_rate": 0.1},
                                         allowed=False)
    assert totals["nr_visits"] is None and totals["no_show_rate"] is None


def test_json_rows(client, users):
    login(client, users["alpha"])
    rows = client.get("/api/clinic-days/?ordering=day").json()["results"]
    # Day 1: 4 no-shows and 2 cancelled hidden; 40 visits and 30 patients shown; the rate,
    # pph and cost per patient are hidden with them (a rate gives the 4 back from the 40).
    assert rows[0]["nr_no_show"] is None and rows[0]["nr_cancelled"] is None
    assert rows[0]["nr_visits"] == 40 and rows[0]["nr_patients"] == 30
    assert sorted(rows[0]["suppressed"]) == sorted(["nr_cancelled", "nr_no_show"] + DERIVED_OF_CLINIC_DAY)
    assert all(rows[0][c] is None for c in DERIVED_OF_CLINIC_DAY)
    assert rows[0]["staff_cost"] == 500.0 and rows[0]["rostered_hours"] == 10.0
    # Day 2: 8 visits and 6 patients hidden; 0 no-shows shown.
    assert rows[1]["nr_visits"] is None and rows[1]["nr_patients"] is None and rows[1]["nr_no_show"] == 0
    assert sorted(rows[1]["suppressed"]) == sorted(["nr_visits", "nr_patients"] + DERIVED_OF_CLINIC_DAY)


def test_json_rows_with_the_permission(client, users):
    login(client, users["counter"])
    rows = client.get("/api/clinic-days/?ordering=day").json()["results"]
    assert [(r["nr_visits"], r["nr_no_show"], r["patients_per_hour"], r["suppressed"]) for r in rows] == [
        (40, 4, 3.0, []), (8, 0, 1.5, []),
    ]


def test_scores_hide_z_mean_sd_when_the_days_patients_are_few(client, users):
    login(client, users["alpha"])
    rows = client.get("/api/clinic-scores/?ordering=day").json()["results"]
    # Day 1 has 30 patients and visits_7d 40: everything shown.
    assert rows[0]["pph_z"] == 10.0 and rows[0]["suppressed"] == []
    # Day 2 has 6 patients (clinic_day): its ratios, means, sds and z are hidden.
    assert rows[1]["patients_per_hour"] is None and rows[1]["pph_z"] is None and rows[1]["pph_mean"] is None
    assert {"patients_per_hour", "cost_per_patient", "pph_mean", "pph_sd", "pph_z", "cpp_z"} <= set(rows[1]["suppressed"])
    assert "nr_patients" not in rows[1]


def test_csv_shows_the_marker(client, users):
    login(client, users["alpha"])
    text = body(client.get("/api/staff-summary/?format=csv&ordering=day"))
    rows = list(csv.DictReader(io.StringIO(text)))
    # Alpha Lab, day 1: 5 patients and 3 no-shows hidden, 25 visits and 0 cancelled shown.
    assert (rows[0]["location_name"], rows[0]["nr_visits"], rows[0]["nr_patients"], rows[0]["nr_cancelled"],
            rows[0]["nr_no_show"]) == ("Alpha Lab", "25", "<11", "0", "<11")
    assert rows[0]["service_name"] == "General practice" and rows[0]["role_group_name"] == "Nursing"


@override_settings(SUPPRESS_BELOW=5)
def test_threshold_is_a_setting(client, users):
    login(client, users["alpha"])
    rows = list(csv.DictReader(io.StringIO(body(client.get("/api/staff-summary/?format=csv&ordering=day")))))
    assert (rows[0]["nr_patients"], rows[0]["nr_no_show"]) == ("5", "<5")


def test_pages_show_the_marker_and_hide_totals(client, users):
    login(client, users["alpha"])
    text = body(client.get("/?day_from=2024-03-01&day_to=2024-03-02"))
    # Overview, visits by day 40 and 8 (hidden): 40 is hidden as its complement ("*") and
    # the total 48 is shown; patients 30 and 6 likewise (total 36). No-shows 4 and 0: the
    # 4 cannot be paired, so the total no-shows and every derived total are hidden.
    assert "&lt;11" in text and ">48<" in text and ">36<" in text
    assert ">40<" not in text and ">30<" not in text and ">*<" in text
    login(client, users["counter"])
    text = body(client.get("/?day_from=2024-03-01&day_to=2024-03-02"))
    assert "&lt;11" not in text and "48" in text


def test_page_csv_of_the_clinic(client, users):
    login(client, users["alpha"])
    rows = list(csv.DictReader(io.StringIO(body(client.get(
        "/clinics/10/?day_from=2024-03-01&day_to=2024-03-02&format=csv")))))
    assert [(r["day"], r["patients_per_hour"], r["pph_z"]) for r in rows] == [
        ("2024-03-01", "3.0000", "10.0"), ("2024-03-02", "<11", "<11"),
    ]


def test_no_ordering_on_hidden_columns_without_the_permission(client, users):
    login(client, users["alpha"])
    assert client.get("/api/clinic-days/?ordering=nr_visits").status_code == 400
    assert client.get("/api/clinic-days/?ordering=-patients_per_hour").status_code == 400
    assert client.get("/api/clinic-days/?ordering=staff_cost").status_code == 200
    login(client, users["counter"])
    rows = client.get("/api/clinic-days/?ordering=nr_visits").json()["results"]
    assert [r["nr_visits"] for r in rows] == [8, 40]
