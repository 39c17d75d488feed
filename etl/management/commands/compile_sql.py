"""``manage.py compile_sql [--check]``: write (or check) sql/compiled/."""
from django.core.management.base import CommandError

from etl.engine.compiled import stale_files, write_files
from etl.management.base import EtlCommand
from etl.text import count


class Command(EtlCommand):
    help = "Write each summary's compiled SQL for PostgreSQL and SQLite to sql/compiled/ (--check: only compare)."

    needs = ()  # it compiles for both dialects without connecting to either

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
        names = f": {', '.join(p.name for p in written)}" if written else ""
        self.stdout.write(f"wrote {count(len(written), 'file')}{names}")
