"""The dashboard pages. Every view reads through :func:`etl.web.access.visible_to` (via
the summary tables' FilterSets) and shows suppressed rows (:mod:`etl.web.suppression`)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.contrib.auth.decorators import login_required
from django.db.models import Max, Sum
from django.http import Http404
from django.shortcuts import render

from etl.models import BuildRun, ClinicDay, Location, PendingDay, SummaryState
from etl.web import charts
from etl.web.access import visible_to
from etl.web.pages import Column, filter_choices, query_without, table_body, table_page, wants_csv
from etl.web.csvexport import csv_response
from etl.web.suppression import may_see_small, suppress, suppress_with_totals
from etl.web.tables import TABLES, Names, prepare, values

DEFAULT_DAYS = 28
CLINIC_FILTERS = ("day_from", "day_to", "region", "clinic")


def with_period(request, model=ClinicDay, field="day") -> dict:
    """The request's filters, with the period defaulting to the last 28 days that have
    rows the user may read (so a first visit shows something)."""
    data = request.GET.copy()
    if not data.get("day_from") and not data.get("day_to"):
        last = visible_to(request, model).aggregate(last=Max(field))["last"]
        if last is not None:
            data["day_to"] = last.isoformat()
            data["day_from"] = (last - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()
    return data


def ratios(row: dict) -> dict:
    """Derived values of summed counts (same definitions as clinic_day, 4 decimals)."""
    visits, no_show, patients = row.get("nr_visits") or 0, row.get("nr_no_show") or 0, row.get("nr_patients") or 0
    hours, cost = Decimal(row.get("rostered_hours") or 0), Decimal(row.get("staff_cost") or 0)
    row["no_show_rate"] = round(Decimal(no_show) / (visits + no_show), 4) if visits + no_show else None
    row["patients_per_hour"] = round(patients / hours, 4) if hours else None
    row["cost_per_patient"] = round(cost / patients, 4) if patients else None
    return row


SUMS = {c: Sum(c) for c in ("nr_visits", "nr_patients", "nr_no_show", "rostered_hours", "staff_cost")}


def column_sums(rows: list[dict], columns) -> dict:
    """Each column's sum over ``rows`` as SQL's SUM gives it: NULLs skipped, NULL when no
    value is there."""
    sums = {}
    for column in columns:
        present = [row[column] for row in rows if row[column] is not None]
        sums[column] = sum(present) if present else None
    return sums


@login_required
def overview(request):
    data = with_period(request)
    fs = TABLES["clinic-days"].filtered(request, data)
    allowed = may_see_small(request.user)
    daily = list(fs.qs.order_by().values("day").annotate(**SUMS).order_by("day"))
    totals = column_sums(daily, SUMS)  # the period's sums are the days' sums: no second scan
    days, totals = suppress_with_totals([ratios(d) for d in daily], ratios(totals), allowed)
    kpis = [("nr_visits", "Completed visits"), ("nr_patients", "Patients (per-day counts summed)"),
            ("no_show_rate", "No-show rate"), ("rostered_hours", "Rostered hours"), ("staff_cost", "Staff cost"),
            ("cost_per_patient", "Cost per patient"), ("patients_per_hour", "Patients per staff hour")]
    labels = [d["day"].isoformat() for d in days]
    chart = charts.line_chart(labels, [
        {"label": "Completed visits", "data": [d["nr_visits"] for d in days]},
        {"label": "Patients per staff hour", "data": [charts.number(d["patients_per_hour"]) for d in days],
         "yAxisID": "y2"},
    ], y_title="visits", y2_title="patients per hour")
    columns = [Column("day"), Column("nr_visits"), Column("nr_patients", "Patients"),
               Column("no_show_rate"), Column("patients_per_hour"),
               Column("cost_per_patient")]
    if wants_csv(request):
        return csv_response("overview.csv", [c.key for c in columns], days)
    last_run = BuildRun.objects.first()
    last_ok = BuildRun.objects.filter(status=BuildRun.Status.SUCCEEDED).first()
    return render(request, "etl/overview.html", {
        "title": "Overview", "kpis": kpis, "totals": totals, "chart": chart, "columns": columns, "rows": days,
        "tbody": table_body(columns, days),
        "choices": filter_choices(request, ("region", "clinic")), "filters": CLINIC_FILTERS, "values": data,
        "errors": fs.errors, "last_run": last_run, "last_ok": last_ok,
        "pending": PendingDay.objects.count(), "query_csv": query_without(request, "format"),
    })


def sparklines(request, clinic_ids, data) -> dict[int, charts.Sparkline]:
    """Each clinic's daily patients per hour over the period, suppressed like any row."""
    allowed = may_see_small(request.user)
    qs = visible_to(request, ClinicDay).filter(clinic_id__in=clinic_ids)
    if data.get("day_from"):
        qs = qs.filter(day__gte=data["day_from"])
    if data.get("day_to"):
        qs = qs.filter(day__lte=data["day_to"])
    series: dict[int, dict] = defaultdict(dict)
    for row in qs.order_by("day").values("clinic_id", "day", "nr_patients", "patients_per_hour"):
        series[row["clinic_id"]][row["day"]] = suppress(row, allowed)["patients_per_hour"]
    all_days = sorted({d for s in series.values() for d in s})
    return {c: charts.sparkline([charts.number(s.get(d)) for d in all_days]) for c, s in series.items()}


