"""What to generate: the validated arguments of ``generate_emr`` and the sizes that
follow from them."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# A fixed last day, not today: the same arguments give the same rows on every run.
DEFAULT_END_DAY = dt.date(2026, 6, 30)
MAX_DAYS = 36_600
VISITS_PER_STAFF = 200
MIN_STAFF = 20
VISITS_PER_PATIENT = 5
MIN_PATIENTS = 50


class GenerateError(ValueError):
    """Bad arguments, or the raw tables are not there; the message is one line."""


@dataclass(frozen=True)
class GenerateSpec:
    """The arguments of one generation run. Construct through :meth:`checked`."""

    visits: int
    days: int
    clinics: int
    seed: int
    end_day: dt.date

    @classmethod
    def checked(cls, visits: int, days: int, clinics: int, seed: int, end_day: dt.date) -> "GenerateSpec":
        """The spec, or a :class:`GenerateError` naming the first bad argument."""
        for name, value in (("visits", visits), ("days", days), ("clinics", clinics)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GenerateError(f"--{name} must be a positive whole number, not {value!r}")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise GenerateError(f"--seed must be a whole number >= 0, not {seed!r}")
        if days > MAX_DAYS:
            raise GenerateError(f"--days must be at most {MAX_DAYS:,} (100 years), not {days:,}")
        if not isinstance(end_day, dt.date) or isinstance(end_day, dt.datetime):
            raise GenerateError(f"end_day must be a date, not {end_day!r}")
        if end_day.toordinal() - days < 1:
            raise GenerateError(f"{days:,} days before {end_day} is before the year 1")
        return cls(visits, days, clinics, seed, end_day)

    @property
    def first_day(self) -> dt.date:
        return self.end_day - dt.timedelta(days=self.days - 1)

    @property
    def staff(self) -> int:
        return max(MIN_STAFF, round(self.visits / VISITS_PER_STAFF))

    @property
    def patients(self) -> int:
        return max(MIN_PATIENTS, round(self.visits / VISITS_PER_PATIENT))
