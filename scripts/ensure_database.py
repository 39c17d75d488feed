"""`make demo`: make the databases of DATABASE_URL and EMR_DATABASE_URL exist. A
PostgreSQL database that is missing is created (or one line says how); a SQLite file's
folder is created. Exit 1 with that line when it cannot be done."""
import os
import sys
from pathlib import Path

from postgres_available import ensure_database


def main() -> int:
    for variable in ("DATABASE_URL", "EMR_DATABASE_URL"):
        url = os.environ.get(variable) or ""
        scheme = url.split("://", 1)[0].lower()
        if scheme in ("postgres", "postgresql", "pgsql", "postgresql+psycopg2"):
            problem = ensure_database(url)
            if problem:
                print(f"{variable}: {problem}", file=sys.stderr)
                return 1
        elif scheme == "sqlite" and url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
