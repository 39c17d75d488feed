"""Small value objects for the days a build covers."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Iterable


@dataclass(frozen=True, order=True)
class DateRange:
    """Days ``start`` (inclusive) to ``end`` (exclusive)."""

    start: dt.date
    end: dt.date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty date range {self.start} .. {self.end}")

    @classmethod
    def day(cls, day: dt.date) -> "DateRange":
        return cls(day, day + dt.timedelta(days=1))

    @property
    def start_at(self) -> dt.datetime:
        return dt.datetime.combine(self.start, dt.time())

    @property
    def end_at(self) -> dt.datetime:
        return dt.datetime.combine(self.end, dt.time())

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def merge_days(days: Iterable[dt.date]) -> list[DateRange]:
    """The fewest ranges that cover exactly the given days, in order."""
    ranges: list[DateRange] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1].end == day:
            ranges[-1] = DateRange(ranges[-1].start, day + dt.timedelta(days=1))
        else:
            ranges.append(DateRange.day(day))
    return ranges
