"""How far a change on a day reaches forward (CONTRACT 4, "What a change reaches").

Pure date arithmetic: given the days whose raw rows changed, the days (or whole months)
a summary must rebuild.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from etl.queries.clinic_score import BASELINE_DAYS
from etl.dates import next_month

ONE_DAY = dt.timedelta(days=1)


def _forward(day: dt.date, days: int) -> list[dt.date]:
    """``day`` … ``day + days``, stopping at the last representable date."""
    out = [day]
    for _ in range(days):
        if out[-1] == dt.date.max:
            break
        out.append(out[-1] + ONE_DAY)
    return out


def score_days(changed: Iterable[dt.date]) -> set[dt.date]:
    """clinic_score: a day's row feeds ``visits_7d`` of the next 6 days and the baselines of
    the next 28: D … D + 28 (ranks are per day, rebuilt with the day)."""
    return {d for day in changed for d in _forward(day, BASELINE_DAYS)}


def month_days(changed: Iterable[dt.date]) -> set[dt.date]:
    """region_month: the months of D … D + 28 (the clinic_score days reached) and the month
    after D's (its ``visits_change``), as all their days."""
    months: set[dt.date] = set()
    for day in changed:
        months |= {d.replace(day=1) for d in _forward(day, BASELINE_DAYS)}
        if day.replace(day=1) < dt.date(9999, 12, 1):
            months.add(next_month(day.replace(day=1)))
    days: set[dt.date] = set()
    for month in months:
        d = month
        while d.month == month.month:
            days.add(d)
            if d == dt.date.max:
                break
            d += ONE_DAY
    return days
