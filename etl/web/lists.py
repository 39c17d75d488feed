"""The list pages: outliers, staff by role group and service, regions by month, builds."""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Sum

from etl.models import BuildRun, SummaryState
from etl.web import charts
from etl.web.pages import Column, table_page
from etl.web.suppression import may_see_small, suppress
from etl.web.tables import TABLES, Names, prepare, values
from etl.web.views import CLINIC_FILTERS, SCORE_COLUMNS, with_period


@login_required
def outliers(request):
    table = TABLES["clinic-scores"]
    fs = table.filtered(request)
    rows = values(table, fs.qs.filter(is_outlier=True).order_by("-day", "clinic_id", "id"))
    columns = [Column("day")] + [c for c in SCORE_COLUMNS if c.key != "is_outlier"]
    return table_page(request, "etl/table.html", title="Outliers (newest first)", columns=columns, rows=rows,
                      prepare=lambda dicts: prepare(request, table, dicts), filters=CLINIC_FILTERS, filterset=None,
                      csv_name="outliers.csv")


STAFF_SUMS = {c: Sum(c) for c in ("nr_visits", "nr_patients", "nr_cancelled", "nr_no_show", "visit_minutes")}


@login_required
def staff(request):
    table = TABLES["staff-summary"]
    data = with_period(request, table.model)
    fs = table.filtered(request, data)
    grouped = (fs.qs.order_by().values("service_id", "role_group_id").annotate(**STAFF_SUMS)
               .order_by("service_id", "role_group_id"))
    names, allowed = Names(request), may_see_small(request.user)

    def prepare_rows(dicts):
        for row in dicts:
            row = suppress(dict(row), allowed)
            row["service_name"] = names.service(row["service_id"])
            row["role_group_name"] = names.role_group(row["role_group_id"])
            yield row

    columns = [Column("service_name"), Column("role_group_name"),
               Column("nr_visits"), Column("nr_patients", "Patients (per-day counts summed)"),
               Column("nr_cancelled"), Column("nr_no_show"),
               Column("visit_minutes")]
    return table_page(request, "etl/table.html", title="Staff: role groups by service", columns=columns,
                      rows=grouped, prepare=prepare_rows, csv_name="staff.csv", filterset=fs,
                      filters=("day_from", "day_to", "region", "clinic", "location", "service", "role_group"),
                      context={"values": data}, paginate=False)  # one row per (service, group): few


@login_required
def regions(request):
    table = TABLES["region-months"]
    fs = table.filtered(request)
    rows = values(table, fs.qs)
    shown = list(prepare(request, table, values(table, fs.qs.order_by("month", "region_id"))))
    months = sorted({r["month"] for r in shown})
    by_region: dict = {}
    for r in shown:
        by_region.setdefault(r["region_name"], {})[r["month"]] = r["nr_visits"]
    chart = charts.line_chart([f"{m:%Y-%m}" for m in months], [
        {"label": name, "data": [series.get(m) for m in months]} for name, series in by_region.items()
    ], y_title="completed visits")
    columns = [Column("month", sort="month"), Column("region_name"),
               Column("nr_clinics", sort="nr_clinics"), Column("nr_visits", sort="nr_visits"),
               Column("nr_patients", sort="nr_patients"), Column("rostered_hours"),
               Column("staff_cost", sort="staff_cost"), Column("visits_per_hour"),
               Column("cost_per_patient", sort="cost_per_patient"),
               Column("outlier_days", sort="outlier_days"),
               Column("visits_change", sort="visits_change")]
    return table_page(request, "etl/table.html", title="Regions by month", columns=columns, rows=rows,
                      prepare=lambda dicts: prepare(request, table, dicts), csv_name="regions.csv", filterset=fs,
                      filters=("month_from", "month_to", "region"), context={"chart": chart})


@login_required
def builds(request):
    runs = BuildRun.objects.all()
    if request.GET.get("day_from"):
        runs = runs.filter(started_at__date__gte=request.GET["day_from"])
    if request.GET.get("day_to"):
        runs = runs.filter(started_at__date__lte=request.GET["day_to"])
    columns = [Column(k, k.replace("_", " ").capitalize()) for k in (
        "id", "started_at", "finished_at", "status", "trigger", "mode", "summaries", "partitions_rebuilt",
        "rows_deleted", "rows_written", "duration_seconds", "error")]
    states = list(SummaryState.objects.order_by("name").values("name", "built_at", "full_built_at"))
    return table_page(request, "etl/table.html", title="Builds", columns=columns,
                      rows=runs.values(*[c.key for c in columns]),
                      prepare=lambda dicts: ({**d, "suppressed": []} for d in dicts), csv_name="builds.csv",
                      filters=("day_from", "day_to"), context={"states": states})
