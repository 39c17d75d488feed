"""Entry points: clear one-line errors instead of tracebacks."""
import gc
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from sqlalchemy.schema import DropTable

from etl import db
from etl.db.tables import raw

from . import handmade
from .factories import add, visit

ROOT = Path(__file__).resolve().parent.parent


def test_missing_raw_tables_is_one_clear_error(emr):
    db.execute(DropTable(raw("emr_shift")))
    with pytest.raises(CommandError, match=r"no emr_shift: run `manage.py init_emr`"):
        call_command("build_summaries")


def test_unknown_summary_is_rejected(emr):
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("build_summaries", "--summary", "nope")


def test_database_error_names_the_summary(emr):
    handmade.load()
    # A grain duplicate cannot come from the query; provoke a database error instead by
    # removing a column the insert needs.
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE staff_cost_summary DROP COLUMN cost_per_patient")
    with pytest.raises(CommandError, match=r"^staff_cost_summary: the database refused the build: "):
        call_command("build_summaries", "--summary", "staff_cost_summary")


def test_progress_output(emr, capsys):
    handmade.load()
    call_command("build_summaries", "--full")
    out = capsys.readouterr().out
    assert "claimed changes on 3 days from the change log" in out
    assert "staff_summary: full rebuild (--full)" in out
    assert "staff_summary: 6 rows written, 0 replaced, in " in out
    assert "built 6 summaries: 19 rows written, 0 replaced, in " in out


def test_a_build_process_freezes_its_startup_objects(emr, monkeypatch):
    """``manage.py build_summaries`` (a process of its own) freezes the objects alive when
    it starts, so the garbage collector does not walk them during the build; a build run
    with call_command, inside another program, leaves that program's objects alone."""
    from etl.management.base import EtlCommand
    from etl.management.commands.build_summaries import Command

    assert gc.get_freeze_count() == 0
    call_command("build_summaries", "--status")
    assert gc.get_freeze_count() == 0, "call_command must not freeze its caller's objects"
    frozen_at_start = []
    monkeypatch.setattr(EtlCommand, "run_from_argv", lambda self, argv: frozen_at_start.append(gc.get_freeze_count()))
    try:
        Command().run_from_argv(["manage.py", "build_summaries", "--status"])
    finally:
        gc.unfreeze()
    assert len(frozen_at_start) == 1 and frozen_at_start[0] > 10_000


def test_only_a_build_process_trusts_code_stamps(emr, monkeypatch):
    """``manage.py build_summaries`` runs the code on disk: it trusts definition hashes
    recorded under its code stamp. ``call_command`` (tests, other programs) does not."""
    from etl.engine import definitions
    from etl.management.base import EtlCommand
    from etl.management.commands.build_summaries import Command

    monkeypatch.setattr(definitions, "_TRUSTED_STAMPS", False)
    call_command("build_summaries", "--status")
    assert definitions._TRUSTED_STAMPS is False
    trusted_at_start = []
    monkeypatch.setattr(EtlCommand, "run_from_argv", lambda self, argv: trusted_at_start.append(definitions._TRUSTED_STAMPS))
    try:
        Command().run_from_argv(["manage.py", "build_summaries", "--status"])
    finally:
        gc.unfreeze()
    assert trusted_at_start == [True]


def test_a_command_checks_the_raw_tables_once(emr, monkeypatch, capsys):
    """The preflight of ``build_summaries`` finds the raw tables complete; the build it
    runs then does not look again. Outside a command every build looks: a column dropped
    after the command is reported by the next build, not taken for complete."""
    from etl.db import schema
    from etl.engine.service import BuildError, build_summaries

    handmade.load()
    looked = []
    real = schema.missing_raw_columns  # once a look, after the tables are found
    monkeypatch.setattr(schema, "missing_raw_columns", lambda *a: looked.append(1) or real(*a))
    call_command("build_summaries")
    assert len(looked) == 1
    build_summaries()
    assert len(looked) == 2, "a build outside a command looks itself"
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE emr_visit DROP COLUMN updated_at")
    with pytest.raises(BuildError, match=r"the raw tables lack emr_visit.updated_at"):
        build_summaries()
    with pytest.raises(CommandError, match=r"the raw tables lack emr_visit.updated_at"):
        call_command("build_summaries")


