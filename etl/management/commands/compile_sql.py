"""``manage.py compile_sql [--check]``: write (or check) sql/compiled/."""
from django.core.management.base import BaseCommand, CommandError

from etl.engine.compiled import stale_files, write_files


class Command(BaseCommand):
    help = "Write each summary's compiled SQL for PostgreSQL and SQLite to sql/compiled/ (--check: only compare)."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="fail if a file is missing or out of date")

    def handle(self, *args, check: bool = False, **options):
        if check:
            stale = stale_files()
            if stale:
                names = ", ".join(p.name for p in stale)
                raise CommandError(f"out of date: {names}; run `manage.py compile_sql` and review the diff")
            self.stdout.write("sql/compiled/ is up to date")
            return
        written = write_files()
        self.stdout.write(f"wrote {len(written)} files" + (f": {', '.join(p.name for p in written)}" if written else ""))
