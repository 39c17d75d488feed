"""Every column of CONTRACT 2 on hand-made dirty data, on the configured backend."""
import pytest
from django.core.management import call_command

from etl.models import StaffCostSummary, StaffSummary
from etl.engine.service import build_summaries

from . import handmade
from .factories import summary_rows


@pytest.fixture
def built(emr):
    handmade.load()
    return build_summaries()


def test_staff_summary_whole_table(built):
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == handmade.EXPECTED_STAFF_SUMMARY


def test_staff_cost_summary_whole_table(built):
    assert summary_rows(StaffCostSummary, handmade.STAFF_COST_FIELDS) == handmade.EXPECTED_STAFF_COST_SUMMARY


def test_report_counts_rows(built):
    by_name = {r.name: r for r in built.results}
    assert by_name["staff_summary"].rows_written == len(handmade.EXPECTED_STAFF_SUMMARY)
    assert by_name["staff_cost_summary"].rows_written == len(handmade.EXPECTED_STAFF_COST_SUMMARY)


def test_rebuild_replaces_never_adds(built):
    assert [r.full_reason for r in built.results] == ["never built"] * 6
    report = build_summaries(full=True)
    assert [r.rows_deleted for r in report.results] == [r.rows_written for r in built.results]
    assert StaffSummary.objects.count() == len(handmade.EXPECTED_STAFF_SUMMARY)
    assert StaffCostSummary.objects.count() == len(handmade.EXPECTED_STAFF_COST_SUMMARY)


def test_summary_option_limits_the_build(emr, capsys):
    handmade.load()
    call_command("build_summaries", "--full", "--summary", "staff_cost_summary")
    assert StaffSummary.objects.count() == 0
    assert StaffCostSummary.objects.count() == len(handmade.EXPECTED_STAFF_COST_SUMMARY)
    out = capsys.readouterr().out
    assert "staff_cost_summary: 5 rows written" in out
    assert "staff_summary:" not in out


def test_nothing_changed_nothing_rebuilt(built):
    report = build_summaries()
    assert report.results == ()
    assert StaffSummary.objects.count() == len(handmade.EXPECTED_STAFF_SUMMARY)
