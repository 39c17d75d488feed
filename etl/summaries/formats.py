"""How each summary column is shown: label, unit, decimals, and what suppression needs.

Written once here and read by every screen, CSV and API of the reading side, so that a
column's label, unit and decimals never differ between a page and an export. This module
imports nothing of the engine: :mod:`etl.web` may import it.

``small_count`` marks counts of patients or visits, shown as ``<11`` to users without the
permission to see small counts; ``reveals_count`` marks values from which such a count can
be worked back (a ratio times a shown denominator, a z-score with its mean and sd), which
are hidden whenever a small count of the same row is.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Mapping


@dataclass(frozen=True)
class ColumnFormat:
    label: str
    unit: str = ""
    decimals: int = 0
    small_count: bool = False
    reveals_count: bool = False

    def show(self, value) -> str:
        """``value`` as text with this column's decimals (empty for NULL)."""
        if value is None:
            return ""
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, (int, float)) or hasattr(value, "as_tuple"):
            return f"{float(value):,.{self.decimals}f}" if self.decimals else f"{int(round(float(value))):,}"
        return str(value)


def _table(**columns: ColumnFormat) -> Mapping[str, ColumnFormat]:
    return MappingProxyType(columns)


DAY = ColumnFormat("Day")
MONTH = ColumnFormat("Month")
LOCATION = ColumnFormat("Location")
CLINIC = ColumnFormat("Clinic")
REGION = ColumnFormat("Region")
SERVICE = ColumnFormat("Service")
ROLE_GROUP = ColumnFormat("Role group")

VISITS = ColumnFormat("Completed visits", "visits", small_count=True)
PATIENTS = ColumnFormat("Patients", "patients", small_count=True)
CANCELLED = ColumnFormat("Cancelled", "visits", small_count=True)
NO_SHOW = ColumnFormat("No-shows", "visits", small_count=True)
HOURS = ColumnFormat("Rostered hours", "h", 1)
COST = ColumnFormat("Staff cost", "cost", 2)
STAFF = ColumnFormat("Staff on shift", "staff")
PPH = ColumnFormat("Patients per hour", "patients/h", 2, reveals_count=True)
CPP = ColumnFormat("Cost per patient", "cost/patient", 2, reveals_count=True)
NO_SHOW_RATE = ColumnFormat("No-show rate", "%", 4, reveals_count=True)

FORMATS: Mapping[str, Mapping[str, ColumnFormat]] = MappingProxyType({
    "staff_summary": _table(
        day=DAY, location_id=LOCATION, service_id=SERVICE, role_group_id=ROLE_GROUP,
        role_group_name=ROLE_GROUP, nr_visits=VISITS, nr_patients=PATIENTS, nr_cancelled=CANCELLED,
        nr_no_show=NO_SHOW, visit_minutes=ColumnFormat("Visit minutes", "min", 0),
    ),
    "staff_cost_summary": _table(
        day=DAY, location_id=LOCATION, role_group_id=ROLE_GROUP, rostered_hours=HOURS, staff_cost=COST,
        nr_staff=STAFF, nr_visits=VISITS, nr_patients=PATIENTS, patients_per_hour=PPH, cost_per_patient=CPP,
    ),
    "clinic_day": _table(
        day=DAY, clinic_id=CLINIC, region_id=REGION, nr_visits=VISITS, nr_cancelled=CANCELLED,
        nr_no_show=NO_SHOW, nr_patients=PATIENTS, no_show_rate=NO_SHOW_RATE, rostered_hours=HOURS,
        staff_cost=COST, nr_staff=STAFF, patients_per_hour=PPH, cost_per_patient=CPP,
    ),
    "clinic_score": _table(
        day=DAY, clinic_id=CLINIC, region_id=REGION, patients_per_hour=PPH, cost_per_patient=CPP,
        visits_7d=ColumnFormat("Visits, 7 days", "visits", small_count=True),
        pph_baseline_days=ColumnFormat("Baseline days (patients/h)", "days"),
        pph_mean=ColumnFormat("Baseline patients/h", "patients/h", 2, reveals_count=True),
        pph_sd=ColumnFormat("Baseline sd (patients/h)", "patients/h", 2, reveals_count=True),
        pph_z=ColumnFormat("z (patients/h)", "sd", 2, reveals_count=True),
        cpp_baseline_days=ColumnFormat("Baseline days (cost/patient)", "days"),
        cpp_mean=ColumnFormat("Baseline cost/patient", "cost/patient", 2, reveals_count=True),
        cpp_sd=ColumnFormat("Baseline sd (cost/patient)", "cost/patient", 2, reveals_count=True),
        cpp_z=ColumnFormat("z (cost/patient)", "sd", 2, reveals_count=True),
        is_outlier=ColumnFormat("Outlier"),
        pph_rank=ColumnFormat("Rank in region (patients/h)", "rank"),
        pph_pct_rank=ColumnFormat("Percent rank in region", "%", 2),
    ),
    "region_month": _table(
        month=MONTH, region_id=REGION, nr_clinics=ColumnFormat("Clinics", "clinics"), nr_visits=VISITS,
        nr_no_show=NO_SHOW, nr_patients=PATIENTS, rostered_hours=HOURS, staff_cost=COST,
        visits_per_hour=ColumnFormat("Visits per hour", "visits/h", 2, reveals_count=True),
        cost_per_patient=CPP, outlier_days=ColumnFormat("Outlier days", "days"),
        visits_change=ColumnFormat("Visits vs previous month", "%", 4, reveals_count=True),
    ),
    # region_month's helper (distinct monthly patients, from the raw visits)
    "region_month_patients": _table(month=MONTH, region_id=REGION, nr_patients=PATIENTS),
})


def column_format(table: str, column: str) -> ColumnFormat:
    """The format of ``table.column`` (``KeyError`` names what is unknown)."""
    try:
        return FORMATS[table][column]
    except KeyError:
        raise KeyError(f"no display format for {table}.{column}") from None


def small_count_columns(table: str) -> tuple[str, ...]:
    return tuple(name for name, fmt in FORMATS[table].items() if fmt.small_count)


def count_revealing_columns(table: str) -> tuple[str, ...]:
    return tuple(name for name, fmt in FORMATS[table].items() if fmt.reveals_count)
