"""Every command of the etl app, run as a real process on every path an operator can reach:
one line and a non-zero exit status instead of a traceback (README, Troubleshooting).

The commands are listed from etl/management/commands/, so a new command is held to this
as soon as it exists: it must appear in ARGS (sensible arguments for it) and subclass
EtlCommand. What a command needs (its ``needs``) decides which broken setups it must
refuse; a setup it does not need must not stop it."""
from __future__ import annotations

import importlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from etl.management.base import EMR, MIGRATIONS, RAW_TABLES, EtlCommand

from .processes import ROOT, ProcessDatabase, make_database, wait_for_line

COMMANDS_DIR = ROOT / "etl" / "management" / "commands"
COMMANDS = sorted(p.stem for p in COMMANDS_DIR.glob("*.py") if not p.stem.startswith("_"))
SAMPLE = str(ROOT / "data" / "synthea-sample")
# Arguments that make each command do its ordinary work (small, and writing nothing to the
# repository: compile_sql only checks).
ARGS = {
    "build_summaries": [],
    "check_emr": [],
    "compile_sql": ["--check"],
    "generate_emr": ["--visits", "50", "--days", "5", "--clinics", "1"],
    "import_synthea": [SAMPLE],
    "init_emr": [],
    "show_summaries": [],
}


def needs(name: str) -> set[str]:
    command = importlib.import_module(f"etl.management.commands.{name}").Command
    assert issubclass(command, EtlCommand), f"{name} must subclass etl.management.base.EtlCommand"
    declared = set(command.needs)
    return declared | ({EMR} if RAW_TABLES in declared else set())


def run(env: dict, *args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, **kwargs)


def assert_one_line(result: subprocess.CompletedProcess, fragment: str, status: int = 1) -> None:
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(lines) == 1, f"expected one line, got {len(lines)}:\n" + "\n".join(lines[:20])
    assert result.stderr.startswith("CommandError: "), result.stderr
    assert fragment in lines[0], lines[0]
    assert result.returncode == status, (result.returncode, lines[0])


def assert_ran(result: subprocess.CompletedProcess) -> None:
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stderr


def free_port() -> int:
    """A local port where nothing listens (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def base_env(**values: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "EMR_DATABASE_URL")}
    return {**env, **values}


@pytest.fixture(scope="module")
def vendor() -> str:
    # The suite's pass (SQLite, or PostgreSQL) decides the kind of database used here.
    return connection.vendor


def _database(folder: Path, vendor: str):
    if vendor == "postgresql" and not os.environ.get("TEST_POSTGRES_URL"):
        pytest.fail("the PostgreSQL pass needs TEST_POSTGRES_URL (make test sets it)")
    url, drop = make_database(folder, vendor)
    return ProcessDatabase(url, base_env(DATABASE_URL=url)), drop


SETUP = """
import django, sys
django.setup()
from django.core.management import call_command
for line in sys.argv[1:]:
    name, *args = line.split()
    call_command(name, *args, verbosity=0, stdout=open("/dev/null", "w"))
