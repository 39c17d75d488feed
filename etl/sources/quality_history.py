"""The data-quality report, kept: each recording stores every check's count
(``QualityCount``) next to the count of the recording before, so an operator reads in the
admin which kind of dirt grew overnight. Beat records it nightly; ``check_emr --record`` by hand."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from etl.models import QualityCount
from etl.sources.quality import check_emr


@dataclass(frozen=True)
class RecordedReport:
    taken_at: dt.datetime
    total: int
    changed: dict[str, int]
    """check name -> change in findings since the recording before (checks that changed)"""
    first: bool
    """no recording before this one"""


def previous_findings() -> dict[str, int]:
    """Each check's findings in the latest recording (every recording stores every check)."""
    latest = QualityCount.objects.aggregate(at=Max("taken_at"))["at"]
    return dict(QualityCount.objects.filter(taken_at=latest).values_list("check_name", "findings")) if latest else {}


def record_quality_report() -> RecordedReport:
    """Run every check on the raw tables and store the counts, in one transaction."""
    report = check_emr(examples=0)
    taken_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with transaction.atomic():
        before = previous_findings()
        QualityCount.objects.bulk_create([
            QualityCount(taken_at=taken_at, check_name=r.name, table=r.table, findings=r.count,
                         previous_findings=before.get(r.name))
            for r in report.results
        ])
    changed = {r.name: r.count - before[r.name] for r in report.results
               if r.name in before and r.count != before[r.name]}
    return RecordedReport(taken_at, report.total, changed, first=not before)
