"""``manage.py explain_summary NAME [--analyze]``: a summary's SQL and its query plan."""
from django.core.management.base import BaseCommand, CommandError

from etl.engine.explain import explain
from etl.engine.service import BuildError
from etl.summaries import SUMMARIES


class Command(BaseCommand):
    help = "Print a summary's compiled full-rebuild SELECT and the database's plan for it."

    def add_arguments(self, parser):
        parser.add_argument("name", metavar="NAME", help=f"the summary: {', '.join(SUMMARIES)}")
        parser.add_argument("--analyze", action="store_true",
                            help="run the query (read-only) and report actual times (PostgreSQL: EXPLAIN ANALYZE)")

    def handle(self, *args, name: str, analyze: bool = False, **options):
        try:
            result = explain(name, analyze)
        except BuildError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"-- {result.name} ({result.vendor})")
        self.stdout.write(result.sql + ";")
        self.stdout.write("-- plan:")
        for line in result.plan:
            self.stdout.write(line)
        if result.note:
            self.stdout.write(f"-- {result.note}")
