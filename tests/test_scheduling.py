"""Celery settings and schedule, no-op runs in the ledger, the kept data-quality report,
and which failures a task retries. (Real worker and beat processes: test_celery_processes.py.)"""
import logging
import os
import subprocess
import sys

import psycopg2
from celery.schedules import crontab
from django.contrib.auth.models import User

from etl.engine.service import build_summaries
from etl.engine.transient import backoff_seconds, is_unreachable
from etl.models import BuildRun, QualityCount
from etl.sources.quality_history import record_quality_report
from etl.tasks import build_summaries as build_task, record_data_quality
from project.celery import app

from . import handmade
from .factories import add
from .processes import ROOT


def test_every_schedule_entry_names_a_registered_task_and_expires():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert set(schedule) == {"build-summaries", "reconcile-summaries", "record-data-quality"}
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, f"{name}: {entry['task']} is not a registered task"
        assert entry["options"]["expires"] > 0, name
    # Default: every 5 minutes, expiring before the next tick; the nightly ones are crontabs.
    assert schedule["build-summaries"]["schedule"] == 300 and schedule["build-summaries"]["options"]["expires"] == 300
    assert isinstance(schedule["reconcile-summaries"]["schedule"], crontab)
    assert isinstance(schedule["record-data-quality"]["schedule"], crontab)
    assert not app.conf.beat_schedule_filename.startswith(str(ROOT))


def test_delivery_settings():
    conf = app.conf
    assert (conf.task_serializer, conf.result_serializer, conf.accept_content) == ("json", "json", ["json"])
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    visibility = conf.broker_transport_options["visibility_timeout"]
    assert conf.task_soft_time_limit < conf.task_time_limit < visibility
    assert conf.result_backend_transport_options["visibility_timeout"] == visibility
    assert conf.broker_transport_options["unacked_restore_interval"] == 1
    assert conf.broker_transport_options["unacked_restore_throttle"] == 1
    assert conf.broker_transport_options["unacked_mutex_expire"] < visibility
    assert conf.broker_connection_retry_on_startup and conf.worker_send_task_events


def _settings_in_subprocess(**env) -> subprocess.CompletedProcess:
    """Load the settings in a fresh process with ``env`` on top (a None value unsets)."""
    merged = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", **env}
    return subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.ETL_BUILD_EVERY_SECONDS)"],
        cwd=ROOT, env={k: v for k, v in merged.items() if v is not None}, capture_output=True, text=True,
        timeout=60,
    )


def test_time_limits_at_or_past_the_visibility_timeout_are_refused_at_start_up():
    refused = _settings_in_subprocess(CELERY_VISIBILITY_TIMEOUT="600", CELERY_TASK_TIME_LIMIT="600",
                                      CELERY_TASK_SOFT_TIME_LIMIT="500")
    assert refused.returncode != 0
    assert "need 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT" in refused.stderr


def test_build_interval_in_minutes_and_the_older_seconds_name():
    assert _settings_in_subprocess(ETL_BUILD_EVERY="2", BUILD_SCHEDULE_SECONDS=None).stdout.strip() == "120.0"
    assert _settings_in_subprocess(ETL_BUILD_EVERY="2", BUILD_SCHEDULE_SECONDS="7").stdout.strip() == "7.0"


def test_runs_that_find_nothing_to_do_are_counted_on_one_ledger_row(emr):
    handmade.load()
    first = build_summaries(trigger="schedule")
    for _ in range(3):
        quiet = build_summaries(trigger="schedule")
    # One row for the build, one for the three quiet runs after it.
    written = len(handmade.EXPECTED_STAFF_SUMMARY) + len(handmade.EXPECTED_STAFF_COST_SUMMARY)
    runs = list(BuildRun.objects.order_by("id").values_list("pk", "rows_written", "noop_runs"))
    assert runs == [(first.run_id, written, 0), (quiet.run_id, 0, 3)]
    # A manual run is another kind of run: its own row, even when it finds nothing.
    build_summaries(trigger="manual")
    assert BuildRun.objects.count() == 3
    # A change breaks the series: the next quiet run starts a new row.
    add("emr_visit", {"id": 99, "patient_id": 1, "location_id": 102, "service_id": 1, "staff_id": 500,
                      "start_at": "2024-03-01 08:00:00", "end_at": "2024-03-01 08:10:00",
                      "status": "completed", "updated_at": "2024-03-01 08:10:00"})
    assert build_summaries(trigger="schedule").rows_written > 0
    build_summaries(trigger="schedule")
    assert list(BuildRun.objects.order_by("id").values_list("noop_runs", flat=True)) == [0, 3, 1, 0, 1]


