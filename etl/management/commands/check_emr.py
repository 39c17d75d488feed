"""``manage.py check_emr``: the data-quality report of the raw emr_* tables (docs/data-quality.md)."""
import json

from django.core.management.base import CommandError

from etl.management.base import EMR, RAW_TABLES, EtlCommand
from etl.sources.quality import check_emr, report_lines
from etl.sources.quality_history import record_quality_report


class Command(EtlCommand):
    help = (
        "Count the dirt in the raw emr_* tables, kind by kind, with a few example ids (never patient "
        "data). Exit status 0 whatever is found: dirt is expected, the report informs."
    )

    # The report reads the raw tables only (not the change log, not Django's tables).
    needs = (EMR, RAW_TABLES)
    raw_tables_with_change_log = False

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", dest="as_json", help="print the report as JSON")
        parser.add_argument("--examples", type=int, default=5, metavar="N",
                            help="example ids per check, smallest first (default 5)")
        parser.add_argument("--record", action="store_true",
                            help="also keep the counts (QualityCount, in the admin), as beat does nightly")

    def handle(self, *args, as_json: bool = False, examples: int = 5, record: bool = False, **options):
        if examples < 0:
            raise CommandError(f"--examples must be 0 or more, not {examples}")
        report = check_emr(examples)
        if record:
            recorded = record_quality_report()
            changes = ", ".join(f"{name} {change:+,}" for name, change in recorded.changed.items()) or "none"
            since = "the first recording" if recorded.first else f"changed since the last: {changes}"
            self.stderr.write(f"recorded at {recorded.taken_at:%Y-%m-%d %H:%M:%S} UTC; {since}")
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
        else:
            for line in report_lines(report):
                self.stdout.write(line)
