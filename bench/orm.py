"""Both summaries written "the ORM way", for comparison: Django's ``values().annotate()``.

Run as a process of its own (``python -m bench.orm``, Django's database from
``DATABASE_URL``) so the harness measures its wall time and peak memory like the
project's build. It prints one JSON line: its own seconds and the rows it wrote.

How far the ORM goes: role groups are resolved in Python (parents walked with loop
detection) and handed to the database as a ``CASE WHEN staff_id IN (…)`` annotation, so
counts and distinct patients are still aggregated there; durations are summed as
intervals. Shift cost needs each member's hourly cost, so shifts are aggregated per
(day, location, staff member) and folded into role groups in Python, merged with the
visit aggregates as two streams sorted on the same key. Rounding is done in Python with
``Decimal``, half up. Rows are read with ``.iterator()`` and written with
``bulk_create(batch_size=5000)`` into the real summary tables after deleting them, in one
transaction — without the project's index handling, gates or bookkeeping.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import time
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Iterator

BATCH = 5000
CHUNK = 5000


def role_groups(roles: dict[int, int | None]) -> dict[int, int]:
    """Role id → its group (top-most ancestor) for roles {id: parent_id} that have one:
    a chain that reaches a missing row or loops has none."""
    groups: dict[int, int] = {}
    for role in roles:
        seen, node = set(), role
        while node in roles and node not in seen:
            seen.add(node)
            parent = roles[node]
            if parent is None:
                groups[role] = node
                break
            node = parent
    return groups


def _seconds(duration: dt.timedelta | None) -> int:
    return 0 if duration is None else duration.days * 86400 + duration.seconds


def _round(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _models():
    """Unmanaged models over the raw tables, defined once, after ``django.setup()``."""
    from django.db import models

    class Meta:
        managed = False
        app_label = "etl"

    def model(class_name: str, table: str, **fields):
        meta = type("Meta", (Meta,), {"db_table": table})
        return type(class_name, (models.Model,), {"__module__": __name__, "Meta": meta, **fields})

    big, stamp = models.BigIntegerField, models.DateTimeField
    visit = model("BenchVisit", "emr_visit", id=models.BigIntegerField(primary_key=True), patient_id=big(),
                  location_id=big(), service_id=big(null=True), staff_id=big(null=True), start_at=stamp(),
                  end_at=stamp(null=True), status=models.CharField(max_length=20))
    shift = model("BenchShift", "emr_shift", id=models.BigIntegerField(primary_key=True), staff_id=big(),
                  location_id=big(), start_at=stamp(), end_at=stamp())
    staff = model("BenchStaff", "emr_staff", id=models.BigIntegerField(primary_key=True), role_id=big(null=True),
                  hourly_cost=models.DecimalField(max_digits=10, decimal_places=2, null=True))
    role = model("BenchRole", "emr_role", id=models.BigIntegerField(primary_key=True), parent_id=big(null=True),
                 name=models.CharField(max_length=200))
    return visit, shift, staff, role


def _group_case(staff_group: dict[int, int]):
    """``CASE WHEN staff_id IN (…) THEN group …`` (NULL for everyone else)."""
    from django.db.models import BigIntegerField, Case, Value, When

    by_group: dict[int, list[int]] = {}
    for staff_id, group in staff_group.items():
        by_group.setdefault(group, []).append(staff_id)
    whens = [When(staff_id__in=sorted(ids), then=Value(g)) for g, ids in sorted(by_group.items())]
    return Case(*whens, default=Value(None), output_field=BigIntegerField())


def _key(day, location_id, group) -> tuple:
    return (day, location_id, group is None, group or 0)  # PostgreSQL sorts NULL last


def staff_summaries(Visit, case, names: dict[int, str]) -> Iterator:
    from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
    from django.db.models.functions import TruncDate
    from etl.models import StaffSummary

    done = Q(status="completed")
    duration = ExpressionWrapper(F("end_at") - F("start_at"), output_field=DurationField())
    rows = (
        Visit.objects.filter(status__in=["completed", "cancelled", "no_show"])
        .annotate(day=TruncDate("start_at"), group=case)
        .values("day", "location_id", "service_id", "group")
        .annotate(nr_visits=Count("id", filter=done), nr_patients=Count("patient_id", filter=done, distinct=True),
                  nr_cancelled=Count("id", filter=Q(status="cancelled")),
                  nr_no_show=Count("id", filter=Q(status="no_show")),
                  duration=Sum(duration, filter=done & Q(end_at__gte=F("start_at"))))
        .order_by()
    )
    for r in rows.iterator(chunk_size=CHUNK):
        yield StaffSummary(
            day=r["day"], location_id=r["location_id"], service_id=r["service_id"], role_group_id=r["group"],
            role_group_name=names.get(r["group"]), nr_visits=r["nr_visits"], nr_patients=r["nr_patients"],
            nr_cancelled=r["nr_cancelled"], nr_no_show=r["nr_no_show"],
            visit_minutes=_round(Decimal(_seconds(r["duration"])) / 60, 2),
        )


def staff_cost_summaries(Visit, Shift, case, costs: dict[int, Decimal]) -> Iterator:
    from django.db.models import Count, DurationField, ExpressionWrapper, F, Sum
    from django.db.models.functions import TruncDate
    from etl.models import StaffCostSummary

    shifts = (
        Shift.objects.filter(end_at__gte=F("start_at"))
        .annotate(day=TruncDate("start_at"), group=case)
        .values("day", "location_id", "group", "staff_id")
        .annotate(duration=Sum(ExpressionWrapper(F("end_at") - F("start_at"), output_field=DurationField())))
        .order_by("day", "location_id", "group", "staff_id")
    )
    visits = (
        Visit.objects.filter(status="completed")
        .annotate(day=TruncDate("start_at"), group=case)
        .values("day", "location_id", "group")
        .annotate(nr_visits=Count("id"), nr_patients=Count("patient_id", distinct=True))
        .order_by("day", "location_id", "group")
    )
    per_group = itertools.groupby(shifts.iterator(chunk_size=CHUNK),
                                  key=lambda r: _key(r["day"], r["location_id"], r["group"]))
    shift_totals = ((k, list(g)) for k, g in per_group)
    visit_totals = ((_key(r["day"], r["location_id"], r["group"]), r) for r in visits.iterator(chunk_size=CHUNK))
    for key, members, visit in _merge(shift_totals, visit_totals):
        seconds = sum(_seconds(m["duration"]) for m in members)
        cost_seconds = sum(_seconds(m["duration"]) * costs.get(m["staff_id"], Decimal(0)) for m in members)
        hours, cost = _round(Decimal(seconds) / 3600, 4), _round(Decimal(cost_seconds) / 3600, 2)
        patients = visit["nr_patients"] if visit else 0
        yield StaffCostSummary(
            day=key[0], location_id=key[1], role_group_id=None if key[2] else key[3],
            rostered_hours=hours, staff_cost=cost, nr_staff=len(members),
            nr_visits=visit["nr_visits"] if visit else 0, nr_patients=patients,
            patients_per_hour=_round(patients / hours, 4) if hours > 0 else None,
            cost_per_patient=_round(cost / patients, 4) if patients > 0 else None,
        )


def _merge(left: Iterator[tuple], right: Iterator[tuple]) -> Iterator[tuple]:
    """Full outer join of two key-sorted streams: (key, left value or [], right value or None)."""
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            yield a[0], a[1], None
            a = next(left, None)
        elif a is None or b[0] < a[0]:
            yield b[0], [], b[1]
            b = next(right, None)
        else:
            yield a[0], a[1], b[1]
            a, b = next(left, None), next(right, None)


def _write(model, objects: Iterable) -> int:
    written = 0
    for batch in iter(lambda: list(itertools.islice(objects, BATCH)), []):
        model.objects.bulk_create(batch, batch_size=BATCH)
        written += len(batch)
    return written


def build() -> dict[str, int]:
    """Delete and rewrite both summaries; rows written per summary."""
    from django.db import transaction
    from etl.models import StaffCostSummary, StaffSummary

    Visit, Shift, Staff, Role = _models()
    roles = {r.id: r for r in Role.objects.all()}
    groups = role_groups({i: r.parent_id for i, r in roles.items()})
    staff = list(Staff.objects.values_list("id", "role_id", "hourly_cost"))
    staff_group = {sid: groups[role] for sid, role, _ in staff if role in groups}
    costs = {sid: cost for sid, _, cost in staff if cost is not None}
    names = {g: roles[g].name for g in set(groups.values())}
    case = _group_case(staff_group)
    with transaction.atomic():
        StaffSummary.objects.all().delete()
        StaffCostSummary.objects.all().delete()
        return {
            "staff_summary": _write(StaffSummary, staff_summaries(Visit, case, names)),
            "staff_cost_summary": _write(StaffCostSummary, staff_cost_summaries(Visit, Shift, case, costs)),
        }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    import django

    django.setup()
    started = time.perf_counter()
    rows = build()
    print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows}))


if __name__ == "__main__":
    main()
