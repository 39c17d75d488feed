"""Is the change log still telling the whole truth? Checked at every build.

The triggers of ``sql/triggers/`` log every change of ``emr_visit`` and ``emr_shift``, but
only while they exist, are enabled, and sit on the tables the build reads. Ways around
them, and what catches each:

- a raw table dropped and created again, or another table swapped in by rename: the
  table's **identity** changes (PostgreSQL: its ``pg_class`` oid, which survives TRUNCATE,
  VACUUM FULL and CLUSTER; SQLite: its root page), and triggers do not follow to the new
  table. Each summary records the identity it was built from; another one means a full
  rebuild of every summary that reads the table. ``init_emr`` also logs "everything
  changed" when it creates a raw table, which catches a re-creation on SQLite that reuses
  the root page;
- a trigger dropped (SQLite ``DROP TRIGGER``), disabled (PostgreSQL ``ALTER TABLE ...
  DISABLE TRIGGER``) or not ``ENABLE ALWAYS`` (it would not fire for replicated writes
  under ``session_replication_role = replica``): every build rebuilds the summaries that
  read the table in full, saying why, until ``manage.py init_emr`` reinstalls them;
- an EMR database fed by logical replication (a subscriber): the apply process fires
  row-level triggers only, so the statement-level ones never log a replicated row. On a
  table a subscription writes into, the row-level trigger of ``init_emr --replica`` is
  required (``init_emr`` installs it by itself once the subscription exists);
- triggers disabled during a load and enabled again before the next build leave no trace
  here: ``build_summaries --verify`` finds those days (:mod:`etl.engine.fingerprints`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Iterable

from sqlalchemy import BigInteger, cast, column, func, select, table
from sqlalchemy.dialects.postgresql import OID

from etl import db
from etl.db.schema import subscribed_tables
from etl.db.tables import CAPTURED_TABLES
# PostgreSQL pg_trigger.tgenabled: 'A' fires always, 'O' only outside replica sessions
# (the default), 'R' only in replica sessions, 'D' never.
ALWAYS = "A"
# The row-level trigger of a logical-replication subscriber (sql/triggers/postgresql-replica.sql).
ROW_TRIGGER = "etl_changes_row"


def expected_triggers(vendor: str, table_name: str, replica: bool = False) -> tuple[str, ...]:
    """The names of the change-capture triggers ``init_emr`` installs on a raw table
    (``replica``: on a logical-replication subscriber, ``init_emr --replica``)."""
    if vendor == "postgresql":
        return tuple(f"etl_changes_{op}" for op in (("row", "truncate") if replica else
                                                      ("insert", "update", "delete", "truncate")))
    return tuple(f"etl_{table_name}_{op}" for op in ("insert", "update", "delete", "replace", "reid"))


@dataclass(frozen=True)
class CaptureState:
    """Each captured table's identity, and what is wrong with its triggers (if anything)."""

    identity: dict[str, str] = field(default_factory=dict)
    problems: dict[str, str] = field(default_factory=dict)

    def identity_of(self, tables: Iterable[str]) -> str:
        """The identity of some tables as one JSON text, stored with what was built."""
        return json.dumps({name: self.identity.get(name) for name in sorted(tables)}, sort_keys=True)

    def full_reason(self, tables: Iterable[str], built_identity: str) -> str | None:
        """Why a summary reading ``tables`` must be rebuilt in full, if it must."""
        tables = sorted(tables)
        broken = [self.problems[name] for name in tables if name in self.problems]
        if broken:
            return "change capture is not working (" + "; ".join(broken) + "): run `manage.py init_emr`"
        if not built_identity:
            return None  # built before identities were recorded: nothing to compare with
        before = json.loads(built_identity)
        replaced = [name for name in tables if name in before and before[name] != self.identity.get(name)]
        if replaced:
            return f"{', '.join(replaced)} replaced since the last build (another table of that name)"
        return None


def _postgres(name: str) -> tuple[str | None, str | None]:
    pg_trigger = table("pg_trigger", column("tgrelid"), column("tgname"), column("tgenabled"))
    relation = func.to_regclass(name)
    oid = db.emr_fetch_all(select(cast(cast(relation, OID), BigInteger)))[0][0]
    if oid is None:
        return None, None
    states = dict(db.emr_fetch_all(
        select(pg_trigger.c.tgname, pg_trigger.c.tgenabled).where(pg_trigger.c.tgrelid == relation)
    ))
    # A subscriber's apply process fires row-level triggers only: its tables need those.
    subscribed = bool(subscribed_tables((name,)))
    wrong: dict[str, list[str]] = {}
    for trigger in expected_triggers("postgresql", name, replica=subscribed or ROW_TRIGGER in states):
        state = states.get(trigger)
        if state != ALWAYS:
            what = {None: "missing", "D": "disabled"}.get(state, "not ENABLE ALWAYS (replicated writes go unlogged)")
            if state is None and subscribed and trigger == ROW_TRIGGER:
                what = "missing (a logical-replication subscriber fires row-level triggers only)"
            wrong.setdefault(what, []).append(trigger)
    return f"oid {oid}", _problem(name, wrong)


def _sqlite(name: str) -> tuple[str | None, str | None]:
    master = table("sqlite_master", column("type"), column("name"), column("tbl_name"), column("rootpage"))
    pages = db.emr_fetch_all(select(master.c.rootpage).where(master.c.type == "table", master.c.name == name))
    if not pages:
        return None, None
    present = {row[0] for row in db.emr_fetch_all(
        select(master.c.name).where(master.c.type == "trigger", master.c.tbl_name == name)
    )}
    missing = [t for t in expected_triggers("sqlite", name) if t not in present]
    return f"rootpage {pages[0][0]}", _problem(name, {"missing": missing} if missing else {})


def _problem(table_name: str, wrong: dict[str, list[str]]) -> str | None:
    """One short text for a table's trigger problems, e.g. ``emr_visit: etl_x missing``."""
    if not wrong:
        return None
    return f"{table_name}: " + "; ".join(f"{', '.join(triggers)} {what}" for what, triggers in wrong.items())


def inspect() -> CaptureState:
    """The captured tables' identities and trigger problems in the EMR database now."""
    probe = _postgres if db.emr_vendor() == "postgresql" else _sqlite
    identity, problems = {}, {}
    for name in CAPTURED_TABLES:
        token, problem = probe(name)
        identity[name] = token
        if problem:
            problems[name] = problem
    return CaptureState(identity, problems)
