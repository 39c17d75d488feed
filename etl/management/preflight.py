"""Checks a command makes before it starts, each failing with one line that says what to
do: the database of ``DATABASE_URL`` answers and is migrated; the EMR database answers and
its raw tables have every column of ``sql/emr_schema.sql``."""
from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from etl import db
from etl.db.schema import raw_schema_problem


def first_line(exc: BaseException) -> str:
    """The first line of an error's message: drivers put the statement, its values and
    hints on later lines. SQLAlchemy's wrapper is skipped for the driver's own message."""
    inner = getattr(exc, "orig", None) or exc
    text = str(inner).strip()
    return " ".join(text.splitlines()[0].split()) if text else type(inner).__name__


def _where_django() -> str:
    settings = connections[DEFAULT_DB_ALIAS].settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"the SQLite database {settings['NAME']} (DATABASE_URL)"
    host = f"{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}"
    return f"the database {settings['NAME']} on {host} (DATABASE_URL)"


def _where_emr() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(db.emr_url())
    if url.get_backend_name() == "sqlite":
        return f"the SQLite database {url.database} (EMR_DATABASE_URL)"
    return f"the EMR database {url.database} on {url.host or 'localhost'}:{url.port or 5432} (EMR_DATABASE_URL)"


def _advice(message: str, name: str) -> str:
    lowered = message.lower()
    if "unable to open database file" in lowered:
        return ": does its folder exist, and may this user write there?"
    if "does not exist" in lowered and "database" in lowered:
        return f": create it (`createdb {name}`) or fix the URL"
    if "connection refused" in lowered or "could not connect" in lowered or "timeout" in lowered:
        return ": is the server running? start it or fix the URL"
    return ""


def django_database() -> None:
    """Django's database answers."""
    try:
        connections[DEFAULT_DB_ALIAS].ensure_connection()
    except Exception as exc:  # the driver's own errors: any of them means "cannot connect"
        message = first_line(exc)
        name = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
        raise CommandError(f"cannot connect to {_where_django()}: {message}{_advice(message, name)}") from exc


def migrated() -> None:
    """Django's database answers and every migration is applied."""
    from django.db.migrations.executor import MigrationExecutor

    django_database()
    executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending:
        count = f"{len(pending)} migration{'s' if len(pending) != 1 else ''}"
        raise CommandError(f"{_where_django()} is not migrated ({count} to apply): run `manage.py migrate`")


def emr_database() -> None:
    """The EMR database answers (Django's, unless ``EMR_DATABASE_URL`` names another)."""
    try:
        engine = db.emr_engine()
    except db.BadDatabaseUrl as exc:
        raise CommandError(str(exc)) from exc
    if engine is None:
        django_database()
        return
    try:
        with engine.connect():
            pass
    except Exception as exc:  # the driver's own errors: any of them means "cannot connect"
        message = first_line(exc)
        name = engine.url.database
        raise CommandError(f"cannot connect to {_where_emr()}: {message}{_advice(message, name)}") from exc


def raw_tables(hint: str, with_change_log: bool) -> None:
    """The EMR database answers and holds every raw table with every column."""
    emr_database()
    problem = raw_schema_problem(hint, with_change_log)
    if problem:
        raise CommandError(problem)
