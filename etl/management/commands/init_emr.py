"""``manage.py init_emr [--drop]``: create the raw emr_* tables (sql/emr_schema.sql)."""
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from etl.db.schema import init_emr


class Command(BaseCommand):
    help = "Create the raw emr_* tables in the EMR database (idempotent); --drop recreates them empty."

    def add_arguments(self, parser):
        parser.add_argument("--drop", action="store_true", help="drop the raw tables first (all raw rows are lost)")

    def handle(self, *args, drop: bool = False, **options):
        try:
            names = init_emr(drop=drop)
        except DatabaseError as exc:
            raise CommandError(f"could not create the raw tables: {str(exc).strip().splitlines()[0]}") from exc
        verb = "recreated empty" if drop else "ready"
        self.stdout.write(f"raw tables {verb}: {', '.join(names)}")
