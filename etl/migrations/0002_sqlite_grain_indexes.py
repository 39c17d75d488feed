"""SQLite lacks UNIQUE NULLS NOT DISTINCT: enforce each summary's grain there with a
unique index on expressions in which NULL equals NULL (``col IS NULL`` plus
``IFNULL(col, 0)``: exact, no sentinel value). PostgreSQL has the real constraint."""
from django.db import migrations

GRAIN_INDEXES = {
    "staff_summary_grain_sqlite": (
        "staff_summary",
        "day, location_id, service_id IS NULL, IFNULL(service_id, 0), "
        "role_group_id IS NULL, IFNULL(role_group_id, 0)",
    ),
    "staff_cost_summary_grain_sqlite": (
        "staff_cost_summary",
        "day, location_id, role_group_id IS NULL, IFNULL(role_group_id, 0)",
    ),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name, (table, expressions) in GRAIN_INDEXES.items():
        schema_editor.execute(f"CREATE UNIQUE INDEX IF NOT EXISTS {name} ON {table} ({expressions})")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    for name in GRAIN_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("etl", "0001_summaries")]
    operations = [migrations.RunPython(create, drop)]
