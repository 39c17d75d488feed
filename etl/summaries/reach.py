"""How far a change on a day reaches forward (CONTRACT 4, "What a change reaches"), from
the declarations: one place says it.

A declaration's own reach is :attr:`~etl.summaries.declare.Declaration.reach_days` (its
rolling frames: a ``(-28, -1)`` baseline reads the 28 days before, so a change on D
changes the rows of D .. D + 28) and
:attr:`~etl.summaries.declare.Declaration.periods_back` (a :class:`Previous` value: the
period after D's reads D's). A summary of summaries adds the reach of what it reads:
``region_month`` counts the outliers of ``clinic_score`` days, which a change on D reaches
on D .. D + 28. The engine reads the result as :attr:`Summary.reach`: pure date
arithmetic from the changed days to the days (or whole months) to rebuild.
"""
from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Callable, Iterable, Mapping

from etl.dates import next_month
from etl.summaries.declare import Declaration

ONE_DAY = dt.timedelta(days=1)
Reach = Callable[[Iterable[dt.date]], set]


def _forward(day: dt.date, days: int) -> list[dt.date]:
    """``day`` … ``day + days``, stopping at the last representable date."""
    out = [day]
    for _ in range(days):
        if out[-1] == dt.date.max:
            break
        out.append(out[-1] + ONE_DAY)
    return out


def forward_days(days_after: int, changed: Iterable[dt.date]) -> set[dt.date]:
    """Each changed day D and D + 1 … D + ``days_after``."""
    return {d for day in changed for d in _forward(day, days_after)}


def forward_months(days_after: int, months_after: int, changed: Iterable[dt.date]) -> set[dt.date]:
    """All the days of the months of D … D + ``days_after`` and of the ``months_after``
    months after D's, for each changed day D."""
    months: set[dt.date] = set()
    for day in changed:
        months |= {d.replace(day=1) for d in _forward(day, days_after)}
        month = day.replace(day=1)
        for _ in range(months_after):
            if month == dt.date(9999, 12, 1):
                break
            month = next_month(month)
            months.add(month)
    days: set[dt.date] = set()
    for month in months:
        d = month
        while d.month == month.month:
            days.add(d)
            if d == dt.date.max:
                break
            d += ONE_DAY
    return days


def reach_days(name: str, declarations: Mapping[str, Declaration], seen: frozenset[str] = frozenset()) -> int:
    """Days after a changed day that summary ``name`` rebuilds: its own reach plus the
    farthest reach of the summaries it reads (a cycle, refused by the start-up checks,
    adds nothing)."""
    decl = declarations[name]
    upstream = [
        reach_days(dep, declarations, seen | {name})
        for dep in decl.depends_on if dep in declarations and dep not in seen | {name}
    ]
    return decl.reach_days + max([0, *upstream])


def summary_reach(name: str, declarations: Mapping[str, Declaration]) -> Reach | None:
    """What the engine calls with the changed days: the days summary ``name`` rebuilds
    (whole months for a monthly summary); None when that is the changed days alone."""
    decl = declarations[name]
    days = reach_days(name, declarations)
    if decl.period == "month":
        return partial(forward_months, days, decl.periods_back)
    days += decl.periods_back
    return partial(forward_days, days) if days else None
