"""The base of every ``etl`` command: one clear line and a sensible exit status on every
path an operator can reach, instead of a traceback.

- Before ``handle`` runs, the checks a command declares (:attr:`EtlCommand.needs`):
  Django's database answers and is migrated, the EMR database answers, its raw tables
  have every column. Each fails with one line saying what to do.
- A wrong option prints one line (not argparse's usage block) and exits 2.
- Any error left uncaught becomes one line (``--traceback`` shows the traceback).
- Ctrl-C stops the command promptly, even inside a long statement, and exits 130
  (:mod:`etl.management.interrupts`); the build records its run as interrupted.
- Output piped into a reader that stops early (``| head``) ends quietly: the rest of the
  output is dropped, the work itself finishes, one line says so and the exit status is
  141 (what a shell reports for a process stopped by a closed pipe).

Exit statuses: 0 done, 1 error, 2 wrong options, 130 interrupted, 141 output closed early;
``build_summaries`` adds 3 (a publish gate failed) and 75 (another build runs).
"""
from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from etl.db.schema import checked_once
from etl.management import interrupts, preflight

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE

MIGRATIONS, EMR, RAW_TABLES = "migrations", "emr", "raw_tables"


class _PipeGuard:
    """A stream that stops writing, without an error, once its reader has gone."""

    def __init__(self, stream):
        self._stream = stream
        self.broken = False

    def _call(self, method: str, *args) -> Any:
        if self.broken:
            return None
        try:
            return getattr(self._stream, method)(*args)
        except BrokenPipeError:
            self.broken = True
            # What is still buffered goes nowhere, also when Python flushes at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
            return None

    def write(self, text: str) -> Any:
        return self._call("write", text)

    def flush(self) -> None:
        self._call("flush")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _one_line_error(parser, message: str) -> None:
    """argparse's error, as one line: what is wrong, and where the usage is."""
    if not parser.called_from_command_line:
        raise CommandError(f"Error: {message}", returncode=EXIT_USAGE)
    sys.stderr.write(f"CommandError: {message} (`{parser.prog} --help` lists the options)\n")
    sys.exit(EXIT_USAGE)


class EtlCommand(BaseCommand):
    """Subclass this for every command of the ``etl`` app (``tests/test_operator_errors.py``
    runs each one against a stopped and an unmigrated database to hold it to that).

    ``needs`` lists the checks made before ``handle``: ``"migrations"`` (Django's database
    answers and is migrated), ``"emr"`` (the EMR database answers), ``"raw_tables"`` (the
    EMR database holds every raw table with every column; implies ``"emr"``)."""

    needs: tuple[str, ...] = (MIGRATIONS, RAW_TABLES)
    # Ends the advice "run `manage.py init_emr` ..." when raw tables are missing.
    raw_tables_hint = "and load the raw data"
    raw_tables_with_change_log = True
    interrupted_message = "interrupted (Ctrl-C)"

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.error = lambda message: _one_line_error(parser, message)
        return parser

    def preflight(self, options: dict) -> None:
        """Make the checks of :attr:`needs`; override to vary them with the options."""
        if MIGRATIONS in self.needs:
            preflight.migrated()
        if RAW_TABLES in self.needs:
            preflight.raw_tables(self.raw_tables_hint, self.raw_tables_with_change_log)
        elif EMR in self.needs:
            preflight.emr_database()

    def run_from_argv(self, argv):
        guard = _PipeGuard(self.stdout._out)
        self.stdout._out = guard
        # stderr too: `2>&1 | head` closes it as well, and Django writes errors there.
        self.stderr._out = _PipeGuard(self.stderr._out)
        try:
            with interrupts.interruptible():
                super().run_from_argv(argv)
        finally:
            guard.flush()
        if guard.broken:
            self.stderr.write(
                "CommandError: the output was closed before the end (broken pipe): the rest was not printed;"
                " the command itself ran to the end"
            )
            sys.exit(EXIT_BROKEN_PIPE)

    def execute(self, *args, **options):
        try:
            with checked_once():  # what the preflight found complete, the command need not check again
                self.preflight(options)
                return super().execute(*args, **options)
        except KeyboardInterrupt:
            raise CommandError(self.interrupted_message, returncode=EXIT_INTERRUPTED) from None
        except Exception as exc:
            if interrupts.requested():
                raise CommandError(self.interrupted_message, returncode=EXIT_INTERRUPTED) from None
            if isinstance(exc, CommandError):
                if "\n" in str(exc):  # one line, whatever a service put in its message
                    raise CommandError(" ".join(str(exc).split()), returncode=exc.returncode) from exc
                raise
            if options.get("traceback"):
                raise
            raise CommandError(self.error_line(exc)) from exc

    @staticmethod
    def error_line(exc: Exception) -> str:
        """One line for an error no command turned into a message of its own."""
        from django.db import Error as DjangoDatabaseError
        from sqlalchemy.exc import SQLAlchemyError

        message = preflight.first_line(exc)
        if isinstance(exc, (DjangoDatabaseError, SQLAlchemyError)):
            return f"database error: {message}"
        if isinstance(exc, OSError) and exc.filename:
            return f"{exc.strerror or message}: {exc.filename}"
        return f"{type(exc).__name__}: {message} (--traceback shows where)"
