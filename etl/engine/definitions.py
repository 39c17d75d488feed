"""Summary definitions: the hash of a summary's compiled query, and the code stamp under
which a ``manage.py build_summaries`` process may reuse a hash a build recorded instead
of compiling the query again (README, "Speed").

A summary is rebuilt in full when its definition hash differs from the one it was built
with (:mod:`etl.engine.plan`).
"""
from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from pathlib import Path

import django
import sqlalchemy

from etl import db
from etl.summaries import SUMMARIES, Summary


_DEFINITIONS: dict[tuple[int, str], tuple[Summary, str]] = {}  # (id, dialect) -> (the summary, its hash)
_TRUSTED_STAMPS = False  # set by manage.py build_summaries: see trust_code_stamps()
CODE_ROOT = Path(__file__).resolve().parent.parent  # the etl package


def definition_hash(summary: Summary) -> str:
    """sha256 of the summary's compiled query for the EMR dialect and its columns.
    Compiling takes tens of milliseconds a summary; a summary (frozen: its declaration,
    query builder and table) compiles to the same text for a dialect every time, so a
    process that builds again (a worker, the scheduler) compiles it once."""
    key = (id(summary), db.emr_vendor())
    known = _DEFINITIONS.get(key)
    if known is None or known[0] is not summary:  # held, so its id is never another's
        sql = db.literal_sql(summary.rows(None), key[1])
        known = _DEFINITIONS[key] = (summary, hashlib.sha256(f"{summary.columns}\n{sql}".encode()).hexdigest())
    return known[1]


def trust_code_stamps() -> None:
    """For a process that runs the code as it is on disk (``manage.py build_summaries``):
    nothing in it replaces a summary or the functions that compile one, so a definition
    hash compiled by such a process with the same :func:`code_stamp` is this process's
    too. Not for ``call_command``, a worker or tests, where a summary can be replaced at
    runtime: they compile, and record no stamp."""
    global _TRUSTED_STAMPS
    _TRUSTED_STAMPS = True


@lru_cache(maxsize=None)
def code_stamp() -> str:
    """sha256 of everything a summary's compiled query comes from: every source file of
    the etl package (declarations, query builders, compiler, models), the raw tables'
    DDL they are reflected from (``sql/emr_schema.sql``, outside the package), the
    SQLAlchemy, Django and Python versions and the EMR dialect's name. Reading the files
    takes a few milliseconds; compiling the six summaries, a tenth of a second."""
    from etl.db.tables import SCHEMA_FILE

    digest = hashlib.sha256(f"{sqlalchemy.__version__}\n{django.__version__}\n{sys.version}\n".encode())
    for path in sorted(CODE_ROOT.rglob("*.py")) + [SCHEMA_FILE]:
        digest.update(f"{path.name if path == SCHEMA_FILE else path.relative_to(CODE_ROOT).as_posix()}\n".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def stamp_for(summary: Summary) -> str:
    """The stamp to compare and record with ``summary``'s definition hash: empty unless
    this process trusts stamps and ``summary`` is the registry's own."""
    if not _TRUSTED_STAMPS or SUMMARIES.get(summary.name) is not summary:
        return ""
    return hashlib.sha256(f"{code_stamp()}\n{db.emr_vendor()}".encode()).hexdigest()


def definition_of(summary: Summary, state) -> tuple[str, str]:
    """(definition hash, stamp) of ``summary``: the hash its last build recorded when
    compiled under this very stamp, else compiled now."""
    stamp = stamp_for(summary)
    if stamp and state is not None and state.definition_stamp == stamp:
        return state.definition_hash, stamp
    return definition_hash(summary), stamp
