"""Full rebuilds side by side on PostgreSQL (etl/engine/lanes.py): the same tables as one
summary after the other, a summary planned only once the summaries it reads are rebuilt,
and a failure that publishes nothing of the failing summary, starts nothing new and rolls
back the rebuilds running beside it."""
import os
import threading

import pytest
from django.db import connection

from etl.engine.service import GateFailed, build_summaries
from etl.models import BuildRun, ClinicDay, StaffCostSummary, StaffSummary
from etl.queries.staff_summary import staff_summary_rows

from . import handmade
from .factories import add, summary_rows, visit
from .processes import ProcessDatabase, make_database
from .test_build_safety import replace_definition

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="lanes run on PostgreSQL only")


def written_at(lines: list[str], name: str) -> int:
    return next(i for i, line in enumerate(lines) if line.startswith(f"{name}: ") and " written, " in line)


def planned_at(lines: list[str], name: str) -> int:
    return next(i for i, line in enumerate(lines) if line == f"{name}: full rebuild (--full)")


def test_full_rebuilds_side_by_side_equal_one_after_the_other(tmp_path):
    url, drop = make_database(tmp_path, "postgresql")
    env = {**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"}
    env.pop("EMR_DATABASE_URL", None)
    try:
        one = ProcessDatabase(url, {**env, "ETL_BUILD_CONCURRENCY": "1"})
        one.manage("migrate", "-v", "0")
        one.manage("init_emr", "--drop", "--noinput")
        one.manage("generate_emr", "--visits", "4000", "--days", "40", "--clinics", "3", "--seed", "5")
        one.manage("build_summaries", "--full", "--quiet")
        one_at_a_time = (one.tables(), one.clinic_tables())

        # Each summary waits a second inside its transaction once its rows are written, so
        # rebuilds that run side by side overlap for certain.
        side = ProcessDatabase(url, {**env, "ETL_BUILD_CONCURRENCY": "3", "ETL_BUILD_PAUSE_SECONDS": "1"})
        lines = side.manage("build_summaries", "--full").stdout.splitlines()
        assert (side.tables(), side.clinic_tables()) == one_at_a_time
        # Side by side: the next summaries were planned and started before the first finished.
        assert planned_at(lines, "staff_cost_summary") < written_at(lines, "staff_summary")
        assert planned_at(lines, "clinic_day") < written_at(lines, "staff_summary")
        # A summary of summaries is planned only once what it reads is rebuilt.
        assert written_at(lines, "clinic_day") < planned_at(lines, "clinic_score")
        assert max(written_at(lines, "clinic_score"), written_at(lines, "region_month_patients")) \
            < planned_at(lines, "region_month")
        rows = sum(len(table) for table in (*one_at_a_time[0], *one_at_a_time[1]))
        assert side.query("SELECT status, rows_written FROM etl_build_run ORDER BY id DESC LIMIT 1") == \
            [("succeeded", rows)]
        assert side.query("SELECT relname FROM pg_class WHERE relname LIKE 'etl\\_swap\\_%'") == []
    finally:
        drop()


def test_a_failing_gate_in_a_lane_publishes_nothing_of_that_summary(committed_handmade, monkeypatch, settings):
    settings.ETL_BUILD_CONCURRENCY = 3
    build_summaries(full=True)
    before = summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS)
    cost_rows = StaffCostSummary.objects.count()
    assert not connection.in_atomic_block  # so the next build runs its full rebuilds in lanes

    def faulty(window):  # drops every visit of service 2: the totals no longer reconcile
        query = staff_summary_rows(window)
        return query.having(query.selected_columns.service_id != 2)

    replace_definition(monkeypatch, "staff_summary", faulty)
    add("emr_visit", visit(50, "2024-03-01", "cancelled", patient=1, service=2, start="08:00", end=None))
    with pytest.raises(GateFailed):
        build_summaries(full=True)
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == before
    run = BuildRun.objects.order_by("-id").first()
    assert run.status == "gate_failed" and "staff_summary" in run.error
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'etl\\_swap\\_%'")
        assert cursor.fetchall() == []
    # What ran beside it and finished was rebuilt, and is in the ledger's row; nothing else
    # was. staff_cost_summary counts cancelled visits nowhere, so its rows stay the same.
    assert StaffCostSummary.objects.count() == cost_rows
    built = {part.split(":")[0] for part in run.full_rebuilds.split("; ") if part}
    assert "staff_summary" not in built and built <= {"staff_cost_summary", "clinic_day", "region_month_patients"}


def test_a_failure_in_a_lane_rolls_back_the_rebuilds_beside_it(committed_handmade, monkeypatch, settings):
    """As one after the other, where nothing after a failed summary is built: the lanes
    still running when one fails are stopped and roll back. Here the two beside the
    failing one wait, their rows written, until the build is stopped."""
    from etl.engine import service
    from etl.engine.lanes import Lanes

    settings.ETL_BUILD_CONCURRENCY = 3
    build_summaries(full=True)
    before = (summary_rows(StaffCostSummary, handmade.STAFF_COST_FIELDS),
              sorted(ClinicDay.objects.values_list("day", "clinic_id", "nr_visits")))

    def faulty(window):  # drops every visit of service 2: the totals no longer reconcile
        query = staff_summary_rows(window)
        return query.having(query.selected_columns.service_id != 2)

    stopped = threading.Event()
    real_stop = Lanes.stop

    def stop(self):
        real_stop(self)
        stopped.set()

    def pause():  # inside each rebuild's transaction, its rows written
        if threading.current_thread().name != "build staff_summary":
            assert stopped.wait(60), "the build was not stopped"

    monkeypatch.setattr(Lanes, "stop", stop)
    monkeypatch.setattr(service, "_pause_for_tests", pause)
    replace_definition(monkeypatch, "staff_summary", faulty)
    add("emr_visit", visit(50, "2024-03-01", "cancelled", patient=1, service=2, start="08:00", end=None))
    add("emr_visit", visit(51, "2024-03-01", "completed", patient=2, service=1))  # changes clinic_day
    with pytest.raises(GateFailed):
        build_summaries(full=True)
    after = (summary_rows(StaffCostSummary, handmade.STAFF_COST_FIELDS),
             sorted(ClinicDay.objects.values_list("day", "clinic_id", "nr_visits")))
    assert after == before
    run = BuildRun.objects.order_by("-id").first()
    assert (run.status, run.full_rebuilds, run.rows_written) == ("gate_failed", "", 0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname LIKE 'etl\\_swap\\_%'")
        assert cursor.fetchall() == []
    # The next build, with the definition as declared, rebuilds them and counts the visit.
    monkeypatch.undo()
    settings.ETL_BUILD_CONCURRENCY = 3
    build_summaries(full=True)
    assert sorted(ClinicDay.objects.values_list("day", "clinic_id", "nr_visits")) != before[1]
