"""``manage.py show_summaries``: a short table of what the summary tables hold."""
from etl.management.base import MIGRATIONS, EtlCommand
from etl.management.options import whole_number
from etl.web.overview import overview_lines


class Command(EtlCommand):
    help = "Print row counts, totals and the busiest locations of the summary tables."

    needs = (MIGRATIONS,)  # reads the summary tables only

    def add_arguments(self, parser):
        parser.add_argument("--top", type=whole_number(0), default=5, help="how many locations to list (default 5)")

    def handle(self, *args, top: int = 5, **options):
        for line in overview_lines(top):
            self.stdout.write(line)
