"""``manage.py build_summaries``: bring the summary tables up to date with the raw tables."""
import gc

from django.core.management.base import CommandError
from django.db import DatabaseError

from etl.engine.locks import BuildLocked
from etl.engine.definitions import trust_code_stamps
from etl.engine.progress import LineProgress, quiet as no_progress
from etl.engine.service import BuildError, GateFailed, build_sql, build_summaries, plan
from etl.management.base import EXIT_USAGE, EtlCommand
from etl.management.options import iso_day, seconds
from etl.summaries import SUMMARIES
from etl.text import count

EXIT_GATE_FAILED = 3
EXIT_LOCKED = 75  # EX_TEMPFAIL: try again later
# What --status reads; any other option given with it belongs to a build and is refused.
STATUS_OPTIONS = {"status", "verbosity", "settings", "pythonpath", "traceback", "no_color", "force_color",
                  "skip_checks"}


class Command(EtlCommand):
    help = (
        "Bring the summary tables up to date with the raw emr_* tables: only the days that "
        f"changed, unless --full. Exit status: 0 done, 1 error, 2 wrong options, {EXIT_GATE_FAILED} a "
        f"publish gate failed (nothing replaced), {EXIT_LOCKED} another build is running, 130 interrupted."
    )
    interrupted_message = (
        "interrupted (Ctrl-C): the summary being rebuilt keeps its previous rows and its pending days;"
        " the run is recorded as interrupted"
    )

    def add_arguments(self, parser):
        parser.add_argument("--full", action="store_true", help="rebuild every day of every chosen summary")
        parser.add_argument(
            "--summary", action="append", dest="summaries", metavar="NAME", choices=list(SUMMARIES),
            help=f"build only this summary (repeatable): {', '.join(SUMMARIES)}",
        )
        parser.add_argument("--since", type=iso_day, metavar="DATE", help="also rebuild the days from DATE (backfill)")
        parser.add_argument("--until", type=iso_day, metavar="DATE", help="... up to and including DATE")
        parser.add_argument("--sql", action="store_true",
                            help="print the statements the build would run, every value inlined, and run nothing")
        parser.add_argument("--verify", action="store_true",
                            help="also rebuild the days whose raw rows no longer match the fingerprints recorded"
                                 " when they were built (changes no trigger logged); the nightly reconcile")
        parser.add_argument("--dry-run", action="store_true", help="list what would be rebuilt and why; change nothing")
        parser.add_argument("--status", action="store_true", help="print recent runs and how stale each summary is")
        parser.add_argument("--wait", type=seconds, default=0, metavar="SECONDS",
                            help="wait this long for a running build to finish (default 0: exit at once)")
        parser.add_argument("--trigger", choices=["manual", "schedule", "backfill"],
                            help="recorded in the run ledger (default: manual, or backfill with --since/--until)")
        parser.add_argument("--quiet", action="store_true", help="print nothing but errors (for the scheduler)")
        parser.add_argument("--fan-out", action="store_true",
                            help="with --full or --since/--until: build batches of days on the Celery workers,"
                                 " publish once all succeeded, and wait for it (PostgreSQL only)")
        parser.add_argument("--batch-days", type=int, metavar="DAYS",
                            help="days per fan-out batch (default: ETL_FANOUT_BATCH_DAYS, 31)")

    def run_from_argv(self, argv):
        # A process of its own (manage.py): the objects alive now (Django, SQLAlchemy, the
        # declarations, ~100,000 of them) live as long as the process. Frozen, the garbage
        # collector stops walking them: a one-day build at 1M visits otherwise spent 0.05 s
        # of its work in one full collection. Not in call_command, whose caller's objects
        # are not the command's to keep.
        gc.freeze()
        # Nothing in it replaces a summary at runtime: a definition hash recorded by such a
        # process with the same code stamp is reused instead of compiled (0.1 s a build).
        trust_code_stamps()
        super().run_from_argv(argv)

    def preflight(self, options: dict) -> None:
        if options.get("status"):
            defaults = self.create_parser("manage.py", "build_summaries").parse_args([])
            extra = sorted(name for name, value in options.items()
                           if name not in STATUS_OPTIONS and hasattr(defaults, name)
                           and value != getattr(defaults, name))
            if extra:
                given = ", ".join("--" + name.replace("_", "-").replace("summaries", "summary") for name in extra)
                verb = "applies" if len(extra) == 1 else "apply"
                raise CommandError(f"{given} {verb} to a build, not to --status (which only reports)",
                                   returncode=EXIT_USAGE)
        super().preflight(options)

    def handle(self, *args, **options):
        try:
            self._handle(**options)
        except BuildLocked as exc:
            raise CommandError(str(exc), returncode=EXIT_LOCKED) from exc
        except GateFailed as exc:
            raise CommandError(f"{exc}; the previous rows were kept", returncode=EXIT_GATE_FAILED) from exc
        except BuildError as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"database error: {first_line}") from exc

    def _handle(self, *, full, summaries, since, until, sql, dry_run, status, wait, trigger, quiet: bool,
                fan_out: bool = False, batch_days: int | None = None, verify: bool = False, **_):
        if status:
            from etl.engine.status import status_lines

            for line in status_lines():
                self.stdout.write(line)
            return
        if sql or dry_run:
            plans = plan(summaries, full=full, since=since, until=until, verify=verify)
            if sql:
                self.stdout.write(build_sql(plans=plans), ending="")
            else:
                for p in plans:
                    self.stdout.write(p.describe())
            return
        progress = no_progress if quiet else LineProgress(self.stdout.write, self.stdout.isatty())
        if fan_out:
            from etl.engine import fanout, fanout_watch

            run = fanout.start(summaries, full=full, since=since, until=until, trigger=trigger, batch_days=batch_days)
            fanout.dispatch(run)
            fanout_watch.wait(run.pk, progress)
            if not quiet:
                self.stdout.write(f"fan-out {run.pk}: {run.batches_total} batches published (run {run.build_run_id})")
            if summaries is None:
                # What the batches could not build (monthly tables, summaries of summaries):
                # an ordinary build, right after the publish marked it for a full rebuild.
                build_summaries(None, wait=wait, trigger=trigger, progress=progress)
            return
        report = build_summaries(summaries, full=full, since=since, until=until, wait=wait, trigger=trigger,
                                 progress=progress, verify=verify)
        if not quiet:
            self.stdout.write(
                f"built {count(len(report.results), 'summary', 'summaries')}: {count(report.rows_written, 'row')}"
                f" written, {report.rows_deleted:,} replaced, in {report.seconds:.2f} s (run {report.run_id})"
            )
