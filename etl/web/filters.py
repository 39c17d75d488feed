"""One django-filter FilterSet per summary: the page, its CSV and the API endpoint filter
and order through the same class, so they can never disagree.

Filters take ids (the pages offer names in their dropdowns). ``region`` and ``clinic`` on
the location-level summaries go through the location dimension. Ordering on a column that
small-cell suppression hides is offered only to users allowed to see small counts (an
order reveals hidden values); for others such an ``ordering`` is an invalid choice (400 in
the API, an error note on a page).
"""
from __future__ import annotations

import django_filters as df

from etl.models import ClinicDay, ClinicScore, Location, RegionMonth, StaffCostSummary, StaffSummary
from etl.web.suppression import SUPPRESSIBLE, may_see_small


class SummaryFilterSet(df.FilterSet):
    """Base: ordering restricted per user (see module docstring)."""

    ORDERING: tuple[str, ...] = ()
    DEFAULT_ORDER: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = may_see_small(getattr(self.request, "user", None))
        fields = [f for f in self.ORDERING if allowed or f not in SUPPRESSIBLE]
        ordering = df.OrderingFilter(fields=fields)
        ordering.model, ordering.parent = self.queryset.model, self
        self.filters["ordering"] = ordering

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("ordering"):
            queryset = queryset.order_by(*self.DEFAULT_ORDER)
        elif "id" not in self.form.cleaned_data["ordering"]:
            queryset = queryset.order_by(*queryset.query.order_by, "id")  # stable pages
        return queryset

    @property
    def ordering_fields(self) -> list[str]:
        return [name for name, _ in self.filters["ordering"].param_map.items()]


def _locations_where(**where):
    return Location.objects.filter(**where).values("id")


class LocationRowsFilterSet(SummaryFilterSet):
    """Filters of the location-level summaries (a row per location_id)."""

    day_from = df.DateFilter(field_name="day", lookup_expr="gte")
    day_to = df.DateFilter(field_name="day", lookup_expr="lte")
    location = df.NumberFilter(field_name="location_id")
    clinic = df.NumberFilter(method="filter_clinic")
    region = df.NumberFilter(method="filter_region")
    role_group = df.NumberFilter(field_name="role_group_id")

    def filter_clinic(self, queryset, name, value):
        return queryset.filter(location_id__in=_locations_where(clinic_id=value))

    def filter_region(self, queryset, name, value):
        return queryset.filter(location_id__in=_locations_where(region_id=value))


class StaffSummaryFilterSet(LocationRowsFilterSet):
    service = df.NumberFilter(field_name="service_id")
    ORDERING = ("day", "location_id", "service_id", "role_group_id", "nr_visits", "nr_patients", "nr_cancelled",
                "nr_no_show", "visit_minutes")
    DEFAULT_ORDER = ("day", "location_id", "service_id", "role_group_id", "id")

    class Meta:
        model = StaffSummary
        fields: list[str] = []


class StaffCostSummaryFilterSet(LocationRowsFilterSet):
    ORDERING = ("day", "location_id", "role_group_id", "rostered_hours", "staff_cost", "nr_staff", "nr_visits",
                "nr_patients", "patients_per_hour", "cost_per_patient")
    DEFAULT_ORDER = ("day", "location_id", "role_group_id", "id")

    class Meta:
        model = StaffCostSummary
        fields: list[str] = []


class ClinicRowsFilterSet(SummaryFilterSet):
    day_from = df.DateFilter(field_name="day", lookup_expr="gte")
    day_to = df.DateFilter(field_name="day", lookup_expr="lte")
    clinic = df.NumberFilter(field_name="clinic_id")
    region = df.NumberFilter(field_name="region_id")


class ClinicDayFilterSet(ClinicRowsFilterSet):
    ORDERING = ("day", "clinic_id", "region_id", "nr_visits", "nr_patients", "nr_no_show", "no_show_rate",
                "rostered_hours", "staff_cost", "patients_per_hour", "cost_per_patient")
    DEFAULT_ORDER = ("day", "clinic_id", "id")

    class Meta:
        model = ClinicDay
        fields: list[str] = []


class ClinicScoreFilterSet(ClinicRowsFilterSet):
    outlier = df.BooleanFilter(field_name="is_outlier")
    ORDERING = ("day", "clinic_id", "region_id", "patients_per_hour", "cost_per_patient", "pph_z", "cpp_z",
                "pph_rank", "is_outlier", "visits_7d")
    DEFAULT_ORDER = ("day", "clinic_id", "id")

    class Meta:
        model = ClinicScore
        fields: list[str] = []


class RegionMonthFilterSet(SummaryFilterSet):
    month_from = df.DateFilter(field_name="month", lookup_expr="gte")
    month_to = df.DateFilter(field_name="month", lookup_expr="lte")
    region = df.NumberFilter(field_name="region_id")
    ORDERING = ("month", "region_id", "nr_clinics", "nr_visits", "nr_patients", "rostered_hours", "staff_cost",
                "visits_per_hour", "cost_per_patient", "outlier_days", "visits_change")
    DEFAULT_ORDER = ("month", "region_id", "id")

    class Meta:
        model = RegionMonth
        fields: list[str] = []
