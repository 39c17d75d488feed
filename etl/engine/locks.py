"""One build at a time, per summaries database.

PostgreSQL: a session-level advisory lock on Django's connection. SQLite: an exclusive
``flock`` on a file next to the database. Both are released by the operating system or the
server when the process dies, even by SIGKILL, so a killed build never blocks the next.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import time
from contextlib import contextmanager
from typing import Iterator

from django.db import connection
from sqlalchemy import func, select

from etl import db

LOCK_NAME = "emr-summaries-build"
# Advisory locks take a bigint key: a stable one derived from the lock's name.
ADVISORY_KEY = int.from_bytes(hashlib.sha256(LOCK_NAME.encode()).digest()[:8], "big", signed=True)
POLL_SECONDS = 0.2


class BuildLocked(RuntimeError):
    """Another build holds the lock and did not release it in time."""


def _sqlite_lock_path() -> str:
    name = str(connection.settings_dict["NAME"])
    if name and ":memory:" not in name and "mode=memory" not in name:
        return f"{name}.build-lock"
    # An in-memory database lives in this process only: so does its lock.
    digest = hashlib.sha256(f"{name}:{os.getpid()}".encode()).hexdigest()[:12]
    return os.path.join(tempfile.gettempdir(), f"emr-etl-{digest}.build-lock")


class _AdvisoryLock:
    def try_acquire(self) -> bool:
        return bool(db.fetch_scalar(select(func.pg_try_advisory_lock(ADVISORY_KEY))))

    def release(self) -> None:
        db.fetch_scalar(select(func.pg_advisory_unlock(ADVISORY_KEY)))


class _FileLock:
    def __init__(self, path: str):
        self.path = path
        self.fd: int | None = None

    def try_acquire(self) -> bool:
        import fcntl

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self.fd = fd
        return True

    def release(self) -> None:
        import fcntl

        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def _open_fanout(owner: int | None) -> int | None:
    """The id of a fanned-out build still open (other than ``owner``): its publish will
    replace the live rows, so no other build may start before it is published or cleaned."""
    from etl.models import FanoutRun

    return (
        FanoutRun.objects.filter(status=FanoutRun.Status.RUNNING).exclude(pk=owner)
        .values_list("pk", flat=True).first()
    )


@contextmanager
def build_lock(wait_seconds: float = 0, *, fanout_run: int | None = None) -> Iterator[None]:
    """Hold the build lock for the block; wait up to ``wait_seconds`` for it, then raise
    :class:`BuildLocked`. An open fanned-out build counts as holding it, except for the
    steps of that very run (``fanout_run``)."""
    lock = _AdvisoryLock() if db.vendor() == "postgresql" else _FileLock(_sqlite_lock_path())
    deadline = time.monotonic() + max(wait_seconds, 0)
    while True:
        blocker = None
        if lock.try_acquire():
            blocker = _open_fanout(fanout_run)
            if blocker is None:
                break
            lock.release()
        if time.monotonic() >= deadline:
            waited = f" after waiting {wait_seconds:g} s" if wait_seconds else ""
            what = f"a fanned-out build (fan-out {blocker}) is open" if blocker else "another build of the summaries is running"
            raise BuildLocked(f"{what}{waited}; nothing was changed")
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        lock.release()
