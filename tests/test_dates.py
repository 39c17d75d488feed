"""The day ranges statements filter on: months merged, and coarse ranges for raw scans."""
import datetime as dt

from etl.dates import DateRange, coarse, merge_days, month_ranges

D = dt.date


def days_of(window) -> set[dt.date]:
    return {day for r in window for day in r.each_day()}


def test_month_ranges_merges_months_that_touch():
    # the first days of Jan, Feb and Apr (as (month, key) pairs give them): Jan and Feb
    # are one range, Apr another
    window = merge_days([D(2024, 1, 1), D(2024, 2, 1), D(2024, 4, 1)])
    assert len(window) == 3
    assert month_ranges(window) == [DateRange(D(2024, 1, 1), D(2024, 3, 1)), DateRange(D(2024, 4, 1), D(2024, 5, 1))]


def test_month_ranges_merges_months_widened_back_into_each_other():
    # Mar and May, each with the month before: Feb .. Mar and Apr .. May touch
    window = merge_days([D(2024, 3, 1), D(2024, 5, 1)])
    assert month_ranges(window, months_before=1) == [DateRange(D(2024, 2, 1), D(2024, 6, 1))]
    # with two months before, the ranges overlap (Jan .. Mar and Mar .. May)
    assert month_ranges(window, months_before=2) == [DateRange(D(2024, 1, 1), D(2024, 6, 1))]


def test_month_ranges_keeps_an_open_end():
    window = [DateRange(D(9999, 11, 1), D(9999, 11, 2)), DateRange(D(9999, 12, 1), None)]
    assert month_ranges(window) == [DateRange(D(9999, 11, 1), None)]
    assert month_ranges(None) is None
    assert month_ranges([]) == []


def test_coarse_closes_the_smallest_gaps_first():
    # gaps of 2, 1, 5 and 3 days between five single days
    days = [D(2024, 1, 1), D(2024, 1, 4), D(2024, 1, 6), D(2024, 1, 12), D(2024, 1, 16)]
    window = merge_days(days)
    assert len(window) == 5
    assert coarse(window, 3) == [
        DateRange(D(2024, 1, 1), D(2024, 1, 7)),  # the gaps of 2 and 1 day closed
        DateRange(D(2024, 1, 12), D(2024, 1, 13)), DateRange(D(2024, 1, 16), D(2024, 1, 17)),
    ]
    assert coarse(window, 4) == [
        DateRange(D(2024, 1, 1), D(2024, 1, 2)), DateRange(D(2024, 1, 4), D(2024, 1, 7)),
        DateRange(D(2024, 1, 12), D(2024, 1, 13)), DateRange(D(2024, 1, 16), D(2024, 1, 17)),
    ]
    assert coarse(window, 1) == [DateRange(D(2024, 1, 1), D(2024, 1, 17))]
    for n in range(1, 7):
        ranges = coarse(window, n)
        assert len(ranges) == min(n, 5) and set(days) <= days_of(ranges)


def test_coarse_leaves_few_ranges_as_they_are():
    window = merge_days([D(2024, 1, 1), D(2024, 1, 2), D(2024, 3, 1)])
    assert coarse(window) == window
    assert coarse([]) == []
    # an open end (the last day there is) stays open
    assert coarse([DateRange(D(9999, 12, 1), D(9999, 12, 2)), DateRange(D(9999, 12, 31), None)], 1) == [
        DateRange(D(9999, 12, 1), None)]
