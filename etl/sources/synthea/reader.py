"""Reading a Synthea CSV export: which files, which columns, and its rows one at a time.

- A logical file such as ``encounters`` is ``encounters.csv`` and/or the parts Synthea
  writes when ``exporter.csv.max_lines_per_file`` is set (``encounters-1.csv``,
  ``encounters-002.csv`` ...), each part with its own header line, read in number order.
- Columns are found by name in each part's header, case-insensitively (early releases
  wrote ``ID`` where later ones write ``Id``), so columns that other releases add, drop or
  move do not matter as long as the required ones are there.
- Rows are streamed: the file's bytes are split into lines and decoded one line at a time
  into ``csv.reader``, so memory stays constant whatever the file size. LF and CRLF
  endings and a UTF-8 byte-order mark are accepted. A record that cannot be read (bytes
  that are not UTF-8, CSV syntax, a field count unlike the header's) comes back as a
  :class:`Rejection` with its file and first line, and reading goes on.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterator, Mapping

from etl.sources.synthea.report import Rejection, SyntheaImportError

_PART_NAME = re.compile(r"^(?P<name>[a-z_]+)(?:-(?P<number>\d+))?\.csv$", re.IGNORECASE)
_HEADER_BYTES = 1 << 20


@dataclass(frozen=True)
class Part:
    """One CSV file of an export, with the position of each column of its header."""

    path: Path
    columns: Mapping[str, int]
    width: int

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Row:
    """One record: where it came from and its fields, read by column name."""

    part: Part
    line: int
    fields: list[str]

    @property
    def file(self) -> str:
        return self.part.name

    def __getitem__(self, column: str) -> str:
        """The field of an upper-case column name, stripped; '' for a column the part lacks."""
        index = self.part.columns.get(column)
        return "" if index is None else self.fields[index].strip()


def find_parts(directory: Path, name: str) -> list[Path]:
    """``name.csv`` and ``name-N.csv`` in ``directory``, unsplit first, then by N."""
    found = []
    for path in directory.iterdir():
        match = _PART_NAME.match(path.name)
        if match and match["name"].lower() == name and path.is_file():
            found.append((int(match["number"]) if match["number"] else 0, path.name, path))
    return [path for *_, path in sorted(found)]


class _Lines:
    """The file's lines as text, one at a time. Bytes that are not UTF-8 are kept as
    lone surrogates (``surrogateescape``) and flag the record they fall in."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._first = True
        self.undecodable = False

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        raw_line = next(self._stream)
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError:
            line = raw_line.decode("utf-8", errors="surrogateescape")
            self.undecodable = True
        if self._first:
            line, self._first = line.removeprefix("\ufeff"), False
        return line


def read_part(path: Path) -> Part:
    """The part's header, checked to be a readable CSV line."""
    with path.open("rb") as stream:
        first = stream.readline(_HEADER_BYTES)
    try:
        text = first.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise SyntheaImportError(f"{path.name}: the header line is not UTF-8 text") from None
    header = next(csv.reader([text]), [])
    if not any(cell.strip() for cell in header):
        raise SyntheaImportError(f"{path.name}: the file is empty (no header line)")
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        columns.setdefault(cell.strip().upper(), index)
    return Part(path, columns, len(header))


def check_export(directory: Path, required: Mapping[str, tuple[str, ...]]) -> dict[str, list[Part]]:
    """Every required file and column of the export, or one :class:`SyntheaImportError` naming
    all that is missing. Reads only header lines."""
    if not directory.is_dir():
        raise SyntheaImportError(f"{directory} is not a directory")
    problems: list[str] = []
    parts: dict[str, list[Part]] = {}
    for name, columns in required.items():
        paths = find_parts(directory, name)
        if not paths:
            problems.append(f"{name}.csv is missing")
            continue
        parts[name] = []
        for path in paths:
            try:
                part = read_part(path)
            except SyntheaImportError as exc:
                problems.append(str(exc))
                continue
            absent = [column for column in columns if column not in part.columns]
            if absent:
                problems.append(f"{path.name} has no {', '.join(absent)} column{'s' if len(absent) > 1 else ''}")
            parts[name].append(part)
    if problems:
        raise SyntheaImportError(f"cannot import {directory}: {'; '.join(problems)}")
    return parts


def rows(part: Part) -> Iterator[Row | Rejection]:
    """The records of a part after its header, in file order; blank lines are skipped."""
    with part.path.open("rb") as stream:
        lines = _Lines(stream)
        reader = csv.reader(lines)
        next(reader, None)
        last_line = reader.line_num
        while True:
            line = last_line + 1
            lines.undecodable = False
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                last_line = reader.line_num
                yield Rejection(part.name, line, f"not valid CSV ({exc})")
                continue
            last_line = reader.line_num
            if not fields:
                continue
            if len(fields) != part.width:
                yield Rejection(part.name, line, f"{len(fields)} fields where the header has {part.width}")
            elif lines.undecodable:
                yield Rejection(part.name, line, "bytes that are not UTF-8 text")
            else:
                yield Row(part, line, fields)
