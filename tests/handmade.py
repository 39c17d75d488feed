"""A small raw data set with every kind of dirt CONTRACT 1 warns about, and the summary
tables expected from it, worked out by hand (the arithmetic is in the comments).

Role tree: 1 Physicians <- 2 GP <- 3 Senior GP; 10 Nursing <- 11 Nurse; 20 <-> 21 loop;
30 -> 999 missing parent; 40 -> 40 self loop. Groups: 1,2,3 -> 1; 10,11 -> 10; others none.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from .factories import add, money, ts

DAY1, DAY2, DAY3 = dt.date(2024, 3, 1), dt.date(2024, 3, 2), dt.date(2024, 3, 3)


def load() -> None:
    add("emr_role",
        {"id": 1, "parent_id": None, "name": "Physicians"},
        {"id": 2, "parent_id": 1, "name": "GP"},
        {"id": 3, "parent_id": 2, "name": "Senior GP"},
        {"id": 10, "parent_id": None, "name": "Nursing"},
        {"id": 11, "parent_id": 10, "name": "Nurse"},
        {"id": 20, "parent_id": 21, "name": "Loop A"},
        {"id": 21, "parent_id": 20, "name": "Loop B"},
        {"id": 30, "parent_id": 999, "name": "Orphan"},
        {"id": 40, "parent_id": 40, "name": "Self loop"})
    add("emr_location",
        {"id": 100, "parent_id": None, "name": "North", "kind": "region"},
        {"id": 101, "parent_id": 100, "name": "Clinic", "kind": "clinic"},
        {"id": 102, "parent_id": 101, "name": "Dept", "kind": "department"},
        {"id": 200, "parent_id": 201, "name": "Loop 1", "kind": "clinic"},
        {"id": 201, "parent_id": 200, "name": "Loop 2", "kind": "clinic"})
    add("emr_staff",
        {"id": 500, "name": "s500", "role_id": 3, "hourly_cost": money("40.00")},   # group 1
        {"id": 501, "name": "s501", "role_id": 11, "hourly_cost": money("30.50")},  # group 10
        {"id": 502, "name": "s502", "role_id": 20, "hourly_cost": money("25.00")},  # loop: none
        {"id": 503, "name": "s503", "role_id": None, "hourly_cost": None},           # no role
        {"id": 504, "name": "s504", "role_id": 30, "hourly_cost": money("10.00")},  # orphan: none
        {"id": 505, "name": "s505", "role_id": 2, "hourly_cost": None},              # group 1, no cost
        {"id": 506, "name": "s506", "role_id": 1, "hourly_cost": money("37.15")},   # root: group 1
        {"id": 507, "name": "s507", "role_id": 40, "hourly_cost": money("50.00")})  # self loop: none
    add("emr_service",
        {"id": 1, "code": "GEN", "name": "General"},
        {"id": 2, "code": "VAC", "name": "Vaccination"})
    visit = _visit_maker()
    add("emr_visit",
        visit(1, 1000, 102, 1, 500, "2024-03-01 09:00", "2024-03-01 09:20", "completed"),   # 20 min
        visit(2, 1000, 102, 1, 505, "2024-03-01 09:30", "2024-03-01 09:45", "completed"),   # 15 min
        visit(3, 1001, 102, 1, 500, "2024-03-01 10:00", None, "completed"),                # no end
        visit(4, 1002, 102, 1, 500, "2024-03-01 11:00", "2024-03-01 10:50", "completed"),  # end < start
        visit(5, 1003, 102, 1, 500, "2024-03-01 12:00", None, "cancelled"),
        visit(6, 1004, 102, 1, 500, "2024-03-01 13:00", None, "no_show"),
        visit(7, 1005, 102, 1, 500, "2024-03-01 14:00", "2024-03-01 14:30", "scheduled"),  # not counted
        visit(8, 1006, 102, 1, 500, "2024-03-01 14:00", "2024-03-01 14:30", "COMPLETED"),  # unknown
        visit(9, 1007, 102, None, None, "2024-03-01 09:00", "2024-03-01 09:10:30", "completed"),  # 630 s
        visit(10, 1008, 102, None, 999, "2024-03-01 09:00", "2024-03-01 09:05", "completed"),     # 300 s
        visit(11, 1009, 102, 2, 502, "2024-03-01 15:00", "2024-03-01 15:07:20", "completed"),     # 440 s
        visit(12, 1009, 102, 2, 503, "2024-03-01 16:00", "2024-03-01 16:00:01", "completed"),     # 1 s
        visit(13, 1010, 102, 2, 504, "2024-03-01 16:00", None, "cancelled"),
        visit(14, 1014, 102, 2, 507, "2024-03-01 17:00", "2024-03-01 17:10", "completed"),        # 600 s
        visit(15, 1011, 102, 1, 501, "2024-03-01 23:50", "2024-03-02 00:20", "completed"),  # midnight, 30 min
        visit(16, 1012, 999, 1, 501, "2024-03-02 08:00", "2024-03-02 08:30", "completed"),  # missing location
        visit(17, 1013, 102, 2, 506, "2024-03-02 10:00", None, "cancelled"),               # cancelled only
        visit(18, 1015, 102, 1, 500, "2024-03-03 10:00", "2024-03-03 10:20", "scheduled"))  # no row
    shift = _shift_maker()
    add("emr_shift",
        shift(1, 500, 102, "2024-03-01 08:00", "2024-03-01 16:00"),  # 8 h x 40.00 = 320.00
        shift(2, 505, 102, "2024-03-01 09:00", "2024-03-01 13:00"),  # 4 h, NULL cost = 0
        shift(3, 506, 102, "2024-03-01 12:00", "2024-03-01 12:30"),  # 0.5 h x 37.15 = 18.575
        shift(4, 501, 102, "2024-03-01 18:00", "2024-03-01 17:00"),  # invalid: ignored
        shift(5, 501, 102, "2024-03-01 20:00", "2024-03-02 04:00"),  # midnight: 8 h x 30.50 on day 1
        shift(6, 888, 102, "2024-03-01 10:00", "2024-03-01 11:00"),  # missing staff: group NULL, 1 h, 0
        shift(7, 502, 102, "2024-03-01 10:00", "2024-03-01 10:20"),  # loop role: NULL, 1200 s x 25.00
        shift(8, 500, 102, "2024-03-03 09:00", "2024-03-03 12:00"))  # idle: 3 h x 40.00 = 120.00


def _visit_maker():
    def visit(id_, patient, location, service, staff, start, end, status):
        return {
            "id": id_, "patient_id": patient, "location_id": location, "service_id": service,
            "staff_id": staff, "start_at": ts(start), "end_at": ts(end) if end else None,
            "status": status, "updated_at": ts("2024-03-05 00:00"),
        }
    return visit


def _shift_maker():
    def shift(id_, staff, location, start, end):
        return {
            "id": id_, "staff_id": staff, "location_id": location, "start_at": ts(start),
            "end_at": ts(end), "updated_at": ts("2024-03-05 00:00"),
        }
    return shift


STAFF_SUMMARY_FIELDS = [
    "day", "location_id", "service_id", "role_group_id", "role_group_name",
    "nr_visits", "nr_patients", "nr_cancelled", "nr_no_show", "visit_minutes",
]
# Sorted with NULL first, as factories.summary_rows sorts.
EXPECTED_STAFF_SUMMARY = [
    # v9 + v10: no staff / missing staff; (630 + 300) s = 15.50 min
    (DAY1, 102, None, None, None, 2, 2, 0, 0, D("15.50")),
    # v1..v4 completed (patients 1000 twice, 1001, 1002), v5 cancelled, v6 no-show;
    # minutes only v1 + v2 = 35 (v3 has no end, v4 ends before it starts); v7, v8 not counted
    (DAY1, 102, 1, 1, "Physicians", 4, 3, 1, 1, D("35.00")),
    # v15 across midnight belongs to its start day: 30 min
    (DAY1, 102, 1, 10, "Nursing", 1, 1, 0, 0, D("30.00")),
    # v11 (loop role), v12 (no role), v14 (self loop) completed, v13 (orphan role) cancelled;
    # patients 1009 twice, 1014; (440 + 1 + 600) s = 1041 s = 17.35 min
    (DAY1, 102, 2, None, None, 3, 2, 1, 0, D("17.35")),
    # v17: a group with only a cancellation still has a row
    (DAY2, 102, 2, 1, "Physicians", 0, 0, 1, 0, D("0.00")),
    # v16 at a location with no emr_location row is kept under its id
    (DAY2, 999, 1, 10, "Nursing", 1, 1, 0, 0, D("30.00")),
]

STAFF_COST_FIELDS = [
    "day", "location_id", "role_group_id", "rostered_hours", "staff_cost", "nr_staff",
    "nr_visits", "nr_patients", "patients_per_hour", "cost_per_patient",
]
EXPECTED_STAFF_COST_SUMMARY = [
    # shifts 6 (missing staff, 3600 s, cost 0) + 7 (1200 s x 25.00): 4800 s = 1.3333 h,
    # cost 1200 * 2500 / 3600 = 833.33 cents -> 8.33; staff 888 and 502.
    # completed visits v9, v10, v11, v12, v14 = 5; patients 1007, 1008, 1009, 1014 = 4.
    # 4 / 1.3333 = 3.00008 -> 3.0001; 8.33 / 4 = 2.0825
    (DAY1, 102, None, D("1.3333"), D("8.33"), 2, 5, 4, D("3.0001"), D("2.0825")),
    # shifts 1 + 2 + 3: 12.5 h; 320.00 + 0 + 18.575 = 338.575 -> 338.58 (half up);
    # staff 500, 505, 506; visits v1..v4, patients 3; 3 / 12.5 = 0.24; 338.58 / 3 = 112.86
    (DAY1, 102, 1, D("12.5000"), D("338.58"), 3, 4, 3, D("0.2400"), D("112.8600")),
    # shift 5 across midnight (shift 4 is invalid): 8 h x 30.50 = 244.00; v15
    (DAY1, 102, 10, D("8.0000"), D("244.00"), 1, 1, 1, D("0.1250"), D("244.0000")),
    # unrostered work: v16, no shifts; v17 is cancelled and adds no row here
    (DAY2, 999, 10, D("0.0000"), D("0.00"), 0, 1, 1, None, D("0.0000")),
    # idle rostered staff: shift 8, no completed visit (v18 is scheduled)
    (DAY3, 102, 1, D("3.0000"), D("120.00"), 1, 0, 0, D("0.0000"), None),
]
