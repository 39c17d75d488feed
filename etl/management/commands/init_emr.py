"""``manage.py init_emr [--drop [--noinput]] [--replica]``: create the raw emr_* tables (sql/emr_schema.sql)."""
import sys

from django.core.management.base import CommandError
from django.db import DatabaseError

from etl.db.schema import NotReplicable, init_emr, raw_schema_problem
from etl.management.base import EMR, EtlCommand


class Command(EtlCommand):
    help = (
        "Create the raw emr_* tables in the EMR database (idempotent); --drop recreates them empty, "
        "after a confirmation on a terminal (--noinput: without one, for scripts)."
    )
    needs = (EMR,)  # it creates the raw tables

    def add_arguments(self, parser):
        parser.add_argument("--drop", action="store_true", help="drop the raw tables first (all raw rows are lost)")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="do not ask to confirm --drop (for scripts)")
        parser.add_argument("--replica", action="store_true",
                            help="the EMR database is a logical-replication subscriber (PostgreSQL): capture changes"
                                 " with row-level triggers, the only ones replicated rows fire (automatic once the"
                                 " subscription exists)")

    def handle(self, *args, drop: bool = False, interactive: bool = True, replica: bool = False, **options):
        if drop and interactive:
            self._confirm_drop()
        try:
            names = init_emr(drop=drop, replica=replica)
        except NotReplicable as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(f"could not create the raw tables: {str(exc).strip().splitlines()[0]}") from exc
        problem = raw_schema_problem()
        if problem:  # a table that existed before, without a column the queries need
            raise CommandError(problem)
        verb = "recreated empty" if drop else "ready"
        self.stdout.write(f"raw tables {verb}: {', '.join(names)}")

    def _confirm_drop(self) -> None:
        if not sys.stdin.isatty():
            raise CommandError("--drop deletes every raw row: confirm it on a terminal, or add --noinput")
        answer = input("This deletes every row of the raw emr_* tables. Type 'yes' to continue: ")
        if answer.strip().lower() != "yes":
            raise CommandError("nothing was dropped")
