"""Which failures are worth retrying: the database or the broker could not be reached.

A scheduled task retries those, with a capped backoff, and nothing else: a failed publish
gate, bad data or a bug fails the same way every time, and is recorded once in the ledger
instead of being retried until the retries run out. Errors are classified by the exception
chain (the build wraps database errors in its own one-line ``BuildError``)."""
from __future__ import annotations

import random

# SQLSTATE classes of a lost or refused connection: 08 connection exception; 57P01-57P03
# the server is shutting down, crashed, or cannot accept connections yet.
_CONNECTION_SQLSTATES = ("08", "57P01", "57P02", "57P03")


def _chain(exc: BaseException):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _is_unreachable_one(exc: BaseException) -> bool:
    if isinstance(exc, (ConnectionError, TimeoutError)):  # sockets, redis-py's and kombu's own
        return True
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    if module.startswith(("redis", "kombu")) and name in {"ConnectionError", "TimeoutError", "OperationalError"}:
        return True
    if module.startswith("psycopg2") and name in {"OperationalError", "InterfaceError"}:
        # psycopg2 raises these without a SQLSTATE when it cannot connect or the connection
        # drops; with one, the server answered (a deadlock, a cancelled statement): data, not network.
        code = getattr(exc, "pgcode", None)
        return code is None or code.startswith(_CONNECTION_SQLSTATES)
    if module == "sqlite3" and name == "OperationalError":
        return "unable to open database file" in str(exc)
    return False


def is_unreachable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database or the broker could not be
    reached, so the same call may well succeed later."""
    return any(_is_unreachable_one(e) for e in _chain(exc))


def backoff_seconds(retries: int, cap: float, base: float = 2.0) -> float:
    """Seconds before retry number ``retries + 1``: doubling from ``base``, never more than
    ``cap``, with up to a quarter of jitter so workers that failed together do not return together."""
    delay = min(cap, base * 2 ** max(retries, 0))
    return delay * (0.75 + random.random() / 4)
