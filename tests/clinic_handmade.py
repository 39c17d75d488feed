"""A hand-made clinic tree and a few months of visits and shifts, with the clinic-score
tables expected from them (CONTRACT 4), worked out by hand in the comments.

Location tree (id kind parent):
  1 region —                 10 clinic 1, 11 department 10, 12 department 11 (a department
  under a department: clinic 10), 20 clinic 1, 21 clinic 20 (a clinic under a clinic: the
  nearest wins, 21 is its own clinic, region 1), 22 department 21 (clinic 21), 25 clinic 1,
  30 department 1 (directly under a region: no clinic), 40 clinic — (a root clinic: its own
  region 40), 50 clinic 51 / 51 region 50 (a loop: clinic 50, region NULL), 60 clinic 999
  (a missing parent: region NULL), 70 department 71 / 71 department 70 (a loop without a
  clinic: none). Location 999 has no row.
Staff: 1 costs 10.00 an hour, 2 costs 20.00, 3 has no cost.

Each "day" below is N completed visits of N new patients and one shift of H hours by
staff 1 (cost 10.00 x H): patients_per_hour N / H, cost_per_patient 10 H / N.
"""
from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal as D

from .factories import add, ts

CLINIC_DAY_FIELDS = [
    "day", "clinic_id", "region_id", "nr_visits", "nr_cancelled", "nr_no_show", "nr_patients",
    "no_show_rate", "rostered_hours", "staff_cost", "nr_staff", "patients_per_hour", "cost_per_patient",
]
SCORE_FIELDS = [
    "day", "clinic_id", "region_id", "patients_per_hour", "cost_per_patient", "visits_7d",
    "pph_baseline_days", "pph_mean", "pph_sd", "pph_z", "cpp_baseline_days", "cpp_mean", "cpp_sd", "cpp_z",
    "is_outlier", "pph_rank", "pph_pct_rank",
]
REGION_MONTH_FIELDS = [
    "month", "region_id", "nr_clinics", "nr_visits", "nr_no_show", "nr_patients", "rostered_hours",
    "staff_cost", "visits_per_hour", "cost_per_patient", "outlier_days", "visits_change",
]


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


class _Loader:
    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.patients = itertools.count(1000)
        self.visits: list[dict] = []
        self.shifts: list[dict] = []

    def visit(self, location: int, at: str, status: str = "completed", patient: int | None = None) -> None:
        self.visits.append({
            "id": next(self.ids), "patient_id": next(self.patients) if patient is None else patient,
            "location_id": location, "service_id": 1, "staff_id": 1, "start_at": ts(at),
            "end_at": None, "status": status, "updated_at": ts("2024-05-01 00:00"),
        })

    def shift(self, location: int, start: str, hours: int, staff: int = 1) -> None:
        begin = ts(start)
        self.shifts.append({
            "id": next(self.ids), "staff_id": staff, "location_id": location, "start_at": begin,
            "end_at": begin + dt.timedelta(hours=hours), "updated_at": ts("2024-05-01 00:00"),
        })

    def day(self, location: int, day: str, patients: int, hours: int) -> None:
        for _ in range(patients):
            self.visit(location, f"{day} 10:00")
        if hours:
            self.shift(location, f"{day} 08:00", hours)


