"""Exit 0 when a PostgreSQL server answers at the URL given (and its database exists or
can be created), else 1. Used by `make test` to decide on the PostgreSQL pass; its
:func:`ensure_database` also serves `make demo` (scripts/ensure_database.py)."""
import sys
from urllib.parse import unquote, urlparse

import psycopg2
from psycopg2 import sql


def ensure_database(url: str) -> str | None:
    """Create the database a PostgreSQL URL names when it is missing; None when it exists
    now, else one line saying why not and what to do."""
    parts = urlparse(url)
    name = unquote(parts.path.lstrip("/"))
    where = f"{parts.hostname or 'localhost'}:{parts.port or 5432}"
    try:
        conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                                password=parts.password and unquote(parts.password), dbname="postgres",
                                connect_timeout=3)
    except psycopg2.OperationalError as exc:
        first = " ".join((str(exc).strip().splitlines() or ["no answer"])[0].split())
        if "refused" in first or "timeout" in first or "could not translate host" in first:
            return (f"PostgreSQL does not answer at {where} ({first}): start it (as root on Debian:"
                    f" scripts/ensure_postgres.sh {name}), or leave DATABASE_URL unset for SQLite")
        return f"cannot log in to PostgreSQL at {where} ({first}): fix the user or password in the URL"
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg2.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        host, port, owner = parts.hostname or "localhost", parts.port or 5432, parts.username or "you"
        return (f"cannot create the database {name} at {where} ({first}): ask its administrator to run"
                f" `createdb -h {host} -p {port} -O {owner} {name}`")
    finally:
        conn.close()
    return None


def main(url: str) -> int:
    return 0 if ensure_database(url) is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
