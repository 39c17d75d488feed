"""How a value shows on a page: suppressed cells as ``<11``, numbers with the column's
decimals and thousands separators, missing values as a dash."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from etl.web.suppression import marker

DECIMALS = {
    "staff_cost": 2, "cost_per_patient": 2, "visit_minutes": 0, "rostered_hours": 1, "patients_per_hour": 2,
    "visits_per_hour": 2, "no_show_rate": 1, "visits_change": 1, "pph_pct_rank": 2,
}
PERCENT = {"no_show_rate", "visits_change"}


def display(column: str, value, hidden: bool = False) -> str:
    if hidden:
        return marker()
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (Decimal, float)):
        places = DECIMALS.get(column, 2)
        if column in PERCENT:
            return f"{float(value) * 100:,.{places}f} %"
        return f"{float(value):,.{places}f}"
    if isinstance(value, dt.datetime):
        return f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)
