"""What an import did, as frozen values: per-file counts, derived rows, rejected rows.

Nothing here carries a value read from the export (no ids, names, dates): a rejection
names its file, line and a reason that mentions columns only, so reports, logs and
terminal output never contain patient data.
"""
from __future__ import annotations

from dataclasses import dataclass

NO_SHIFTS_NOTE = (
    "shifts: none written - a Synthea export has no shifts or wages, so emr_shift gets no rows and"
    " emr_staff.hourly_cost stays NULL; staff_cost_summary will show rostered_hours 0, staff_cost 0"
    " and patients_per_hour NULL"
)


class SyntheaImportError(Exception):
    """The export cannot be imported at all (a missing file or column, an unknown time
    zone, no raw tables); the message is one line for the operator."""


@dataclass(frozen=True)
class Rejection:
    """A row that was not imported: its file, first physical line and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class FileStats:
    """Counts for one CSV file (one part of a split file is one file here)."""

    file: str
    table: str
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int


@dataclass(frozen=True)
class DerivedStats:
    """Rows the export implies without a file of their own (regions, roles, services)."""

    what: str
    table: str
    inserted: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class ImportReport:
    directory: str
    timezone: str
    files: tuple[FileStats, ...]
    derived: tuple[DerivedStats, ...]
    rejections: tuple[Rejection, ...]
    """The first rejections (at most ``importer.KEPT_REJECTIONS``); ``rejected`` counts all."""
    seconds: float
    shifts_written: int = 0

    @property
    def rejected(self) -> int:
        return sum(f.rejected for f in self.files)

    def stats(self, file: str) -> FileStats:
        """The counts of one file by name, e.g. ``stats("encounters.csv")``."""
        return next(f for f in self.files if f.file == file)

    def summary_lines(self) -> list[str]:
        """The closing summary an operator reads: one table row per file, then notes."""
        head = ("file", "table", "read", "inserted", "updated", "unchanged", "rejected")
        rows = [head] + [
            (f.file, f.table, *(f"{n:,}" for n in (f.read, f.inserted, f.updated, f.unchanged, f.rejected)))
            for f in self.files
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
        lines = [f"imported the Synthea export in {self.directory} (time zone {self.timezone})"
                 f" in {self.seconds:.2f} s"]
        for row in rows:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1])]
            cells += [cell.rjust(width) for cell, width in zip(row[2:], widths[2:])]
            lines.append("  " + "  ".join(cells))
        for d in self.derived:
            lines.append(f"  derived {d.what} ({d.table}): {d.inserted:,} inserted, {d.updated:,} updated,"
                         f" {d.unchanged:,} unchanged")
        lines.append(f"  {NO_SHIFTS_NOTE}")
        lines.append(f"  rejected rows: {self.rejected:,}")
        return lines
