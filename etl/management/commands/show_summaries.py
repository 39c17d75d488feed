"""``manage.py show_summaries``: a short table of what the summary tables hold."""
from django.core.management.base import BaseCommand

from etl.web.overview import overview_lines


class Command(BaseCommand):
    help = "Print row counts, totals and the busiest locations of the summary tables."

    def add_arguments(self, parser):
        parser.add_argument("--top", type=int, default=5, help="how many locations to list (default 5)")

    def handle(self, *args, top: int = 5, **options):
        for line in overview_lines(top):
            self.stdout.write(line)
