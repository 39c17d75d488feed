"""``manage.py build_summaries``: rebuild the summary tables from the raw EMR tables."""
from django.core.management.base import BaseCommand, CommandError

from etl.services import BuildError, build_sql, build_summaries
from etl.summaries import SUMMARIES


class Command(BaseCommand):
    help = "Rebuild the summary tables from the raw emr_* tables."

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every day of every chosen summary")
        parser.add_argument(
            "--summary", action="append", dest="summaries", metavar="NAME", choices=list(SUMMARIES),
            help=f"build only this summary (repeatable): {', '.join(SUMMARIES)}",
        )
        parser.add_argument(
            "--sql", action="store_true",
            help="print the build's statements with every value inlined, instead of running them",
        )

    def handle(self, *args, full=False, summaries=None, sql=False, **options):
        try:
            if sql:
                self.stdout.write(build_sql(summaries), ending="")
                return
            report = build_summaries(summaries, full=True, progress=self.stdout.write)
        except BuildError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"built {len(report.results)} summaries: {report.rows_written:,} rows in {report.seconds:.2f} s"
        )