def load() -> None:
    add("emr_location", *(
        {"id": i, "parent_id": p, "name": f"loc {i}", "kind": k} for i, k, p in (
            (1, "region", None), (10, "clinic", 1), (11, "department", 10), (12, "department", 11),
            (20, "clinic", 1), (21, "clinic", 20), (22, "department", 21), (25, "clinic", 1),
            (30, "department", 1), (40, "clinic", None), (50, "clinic", 51), (51, "region", 50),
            (60, "clinic", 999), (70, "department", 71), (71, "department", 70),
        )
    ))
    add("emr_staff",
        {"id": 1, "name": "s1", "role_id": None, "hourly_cost": D("10.00")},
        {"id": 2, "name": "s2", "role_id": None, "hourly_cost": D("20.00")},
        {"id": 3, "name": "s3", "role_id": None, "hourly_cost": None})
    x = _Loader()
    for n in range(1, 21):
        # clinic 10: odd days 8 patients in 8 h (pph 1.0, cpp 10.0), even days 16 (2.0, 5.0)
        x.day(10, f"2024-01-{n:02d}", 8 if n % 2 else 16, 8)
        # clinic 40: every day 8 patients in 8 h (pph 1.0, cpp 10.0): a constant baseline
        x.day(40, f"2024-01-{n:02d}", 8, 8)
    x.day(10, "2024-01-21", 40, 8)   # a spike: pph 5.0, cpp 2.0
    x.day(40, "2024-01-21", 40, 8)   # the same spike over a constant baseline
    # month boundary: a visit at 23:30 and a shift across midnight belong to Jan 31
    x.visit(40, "2024-01-31 23:30")
    x.shift(40, "2024-01-31 22:00", 8)
    # clinic 20: calendar gaps (1 h shifts: pph = patients)
    for day, n in (("2024-01-01", 2), ("2024-01-02", 3), ("2024-01-09", 4), ("2024-01-30", 5)):
        x.day(20, day, n, 1)
    # Feb 10: the ranks
    for location, n, hours in ((10, 2, 1), (20, 2, 1), (21, 1, 1), (25, 1, 0), (40, 1, 1), (50, 3, 1), (60, 3, 1)):
        x.day(location, "2024-02-10", n, hours)
    # Mar 5: clinic 10 through its departments 11 and 12 (under 11) and itself
    x.visit(11, "2024-03-05 09:00", patient=101)
    x.visit(11, "2024-03-05 09:30", patient=102)
    x.visit(11, "2024-03-05 10:00", "no_show", patient=103)
    x.visit(11, "2024-03-05 10:30", "cancelled", patient=104)
    x.visit(12, "2024-03-05 11:00", patient=101)
    x.visit(12, "2024-03-05 11:30", patient=105)
    x.visit(10, "2024-03-05 12:00", "no_show", patient=106)
    x.shift(11, "2024-03-05 08:00", 8, staff=1)
    x.shift(12, "2024-03-05 09:00", 4, staff=2)
    x.shift(10, "2024-03-05 16:00", 2, staff=1)
    x.visit(22, "2024-03-05 09:00", patient=107)               # clinic 21
    x.visit(21, "2024-03-05 09:00", "cancelled", patient=108)  # clinic 21
    x.visit(30, "2024-03-05 09:00", patient=109)  # no clinic
    x.visit(70, "2024-03-05 09:00", patient=110)  # loop: no clinic
    x.visit(999, "2024-03-05 09:00", patient=111)  # no row: no clinic
    x.shift(50, "2024-03-05 08:00", 2, staff=2)   # shifts only
    x.shift(60, "2024-03-05 08:00", 1, staff=3)   # shifts only, no cost
    x.day(40, "2024-04-01", 2, 1)
    x.day(50, "2024-04-02", 3, 0)
    add("emr_visit", *x.visits)
    add("emr_shift", *x.shifts)


# --- clinic_day: every row of Mar 5, and Jan 31 ----------------------------------------
EXPECTED_CLINIC_DAY_MAR5 = [
    # visits at 11, 12 (under 11) and 10: completed 101, 102, 101, 105 = 4, patients 3;
    # no-shows 103, 106 = 2; cancelled 104 = 1; no_show_rate 2 / (4 + 2) = 0.3333.
    # shifts 8 h x 10.00 + 4 h x 20.00 + 2 h x 10.00 = 14 h, 180.00, staff 1 and 2.
    # pph 3 / 14 = 0.21428 -> 0.2143; cpp 180.00 / 3 = 60.0000
    (d("2024-03-05"), 10, 1, 4, 1, 2, 3, D("0.3333"), D("14.0000"), D("180.00"), 2, D("0.2143"), D("60.0000")),
    # visit at 22 (department of clinic 21, itself under clinic 20) and a cancellation at
    # 21: clinic 21, region 1; no shifts: pph NULL, cpp 0.00 / 1 = 0; rate 0 / 1 = 0
    (d("2024-03-05"), 21, 1, 1, 1, 0, 1, D("0.0000"), D("0.0000"), D("0.00"), 0, None, D("0.0000")),
    # clinic 50 (region loop: NULL): a 2 h shift of staff 2 only: 40.00, pph 0 / 2 = 0,
    # cpp NULL (no patients), rate NULL (no visits nor no-shows)
    (d("2024-03-05"), 50, None, 0, 0, 0, 0, None, D("2.0000"), D("40.00"), 1, D("0.0000"), None),
    # clinic 60 (missing parent: region NULL): a 1 h shift of staff 3, no cost
    (d("2024-03-05"), 60, None, 0, 0, 0, 0, None, D("1.0000"), D("0.00"), 1, D("0.0000"), None),
    # visits at 30 (under a region), 70 (a loop) and 999 (no row) have no clinic: no row
]
# the 23:30 visit and the shift from 22:00 to 06:00: 1 patient, 8 h, 80.00
EXPECTED_CLINIC_40_JAN31 = (d("2024-01-31"), 40, 40, 1, 0, 0, 1, D("0.0000"), D("8.0000"), D("80.00"), 1,
                            D("0.1250"), D("80.0000"))


# --- clinic_score: selected rows --------------------------------------------------------
def _sd(values):
    mean = sum(values) / len(values)
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


