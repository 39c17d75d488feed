"""Publish gates, definition changes, the run ledger and --status."""
import dataclasses
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from sqlalchemy import literal

from etl.models import BuildRun, StaffSummary, SummaryState
from etl.queries.staff_summary import staff_summary_rows
from etl.engine.service import build_summaries
from etl.summaries import registry

from . import handmade
from .factories import add, summary_rows, visit


@pytest.fixture
def built(emr):
    handmade.load()
    build_summaries()
    return summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS)


def relabelled(window):
    query = staff_summary_rows(window)
    return query.where(literal(1) == 1)  # same rows, different compiled query


def replace_definition(monkeypatch, name, rows):
    changed = dataclasses.replace(registry.SUMMARIES[name], rows=rows)
    monkeypatch.setitem(registry.SUMMARIES, name, changed)


def test_failing_gate_rolls_back_and_is_recorded(built, monkeypatch):
    # A faulty definition that drops every visit of service 2: the totals no longer reconcile.
    def faulty(window):
        query = staff_summary_rows(window)
        return query.having(query.selected_columns.service_id != 2)

    replace_definition(monkeypatch, "staff_summary", faulty)
    add("emr_visit", visit(50, "2024-03-01", "cancelled", patient=1, service=2, start="08:00", end=None))
    with pytest.raises(CommandError) as caught:
        call_command("build_summaries", "--summary", "staff_summary")
    assert caught.value.returncode == 3
    assert "publish gate failed" in str(caught.value)
    # The changed definition means a full rebuild. Raw: 11 completed, 4 cancelled (v5, v13,
    # v17, v50). `service_id != 2` also drops NULL services: completed 11 - 3 (v11, v12,
    # v14) - 2 (v9, v10) = 6; cancelled 4 - 3 (v13, v17, v50) = 1.
    assert str(caught.value) == (
        "staff_summary: publish gate failed: completed visits: summary has 6, raw rows give 11; "
        "cancelled visits: summary has 1, raw rows give 4; the previous rows were kept"
    )
    # The old rows are intact, and the run says why.
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == built
    run = BuildRun.objects.first()
    assert run.status == "gate_failed"
    assert "cancelled visits" in run.error


def test_duplicate_grain_fails_the_gate(built, monkeypatch):
    def doubled(window):
        query = staff_summary_rows(window)
        return query.union_all(query)

    replace_definition(monkeypatch, "staff_summary", doubled)
    # PostgreSQL's NULLS NOT DISTINCT constraint or SQLite's unique index refuses the
    # duplicates before the gate can: either way the build fails and keeps the old rows.
    with pytest.raises(Exception) as caught:
        build_summaries(["staff_summary"])
    assert "staff_summary" in str(caught.value)
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == built


def test_incremental_duplicates_are_refused_where_the_grain_scan_is_skipped(built, monkeypatch):
    """An incremental rebuild whose query doubles its rows. Where the database enforces
    the grain (PostgreSQL: NULLS NOT DISTINCT; grains without a nullable column) the gate
    skips its duplicate scan and the constraint refuses the insert; elsewhere the scan
    runs. Either way the build fails and keeps the old rows."""
    from etl.db import vendor
    from etl.engine.gates import grain_enforced
    from etl.engine.definitions import definition_hash

    enforced = {name: grain_enforced(s.model_label, s.table, s.grain) for name, s in registry.SUMMARIES.items()}
    postgres = vendor() == "postgresql"
    assert enforced == {"staff_summary": postgres, "staff_cost_summary": postgres, "clinic_day": True,
                        "clinic_score": True, "region_month_patients": postgres, "region_month": postgres}

    def doubled(window):
        query = staff_summary_rows(window)
        return query.union_all(query)

    replace_definition(monkeypatch, "staff_summary", doubled)
    # the stored definition is the doubled one: the next build is incremental
    SummaryState.objects.filter(name="staff_summary").update(
        definition_hash=definition_hash(registry.SUMMARIES["staff_summary"]))
    add("emr_visit", visit(900, handmade.DAY1.isoformat()))
    with pytest.raises(Exception) as caught:
        build_summaries(["staff_summary"])
    assert "staff_summary" in str(caught.value)
    assert "full rebuild" not in str(caught.value)
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == built