"""


def setup(database: ProcessDatabase, *commands: str) -> None:
    """Run several commands in one process (start-up is most of a small command's time)."""
    env = {**database.env, "DJANGO_SETTINGS_MODULE": "project.settings"}
    subprocess.run([sys.executable, "-c", SETUP, *commands], cwd=ROOT, env=env, check=True, timeout=600)


def _make_ready(database: ProcessDatabase) -> ProcessDatabase:
    """Migrated, raw tables created, 300 visits generated and built."""
    setup(database, "migrate", "init_emr", "generate_emr --visits 300 --days 10 --clinics 2",
          "build_summaries --quiet")
    return database


def run_all(cases: list[tuple[dict, list[str]]]) -> list[subprocess.CompletedProcess]:
    """``run`` for many commands at once (they only read, or each writes its own database)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda case: run(case[0], *case[1], stdin=subprocess.DEVNULL), cases))


@pytest.fixture
def fresh_db(tmp_path, vendor):
    database, drop = _database(tmp_path, vendor)
    yield database
    drop()


@pytest.fixture
def ready_db(fresh_db):
    return _make_ready(fresh_db)


@pytest.fixture(scope="module")
def shared_ready_db(tmp_path_factory, vendor):
    """A ready database for the tests that change nothing in it."""
    database, drop = _database(tmp_path_factory.mktemp("shared"), vendor)
    yield _make_ready(database)
    drop()


@pytest.fixture(scope="module")
def column_dropped_db(tmp_path_factory, vendor):
    """A ready database whose emr_visit lost service_id (every command must refuse to
    write to it, so it can be shared)."""
    database, drop = _database(tmp_path_factory.mktemp("column"), vendor)
    _make_ready(database).query("ALTER TABLE emr_visit DROP COLUMN service_id")
    yield database
    drop()


def test_every_command_is_in_the_table():
    assert COMMANDS, "no commands found"
    assert sorted(ARGS) == COMMANDS, "give each command of etl/management/commands/ its arguments in ARGS"
    for name in COMMANDS:
        needs(name)  # and each subclasses EtlCommand


def _stopped_url(vendor: str, tmp_path: Path) -> str:
    if vendor == "sqlite":
        return f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"
    return f"postgres://postgres@127.0.0.1:{free_port()}/emr_stopped"


def each_command(envs: dict[str, dict], expect) -> None:
    """Run every command (at once) with its env, and check each result with ``expect``."""
    results = run_all([(envs[name], [name, *ARGS[name]]) for name in COMMANDS])
    for name, result in zip(COMMANDS, results):
        try:
            expect(name, needs(name), result)
        except AssertionError as exc:
            raise AssertionError(f"manage.py {name}: {exc}") from None


def test_stopped_django_database(vendor, tmp_path):
    env = base_env(DATABASE_URL=_stopped_url(vendor, tmp_path))

    def expect(name, required, result):
        if required & {MIGRATIONS, EMR, RAW_TABLES}:
            assert_one_line(result, "cannot connect to ")
            assert "(DATABASE_URL)" in result.stderr
        else:
            assert_ran(result)

    each_command({name: env for name in COMMANDS}, expect)


def test_stopped_emr_database(shared_ready_db, vendor, tmp_path):
    env = {**shared_ready_db.env, "EMR_DATABASE_URL": _stopped_url(vendor, tmp_path)}

    def expect(name, required, result):
        if required & {EMR, RAW_TABLES}:
            assert_one_line(result, "cannot connect to ")
            assert "(EMR_DATABASE_URL)" in result.stderr
        else:  # show_summaries reads Django's database only
            assert_ran(result)

    each_command({name: env for name in COMMANDS}, expect)


def test_unmigrated_database(tmp_path, vendor):
    # init_emr creates the raw tables: it gets a database of its own, the others share one.
    (tmp_path / "init").mkdir()
    (tmp_path / "others").mkdir()
    own, shared = _database(tmp_path / "init", vendor), _database(tmp_path / "others", vendor)
    databases = {name: own if name == "init_emr" else shared for name in COMMANDS}

    def expect(name, required, result):
        if MIGRATIONS in required:
            assert_one_line(result, "is not migrated")
            assert result.stderr.rstrip().endswith("run `manage.py migrate`")
        elif RAW_TABLES in required:
            assert_one_line(result, "the EMR database has no emr_location")
            assert "run `manage.py init_emr`" in result.stderr
        else:  # init_emr creates the raw tables; compile_sql needs no database
            assert_ran(result)

    try:
        each_command({name: database.env for name, (database, _) in databases.items()}, expect)
    finally:
        own[1]()
        shared[1]()


def test_raw_table_missing_a_column(column_dropped_db):
    def expect(name, required, result):
        # init_emr cannot repair a table that exists (CREATE TABLE IF NOT EXISTS): it must
        # say so rather than "ready".
        if RAW_TABLES in required or name == "init_emr":
            assert_one_line(result, "the raw tables lack emr_visit.service_id")
        else:
            assert_ran(result)

    each_command({name: column_dropped_db.env for name in COMMANDS}, expect)


def test_raw_table_missing(ready_db):
    ready_db.query("DROP TABLE emr_shift")
    assert_one_line(run(ready_db.env, "build_summaries", "--dry-run"),
                    "the EMR database has no emr_shift: run `manage.py init_emr`")


# Options argparse rejects: one line and exit status 2, before anything connects.
PARSE_CASES = [
    (["build_summaries", "--since", "2026-13-45"], "argument --since: '2026-13-45' is not a day"),
    (["build_summaries", "--since", "yesterday"], "argument --since: 'yesterday' is not a day"),
    (["build_summaries", "--until", "2026-02-30"], "argument --until: '2026-02-30' is not a day"),
    (["build_summaries", "--wait", "-3"], "argument --wait: must be 0 or more seconds, not -3"),
    (["build_summaries", "--wait", "soon"], "argument --wait: 'soon' is not a number of seconds"),
    (["build_summaries", "--wait", "nan"], "argument --wait: must be 0 or more seconds"),
    (["build_summaries", "--summary", "nope"], "argument --summary: invalid choice: 'nope'"),
    (["build_summaries", "--fulll"], "unrecognized arguments: --fulll"),
    (["show_summaries", "--top", "-2"], "argument --top: must be at least 0, not -2"),
    (["show_summaries", "--top", "many"], "argument --top: 'many' is not a whole number"),
    (["generate_emr"], "the following arguments are required: --visits"),
    (["generate_emr", "--visits", "0"], "argument --visits: must be at least 1, not 0"),
    (["import_synthea"], "the following arguments are required: directory"),
    (["import_synthea", SAMPLE, "--batch-size", "0"], "argument --batch-size: must be at least 1, not 0"),
    (["import_synthea", SAMPLE, "--progress-every", "-5"], "argument --progress-every: must be at least 1"),
]


@pytest.mark.parametrize("args, fragment", PARSE_CASES, ids=[" ".join(c[0]) for c in PARSE_CASES])
def test_malformed_options_are_one_line(args, fragment, capsys):
    from django.core.management import load_command_class

    command = load_command_class("etl", args[0])
    command._called_from_command_line = True  # what run_from_argv sets: the operator's path
    parser = command.create_parser("manage.py", args[0])
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args(args[1:])
    lines = capsys.readouterr().err.splitlines()
    assert exit_.value.code == 2
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"CommandError: {fragment}"), lines[0]
    assert lines[0].endswith(f"(`manage.py {args[0]} --help` lists the options)")


# Values that parse but cannot work, or options that do not go together.
RUN_CASES = [
    # The backfill covers [since, until + 1 day): 9999-12-31 has no next day.
    (["build_summaries", "--since", "9999-12-31"], "the backfill ends on 9999-12-31, past the last day", 1),
    (["build_summaries", "--since", "2026-01-01", "--until", "9999-12-31"], "past the last day it can reach", 1),
    (["build_summaries", "--since", "2026-03-02", "--until", "2026-03-01"], "--until 2026-03-01 is before", 1),
    (["build_summaries", "--status", "--full"], "--full applies to a build, not to --status", 2),
    (["build_summaries", "--status", "--since", "2026-01-01", "--wait", "5"],
     "--since, --wait apply to a build, not to --status", 2),
    (["build_summaries", "--status", "--dry-run", "--summary", "staff_summary"],
     "--dry-run, --summary apply to a build, not to --status", 2),
    (["check_emr", "--examples", "-1"], "--examples must be 0 or more, not -1", 1),
    (["import_synthea", SAMPLE, "--timezone", "Mars/Base"], "unknown time zone 'Mars/Base'", 1),
]


@pytest.mark.parametrize("args, fragment, status", RUN_CASES, ids=[" ".join(c[0]) for c in RUN_CASES])
def test_impossible_options_are_one_error(args, fragment, status, emr):
    from django.core.management import CommandError, call_command

    from etl.models import BuildRun

    with pytest.raises(CommandError) as error:
        call_command(*args)
    assert fragment in str(error.value) and "\n" not in str(error.value)
    assert error.value.returncode == status
    assert not BuildRun.objects.exists(), "a refused option must not start a build"


def test_option_errors_print_one_line(shared_ready_db):
    """The printed form, from a real process: a parse error, a refused backfill, a misuse."""
    cases = [(["build_summaries", "--since", "2026-13-45"], "'2026-13-45' is not a day", 2),
             (["build_summaries", "--until", "9999-12-31"], "past the last day it can reach", 1),
             (["build_summaries", "--status", "--full"], "--full applies to a build, not to --status", 2)]
    results = run_all([(shared_ready_db.env, args) for args, _, _ in cases])
    for (args, fragment, status), result in zip(cases, results):
        assert_one_line(result, fragment, status)
    # None of them changed anything: the one build of the fixture is the only run.
    assert shared_ready_db.query("SELECT count(*) FROM etl_build_run")[0][0] == 1


def test_status_alone_still_reports(shared_ready_db):
    result = run(shared_ready_db.env, "build_summaries", "--status")
    assert_ran(result)
    assert result.stdout.startswith("recent runs:")


def test_ctrl_c_mid_build_exits_130_and_marks_the_run_interrupted(fresh_db):
    database = fresh_db
    setup(database, "migrate", "init_emr", "generate_emr --visits 100000 --days 300 --clinics 5 --seed 4",
          "build_summaries --quiet")
    before = database.tables()
    database.query("UPDATE emr_visit SET status = 'cancelled' WHERE id % 5 = 0 AND status = 'completed'")

    build = database.start("build_summaries", "--full")
    wait_for_line(build, "staff_summary: full rebuild")  # its transaction starts now
    time.sleep(0.3)  # inside the INSERT ... SELECT of a 100,000-visit full rebuild
    build.send_signal(signal.SIGINT)
    status = build.wait(timeout=120)
    stderr = build.stderr.read()
    assert status == 130, stderr
    assert "Traceback" not in stderr
    assert stderr.splitlines() == [
        "CommandError: interrupted (Ctrl-C): the summary being rebuilt keeps its previous rows and its"
        " pending days; the run is recorded as interrupted"
    ]
    assert database.tables() == before, "an interrupted build changed the summaries"
    runs = database.query("SELECT status, error, finished_at IS NOT NULL FROM etl_build_run ORDER BY id")
    assert runs[-1] == ("interrupted", "interrupted (Ctrl-C)", True)
    # The next build completes (the SIGKILL tests show it then equals a full build).
    database.manage("build_summaries", "--quiet")
    assert database.tables() != before


def _closed_pipe(env: dict, *args: str) -> tuple[int, str]:
    """Run a command whose stdout reader has gone before it writes (``| head -0``)."""
    process = subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    process.stdout.close()
    stderr = process.stderr.read()
    return process.wait(timeout=120), stderr


def test_output_into_a_closed_pipe(ready_db):
    status, stderr = _closed_pipe(ready_db.env, "check_emr")
    assert (status, stderr.splitlines()) == (141, [
        "CommandError: the output was closed before the end (broken pipe): the rest was not printed;"
        " the command itself ran to the end"])
    # A build is not cut short by its reader: it runs to the end and is recorded.
    ready_db.query("UPDATE emr_visit SET status = 'no_show' WHERE id % 3 = 0")
    status, stderr = _closed_pipe(ready_db.env, "build_summaries")
    assert status == 141 and "Traceback" not in stderr and len(stderr.splitlines()) == 1
    assert ready_db.query("SELECT status FROM etl_build_run ORDER BY id DESC")[0] == ("succeeded",)
    assert run(ready_db.env, "build_summaries", "--dry-run").stdout.count("up to date") == 2


def test_init_emr_drop_asks_on_a_terminal(ready_db):
    import pty

    visits = ready_db.query("SELECT count(*) FROM emr_visit")[0][0]
    refused = run(ready_db.env, "init_emr", "--drop", stdin=subprocess.DEVNULL)
    assert_one_line(refused, "--drop deletes every raw row: confirm it on a terminal, or add --noinput")
    assert ready_db.query("SELECT count(*) FROM emr_visit")[0][0] == visits
    for answer, dropped in (("no", False), ("yes", True)):
        controller, terminal = pty.openpty()
        try:
            process = subprocess.Popen([sys.executable, "manage.py", "init_emr", "--drop"], cwd=ROOT,
                                       env=ready_db.env, stdin=terminal, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True)
            os.write(controller, f"{answer}\n".encode())
            out, err = process.communicate(timeout=120)
        finally:
            os.close(controller)
            os.close(terminal)
        assert "Type 'yes' to continue" in out
        left = ready_db.query("SELECT count(*) FROM emr_visit")[0][0]
        if dropped:
            assert (process.returncode, left) == (0, 0), err
            assert "raw tables recreated empty" in out
        else:
            assert (process.returncode, left, err.strip()) == (1, visits, "CommandError: nothing was dropped")
    setup(ready_db, "generate_emr --visits 20 --days 2 --clinics 1")
    # Without a terminal, --noinput drops without asking.
    result = run(ready_db.env, "init_emr", "--drop", "--noinput", stdin=subprocess.DEVNULL)
    assert_ran(result)
    assert ready_db.query("SELECT count(*) FROM emr_visit")[0][0] == 0


def test_bad_emr_database_url_is_one_line(shared_ready_db):
    env = {**shared_ready_db.env, "EMR_DATABASE_URL": "mysql://emr@db/emr"}
    assert_one_line(run(env, "check_emr"), "EMR_DATABASE_URL has scheme 'mysql': use postgres://")


def test_sqlite_missing_folder_names_the_path(tmp_path):
    path = tmp_path / "no-such-folder" / "db.sqlite3"
    result = run(base_env(DATABASE_URL=f"sqlite:///{path}"), "build_summaries")
    assert_one_line(result, f"cannot connect to the SQLite database {path} (DATABASE_URL): unable to open")
    assert not path.parent.exists()


def test_bad_database_url_is_one_line():
    result = run(base_env(DATABASE_URL="mysqll://emr@db/emr"), "build_summaries")
    assert_one_line(result, "DATABASE_URL is not a database URL this project can use (Scheme 'mysqll://' is unknown)")


def test_make_demo_creates_its_postgres_database_or_says_how(tmp_path):
    """scripts/ensure_database.py, the first step of `make demo`."""
    script = [sys.executable, "scripts/ensure_database.py"]
    down = subprocess.run(script, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=base_env(DATABASE_URL=f"postgres://postgres@127.0.0.1:{free_port()}/emr_demo"))
    assert down.returncode == 1 and len(down.stderr.splitlines()) == 1
    assert down.stderr.startswith("DATABASE_URL: PostgreSQL does not answer at 127.0.0.1:")
    folder = tmp_path / "new" / "folder"
    made = subprocess.run(script, cwd=ROOT, capture_output=True, text=True, timeout=60,
                          env=base_env(DATABASE_URL=f"sqlite:///{folder / 'demo.sqlite3'}"))
    assert made.returncode == 0 and folder.is_dir()
    server = os.environ.get("TEST_POSTGRES_URL")
    if not server:
        return
    import uuid
    from urllib.parse import urlparse

    name = f"emr_demo_{uuid.uuid4().hex[:8]}"
    url = urlparse(server)._replace(path=f"/{name}").geturl()
    database = ProcessDatabase(url, base_env(DATABASE_URL=url))
    try:
        created = subprocess.run(script, cwd=ROOT, capture_output=True, text=True, timeout=60, env=database.env)
        assert created.returncode == 0, created.stderr
        assert database.query("SELECT current_database()") == [(name,)]
    finally:
        import psycopg2

        parts = urlparse(server)
        admin = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                                 password=parts.password, dbname="postgres")
        admin.autocommit = True
        admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()
