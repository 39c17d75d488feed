"""A full rebuild on PostgreSQL as a table swap: build a fresh table, then rename it in.

Maintaining indexes row by row costs more than the aggregation (README, "Speed"), and
PostgreSQL never plans an ``INSERT ... SELECT`` in parallel but does plan a
``CREATE TABLE ... AS``. So, inside the summary's one build transaction:

1. ``CREATE TABLE <staging> AS SELECT`` the new rows, each column cast to the model's type,
   ids continuing the live table's sequence;
2. ``NOT NULL``, the primary key, the identity and the model's indexes and constraints,
   rendered by Django's schema editor (so they are exactly what the migrations create)
   under temporary names; then ``ANALYZE`` (a freshly loaded table otherwise stalls the
   rename behind autovacuum);
3. the caller runs the publish gates on the staging table;
4. the swap, short: ``LOCK`` the live table (with a ``lock_timeout``, retried, so a long
   reader delays the swap but never queues other readers for long), copy its owner and
   grants, ``DROP`` it, rename the staging table, its indexes and its sequence to the
   live names. Commit follows at once.

Readers keep reading the old table during steps 1-3 and see the new one after the
commit: never a mix, never an empty table (a ``REPEATABLE READ`` reader whose snapshot
predates the commit is the exception, as with ``TRUNCATE``). The staging table is created
by the same uncommitted transaction, so a killed build leaves nothing behind; a stray
staging table of any other origin is dropped by the next full build.

A table carrying things the swap would not carry over (views or foreign keys that
depend on it, triggers, row security, storage options, publications, column grants,
another tablespace, inheritance, an owner this role cannot give tables to, columns
the model does not have) is rebuilt
in place instead (:mod:`etl.db.fastload`); :func:`blockers` says why.
"""
from __future__ import annotations

from dataclasses import dataclass

from django.apps import apps
from django.db import connection
from sqlalchemy import BigInteger, MetaData, Table, bindparam, cast, func, select, text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import ClauseElement

from etl.db import fastload

STAGING_PREFIX = "etl_swap_"
MAX_NAME = 63  # PostgreSQL's identifier length
PRIVILEGES = {"SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "MAINTAIN", "USAGE"}


class CreateTableAs(Executable, ClauseElement):
    """``CREATE TABLE name AS <select>`` (SQLAlchemy has no construct for it)."""

    inherit_cache = False

    def __init__(self, name: str, query):
        self.name, self.query = name, query


@compiles(CreateTableAs)
def _compile_ctas(element: CreateTableAs, compiler, **kw) -> str:
    name = compiler.preparer.quote_identifier(element.name)
    return f"CREATE TABLE {name} AS {compiler.process(element.query, **kw)}"


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def staging_name(table_name: str) -> str:
    return (STAGING_PREFIX + table_name)[:MAX_NAME]


def _temporary_name(number: int, name: str) -> str:
    return f"{STAGING_PREFIX}{number}_{name}"[:MAX_NAME]


# --- what the catalog says about the live table ------------------------------------------

BLOCKERS = text("""
SELECT array_remove(ARRAY[
  CASE WHEN c.relkind <> 'r' THEN 'it is not a plain table' END,
  CASE WHEN EXISTS (SELECT 1 FROM pg_depend d JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass
                    AND d.objid = r.oid WHERE d.refobjid = c.oid AND r.ev_class <> c.oid)
       THEN 'views depend on it' END,
  CASE WHEN EXISTS (SELECT 1 FROM pg_constraint f WHERE f.confrelid = c.oid) THEN 'foreign keys point at it' END,
  CASE WHEN EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid AND NOT t.tgisinternal)
       THEN 'it has triggers' END,
  CASE WHEN c.relrowsecurity OR EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid)
       THEN 'it has row security' END,
  CASE WHEN c.reloptions IS NOT NULL THEN 'it has storage options' END,
  CASE WHEN c.reltablespace <> 0 THEN 'it lives in another tablespace' END,
  CASE WHEN EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid OR i.inhparent = c.oid)
       THEN 'it takes part in inheritance' END,
  CASE WHEN EXISTS (SELECT 1 FROM pg_publication_rel p WHERE p.prrelid = c.oid) THEN 'it is published' END,
  CASE WHEN EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attacl IS NOT NULL)
       THEN 'it has column grants' END,
  CASE WHEN NOT pg_has_role(current_user, c.relowner, 'MEMBER')
       THEN 'its owner is a role this user cannot act as' END
], NULL)
FROM pg_class c WHERE c.oid = to_regclass(:name)
""")


def blockers(table: Table) -> list[str]:
    """Why ``table`` (a summary's Table) cannot be swapped (empty: it can), read from the
    catalog. Columns that differ from the model are one reason: the swap would drop what
    the model does not know."""
    rows = _fetch(BLOCKERS, name=_q(table.name))
    if not rows:
        return ["the table is missing"]
    reasons = list(rows[0][0])
    with connection.cursor() as cursor:
        live = [c.name for c in connection.introspection.get_table_description(cursor, table.name)]
    if live != [c.name for c in table.columns]:
        reasons.append("its columns differ from the model")
    return reasons


def _fetch(sql, **params) -> list[tuple]:
    from etl import db  # the bridge runs every statement

    stmt = text(sql) if isinstance(sql, str) else sql
    return db.fetch_all(stmt.bindparams(**params) if params else stmt)


def _sequence(table_name: str) -> tuple[str | None, int]:
    """The live table's id sequence (name, last value handed out; 0 when none)."""
    rows = _fetch("SELECT pg_get_serial_sequence(:t, 'id')", t=_q(table_name))
    qualified = rows[0][0] if rows else None
    if not qualified:
        return None, 0
    last = _fetch("SELECT coalesce(pg_sequence_last_value(CAST(:s AS regclass)), 0)", s=qualified)[0][0]
    name = _fetch("SELECT relname FROM pg_class WHERE oid = CAST(:s AS regclass)", s=qualified)[0][0]
    return name, int(last)


def _pk_name(table_name: str) -> str | None:
    return fastload._primary_key_name(table_name)


# --- the plan ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Swap:
    """One table swap: :attr:`build` runs before the gates, then :attr:`lock`, then
    :func:`publish` (read from the catalog once the lock is held)."""

    table_name: str
    staging: Table
    sequence: str | None
    renames: tuple[tuple[str, str], ...]
    build: tuple[Executable, ...]

    @property
    def readable(self):
        """The staging table under the live table's name, for reading (the gates)."""
        return self.staging.alias(self.table_name)

    @property
    def lock(self) -> Executable:
        return text(f"LOCK TABLE {_q(self.table_name)} IN ACCESS EXCLUSIVE MODE")


def plan(model_label: str, table: Table, columns: list[str], rows) -> Swap:
    """The swap of ``table`` (the summary's Table) for a new one holding ``rows`` (a
    select of ``columns`` in order)."""
    model = apps.get_model(model_label)
    name = table.name
    staging_table = staging_name(name)
    sequence, last_id = _sequence(name)
    built = rows.subquery("built")
    query = select(
        cast(func.row_number().over() + bindparam("first_id", last_id), BigInteger).label("id"),
        *(cast(col, table.c[column].type).label(column) for col, column in zip(built.c, columns)),
    )
    editor = fastload._editor()
    keys: list[Executable] = []
    ddl = [(_pk_name(name) or f"{name}_pkey", editor._create_primary_key_sql(model, model._meta.pk))]
    ddl += [(item.name, item.create_sql(model, editor)) for item in (*model._meta.indexes, *model._meta.constraints)]
    renames = []
    for number, (final, statement) in enumerate(ddl, start=1):
        temporary = _temporary_name(number, final)
        statement.rename_table_references(name, staging_table)
        statement.parts["name"] = _q(temporary)
        keys.append(text(str(statement)))
        renames.append((temporary, final))
    not_null = ", ".join(f"ALTER COLUMN {_q(c.name)} SET NOT NULL" for c in table.columns if not c.nullable)
    staged = _q(staging_table)
    temporary_sequence = _temporary_name(0, sequence or f"{name}_id_seq")
    build = (
        text(f"DROP TABLE IF EXISTS {staged}"),
        CreateTableAs(staging_table, query),
        text(f"ALTER TABLE {staged} {not_null}"),
        *keys,
        text(f"ALTER TABLE {staged} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY"
             f" (SEQUENCE NAME {_q(temporary_sequence)})"),
        # The sequence resumes after the highest id written (or the old table's last), and
        # reports it as its last value, which the next swap numbers from.
        text(f"SELECT setval(:sequence, greatest(max(id), :last, 1), max(id) IS NOT NULL OR :last > 0)"
             f" FROM {staged}").bindparams(sequence=_q(temporary_sequence), last=last_id),
        fastload.analyze(staging_table),
    )
    if sequence:
        renames.append((temporary_sequence, sequence))
    staging = table.to_metadata(MetaData(), name=staging_table)
    return Swap(name, staging, sequence and temporary_sequence, tuple(renames), build)


def publish(swap: Swap) -> list[Executable]:
    """After :attr:`Swap.lock`: the live table's owner and grants onto the staging
    table, drop the live table, rename the staging table, its indexes and sequence."""
    name, staged = swap.table_name, swap.staging.name
    out = _grants(name, staged, "TABLE")
    if swap.sequence:
        old_sequence = next(new for old, new in swap.renames if old == swap.sequence)
        out += _grants(old_sequence, swap.sequence, "SEQUENCE", owner=False)
    out += [text(f"DROP TABLE {_q(name)}"), text(f"ALTER TABLE {_q(staged)} RENAME TO {_q(name)}")]
    out += [text(f"ALTER {'SEQUENCE' if old == swap.sequence else 'INDEX'} {_q(old)} RENAME TO {_q(new)}")
            for old, new in swap.renames]
    return out


# --- owner and grants -------------------------------------------------------------------

ACL = """
SELECT pg_get_userbyid(c.relowner),
       coalesce(array_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
                          || ':' || a.privilege_type || ':' || a.is_grantable::text)
                FILTER (WHERE a.grantee IS NOT NULL), '{}')
FROM pg_class c LEFT JOIN LATERAL aclexplode(c.relacl) a ON true
WHERE c.oid = to_regclass(:t) GROUP BY c.relowner
"""


def _acl(name: str) -> tuple[str, list[str]] | None:
    """(owner, ["grantee:PRIVILEGE:grantable", ...]) of a relation; None when missing."""
    rows = _fetch(ACL, t=_q(name))
    return (rows[0][0], list(rows[0][1])) if rows else None


def _grants(source: str, target: str, kind: str, owner: bool = True) -> list[Executable]:
    """Statements giving ``target`` the owner (for a table) and privileges of ``source``.
    A relation never granted anything has a NULL ACL (the owner's defaults): then only
    what default privileges gave ``target`` is revoked."""
    live, staged = _acl(source), _acl(target)
    if live is None:
        return []
    out: list[Executable] = []
    if owner and live[0] != _fetch("SELECT current_user")[0][0]:
        out.append(text(f"ALTER {kind} {_q(target)} OWNER TO {_q(live[0])}"))
    for grantee in sorted({entry.rsplit(":", 2)[0] for entry in (staged[1] if staged else [])}):
        if grantee != live[0]:
            out.append(text(f"REVOKE ALL ON {kind} {_q(target)} FROM {_who(grantee)}"))
    for entry in live[1]:
        grantee, privilege, grantable = entry.rsplit(":", 2)
        if privilege in PRIVILEGES:
            option = " WITH GRANT OPTION" if grantable == "true" else ""
            out.append(text(f"GRANT {privilege} ON {kind} {_q(target)} TO {_who(grantee)}{option}"))
    return out


def _who(grantee: str) -> str:
    return "PUBLIC" if grantee == "PUBLIC" else _q(grantee)
