"""A small, hand-made reading-side world: dimensions, summary rows and users.

Locations: region 1 "North Region" with clinics 10 "Alpha Clinic" (department 11 "Alpha
Lab" under it) and 20 "Bravo Clinic"; region 2 "South Region" with clinic 30 "Charlie
Clinic". Every row of Bravo, Charlie and region 2 carries the number 987654 somewhere
(visits), so a page that leaks them shows it; Alpha's rows never do.

Users: ``alpha`` granted clinic 10 (sees 10 and 11, no region rows); ``north`` granted
region 1 (sees 1, 10, 11, 20 and region 1's months); ``counter`` granted clinic 10 with
the permission to see small counts; ``nobody`` without grants; ``root`` a superuser.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from django.contrib.auth.models import Permission, User

from etl.models import (
    ClinicDay, ClinicScore, Location, LocationGrant, RegionMonth, RoleGroup, Service, StaffCostSummary,
    StaffSummary,
)

LEAK = "987654"
DAY1, DAY2 = dt.date(2024, 3, 1), dt.date(2024, 3, 2)
PASSWORD = "pw-for-tests"


def score(clinic, day, region, pph, cpp, *, outlier=False, visits_7d=40, z=None):
    return ClinicScore(
        clinic_id=clinic, day=day, region_id=region, patients_per_hour=pph, cost_per_patient=cpp,
        visits_7d=visits_7d, pph_baseline_days=20, pph_mean=2.0, pph_sd=0.1, pph_z=z,
        cpp_baseline_days=20, cpp_mean=20.0, cpp_sd=1.0, cpp_z=0.5, is_outlier=outlier, pph_rank=1,
        pph_pct_rank=0.0,
    )


def load() -> dict[str, User]:
    Location.objects.bulk_create([
        Location(id=1, parent_id=None, name="North Region", kind="region", clinic_id=None, region_id=1),
        Location(id=10, parent_id=1, name="Alpha Clinic", kind="clinic", clinic_id=10, region_id=1),
        Location(id=11, parent_id=10, name="Alpha Lab", kind="department", clinic_id=10, region_id=1),
        Location(id=20, parent_id=1, name="Bravo Clinic", kind="clinic", clinic_id=20, region_id=1),
        Location(id=2, parent_id=None, name="South Region", kind="region", clinic_id=None, region_id=2),
        Location(id=30, parent_id=2, name="Charlie Clinic", kind="clinic", clinic_id=30, region_id=2),
    ])
    Service.objects.create(id=7, code="GP", name="General practice")
    Service.objects.create(id=8, code="DEN", name="Dental")
    RoleGroup.objects.create(id=5, name="Nursing")
    StaffSummary.objects.bulk_create([
        # Alpha Lab: 25 visits, 5 patients (small), 0 cancelled, 3 no-shows (small).
        StaffSummary(day=DAY1, location_id=11, service_id=7, role_group_id=5, role_group_name="Nursing",
                     nr_visits=25, nr_patients=5, nr_cancelled=0, nr_no_show=3, visit_minutes=D("600.00")),
        StaffSummary(day=DAY2, location_id=10, service_id=8, role_group_id=5, role_group_name="Nursing",
                     nr_visits=30, nr_patients=20, nr_cancelled=12, nr_no_show=0, visit_minutes=D("900.50")),
        StaffSummary(day=DAY1, location_id=20, service_id=7, role_group_id=5, role_group_name="Nursing",
                     nr_visits=987654, nr_patients=500, nr_cancelled=0, nr_no_show=0, visit_minutes=D("1.00")),
    ])
    StaffCostSummary.objects.bulk_create([
        StaffCostSummary(day=DAY1, location_id=11, role_group_id=5, rostered_hours=D("8"), staff_cost=D("400"),
                         nr_staff=2, nr_visits=25, nr_patients=5, patients_per_hour=D("0.625"),
                         cost_per_patient=D("80")),
        StaffCostSummary(day=DAY1, location_id=20, role_group_id=5, rostered_hours=D("8"), staff_cost=D("400"),
                         nr_staff=2, nr_visits=987654, nr_patients=500, patients_per_hour=D("62.5"),
                         cost_per_patient=D("0.8")),
    ])
    ClinicDay.objects.bulk_create([
        # Day 1: 40 visits, 4 no-shows (small) -> no-show rate 4/44, derived values hidden.
        ClinicDay(day=DAY1, clinic_id=10, region_id=1, nr_visits=40, nr_cancelled=2, nr_no_show=4, nr_patients=30,
                  no_show_rate=D("0.0909"), rostered_hours=D("10"), staff_cost=D("500"), nr_staff=2,
                  patients_per_hour=D("3.0"), cost_per_patient=D("16.6667")),
        # Day 2: 8 visits and 6 patients (both small).
        ClinicDay(day=DAY2, clinic_id=10, region_id=1, nr_visits=8, nr_cancelled=0, nr_no_show=0, nr_patients=6,
                  no_show_rate=D("0"), rostered_hours=D("4"), staff_cost=D("200"), nr_staff=1,
                  patients_per_hour=D("1.5"), cost_per_patient=D("33.3333")),
        ClinicDay(day=DAY1, clinic_id=20, region_id=1, nr_visits=987654, nr_cancelled=0, nr_no_show=0,
                  nr_patients=500, no_show_rate=D("0"), rostered_hours=D("10"), staff_cost=D("500"), nr_staff=2,
                  patients_per_hour=D("50"), cost_per_patient=D("1")),
        ClinicDay(day=DAY1, clinic_id=30, region_id=2, nr_visits=987654, nr_cancelled=0, nr_no_show=0,
                  nr_patients=500, no_show_rate=D("0"), rostered_hours=D("10"), staff_cost=D("500"), nr_staff=2,
                  patients_per_hour=D("50"), cost_per_patient=D("1")),
    ])
    ClinicScore.objects.bulk_create([
        score(10, DAY1, 1, D("3.0"), D("16.6667"), z=10.0, outlier=True),
        score(10, DAY2, 1, D("1.5"), D("33.3333"), z=-5.0, outlier=True, visits_7d=48),
        score(20, DAY1, 1, D("50"), D("1"), visits_7d=987654, z=4.0, outlier=True),
        score(30, DAY1, 2, D("50"), D("1"), visits_7d=987654, z=4.0, outlier=True),
    ])
    RegionMonth.objects.bulk_create([
        RegionMonth(month=dt.date(2024, 3, 1), region_id=1, nr_clinics=2, nr_visits=987702, nr_no_show=4,
                    nr_patients=536, rostered_hours=D("24"), staff_cost=D("1200"), visits_per_hour=D("41154.25"),
                    cost_per_patient=D("2.2388"), outlier_days=3, visits_change=None),
        RegionMonth(month=dt.date(2024, 3, 1), region_id=2, nr_clinics=1, nr_visits=987654, nr_no_show=0,
                    nr_patients=500, rostered_hours=D("10"), staff_cost=D("500"), visits_per_hour=D("98765.4"),
                    cost_per_patient=D("1"), outlier_days=1, visits_change=None),
    ])
    users = {name: User.objects.create_user(name, password=PASSWORD) for name in ("alpha", "north", "counter",
                                                                               "nobody")}
    users["root"] = User.objects.create_superuser("root", password=PASSWORD)
    LocationGrant.objects.create(user=users["alpha"], location_id=10)
    LocationGrant.objects.create(user=users["counter"], location_id=10)
    LocationGrant.objects.create(user=users["north"], location_id=1)
    users["counter"].user_permissions.add(Permission.objects.get(codename="view_small_counts"))
    return users
