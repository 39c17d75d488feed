"""Shape tier: the committed compiled SQL matches the queries, and the layers import one way."""
import ast
from pathlib import Path

from django.core.management import call_command

from etl.engine.compiled import stale_files

ETL = Path(__file__).resolve().parent.parent / "etl"


def test_compiled_sql_is_up_to_date():
    assert stale_files() == [], "run `manage.py compile_sql` and commit sql/compiled/"
    call_command("compile_sql", "--check")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add(("." * node.level) + (node.module or ""))
    return names


def test_commands_stay_thin():
    for path in (ETL / "management" / "commands").glob("*.py"):
        assert "sqlalchemy" not in {n.split(".")[0] for n in imported_modules(path)}, path.name