@pytest.fixture
def trusted(monkeypatch):
    """A process trusting code stamps, as ``manage.py build_summaries`` does; every
    compilation of a definition hash recorded (by summary name) and none remembered from
    before, and the trust withdrawn after the test."""
    from etl import db
    from etl.engine import definitions

    compiled = []
    real = db.literal_sql
    monkeypatch.setattr(definitions, "_TRUSTED_STAMPS", False)
    monkeypatch.setattr(definitions, "_DEFINITIONS", {})
    monkeypatch.setattr(db, "literal_sql", lambda stmt, vendor: compiled.append(1) or real(stmt, vendor))
    definitions.trust_code_stamps()
    return compiled


def stamps() -> set[str]:
    return set(SummaryState.objects.values_list("definition_stamp", flat=True))


def test_a_trusted_build_reuses_the_definition_compiled_under_the_same_code_stamp(built, trusted, monkeypatch):
    from etl.engine import definitions

    assert stamps() == {""}  # built by this (test) process before it trusted stamps: none
    hashes = dict(SummaryState.objects.values_list("name", "definition_hash"))
    build_summaries()
    assert len(trusted) == 6 and stamps() == {""}  # compiled (stored unstamped); up to date: nothing recorded
    add("emr_visit", visit(900, handmade.DAY1.isoformat()))
    trusted.clear()
    monkeypatch.setattr(definitions, "_DEFINITIONS", {})  # a new process
    report = build_summaries()
    assert len(trusted) == 6 and len(report.results) == 6  # rebuilt: each records its stamp
    assert len(stamps()) == 1 and "" not in stamps()
    assert dict(SummaryState.objects.values_list("name", "definition_hash")) == hashes
    trusted.clear()
    monkeypatch.setattr(definitions, "_DEFINITIONS", {})  # a new process
    add("emr_visit", visit(901, handmade.DAY1.isoformat()))
    report = build_summaries()
    assert trusted == []  # none compiled
    assert len(report.results) == 6 and all(r.full_reason is None for r in report.results)
    assert dict(SummaryState.objects.values_list("name", "definition_hash")) == hashes


def stamped():
    """Rebuild every summary (a visit added), recording its stamp."""
    add("emr_visit", visit(900, handmade.DAY1.isoformat()))
    build_summaries()
    assert "" not in stamps()


def test_a_trusted_build_compiles_under_another_code_stamp_and_finds_a_changed_definition(
        built, trusted, monkeypatch, capsys):
    from etl.engine import definitions

    stamped()
    trusted.clear()
    monkeypatch.setattr(definitions, "_DEFINITIONS", {})
    monkeypatch.setattr(definitions, "code_stamp", lambda: "the code changed")

    replace_definition(monkeypatch, "staff_summary", relabelled)
    call_command("build_summaries")
    out = capsys.readouterr().out
    assert len(trusted) == 6
    assert "staff_summary: full rebuild (its definition changed since the last build)" in out
    assert "staff_cost_summary: up to date" in out


def test_a_summary_not_in_the_registry_is_compiled_even_in_a_trusted_process(built, trusted):
    from etl.engine.definitions import definition_hash
    from etl.engine.plan import plan_summary

    stamped()
    trusted.clear()
    summary = registry.SUMMARIES["staff_summary"]
    copy = dataclasses.replace(summary, rows=relabelled)
    p = plan_summary(copy)
    assert len(trusted) == 1
    assert p.full_reason == "its definition changed since the last build"
    assert p.definition == definition_hash(copy) != definition_hash(summary)
    assert p.definition_stamp == ""


def test_an_untrusted_build_records_no_stamp(built, trusted, monkeypatch):
    from etl.engine import definitions

    stamped()
    monkeypatch.setattr(definitions, "_TRUSTED_STAMPS", False)
    add("emr_visit", visit(902, handmade.DAY1.isoformat()))
    report = build_summaries()
    assert len(report.results) == 6
    assert stamps() == {""}, "a process that may replace summaries must not vouch for their hashes"


def test_definition_change_rebuilds_that_summary_in_full(built, monkeypatch, capsys):
    replace_definition(monkeypatch, "staff_summary", relabelled)
    call_command("build_summaries")
    out = capsys.readouterr().out
    assert "staff_summary: full rebuild (its definition changed since the last build)" in out
    assert "staff_cost_summary: up to date" in out
    assert summary_rows(StaffSummary, handmade.STAFF_SUMMARY_FIELDS) == built
    state = SummaryState.objects.get(name="staff_summary")
    assert state.full_built_at == state.built_at


