"""The big raw tables: visits and the shifts they happen in, generated day by day.

Exactly ``spec.visits`` visits are spread over the days (weekday, season and a slow
growth trend; largest-remainder rounding makes the total exact) and over the locations
(by size). At each location and day with visits, staff from the location's pool are
rostered (one shift each, 4-10 hours from around opening time), and the visits go to
those staff. Dirt is planted at the rates below; the kinds are mutually exclusive per row.

Timestamps are built as ``YYYY-MM-DD HH:MM:SS`` text from precomputed day and
time-of-day strings: the same text goes to PostgreSQL's COPY and SQLite's INSERT, and is
far cheaper than formatting datetimes a million times.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect
from itertools import accumulate
from typing import Iterator

from etl.sources.generate import vocab
from etl.sources.generate.dimensions import Locations, Services, Staff
from etl.sources.generate.spec import GenerateSpec

# Opening hours in seconds after midnight, Monday first; visit volume by weekday.
HOURS = ((8, 18), (8, 18), (8, 18), (8, 18), (8, 18), (9, 13), (10, 14))
WEEKDAY_WEIGHT = (1.2, 1.0, 1.0, 1.0, 0.9, 0.35, 0.05)
SLOT = 300
MIN_VISIT, MAX_VISIT = 600, 3600
UNROSTERED = 0.03
VISIT_DIRT = (
    ("null_staff", 0.02), ("missing_staff", 0.005), ("null_service", 0.015), ("missing_service", 0.005),
    ("missing_location", 0.004), ("missing_patient", 0.005), ("end_before_start", 0.004),
    ("null_end", 0.01), ("unknown_status", 0.005), ("crosses_midnight", 0.004),
)
VISIT_DIRT_CUTS = list(accumulate(rate for _, rate in VISIT_DIRT))
VISITS_PER_SHIFT = 6
IDLE_SHIFT = 0.02
SHIFT_OFFSETS = (0, 0, 0, 1800, 3600, 7200, 14400)
SHIFT_BAD_TIMES, SHIFT_MISSING_STAFF = 0.01, 0.01
DAY = 86_400
TIME_OF_DAY = [f" {s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(DAY)]
DAY_MARGIN = 3


def allocate(total: int, weights: list[float]) -> list[int]:
    """``total`` split in proportion to ``weights`` into whole numbers that add up to
    ``total`` exactly (largest remainder; ties go to the earlier index)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(share) for share in shares]
    by_remainder = sorted(range(len(weights)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[:total - sum(counts)]:
        counts[i] += 1
    return counts


def day_weights(first_day: dt.date, days: int) -> list[float]:
    """Relative visit volume of each day: weekday, a winter peak, 5% growth a year."""
    weights = []
    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        season = 1 + 0.12 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 20) / 365.25)
        weights.append(WEEKDAY_WEIGHT[day.weekday()] * season * (1 + 0.05 * d / 365))
    return weights


