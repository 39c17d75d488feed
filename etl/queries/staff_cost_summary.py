"""``staff_cost_summary``: rostered hours and cost against patients seen, per (day,
location, role group) — CONTRACT 2.

The build runs the declaration of ``staff_cost_summary`` (:mod:`etl.summaries.staff`, over
the rows of :mod:`etl.queries.staff_rows`); this hand-written query is its reference,
and ``tests/test_declared_staff.py`` checks that both give the same rows.

Layers: ``staff_groups`` → ``shifts_by_group`` and ``visits_by_group`` → ``matched`` (their
full outer join, in its portable form: idle rostered staff and unrostered work both
appear) → ``rounded`` → final ratios. Money is summed in cent-seconds and rounded once, exactly.

Why the money is exact (CONTRACT 1 and 2) — the bound, in integers on both databases:

- a valid shift lasts ``s <= 86,400`` seconds (the 24-hour rule) and an hour costs
  ``c <= 9,999,999,999`` cents (NUMERIC(10,2); NULL, negative and, on SQLite, unreadable
  costs count 0: :func:`etl.queries.validity.cost_cents`), so one shift's cost is
  ``s * c <= 863,999,999,913,600`` cent-seconds, below 2**63 (9.22e18) by four orders;
- but a sum of such products passes 2**63 at 10,676 maximal shifts in one group (SQLite's
  ``sum()`` then raises "integer overflow", ``total()`` would round; PostgreSQL's
  ``sum(bigint)`` is numeric, but the cast back to BIGINT fails). So each product is split
  into whole cent-hours ``q = s*c / 3600 <= 239,999,999,976`` and a remainder
  ``r = s*c % 3600 < 3600``; the group's cost is ``sum(q) + round_half_up(sum(r), 3600)``
  cents, the same number as ``round_half_up(sum(s*c), 3600)``;
- ``sum(q)`` is the group's staff cost in cents, which must fit ``staff_cost``
  NUMERIC(16,2) (below 10**16, i.e. 41,666 maximal shifts) to be written at all, far below
  2**63; ``sum(r)`` passes 2**63 only past 2.5e15 shifts;
- the ratios divide those totals with :func:`etl.queries.portable.rounded_quotient`, which
  never scales a total before dividing it.

``tests/test_absurd.py`` builds 20,000 shifts of 24 hours at 99,999,999.99 an hour in one
group (1.7e19 cent-seconds) and checks the exact cost on both databases.
"""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import Select, case, distinct, func, literal, select, union_all
from sqlalchemy.sql.selectable import CTE

from etl.dates import DateRange
from etl.db.tables import raw
from etl.queries.groups import dated, role_groups, staff_groups
from etl.queries.portable import round_half_up, rounded_quotient, seconds_between, shift_decimal
from etl.queries.staff_summary import COMPLETED
from etl.queries.validity import date_part, id_value, valid_duration


