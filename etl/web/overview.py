"""A short text overview of the built summary tables, read through the Django models."""
from __future__ import annotations

from django.db.models import Count, Max, Min, Q, Sum

from etl.models import ClinicDay, ClinicScore, Location, RegionMonth, StaffCostSummary, StaffSummary


def overview_lines(top: int = 5) -> list[str]:
    """Row counts, day ranges, totals and the busiest locations (no patient data)."""
    lines = []
    visits = StaffSummary.objects.aggregate(
        rows=Count("id"), first=Min("day"), last=Max("day"), visits=Sum("nr_visits"),
        cancelled=Sum("nr_cancelled"), no_show=Sum("nr_no_show"), minutes=Sum("visit_minutes"),
    )
    lines.append(
        f"staff_summary       {visits['rows']:>9,} rows  {visits['first']} .. {visits['last']}"
        f"  completed {visits['visits'] or 0:,}  cancelled {visits['cancelled'] or 0:,}"
        f"  no-show {visits['no_show'] or 0:,}  visit hours {float(visits['minutes'] or 0) / 60:,.1f}"
    )
    cost = StaffCostSummary.objects.aggregate(
        rows=Count("id"), hours=Sum("rostered_hours"), cost=Sum("staff_cost"), visits=Sum("nr_visits"),
    )
    lines.append(
        f"staff_cost_summary  {cost['rows']:>9,} rows  rostered hours {float(cost['hours'] or 0):,.1f}"
        f"  staff cost {float(cost['cost'] or 0):,.2f}  completed {cost['visits'] or 0:,}"
    )
    clinics = ClinicDay.objects.aggregate(
        rows=Count("id"), first=Min("day"), last=Max("day"), clinics=Count("clinic_id", distinct=True),
        visits=Sum("nr_visits"),
    )
    lines.append(
        f"clinic_day          {clinics['rows']:>9,} rows  {clinics['first']} .. {clinics['last']}"
        f"  clinics {clinics['clinics']:,}  completed {clinics['visits'] or 0:,}"
    )
    scores = ClinicScore.objects.aggregate(rows=Count("id"), outliers=Count("id", filter=Q(is_outlier=True)))
    lines.append(f"clinic_score        {scores['rows']:>9,} rows  outlier days {scores['outliers']:,}")
    months = RegionMonth.objects.aggregate(rows=Count("id"), months=Count("month", distinct=True))
    lines.append(f"region_month        {months['rows']:>9,} rows  months {months['months']:,}")
    busiest = (
        StaffCostSummary.objects.values("location_id")
        .annotate(visits=Sum("nr_visits"), hours=Sum("rostered_hours"), cost=Sum("staff_cost"))
        .order_by("-visits", "location_id")[:top]
    )
    if busiest:
        names = dict(Location.objects.filter(id__in=[row["location_id"] for row in busiest]).values_list("id", "name"))
        lines.append("")
        lines.append(f"{'location':>10} {'completed':>10} {'rostered h':>11} {'staff cost':>12} {'cost/visit':>11}  name")
        for row in busiest:
            per_visit = f"{float(row['cost']) / row['visits']:.2f}" if row["visits"] else "-"
            name = names.get(row["location_id"], "(not in emr_location)")
            lines.append(
                f"{row['location_id']:>10} {row['visits']:>10,} {float(row['hours']):>11,.1f}"
                f" {float(row['cost']):>12,.2f} {per_visit:>11}  {name}"
            )
    return lines
