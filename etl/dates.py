"""Small value objects for the days a build covers.

A day is a calendar date from 0001-01-01 to 9999-12-31 (CONTRACT section 1). Every one of
them works, the last included: the day after 9999-12-31 does not exist in Python (nor as
SQLite date text), so a range that reaches it has an *open* end (``end`` None) instead of
an exclusive end date that would overflow.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

FIRST_DAY = dt.date.min  # 0001-01-01
LAST_DAY = dt.date.max   # 9999-12-31


def day_after(day: dt.date) -> dt.date | None:
    """The next day, or None after the last day there is."""
    return None if day == LAST_DAY else day + dt.timedelta(days=1)


@dataclass(frozen=True, order=True)
class DateRange:
    """Days ``start`` (inclusive) to ``end`` (exclusive); ``end`` None: up to and including
    9999-12-31, the last day."""

    start: dt.date
    end: dt.date | None

    def __post_init__(self) -> None:
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"empty date range {self.start} .. {self.end}")

    @classmethod
    def day(cls, day: dt.date) -> "DateRange":
        return cls(day, day_after(day))

    @classmethod
    def inclusive(cls, first: dt.date, last: dt.date) -> "DateRange":
        """The days ``first`` to ``last``, both included."""
        return cls(first, day_after(last))

    @property
    def last(self) -> dt.date:
        """The last day of the range (inclusive): compare ``day <= last``, which never overflows."""
        return LAST_DAY if self.end is None else self.end - dt.timedelta(days=1)

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time())

    @property
    def end_at(self) -> dt.datetime | None:
        """The first moment after the range, or None when the range ends with the last day."""
        return None if self.end is None else dt.datetime.combine(self.end, dt.time())

    @property
    def days(self) -> int:
        return (self.last - self.start).days + 1

    def each_day(self) -> Iterator[dt.date]:
        for offset in range(self.days):
            yield self.start + dt.timedelta(days=offset)

    def split(self, max_days: int) -> list["DateRange"]:
        """Consecutive ranges of at most ``max_days`` days that cover this one."""
        pieces, start = [], self.start
        while True:
            if (LAST_DAY - start).days < max_days:
                end = self.end
            else:
                end = start + dt.timedelta(days=max_days)
                if self.end is not None and self.end < end:
                    end = self.end
            pieces.append(DateRange(start, end))
            if end is None or end == self.end:
                return pieces
            start = end


def merge_days(days: Iterable[dt.date]) -> list[DateRange]:
    """The fewest ranges that cover exactly the given days, in order."""
    ranges: list[DateRange] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1].end == day:
            ranges[-1] = DateRange(ranges[-1].start, day_after(day))
        else:
            ranges.append(DateRange.day(day))
    return ranges


# At most this many day ranges in a filter of raw rows that a finer test (the (day, key)
# pairs themselves) follows: each row of a scan is tested against every range, and the
# days of a busy location or staff member are dozens of ranges.
SCAN_RANGES = 4


def coarse(window: Sequence[DateRange], max_ranges: int = SCAN_RANGES) -> list[DateRange]:
    """At most ``max_ranges`` ranges covering every day of ``window`` (and the days of the
    smallest gaps between its ranges, closed first): for a filter whose rows are then
    tested exactly."""
    ranges = sorted(window)
    while len(ranges) > max(max_ranges, 1):
        # the gap between ranges i and i + 1 (ranges of a window never overlap, no open end before the last)
        i = min(range(len(ranges) - 1), key=lambda k: (ranges[k + 1].start - ranges[k].end, k))
        ranges[i:i + 2] = [DateRange(ranges[i].start, ranges[i + 1].end)]
    return ranges


def pair_order(pair: tuple[dt.date, int | None]) -> tuple:
    """A sort key for (day, key) pairs whose key may be None (region NULL): after the ids."""
    day, key = pair
    return (day, key is None, 0 if key is None else key)


@dataclass(frozen=True)
class Cells:
    """Some (day, key) pairs of a summary, rebuilt on their own without the rest of their
    days: ``key`` names the grain column the pairs hold (``location_id`` for the staff
    summaries, ``clinic_id`` for ``clinic_day``, ``region_id`` for the summaries by region,
    whose pairs of a monthly summary hold the first day of the month). A dimension edit (a
    staff member's role or cost, a location moved) changes only the rows where that member
    worked or that location is, so only those pairs are rebuilt, not every clinic's rows
    of those days. A key of None is the NULL key: region NULL is one region (CONTRACT 4),
    so (day, None) is its rows of that day."""

    key: str
    pairs: frozenset[tuple[dt.date, int | None]] = frozenset()
    # For a key that is not a raw location (clinic_id): the raw locations whose rows can
    # fall in the pairs (those under the clinics), so a query can skip every other row early.
    locations: frozenset[int] | None = None

    def __len__(self) -> int:
        return len(self.pairs)

    @property
    def raw_locations(self) -> frozenset[int] | None:
        """The raw locations whose rows the pairs hold (None: not known)."""
        if self.key == "location_id":
            return frozenset(key for _, key in self.pairs)
        return self.locations

    @property
    def days(self) -> list[dt.date]:
        return sorted({day for day, _ in self.pairs})

    @property
    def window(self) -> list[DateRange]:
        """The days the pairs fall on, as ranges: what their statements read."""
        return merge_days(self.days)

    @property
    def scan_window(self) -> list[DateRange]:
        """:attr:`window` in at most :data:`SCAN_RANGES` ranges (the smallest gaps closed):
        the days to read raw rows of when every row read is then matched against the pairs
        themselves, which drop the rows of the gaps. A busy department's 644 days were 80
        ranges, each tested on every one of a million visits (0.6 s a scan)."""
        return coarse(self.window)

    def without(self, days: Iterable[dt.date]) -> "Cells":
        """The pairs whose day is not one of ``days`` (those are rebuilt whole)."""
        whole = set(days)
        return Cells(self.key, frozenset(p for p in self.pairs if p[0] not in whole), self.locations)

    def chunks(self, size: int) -> list["Cells"]:
        """The pairs in order of day, cut into pieces of at most ``size``."""
        ordered = sorted(self.pairs, key=pair_order)
        return [Cells(self.key, frozenset(ordered[i:i + size]), self.locations) for i in range(0, len(ordered), size)]


# --- months ---------------------------------------------------------------------------------

def next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + day.month // 12, day.month % 12 + 1, 1)


def previous_month(day: dt.date) -> dt.date:
    return dt.date(day.year - (day.month == 1), (day.month - 2) % 12 + 1, 1)


def _ceil_month(day: dt.date | None) -> dt.date | None:
    """The first day of the first month that starts on or after ``day``; None past the
    last month there is (9999-12), as for an open range end."""
    if day is None or day.day == 1:
        return day
    return None if (day.year, day.month) == (9999, 12) else next_month(day)


def month_ranges(window: Sequence[DateRange] | None, months_before: int = 0) -> list[DateRange] | None:
    """The days of the months whose first day the window holds, each range widened
    ``months_before`` whole months back, as the fewest ranges: months that touch or
    overlap are one range (a statement then tests one range, not one per month). A range
    with an open end (up to 9999-12-31) keeps it."""
    if window is None:
        return None
    ranges: list[DateRange] = []
    for r in window:
        start, end = _ceil_month(r.start), _ceil_month(r.end)
        if start is not None and (end is None or start < end):
            for _ in range(months_before):
                start = previous_month(start) if start > dt.date.min else start
            ranges.append(DateRange(start, end))
    merged: list[DateRange] = []
    for r in sorted(ranges):
        last = merged[-1] if merged else None
        if last is not None and (last.end is None or r.start <= last.end):
            end = None if last.end is None or r.end is None else max(last.end, r.end)
            merged[-1] = DateRange(last.start, end)
        else:
            merged.append(r)
    return merged