def test_the_data_quality_report_is_kept_and_compared_with_the_one_before(emr, client):
    handmade.load()
    first = record_quality_report()
    # The hand-made data (tests/handmade.py): one unknown status (visit 8, 'COMPLETED'),
    # one visit without staff (visit 9); it has no emr_patient rows at all.
    counts = dict(QualityCount.objects.filter(taken_at=first.taken_at).values_list("check_name", "findings"))
    assert counts["visit_unknown_status"] == 1 and counts["visit_without_staff"] == 1
    assert first.changed == {} and first.first
    add("emr_visit", {"id": 98, "patient_id": 1, "location_id": 102, "service_id": 1, "staff_id": None,
                      "start_at": "2024-03-02 08:00:00", "end_at": None, "status": "done",
                      "updated_at": "2024-03-02 08:10:00"})
    result = record_data_quality.apply().get()
    # Visit 98 adds one finding to each of three checks (status 'done', no staff, patient 1
    # has no row); the other checks are unchanged and not listed.
    assert result["changed"] == {"visit_unknown_status": 1, "visit_without_staff": 1, "visit_patient_missing": 1}
    assert result["first"] is False
    second = QualityCount.objects.get(check_name="visit_unknown_status", taken_at__gt=first.taken_at)
    assert (second.findings, second.previous_findings, second.change) == (2, 1, 1)
    User.objects.create_superuser("op", "op@example.org", "pw")
    client.login(username="op", password="pw")
    assert client.get("/admin/etl/qualitycount/").status_code == 200
    assert client.get("/admin/etl/qualitycount/add/").status_code == 403


def _refused_connection() -> Exception:
    try:
        psycopg2.connect(host="127.0.0.1", port=1, user="nobody", dbname="none", connect_timeout=2)
    except psycopg2.OperationalError as exc:
        return exc
    raise AssertionError("something answered on port 1")


def test_only_an_unreachable_database_or_broker_counts_as_transient():
    import redis

    assert is_unreachable(_refused_connection())
    try:
        redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1).ping()
    except redis.ConnectionError as exc:
        assert is_unreachable(exc)
    wrapped = RuntimeError("build failed")
    wrapped.__cause__ = _refused_connection()
    assert is_unreachable(wrapped)
    assert not is_unreachable(ValueError("Invalid isoformat string: 'yesterday'"))
    from etl.engine.gates import GateFailed

    assert not is_unreachable(GateFailed("staff_summary: totals differ"))
    # Doubling from 2 s, capped, with at most a quarter taken off as jitter.
    assert 1.5 <= backoff_seconds(0, cap=300) <= 2
    assert 225 <= backoff_seconds(20, cap=300) <= 300


def test_a_task_retries_an_unreachable_database_and_not_a_data_error(emr, settings, caplog):
    handmade.load()
    settings.ETL_TASK_MAX_RETRIES = 2
    settings.EMR_DATABASE_URL = "postgresql+psycopg2://nobody@127.0.0.1:1/none"
    with caplog.at_level(logging.WARNING, logger="etl.tasks"):
        outcome = build_task.apply(kwargs={"trigger": "schedule"})
    assert outcome.failed()
    retries = [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(retries) == 3, "the first try and two retries each log once"  # the third raises
    settings.EMR_DATABASE_URL = None
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="etl.tasks"):
        bad = build_task.apply(kwargs={"since": "2024-03-02", "until": "2024-03-01"})
    assert bad.failed() and "is before --since" in str(bad.result)
    assert not [r for r in caplog.records if "unreachable" in r.getMessage()]
    assert BuildRun.objects.count() == 0  # refused before it started: nothing to record


def test_check_emr_record_keeps_the_counts(emr):
    from io import StringIO

    from django.core.management import call_command

    handmade.load()
    out, err = StringIO(), StringIO()
    call_command("check_emr", "--record", "--json", stdout=out, stderr=err)
    assert '"total"' in out.getvalue() and "the first recording" in err.getvalue()
    call_command("check_emr", "--record", stdout=StringIO(), stderr=err)
    assert "changed since the last: none" in err.getvalue()
    assert QualityCount.objects.values("taken_at").distinct().count() == 2


def test_a_failed_gate_fails_the_task_once_and_is_recorded(emr, monkeypatch, caplog):
    from etl.queries.staff_summary import staff_summary_rows

    from .test_build_safety import replace_definition

    handmade.load()

    def faulty(window):  # drops service 2's rows: the totals no longer reconcile with the raw rows
        query = staff_summary_rows(window)
        return query.having(query.selected_columns.service_id != 2)

    replace_definition(monkeypatch, "staff_summary", faulty)
    with caplog.at_level(logging.WARNING, logger="etl.tasks"):
        outcome = build_task.apply(kwargs={"trigger": "schedule"})
    assert outcome.failed() and "publish gate failed" in str(outcome.result)
    assert not [r for r in caplog.records if "unreachable" in r.getMessage()], "a data error is never retried"
    assert list(BuildRun.objects.values_list("status", flat=True)) == ["gate_failed"]