SCORE_COLUMNS = [
    Column("clinic_name"), Column("region_name"),
    Column("patients_per_hour", sort="patients_per_hour"),
    Column("cost_per_patient", sort="cost_per_patient"),
    Column("pph_z", sort="pph_z"), Column("cpp_z", sort="cpp_z"),
    Column("pph_rank", sort="pph_rank"), Column("is_outlier", sort="is_outlier"),
]


@login_required
def clinics(request):
    table = TABLES["clinic-scores"]
    data = with_period(request)
    fs = table.filtered(request, data)
    last = fs.qs.aggregate(last=Max("day"))["last"]
    latest = fs.qs.filter(day=last)

    def prepare_page(dicts):
        rows = list(prepare(request, table, dicts))
        if not wants_csv(request):
            lines = sparklines(request, [r["clinic_id"] for r in rows], data)
            for row in rows:
                row["sparkline"] = lines.get(row["clinic_id"])
        return rows

    return table_page(request, "etl/clinics.html", title="Clinics", columns=SCORE_COLUMNS, rows=values(table, latest),
                      prepare=prepare_page, filters=CLINIC_FILTERS, filterset=fs, csv_name="clinics.csv",
                      context={"as_of": last, "values": data},
                      last_cell=lambda row: charts.sparkline_svg(row.get("sparkline")))


@login_required
def clinic(request, clinic_id: int):
    place = visible_to(request, Location).filter(id=clinic_id, kind="clinic").first()
    if place is None:
        raise Http404("no such clinic among yours")
    table = TABLES["clinic-scores"]
    data = with_period(request)
    fs = table.filtered(request, data)
    rows = list(prepare(request, table, values(table, fs.qs.filter(clinic_id=clinic_id).order_by("day"))))
    columns = [Column("day"), Column("patients_per_hour"),
               Column("pph_mean", "Baseline mean"), Column("pph_sd", "Baseline sd"), Column("pph_z", "z"),
               Column("cost_per_patient"), Column("cpp_mean", "Baseline mean"),
               Column("cpp_sd", "Baseline sd"), Column("cpp_z", "z"), Column("is_outlier")]
    if wants_csv(request):
        return csv_response(f"clinic-{clinic_id}.csv", [c.key for c in columns], rows)
    labels = [r["day"].isoformat() for r in rows]
    return render(request, "etl/clinic.html", {
        "title": place.name, "clinic": place, "region": Names(request).location(place.region_id),
        "columns": columns, "rows": rows, "tbody": table_body(columns, rows), "values": data, "errors": fs.errors,
        "filters": ("day_from", "day_to"), "choices": {}, "query_csv": query_without(request, "format"),
        "pph_chart": band_chart(labels, rows, "pph", "patients_per_hour", "patients per staff hour"),
        "cpp_chart": band_chart(labels, rows, "cpp", "cost_per_patient", "cost per patient"),
    })


def band_chart(labels, rows, prefix: str, column: str, title: str) -> dict:
    """The daily value, its baseline band (mean ± 3 sd) and the outlier days marked."""
    def band(row, sign):
        mean, sd = row[f"{prefix}_mean"], row[f"{prefix}_sd"]
        return None if mean is None or sd is None else round(mean + sign * 3 * sd, 4)
    return charts.line_chart(labels, [
        {"label": title, "data": [charts.number(r[column]) for r in rows], "borderWidth": 2},
        {"label": "baseline + 3 sd", "data": [band(r, 1) for r in rows], "borderDash": [4, 4], "pointRadius": 0},
        {"label": "baseline − 3 sd", "data": [band(r, -1) for r in rows], "borderDash": [4, 4], "pointRadius": 0},
        {"label": "outlier day", "data": [charts.number(r[column]) if r["is_outlier"] else None for r in rows],
         "showLine": False, "pointRadius": 6, "pointStyle": "crossRot", "borderWidth": 3},
    ], y_title=title)