ALTERNATING = [1.0, 2.0] * 10  # clinic 10, Jan 1 .. 20 (odd days 1.0)
EXPECTED_SCORES = {
    # clinic 10 on Jan 21: baseline Dec 24 .. Jan 20 = the 20 alternating days: mean 1.5,
    # sd sqrt(20 x 0.25 / 19) = sqrt(5/19) = 0.51299, z (5 - 1.5) / 0.51299 = 6.8228: an
    # outlier. cpp: ten 10.0 and ten 5.0: mean 7.5, sd sqrt(20 x 6.25 / 19) = 2.56495,
    # z (2 - 7.5) / 2.56495 = -2.1443. visits_7d: Jan 15 .. 21 = 8 + 16 + 8 + 16 + 8 + 16 + 40 = 112.
    (d("2024-01-21"), 10): (d("2024-01-21"), 10, 1, D("5.0000"), D("2.0000"), 112,
                            20, 1.5, math.sqrt(5 / 19), 3.5 / math.sqrt(5 / 19),
                            20, 7.5, math.sqrt(125 / 19), -5.5 / math.sqrt(125 / 19), True, 1, 0.0),
    # clinic 10 on Jan 10: 9 baseline days (Jan 1 .. 9: five 1.0, four 2.0): mean 13/9,
    # sd sqrt((5 (4/9)^2 + 4 (5/9)^2) / 8) = sqrt(5/18); fewer than 14: z NULL.
    # cpp: five 10.0, four 5.0: mean 70/9, sd 5 x sqrt(5/18). visits_7d Jan 4 .. 10 =
    # 16 + 8 + 16 + 8 + 16 + 8 + 16 = 88. Rank: clinic 10 (2.0) and 20 (no row on Jan 10).
    (d("2024-01-10"), 10): (d("2024-01-10"), 10, 1, D("2.0000"), D("5.0000"), 88,
                            9, 13 / 9, math.sqrt(5 / 18), None, 9, 70 / 9, 5 * math.sqrt(5 / 18), None,
                            False, 1, 0.0),
    # clinic 40 on Jan 21: the constant baseline (20 x 1.0; cpp 20 x 10.0): sd exactly 0,
    # z NULL, not an outlier however high the spike. visits_7d 6 x 8 + 40 = 88.
    (d("2024-01-21"), 40): (d("2024-01-21"), 40, 40, D("5.0000"), D("2.0000"), 88,
                            20, 1.0, 0.0, None, 20, 10.0, 0.0, None, False, 1, 0.0),
    # clinic 40 on Jan 31: baseline Jan 3 .. 30 = Jan 3 .. 21, 19 rows (Jan 22 .. 30 have
    # none): pph eighteen 1.0 and 5.0; cpp eighteen 10.0 and 2.0. cpp 80 is far out:
    # z = (80 - 182/19) / sd = 38.4: an outlier through cpp alone (pph z -1.18).
    (d("2024-01-31"), 40): (d("2024-01-31"), 40, 40, D("0.1250"), D("80.0000"), 1,
                            19, 23 / 19, _sd([1.0] * 18 + [5.0]), (0.125 - 23 / 19) / _sd([1.0] * 18 + [5.0]),
                            19, 182 / 19, _sd([10.0] * 18 + [2.0]), (80 - 182 / 19) / _sd([10.0] * 18 + [2.0]),
                            True, 1, 0.0),
    # clinic 20, calendar gaps (rows Jan 1, 2, 9, 30; pph 2, 3, 4, 5; cpp 5, 3.3333, 2.5, 2):
    # Jan 1: nothing before. Ranked with clinic 10 (1.0): 2.0 is first of 2.
    (d("2024-01-01"), 20): (d("2024-01-01"), 20, 1, D("2.0000"), D("5.0000"), 2,
                            0, None, None, None, 0, None, None, None, False, 1, 0.0),
    # Jan 2: one baseline value (2.0): a mean, no sd. visits_7d 2 + 3.
    (d("2024-01-02"), 20): (d("2024-01-02"), 20, 1, D("3.0000"), D("3.3333"), 5,
                            1, 2.0, None, None, 1, 5.0, None, None, False, 1, 0.0),
    # Jan 9: visits_7d covers Jan 3 .. 9 only: 4 (a ROWS frame would add Jan 1 and 2);
    # baseline Dec 12 .. Jan 8: 2.0 and 3.0, sd sqrt(0.5). Clinic 10 has 1.0: rank 1 of 2.
    (d("2024-01-09"), 20): (d("2024-01-09"), 20, 1, D("4.0000"), D("2.5000"), 4,
                            2, 2.5, math.sqrt(0.5), None, 2, (5 + 3.3333) / 2, _sd([5.0, 3.3333]), None,
                            False, 1, 0.0),
    # Jan 30: baseline Jan 2 .. 29 (Jan 1 is 29 days before: out): 3.0 and 4.0. Alone.
    (d("2024-01-30"), 20): (d("2024-01-30"), 20, 1, D("5.0000"), D("2.0000"), 5,
                            2, 3.5, math.sqrt(0.5), None, 2, (3.3333 + 2.5) / 2, _sd([3.3333, 2.5]), None,
                            False, 1, 0.0),
}
# Feb 10, (pph_rank, pph_pct_rank) per clinic: region 1 has 10 (2.0), 20 (2.0), 21 (1.0)
# and 25 (no shift: pph NULL, left out): ranks 1, 1, 3 over n = 3: pct 0, 0, (3-1)/(3-1) = 1.
# Region 40: clinic 40 alone: 1, 0. Region NULL: 50 and 60 both 3.0: 1, 1, pct 0, 0.
EXPECTED_RANKS_FEB10 = {10: (1, 0.0), 20: (1, 0.0), 21: (3, 1.0), 25: (None, None), 40: (1, 0.0),
                        50: (1, 0.0), 60: (1, 0.0)}