def test_ledger_records_each_run(built):
    add("emr_visit", visit(51, "2024-03-02", patient=1, start="08:00", end="08:10"))
    build_summaries(trigger="schedule")
    first, second = BuildRun.objects.order_by("id")
    # Asked incremental, but both summaries were never built: the run was a full one.
    assert (first.mode, first.status, first.rows_written, first.full_rebuilds) == (
        "full", "succeeded", 19, "staff_summary: never built; staff_cost_summary: never built; "
        "clinic_day: never built; region_month_patients: never built; clinic_score: never built; "
        "region_month: never built")
    # full rebuilds count the days written: 2 (staff_summary) + 3 (staff_cost_summary) +
    # 3 (clinic_day) + 3 (clinic_score) + 1 month each (region_month_patients, region_month)
    assert first.partitions_rebuilt == 13
    assert (second.trigger, second.mode, second.status, second.partitions_rebuilt) == (
        "schedule", "incremental", "succeeded", 2 + 1 + 29 + 31 + 61)
    # (section 4: 03-02 reaches clinic_score on 03-02 .. 03-30, region_month March and April,
    # region_month_patients March)
    # 2024-03-02 had 2 staff_summary rows (now 3) and 1 staff_cost_summary row (now 2);
    # clinic_day 1 (replaced), clinic_score 2 (03-02, 03-03), region_month(_patients) 1 each
    assert (second.rows_deleted, second.rows_written) == (3 + 1 + 2 + 1 + 1, 5 + 1 + 2 + 1 + 1)
    assert second.duration_seconds >= 0 and second.finished_at >= second.started_at


def test_abandoned_runs_are_marked(built):
    BuildRun.objects.update(status="running")
    build_summaries()
    assert list(BuildRun.objects.order_by("id").values_list("status", flat=True)) == ["abandoned", "succeeded"]


def test_status_shows_runs_and_staleness(built):
    add("emr_visit", visit(52, "2024-03-02", "no_show", patient=1, start="08:00", end=None))
    out = StringIO()
    call_command("build_summaries", "--status", stdout=out)
    text = out.getvalue()
    # the fixture's one run: manual, and full (both summaries were never built)
    assert re.search(r"\bsucceeded\s+manual\s+full\s", text)
    # the data-quality section: the hand-made set has 36 findings in 15 of 37 checks, and
    # visit 52 names patient 1, who has no row: one more
    assert "raw data quality" in text and "37  findings in 15 of 37 checks" in text
    lines = {line.split()[0]: line for line in text.splitlines() if line.startswith("  staff")}
    assert " 1  " in lines["staff_summary"]  # one pending day
    assert "up to date" not in lines["staff_summary"]
    call_command("build_summaries", "--quiet")
    out = StringIO()
    call_command("build_summaries", "--status", stdout=out)
    assert "up to date" in [l for l in out.getvalue().splitlines() if l.startswith("  staff_summary")][0]


def test_quiet_prints_nothing(built, capsys):
    call_command("build_summaries", "--quiet", "--full")
    assert capsys.readouterr().out == ""


def test_incremental_sql_inlines_the_days(built):
    add("emr_visit", visit(53, "2024-03-02", "no_show", patient=1, start="08:00", end=None))
    out = StringIO()
    call_command("build_summaries", "--sql", stdout=out)
    script = out.getvalue()
    assert "2024-03-02 00:00:00" in script and "2024-03-03 00:00:00" in script
    assert script.count("INSERT INTO") == 6  # one per summary



def test_the_code_stamp_follows_the_raw_schema_file(tmp_path, monkeypatch):
    """The raw tables are reflected from ``sql/emr_schema.sql``, outside the etl package: an
    edit of that file changes what the summaries compile to, so it changes the stamp too
    (and an unchanged copy of it does not)."""
    from etl.db import tables
    from etl.engine import definitions

    before = definitions.code_stamp.__wrapped__()
    same = tmp_path / "emr_schema.sql"
    same.write_bytes(tables.SCHEMA_FILE.read_bytes())
    monkeypatch.setattr(tables, "SCHEMA_FILE", same)
    assert definitions.code_stamp.__wrapped__() == before
    same.write_bytes(tables.SCHEMA_FILE.read_bytes() + b"\n-- an edit\n")
    assert definitions.code_stamp.__wrapped__() != before