def shifts_by_group(staff: CTE, window: Sequence[DateRange] | None) -> CTE:
    """Valid shifts (a day, an end 0 to 24 hours after the start) per (``day``,
    ``location_id``, ``role_group_id``): ``rostered_seconds``, ``cost_cent_hours`` and
    ``cost_remainder`` (the cost in cent-seconds, split as the module docstring says),
    ``nr_staff``."""
    shift = raw("emr_shift")
    # The WHERE admits valid durations only, so the plain difference is safe here.
    seconds = seconds_between(shift.c.start_at, shift.c.end_at)
    # A NULL, negative or missing hourly cost counts 0 (reported by the data-quality check).
    cent_seconds = seconds * func.coalesce(staff.c.hourly_cost_cents, 0)
    query = (
        select(
            date_part(shift.c.start_at).label("day"),
            id_value(shift.c.location_id).label("location_id"),
            staff.c.role_group_id,  # NULL when the staff row is missing (outer join)
            func.sum(seconds).label("rostered_seconds"),
            func.sum(cent_seconds // 3600).label("cost_cent_hours"),
            func.sum(cent_seconds % 3600).label("cost_remainder"),
            func.count(distinct(id_value(shift.c.staff_id))).label("nr_staff"),
        )
        .select_from(shift)
        .outerjoin(staff, staff.c.staff_id == id_value(shift.c.staff_id))
        .where(dated(shift.c.start_at, window), valid_duration(shift.c.start_at, shift.c.end_at, start_has_day=True))
        .group_by(date_part(shift.c.start_at), id_value(shift.c.location_id), staff.c.role_group_id)
    )
    return query.cte("shifts_by_group")


def visits_by_group(staff: CTE, window: Sequence[DateRange] | None) -> CTE:
    """Completed visits per (``day``, ``location_id``, ``role_group_id``): ``nr_visits``,
    ``nr_patients`` (distinct across services)."""
    visit = raw("emr_visit")
    query = (
        select(
            date_part(visit.c.start_at).label("day"),
            id_value(visit.c.location_id).label("location_id"),
            staff.c.role_group_id,  # NULL for visits without a group, as in staff_summary
            func.count().label("nr_visits"),
            func.count(distinct(id_value(visit.c.patient_id))).label("nr_patients"),
        )
        .select_from(visit)
        .outerjoin(staff, staff.c.staff_id == id_value(visit.c.staff_id))
        .where(visit.c.status == COMPLETED, dated(visit.c.start_at, window))
        .group_by(date_part(visit.c.start_at), id_value(visit.c.location_id), staff.c.role_group_id)
    )
    return query.cte("visits_by_group")


def matched(shifts: CTE, visits: CTE) -> CTE:
    """Shifts and visits matched on (day, location, role group): the full outer join of
    the two, written as its portable equivalent — both sides stacked with zeros for the
    other side's measures (``UNION ALL``), then summed per key. GROUP BY puts NULL with
    NULL, so role group NULL matches itself with no sentinel; and where SQLite plans a
    FULL JOIN of two derived tables as a nested loop (16 s for 60,000 visits, measured),
    this is one sort on both databases."""
    zero = literal(0)
    stacked = union_all(
        select(
            shifts.c.day, shifts.c.location_id, shifts.c.role_group_id,
            shifts.c.rostered_seconds, shifts.c.cost_cent_hours, shifts.c.cost_remainder, shifts.c.nr_staff,
            zero.label("nr_visits"), zero.label("nr_patients"),
        ),
        select(
            visits.c.day, visits.c.location_id, visits.c.role_group_id,
            zero, zero, zero, zero, visits.c.nr_visits, visits.c.nr_patients,
        ),
    ).subquery("shifts_and_visits")
    return (
        select(
            stacked.c.day,
            stacked.c.location_id,
            stacked.c.role_group_id,
            # Each key has at most one row from each side: the sums just join them.
            func.sum(stacked.c.rostered_seconds).label("rostered_seconds"),
            func.sum(stacked.c.cost_cent_hours).label("cost_cent_hours"),
            func.sum(stacked.c.cost_remainder).label("cost_remainder"),
            func.sum(stacked.c.nr_staff).label("nr_staff"),
            func.sum(stacked.c.nr_visits).label("nr_visits"),
            func.sum(stacked.c.nr_patients).label("nr_patients"),
        )
        .group_by(stacked.c.day, stacked.c.location_id, stacked.c.role_group_id)
        .cte("matched")
    )


def rounded(totals: CTE) -> CTE:
    """Adds ``hour_units`` (ten-thousandths of an hour) and ``cost_cents``, rounded half up."""
    return select(
        totals,
        round_half_up(totals.c.rostered_seconds * 25, 9).label("hour_units"),  # s / 3600 * 10^4
        (totals.c.cost_cent_hours + round_half_up(totals.c.cost_remainder, 3600)).label("cost_cents"),
    ).cte("rounded")


def staff_cost_summary_rows(window: Sequence[DateRange] | None = None) -> Select:
    """Rows of ``staff_cost_summary`` in its column order. The ratios use the row's own
    rounded ``rostered_hours`` and ``staff_cost``, so a reader can recompute them."""
    staff = staff_groups(role_groups())
    r = rounded(matched(shifts_by_group(staff, window), visits_by_group(staff, window)))
    return select(
        r.c.day,
        r.c.location_id,
        r.c.role_group_id,
        shift_decimal(r.c.hour_units, 4).label("rostered_hours"),
        shift_decimal(r.c.cost_cents, 2).label("staff_cost"),
        r.c.nr_staff,
        r.c.nr_visits,
        r.c.nr_patients,
        case((r.c.hour_units > 0, rounded_quotient(r.c.nr_patients * 10000, r.c.hour_units, 4)))
        .label("patients_per_hour"),
        case((r.c.nr_patients > 0, rounded_quotient(r.c.cost_cents, r.c.nr_patients * 100, 4)))
        .label("cost_per_patient"),
    )
