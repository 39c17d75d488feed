"""``manage.py import_synthea DIR [--timezone TZ]``: load a Synthea CSV export into the
raw emr_* tables (docs/synthea.md)."""
import csv
from contextlib import contextmanager
from pathlib import Path

from django.core.management.base import CommandError

from etl.management.base import RAW_TABLES, EtlCommand
from etl.management.options import whole_number
from etl.sources.synthea import SyntheaImportError, import_synthea
from etl.sources.synthea.importer import BATCH_ROWS, PROGRESS_ROWS

SHOWN_REJECTIONS = 20


@contextmanager
def rejects_file(path: Path | None):
    """A callback writing each rejection as a CSV row to ``path`` (None: no file)."""
    if path is None:
        yield None
        return
    try:
        handle = path.open("w", newline="", encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
    with handle:
        writer = csv.writer(handle)
        writer.writerow(["file", "line", "reason"])
        yield lambda rejection: writer.writerow([rejection.file, rejection.line, rejection.reason])


class Command(EtlCommand):
    help = "Load a Synthea CSV export (encounters, organizations, providers, patients) into the raw emr_* tables."

    needs = (RAW_TABLES,)  # writes the raw tables (and its id map) only
    raw_tables_hint = "first"

    def add_arguments(self, parser):
        parser.add_argument("directory", type=Path, help="the folder of the export's CSV files")
        parser.add_argument(
            "--timezone", default="UTC", metavar="TZ",
            help="IANA time zone of the clinics: Synthea's UTC timestamps become wall-clock time there (default UTC)",
        )
        parser.add_argument("--rejects", type=Path, metavar="CSV", help="write every rejected row's file, line and reason here")
        parser.add_argument("--batch-size", type=whole_number(1), default=BATCH_ROWS,
                            help=f"rows per write (default {BATCH_ROWS})")
        parser.add_argument("--progress-every", type=whole_number(1), default=PROGRESS_ROWS, metavar="ROWS",
                            help=f"a progress line every ROWS rows of a file (default {PROGRESS_ROWS:,})")

    def handle(self, *args, directory, timezone, rejects, batch_size, progress_every, **options):
        try:
            with rejects_file(rejects) as on_reject:
                report = import_synthea(
                    directory, timezone, progress=self.stdout.write,
                    batch_rows=batch_size, progress_rows=progress_every, on_reject=on_reject,
                )
        except SyntheaImportError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.summary_lines():
            self.stdout.write(line)
        for rejection in report.rejections[:SHOWN_REJECTIONS]:
            self.stdout.write(f"    {rejection}")
        hidden = report.rejected - min(len(report.rejections), SHOWN_REJECTIONS)
        if hidden > 0:
            where = f"all are in {rejects}" if rejects else "--rejects FILE writes them all"
            self.stdout.write(f"    ... and {hidden:,} more ({where})")
