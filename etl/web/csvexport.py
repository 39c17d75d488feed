"""CSV downloads, streamed: the response is written while the rows are read (a server-side
cursor on PostgreSQL, chunks on SQLite), so memory stays constant however many rows match.

Text cells are escaped against formula injection (OWASP): a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` so a
spreadsheet shows it as text instead of running it. Numbers are written as numbers.
"""
from __future__ import annotations

import csv
from typing import Iterable, Iterator

from django.http import StreamingHttpResponse

from etl.web.suppression import marker

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def cell(value, hidden: bool, complementary: bool = False) -> object:
    if complementary:
        return "*"
    if hidden:
        return marker()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def lines(header: list[str], rows: Iterable[dict]) -> Iterator[str]:
    """CSV text, one line at a time; a row's ``suppressed`` columns print the marker."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        hidden, extra = set(row.get("suppressed", ())), set(row.get("complementary", ()))
        yield writer.writerow([cell(row.get(column), column in hidden, column in extra) for column in header])


def csv_response(filename: str, header: list[str], rows: Iterable[dict]) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
