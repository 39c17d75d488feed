"""The reading-side benchmark's data (bench/web_data.sql through bench.web.fill) loads on
the current schema and is what the bench says it is: a migration that adds a column
the script does not fill breaks ``make bench-web`` here, not at the next bench run.
PostgreSQL only, as the bench."""
import argparse
import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection

from etl.models import ClinicDay, ClinicScore, Location, RegionMonth, StaffCostSummary, StaffSummary, SummaryState

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the web bench runs on PostgreSQL")


@pytest.mark.django_db(transaction=True)
def test_the_web_bench_data_loads_with_the_counts_a_build_records(client):
    from bench import web

    web.fill(argparse.Namespace(clinics=2, days=3))

    # 2 clinics -> 1 region, 2 clinics, 2 departments each; 3 days from 2024-01-01.
    assert Location.objects.count() == 1 + 2 + 4
    expected = {
        "staff_summary": 4 * 3 * 2 * 2,     # department x day x service x role group
        "staff_cost_summary": 4 * 3 * 2,    # department x day x role group
        "clinic_day": 2 * 3,                # clinic x day
        "clinic_score": 2 * 3,
        "region_month": 1,                  # the three days are in January 2024, one region
    }
    models = {"staff_summary": StaffSummary, "staff_cost_summary": StaffCostSummary, "clinic_day": ClinicDay,
              "clinic_score": ClinicScore, "region_month": RegionMonth}
    assert {name: model.objects.count() for name, model in models.items()} == expected
    assert dict(SummaryState.objects.values_list("name", "row_count")) == expected

    # A value worked out from the script's formula: department 100011 (clinic 1, dept 1),
    # 2024-01-01 (day of year 1), service 1, role group 1:
    # nr_visits = 5 + (100011 + 1*7 + 1*3 + 1) % 20 = 7; nr_patients = 4 + (100011 + 1) % 15 = 11.
    row = StaffSummary.objects.get(location_id=100011, day=dt.date(2024, 1, 1), service_id=1, role_group_id=1)
    assert (row.nr_visits, row.nr_patients) == (7, 11)

    # The unfiltered listing's count is the recorded one, as in the bench.
    client.force_login(User.objects.create_superuser("bench-check"))
    assert client.get("/api/staff-summary/").json()["count"] == 48