# --- region_month: every row ------------------------------------------------------------
REGION_MONTH_BY_KEY = {
    # Region 1, Jan: clinics 10 (20 x 8 h; 10 x 8 + 10 x 16 + 40 = 280 visits) and 20
    # (4 x 1 h, 14 visits): 294 visits and patients, 172 h, 1720.00; 294 / 172 = 1.70930;
    # 1720 / 294 = 5.85034; outliers: clinic 10 on Jan 21 (Jan 15 .. 20 have |z| near 1).
    (d("2024-01-01"), 1): (2, 294, 0, 294, D("172.0000"), D("1720.00"), D("1.7093"), D("5.8503"), 1, None),
    # Feb: 10, 20, 21, 25: 2 + 2 + 1 + 1 = 6 visits, 3 h, 30.00; change (6 - 294) / 294 = -0.97959
    (d("2024-02-01"), 1): (4, 6, 0, 6, D("3.0000"), D("30.00"), D("2.0000"), D("5.0000"), 0, D("-0.9796")),
    # Mar: 10 (4 visits, 2 no-shows, 14 h, 180.00) and 21 (1 visit): patients 101, 102,
    # 105, 107 = 4; 5 / 14 = 0.35714; 180 / 4 = 45; change (5 - 6) / 6 = -0.16667
    (d("2024-03-01"), 1): (2, 5, 2, 4, D("14.0000"), D("180.00"), D("0.3571"), D("45.0000"), 0, D("-0.1667")),
    # Region 40, Jan: 20 x 8 + 40 + 1 = 201 visits, 22 x 8 = 176 h, 1760.00; 201 / 176 =
    # 1.14205; 1760 / 201 = 8.75622; outlier: Jan 31 (cpp). Jan 21 has sd 0: not one.
    (d("2024-01-01"), 40): (1, 201, 0, 201, D("176.0000"), D("1760.00"), D("1.1420"), D("8.7562"), 1, None),
    # Feb: 1 visit, 1 h; change (1 - 201) / 201 = -0.99502
    (d("2024-02-01"), 40): (1, 1, 0, 1, D("1.0000"), D("10.00"), D("1.0000"), D("10.0000"), 0, D("-0.9950")),
    # Apr: 2 visits, 1 h; the previous row is February, not March: no change
    (d("2024-04-01"), 40): (1, 2, 0, 2, D("1.0000"), D("10.00"), D("2.0000"), D("5.0000"), 0, None),
    # Region NULL, Feb: 50 and 60, 3 visits in 1 h each; no January row: no change
    (d("2024-02-01"), None): (2, 6, 0, 6, D("2.0000"), D("20.00"), D("3.0000"), D("3.3333"), 0, None),
    # Mar: shifts only (2 h at 40.00 and 1 h without cost): 0 visits; (0 - 6) / 6 = -1
    (d("2024-03-01"), None): (2, 0, 0, 0, D("3.0000"), D("40.00"), D("0.0000"), None, 0, D("-1.0000")),
    # Apr: 3 visits at 50, no shift; the previous month had 0 visits: no change
    (d("2024-04-01"), None): (1, 3, 0, 3, D("0.0000"), D("0.00"), None, D("0.0000"), 0, None),
}


def same(actual, expected) -> bool:
    """Rows equal, floats within CONTRACT 4's tolerance (relative 1e-6, absolute 1e-9)."""
    if len(actual) != len(expected):
        return False
    for a, e in zip(actual, expected):
        if isinstance(e, float) and a is not None:
            if not math.isclose(a, e, rel_tol=1e-6, abs_tol=1e-9):
                return False
        elif a != e:
            return False
    return True
