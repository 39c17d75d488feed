"""The compiled SQL of each summary for each dialect, kept in ``sql/compiled/`` so that a
change to a query shows in review as a change to the SQL it runs."""
from __future__ import annotations

from pathlib import Path

from etl import db
from etl.summaries import SUMMARIES

COMPILED_DIR = Path(__file__).resolve().parents[2] / "sql" / "compiled"
DIALECTS = ("postgresql", "sqlite")


def compiled_files() -> dict[Path, str]:
    """File path → the text it should hold: each summary's full-rebuild SELECT."""
    files = {}
    for name, summary in SUMMARIES.items():
        for vendor in DIALECTS:
            sql = db.literal_sql(summary.rows(None), vendor)
            header = f"-- {name} ({vendor}): {summary.description}\n-- Written by `manage.py compile_sql`; do not edit.\n"
            files[COMPILED_DIR / f"{name}.{vendor}.sql"] = header + sql + ";\n"
    return files


def stale_files() -> list[Path]:
    return [
        path for path, text in compiled_files().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]


def write_files() -> list[Path]:
    COMPILED_DIR.mkdir(parents=True, exist_ok=True)
    written = []
    for path, text in compiled_files().items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written
