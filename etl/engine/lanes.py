"""Full rebuilds side by side: one thread and one database connection per summary.

A full rebuild on PostgreSQL is a table swap (:mod:`etl.db.swap`): one ``CREATE TABLE …
AS`` that PostgreSQL runs on one core (the role-group and location walks are recursive
CTEs, which keep the planner from parallel plans), then index builds, the gates and
the swap, all in the summary's own transaction. Summaries that do not read each other
are independent, so their rebuilds run at the same time on separate connections, up to
``settings.ETL_BUILD_CONCURRENCY`` at once (README, "Speed"). What each one does and
sees is what it does alone: its own transaction and snapshot, as in a build one after
the other.

- A summary is planned only once the summaries it reads (``depends_on``) are rebuilt,
  so it reads their new rows, as before.
- Two summaries read by the same summary never run at once: a full rebuild marks the
  summaries that read it for a full rebuild (their ``etl_summary_state`` row, in its
  own transaction), and two ``REPEATABLE READ`` transactions may not both update one
  row (``clinic_day`` and ``region_month_patients`` both mark ``region_month``).
- Only full rebuilds of a PostgreSQL database that holds the raw tables too go to a
  lane, and only from outside a transaction (a test's transaction is not visible to
  another connection); every other plan runs on the caller's thread, after the lanes
  are idle.
- A failure stops the build as it would one summary after the other: nothing new
  starts, the rebuilds still running are cancelled (their statement cancelled on the
  server, and no further statement runs) and roll back, and that first failure is
  raised. Rebuilds that finished before it stay published, as earlier summaries do.
  The caller stops the lanes the same way when it fails itself (Ctrl-C, a task's time
  limit).
- Each lane's connection runs its statements through the caller's connection's
  wrappers too (Ctrl-C: ``etl.management.interrupts``).
"""
from __future__ import annotations

import contextvars
import threading
from typing import Callable, Iterable

from django.conf import settings
from django.db import connection, connections

from etl import db
from etl.engine.plan import SummaryPlan
from etl.engine.progress import Progress
from etl.summaries.registry import dependents


STOP_RETRY_SECONDS = 1.0


def concurrency() -> int:
    """How many full rebuilds may run at once (``ETL_BUILD_CONCURRENCY``; 1: one at a time)."""
    return max(1, int(getattr(settings, "ETL_BUILD_CONCURRENCY", 1)))


class Cancelled(Exception):
    """A lane's rebuild was stopped because the build failed elsewhere."""


class Lanes:
    """Runs the full rebuilds of a build in threads, for :func:`etl.engine.service.build_summaries`."""

    def __init__(self, run: Callable[[SummaryPlan], object], progress: Progress, order: Iterable[str]):
        self._run = run
        self._progress = progress
        self._order = {name: number for number, name in enumerate(order)}
        self._slots = threading.Semaphore(concurrency())
        self._lock = threading.Lock()
        self._threads: dict[str, threading.Thread] = {}
        self._connections: dict[str, object] = {}  # running lanes' driver connections
        self._results: dict[str, object] = {}
        self._failure: BaseException | None = None  # the first, which stopped the others
        self._stopping = False

    def takes(self, p: SummaryPlan) -> bool:
        """Whether ``p`` may run in a lane (see the module docstring)."""
        return (p.full and concurrency() > 1 and db.vendor() == "postgresql" and db.emr_engine() is None
                and not connection.in_atomic_block)

    def say(self, message: str, **step) -> None:
        """Progress, never interleaved with a lane's."""
        with self._lock:
            self._progress(message, **step)

    def start(self, p: SummaryPlan) -> None:
        """Start ``p``'s rebuild in a lane once one is free, and once no running rebuild
        marks a summary it marks too; raise a lane's failure first."""
        marks = dependents(p.summary.name)
        self.wait_for([name for name in self._threads if dependents(name) & marks])
        self._slots.acquire()
        if self._stopping:
            self._slots.release()
            self.raise_failure()
            raise Cancelled("the build was stopped")
        wrappers = [*connection.execute_wrappers, self._unless_stopped]
        context = contextvars.copy_context()
        thread = threading.Thread(target=self._lane, args=(p, wrappers, context),
                                  name=f"build {p.summary.name}", daemon=False)
        self._threads[p.summary.name] = thread
        thread.start()

    def _unless_stopped(self, execute, sql, params, many, context):
        if self._stopping:
            raise Cancelled("the build was stopped")
        return execute(sql, params, many, context)

    def _lane(self, p: SummaryPlan, wrappers: list, context: contextvars.Context) -> None:
        name = p.summary.name
        try:
            connection.execute_wrappers[:] = wrappers
            connection.ensure_connection()
            with self._lock:
                self._connections[name] = connection.connection
            result = context.run(self._run, p)
            with self._lock:
                self._results[name] = result
        except BaseException as exc:  # KeyboardInterrupt too: the caller re-raises it
            with self._lock:  # the first failure stops the build, in one step: no other
                first = not self._stopping  # failure replaces it, no new lane starts
                if first:
                    self._failure = exc
                    self._stopping = True
            if first:
                self._cancel()
        finally:
            with self._lock:
                self._connections.pop(name, None)
            connections.close_all()  # this thread's connections only
            self._slots.release()

    def stop(self) -> None:
        """Stop every running lane: no further statement runs, the running one is
        cancelled on the server; each lane rolls back."""
        with self._lock:
            self._stopping = True
        self._cancel()

    def _cancel(self) -> None:
        with self._lock:
            running = list(self._connections.values())
        for driver_connection in running:
            try:
                driver_connection.cancel()
            except Exception:  # closed meanwhile: nothing to cancel
                pass

    def wait_for(self, names: Iterable[str]) -> None:
        """Wait until the rebuilds of ``names`` (those running) are done; raise a failure."""
        for name in names:
            thread = self._threads.get(name)
            if thread is not None:
                thread.join()
        self.raise_failure()

    def wait_all(self) -> None:
        """Wait until every lane is done; raise the failure that stopped them, if any."""
        self.finish()
        self.raise_failure()

    def finish(self) -> list:
        """Wait until every lane is done (whatever happened); the results of those that
        succeeded, in the summaries' order. While stopping, the lanes' statements are
        cancelled again every second: a statement sent just after a cancel request
        reached an idle server would otherwise run to its end."""
        for thread in list(self._threads.values()):
            while thread.is_alive():
                thread.join(STOP_RETRY_SECONDS)
                if self._stopping and thread.is_alive():
                    self._cancel()
        return [self._results[name] for name in sorted(self._results, key=self._order.__getitem__)]

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure
