"""Ctrl-C for commands run from a terminal: stop at once, even inside a long statement.

Python turns SIGINT into ``KeyboardInterrupt`` only between bytecodes, so a statement
running in the database driver would finish first (a full rebuild's INSERT can take
minutes). While a command runs, :func:`interruptible` therefore:

- installs a SIGINT handler that records the request, ignores a second Ctrl-C (so the
  cleanup that follows — a rollback, the ledger row — is not cut short) and raises
  ``KeyboardInterrupt`` at once unless a statement is running on Django's connection;
- on PostgreSQL, makes psycopg2 wait for results in Python (a *wait callback*), which
  sends the server a cancel request when Ctrl-C was pressed;
- on SQLite, installs a progress handler that aborts the running statement;
- wraps every statement on Django's connections: one that fails after Ctrl-C raises
  ``KeyboardInterrupt`` instead of the driver's "canceled"/"interrupted" error, so the
  transaction rolls back and the caller (the build's ledger) sees an interruption.

Only commands started from the command line get this (not ``call_command`` in tests or
the Celery worker). COPY cannot run under a wait callback: ``etl.db.EmrSession.dbapi_cursor``
suspends it around the bulk paths.
"""
from __future__ import annotations

import select
import signal
import threading
from contextlib import ExitStack, contextmanager
from typing import Iterator

from django.db import connections
from django.db.backends.signals import connection_created

# SQLite virtual-machine steps between two looks at the flag (a few milliseconds).
SQLITE_PROGRESS_STEPS = 20000
# How often psycopg2's wait loop looks at the flag while the server works.
POLL_SECONDS = 0.1


class _State:
    requested = False
    in_statement = False


state = _State()


def requested() -> bool:
    """Whether Ctrl-C was pressed during this command."""
    return state.requested


def _on_sigint(signum, frame) -> None:
    state.requested = True
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if not state.in_statement:
        raise KeyboardInterrupt
    # A statement is running: the wait callback or the progress handler cancels it, and
    # the statement wrapper raises KeyboardInterrupt when it returns.


def _wait_cancelling(conn) -> None:
    """psycopg2 wait callback: wait for the server, cancel the statement on Ctrl-C."""
    from psycopg2.extensions import POLL_OK, POLL_READ, POLL_WRITE

    cancelled = False
    while True:
        status = conn.poll()
        if status == POLL_OK:
            return
        if state.requested and not cancelled:
            conn.cancel()
            cancelled = True  # the next poll() raises QueryCanceledError
        if status == POLL_READ:
            select.select([conn.fileno()], [], [], POLL_SECONDS)
        elif status == POLL_WRITE:
            select.select([], [conn.fileno()], [], POLL_SECONDS)
        else:
            raise conn.OperationalError(f"bad state from poll: {status}")


def _statement(execute, sql, params, many, context):
    # Only the main thread's statements hold Ctrl-C back: the signal handler runs there. A
    # build's lanes (etl.engine.lanes) run this wrapper too; were their statements counted,
    # one ending while the main thread waits in its own would let the handler raise inside
    # the driver, which then closes the main connection (and the ledger row stays open).
    main = threading.current_thread() is threading.main_thread()
    if main:
        state.in_statement = True
    try:
        return execute(sql, params, many, context)
    except Exception:
        if state.requested:
            raise KeyboardInterrupt from None
        raise
    finally:
        if main:
            state.in_statement = False


def _sqlite_progress() -> int:
    return 1 if state.requested else 0


def _on_connection(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.set_progress_handler(_sqlite_progress, SQLITE_PROGRESS_STEPS)


@contextmanager
def interruptible() -> Iterator[None]:
    """Make Ctrl-C stop the command promptly and cleanly for the duration of the block."""
    from psycopg2.extensions import get_wait_callback, set_wait_callback

    previous_handler = signal.signal(signal.SIGINT, _on_sigint)
    previous_wait = get_wait_callback()
    set_wait_callback(_wait_cancelling)
    connection_created.connect(_on_connection)
    state.requested = state.in_statement = False
    try:
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(_statement))
            yield
    finally:
        connection_created.disconnect(_on_connection)
        set_wait_callback(previous_wait)
        signal.signal(signal.SIGINT, previous_handler)