class FactGenerator:
    """Visits and shifts of one spec, from the dimensions already drawn."""

    def __init__(self, spec: GenerateSpec, rng: random.Random, locations: Locations, staff: Staff,
                 services: Services) -> None:
        self.spec, self.rng = spec, rng
        self.locations, self.staff, self.services = locations, staff, services
        self.day_text = [(spec.first_day + dt.timedelta(days=d)).isoformat()
                         for d in range(-DAY_MARGIN, spec.days + DAY_MARGIN)]
        self.visit_id = self.shift_id = 0

    def stamp(self, day: int, seconds: int) -> str:
        """The timestamp text ``seconds`` after midnight of day number ``day``."""
        extra, seconds = divmod(seconds, DAY)
        return self.day_text[day + extra + DAY_MARGIN] + TIME_OF_DAY[seconds]

    def chunks(self, chunk_rows: int) -> Iterator[tuple[str, list[tuple]]]:
        """(table name, rows) for ``emr_visit`` and ``emr_shift`` in chunks of about
        ``chunk_rows``, day by day."""
        visits: list[tuple] = []
        shifts: list[tuple] = []
        loc_ids, loc_cum = self.locations.visit_ids, self.locations.cum_weights
        positions = range(len(loc_ids))
        per_day = allocate(self.spec.visits, day_weights(self.spec.first_day, self.spec.days))
        for day, count in enumerate(per_day):
            weekday = (self.spec.first_day.toordinal() + day - 1) % 7
            per_location = [0] * len(loc_ids)
            for position in self.rng.choices(positions, cum_weights=loc_cum, k=count):
                per_location[position] += 1
            for position, n in enumerate(per_location):
                if n == 0 and (weekday == 6 or self.rng.random() >= IDLE_SHIFT):
                    continue
                rostered = self._shifts(shifts, day, weekday, loc_ids[position], n)
                if n:
                    self._visits(visits, day, weekday, loc_ids[position], n, rostered)
            if len(shifts) >= chunk_rows:
                yield "emr_shift", shifts
                shifts = []
            if len(visits) >= chunk_rows:
                yield "emr_visit", visits
                visits = []
        if shifts:
            yield "emr_shift", shifts
        if visits:
            yield "emr_visit", visits

    def _shifts(self, out: list[tuple], day: int, weekday: int, location: int, visits: int) -> list[int]:
        """Roster staff at ``location`` for the day; return the staff ids rostered."""
        r = self.rng.random
        wanted = max(1, round(visits / VISITS_PER_SHIFT))
        pool = self.staff.pools.get(location, ())
        if len(pool) < wanted:
            pool = self.staff.ids
        rostered = self.rng.sample(pool, min(wanted, len(pool)))
        opens = HOURS[weekday][0] * 3600
        for staff_id in rostered:
            start = opens + SHIFT_OFFSETS[int(r() * len(SHIFT_OFFSETS))]
            end = start + 900 * (16 + int(r() * 25))
            updated = end + 1800 + int(r() * DAY)
            x = r()
            if x < SHIFT_BAD_TIMES:
                start, end = end, start
            elif x < SHIFT_BAD_TIMES + SHIFT_MISSING_STAFF:
                staff_id = self.staff.max_id + 1 + int(r() * 20)
            self.shift_id += 1
            out.append((self.shift_id, staff_id, location, self.stamp(day, start), self.stamp(day, end),
                        self.stamp(day, updated)))
        return rostered

    def _visits(self, out: list[tuple], day: int, weekday: int, location: int, n: int, rostered: list[int]) -> None:
        """``n`` visits at ``location`` on the day, in order of start time."""
        r = self.rng.random
        opens, closes = (hour * 3600 for hour in HOURS[weekday])
        slots = (closes - opens - MIN_VISIT) // SLOT + 1
        service_ids, service_cum = self.services.ids, self.services.cum_weights
        service_total, patients = service_cum[-1], self.spec.patients
        all_staff, n_rostered = self.staff.ids, len(rostered)
        for start in sorted([opens + SLOT * int(r() * slots) for _ in range(n)]):
            end: int | None = start + MIN_VISIT + int(r() * (MAX_VISIT - MIN_VISIT + 1))
            s = r()
            status = "completed" if s < 0.85 else "cancelled" if s < 0.92 else "no_show" if s < 0.97 else "scheduled"
            visit = [location, service_ids[bisect(service_cum, r() * service_total)],
                     1 + int(patients * r() ** 1.6),
                     rostered[int(r() * n_rostered)] if r() >= UNROSTERED else all_staff[int(r() * len(all_staff))],
                     start, end, status]
            x = r()
            if x < VISIT_DIRT_CUTS[-1]:
                self._dirty(visit, VISIT_DIRT[bisect(VISIT_DIRT_CUTS, x)][0])
            location_id, service, patient, staff, start, end, status = visit
            updated = (start if end is None or end < start else end) + 60 + int(r() * 7200)
            self.visit_id += 1
            out.append((self.visit_id, patient, location_id, service, staff, self.stamp(day, start),
                        None if end is None else self.stamp(day, end), status, self.stamp(day, updated)))

    def _dirty(self, visit: list, kind: str) -> None:
        """Spoil one visit (``[location, service, patient, staff, start, end, status]``)."""
        r = self.rng.random
        if kind == "null_staff":
            visit[3] = None
        elif kind == "missing_staff":
            visit[3] = self.staff.max_id + 1 + int(r() * 20)
        elif kind == "null_service":
            visit[1] = None
        elif kind == "missing_service":
            visit[1] = self.services.max_id + 1 + int(r() * 20)
        elif kind == "missing_location":
            visit[0] = self.locations.max_id + 1 + int(r() * 20)
        elif kind == "missing_patient":
            visit[2] = self.spec.patients + 1 + int(r() * 1000)
        elif kind == "end_before_start":
            visit[5] = visit[4] - 60 - int(r() * 3540)
        elif kind == "null_end":
            visit[5] = None
        elif kind == "unknown_status":
            visit[6] = vocab.UNKNOWN_STATUSES[int(r() * len(vocab.UNKNOWN_STATUSES))]
        elif kind == "crosses_midnight":
            visit[4] = 23 * 3600 + SLOT * int(r() * 11)
            visit[5] = DAY + 60 + int(r() * 2400)
