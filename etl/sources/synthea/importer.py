"""``import_synthea``: load a Synthea CSV export into the raw ``emr_*`` tables.

Stages:

1. check, before anything is written: the time zone, every required file and column
   (header lines only), the raw tables;
2. in one transaction on the EMR database, each file in dependency order, part by part:
   stream its rows, convert them, and write them in batches (id-map lookups, then one
   INSERT of the new rows and one UPDATE of the changed rows per batch);
   a row that cannot be read or converted is rejected with its file and line and the
   import goes on;
3. report what each file did.

Memory stays constant: a batch is the most the importer holds, besides the implied rows
(regions, roles, services) it has already written, which the export's vocabulary bounds.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import DatabaseError
from sqlalchemy.exc import SQLAlchemyError

from etl.db.schema import missing_raw_tables
from etl.sources.synthea import loaders, mapping, reader
from etl.sources.synthea.idmap import KIND_TABLES, ensure_table
from etl.sources.synthea.report import DerivedStats, FileStats, ImportReport, Rejection, SyntheaImportError
from etl import db
from etl.sources.synthea.store import Outcome

BATCH_ROWS = 2000
PROGRESS_ROWS = 100_000
KEPT_REJECTIONS = 1000

Progress = Callable[[str], None]
OnReject = Callable[[Rejection], None]


def _quiet(_: Any) -> None:
    return None


def resolve_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``, or one clear error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise SyntheaImportError(
            f"unknown time zone {name!r}: give an IANA name such as America/New_York or UTC"
        ) from None


class _PartImport:
    """One CSV file through convert → batch → load, with its counts."""

    def __init__(self, run: loaders.Run, name: str, part: reader.Part, options: "_Options") -> None:
        self.run, self.part, self.options = run, part, options
        self.loader = loaders.LOADERS[name]
        self.read = self.rejected = 0
        self.outcome = Outcome()
        self.batch: list[Any] = []
        self.keys: set[str] = set()

    def __call__(self) -> FileStats:
        self.options.progress(f"{self.part.name} -> {self.loader.table}")
        for item in reader.rows(self.part):
            self.read += 1
            record = self._record(item)
            if record is not None:
                # A repeated id within a batch would insert one id twice: write the batch
                # first, so the repeat updates the row like a later export would.
                if record.uuid in self.keys:
                    self._flush()
                self.batch.append(record)
                self.keys.add(record.uuid)
                if len(self.batch) >= self.options.batch_rows:
                    self._flush()
            if self.read % self.options.progress_rows == 0:
                self.options.progress(f"  {self.part.name}: {self._counts()}")
        self._flush()
        return FileStats(self.part.name, self.loader.table, self.read, self.outcome.inserted, self.outcome.updated,
                         self.outcome.unchanged, self.rejected)

    def _record(self, item: reader.Row | Rejection) -> Any:
        if isinstance(item, reader.Row):
            try:
                return self.loader.convert(item, self.options.zone)
            except mapping.RowError as exc:
                item = Rejection(item.file, item.line, str(exc))
        self.rejected += 1
        self.options.reject(item)
        return None

    def _flush(self) -> None:
        if self.batch:
            self.outcome += self.loader.load(self.run, self.batch)
        self.batch, self.keys = [], set()

    def _counts(self) -> str:
        o = self.outcome
        return (f"{self.read:,} rows read, {o.inserted:,} inserted, {o.updated:,} updated,"
                f" {o.unchanged:,} unchanged, {self.rejected:,} rejected")


class _Options:
    def __init__(self, zone: ZoneInfo, batch_rows: int, progress_rows: int, progress: Progress,
                 on_reject: OnReject) -> None:
        self.zone, self.batch_rows, self.progress_rows, self.progress = zone, batch_rows, progress_rows, progress
        self._on_reject = on_reject
        self.kept: list[Rejection] = []

    def reject(self, rejection: Rejection) -> None:
        if len(self.kept) < KEPT_REJECTIONS:
            self.kept.append(rejection)
        self._on_reject(rejection)


def import_synthea(
    directory: Path,
    timezone: str = "UTC",
    progress: Progress | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
    progress_rows: int = PROGRESS_ROWS,
    on_reject: OnReject | None = None,
) -> ImportReport:
    """Load the Synthea CSV export in ``directory`` into the raw tables, converting its
    UTC timestamps to wall-clock time in ``timezone``. Re-importing the same or a newer
    export updates rows in place. Raises :class:`SyntheaImportError` before writing
    anything when the export or the database is not fit for an import."""
    started = time.perf_counter()
    directory = Path(directory)
    zone = resolve_zone(timezone)
    parts = reader.check_export(directory, mapping.REQUIRED_COLUMNS)
    missing = missing_raw_tables()
    if missing:
        raise SyntheaImportError(f"the EMR database has no {', '.join(missing)}: run `manage.py init_emr` first")
    options = _Options(zone, max(1, batch_rows), max(1, progress_rows), progress or _quiet, on_reject or _quiet)
    # updated_at is a raw timestamp like the others: wall-clock time in the clinics' zone.
    now = dt.datetime.now(zone).replace(tzinfo=None, microsecond=0)
    try:
        with db.emr_session() as store:
            ensure_table(store)
            run = loaders.Run(store, now)
            files = [_PartImport(run, name, part, options)()
                     for name in mapping.REQUIRED_COLUMNS for part in parts[name]]
    except (DatabaseError, SQLAlchemyError) as exc:
        # The first line only: drivers put the statement and its values on later lines.
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise SyntheaImportError(f"the database refused the import; nothing was written: {first_line}") from exc
    derived = tuple(
        DerivedStats(what, KIND_TABLES[kind], run.derived[what].inserted, run.derived[what].updated,
                     run.derived[what].unchanged)
        for what, kind in loaders.DERIVED
    )
    return ImportReport(str(directory), timezone, tuple(files), derived, tuple(options.kept),
                        time.perf_counter() - started)
