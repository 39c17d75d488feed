"""``manage.py generate_emr --visits N``: fill the raw emr_* tables with synthetic data."""
from django.core.management.base import CommandError
from django.db import DatabaseError

from etl.management.base import RAW_TABLES, EtlCommand
from etl.management.options import whole_number as _whole_number
from etl.sources.generate import GenerateError, generate_emr


class Command(EtlCommand):
    help = (
        "Replace the content of the raw emr_* tables with deterministic synthetic EMR data "
        "(dirt included); the tables must exist (manage.py init_emr)."
    )

    needs = (RAW_TABLES,)  # writes the raw tables only
    raw_tables_hint = "first"

    def add_arguments(self, parser):
        parser.add_argument("--visits", type=_whole_number(1), required=True, help="number of visits, exactly")
        parser.add_argument("--days", type=_whole_number(1), default=730, help="days of data, ending 2026-06-30 (730)")
        parser.add_argument("--clinics", type=_whole_number(1), default=20, help="number of clinics (20)")
        parser.add_argument("--seed", type=_whole_number(0), default=1, help="random seed (1)")

    def handle(self, *args, visits, days=730, clinics=20, seed=1, **options):
        try:
            report = generate_emr(visits, days=days, clinics=clinics, seed=seed, progress=self.stdout.write)
        except GenerateError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"the database refused the generated rows: {first_line}") from exc
        self.stdout.write(f"generated {report.summary()}")