def test_command_line_error_has_no_traceback(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "manage.py", "build_summaries"], cwd=ROOT, env=env, capture_output=True, text=True,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().startswith("CommandError: the SQLite database ")
    assert re.search(r"is not migrated \(\d+ migrations to apply\): run `manage.py migrate`$", result.stderr.strip())


def test_show_summaries_prints_the_hand_worked_totals(emr, capsys):
    handmade.load()
    call_command("build_summaries")
    capsys.readouterr()
    call_command("show_summaries")
    out = capsys.readouterr().out
    # staff_summary: completed 4+2+1+3+0+1 = 11, cancelled 1+1+1 = 3, no-show 1;
    # minutes 15.5+35+30+17.35+0+30 = 127.85 -> 2.1 h
    assert "staff_summary               6 rows  2024-03-01 .. 2024-03-02  completed 11  cancelled 3  no-show 1" \
        "  visit hours 2.1" in out
    # rostered 1.3333+12.5+8+0+3 = 24.8333 h; cost 8.33+338.58+244+0+120 = 710.91
    assert "rostered hours 24.8  staff cost 710.91  completed 11" in out
    # location 102 holds every cost row; 999 only v16: 710.91 / 10 completed = 71.09
    assert "       102         10        24.8       710.91       71.09  Dept" in out
    assert "       999          1         0.0         0.00        0.00  (not in emr_location)" in out


def test_ledger_records_the_mode_each_run_had(emr, capsys):
    from etl.models import BuildRun, SummaryState

    handmade.load()
    # Asked incremental, but neither summary was ever built: both rebuilt in full.
    call_command("build_summaries")
    # One visit changes: both summaries rebuild that one day.
    add("emr_visit", visit(900, "2024-03-02"))
    call_command("build_summaries")
    # staff_summary must be rebuilt in full (as after a truncate), staff_cost_summary only
    # rebuilds the changed day: a mixed run.
    SummaryState.objects.filter(name="staff_summary").update(full_reason="a raw table was truncated")
    add("emr_visit", visit(901, "2024-03-02"))
    call_command("build_summaries")
    runs = list(BuildRun.objects.order_by("id").values_list("mode", "full_rebuilds"))
    assert [mode for mode, _ in runs] == ["full", "incremental", "mixed"]
    assert runs[2][1] == "staff_summary: a raw table was truncated"
    out = capsys.readouterr().out
    # The second and third runs each rebuilt 1 day of staff_cost_summary.
    assert "staff_cost_summary: 1 day to rebuild, 2024-03-02 .. 2024-03-02 (1 from changed visits and shifts)" in out
    assert "claimed changes on 1 day from the change log" in out


def test_counts_read_in_the_singular(emr, capsys):
    handmade.load()
    call_command("build_summaries", "--summary", "staff_summary")
    # 6 hand-worked staff_summary rows (test_progress_output): one summary built.
    assert "built 1 summary: 6 rows written, 0 replaced, in " in capsys.readouterr().out


def test_show_summaries_prints_the_clinic_scores(emr, capsys):
    from . import clinic_handmade

    clinic_handmade.load()
    call_command("build_summaries")
    capsys.readouterr()
    call_command("show_summaries")
    out = capsys.readouterr().out
    expected = clinic_handmade.REGION_MONTH_BY_KEY  # worked out by hand, row by row
    # region_month sums clinic_day: 294 + 6 + 5 + 201 + 1 + 2 + 6 + 0 + 3 = 518 completed
    # visits; outliers on clinic 10, Jan 21 and clinic 40, Jan 31; 9 rows over 4 months.
    assert sum(row[1] for row in expected.values()) == 518
    assert re.search(r"^clinic_day .* completed 518$", out, re.M)
    assert re.search(r"^clinic_score .* rows  outlier days 2$", out, re.M)
    assert re.search(r"^region_month +9 rows  months 4$", out, re.M)
