"""One scan of each raw table over a rebuild's days, read by its gates and its fingerprints.

A rebuild reads the raw rows of its days twice after writing its summary rows: the
publish gates compare the rows' totals with the raw rows' (:mod:`etl.engine.gates`), and
the day fingerprints record what the days were built from (:mod:`etl.engine.fingerprints`).
Both read the same rows (those with a day on the window's days) in the same snapshot, so
one query per raw table serves both: grouped by day, it gives each day's fingerprint
terms and the gates' measures, whose totals are the sums over the days. A full build of
``staff_cost_summary`` at 1M visits read ``emr_visit`` and ``emr_shift`` four times; now
twice.

A summary whose gates compare with a declared reference (``clinic_day``) or that has
none (``region_month_patients``) reads the fingerprint terms alone.

Only for a rebuild's whole days (its window); the (day, key) pairs a dimension edit
rebuilds on their own are checked against raw totals of their own (a narrower scan).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from etl import db
from etl.dates import DateRange
from etl.engine import fingerprints, gates


class RawDays:
    """Per raw table, per day of ``window`` (None: every day): the fingerprint terms and,
    once asked for, the gates' measures; each table read once (the gates ask first)."""

    def __init__(self, window: Sequence[DateRange] | None):
        self._window = window
        self._rows: dict[str, list[tuple]] = {}
        self._measured: set[str] = set()

    def _read(self, name: str, measured: bool) -> list[tuple]:
        if name not in self._rows or (measured and name not in self._measured):
            measures = gates.measure_columns(name) if measured else {}
            self._rows[name] = [tuple(row) for row in db.emr_fetch_all(
                fingerprints.table_terms(name, self._window, *measures.values()))]
            if measured:
                self._measured.add(name)
        return self._rows[name]

    def terms(self, name: str) -> list[tuple]:
        """(day, rows, sum of ids, sum of moments, ...) per day of ``name``'s rows."""
        return self._read(name, measured=False)

    def totals(self, name: str) -> dict[str, Decimal]:
        """The gates' raw measures of ``name`` over the window: the sums of the days'."""
        measures = list(gates.measure_columns(name))
        sums: dict[str, Decimal | None] = dict.fromkeys(measures)
        for row in self._read(name, measured=True):
            for measure, value in zip(measures, row[4:]):
                if value is not None:
                    sums[measure] = (sums[measure] or Decimal(0)) + Decimal(str(value))
        return gates.measure_totals(name, sums)
