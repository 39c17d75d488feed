"""What a publish gate declares: a total of the rebuilt rows that must equal a raw measure.
:mod:`etl.engine.gates` checks them."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Callable

from sqlalchemy import ColumnElement, Table


@dataclass(frozen=True)
class Reconciliation:
    """``summary_total(table)`` over the rebuilt rows must equal the raw measure named
    ``raw_measure`` (see :func:`etl.engine.gates.raw_totals`) within ``tolerance_per_row`` times the number
    of rebuilt rows. ``summary_total`` is an aggregate that adds up over rows (a ``sum``
    or a ``count``): the gate takes it per day (or month) and sums those."""

    name: str
    summary_total: Callable[[Table], ColumnElement]
    raw_measure: str
    tolerance_per_row: Decimal = Decimal(0)
