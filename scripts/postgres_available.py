"""Exit 0 when a PostgreSQL server answers at the URL given (and its database exists or
can be created), else 1. Used by `make test` to decide on the PostgreSQL pass."""
import sys
from urllib.parse import urlparse

import psycopg2


def main(url: str) -> int:
    parts = urlparse(url)
    name = parts.path.lstrip("/")
    try:
        conn = psycopg2.connect(host=parts.hostname, port=parts.port or 5432, user=parts.username,
                                password=parts.password, dbname="postgres", connect_timeout=3)
    except psycopg2.OperationalError:
        return 1
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
