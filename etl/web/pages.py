"""What every page shares: filter choices (through visible_to), the table of a page
(columns, rows, sort links, pagination) and its CSV."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from django.http import QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from etl.models import Location, RoleGroup, Service
from etl.web.access import visible_to
from etl.web.csvexport import csv_response
from etl.web.display import COMPLEMENTARY, formatter, label
from etl.web.paging import SummaryPaginator
from etl.web.suppression import marker

PAGE_SIZE = 25


@dataclass(frozen=True)
class Column:
    key: str
    title: str = ""              # default: the label of the column's format
    sort: str | None = None      # the FilterSet ordering name, when sortable

    @property
    def label(self) -> str:
        return self.title or label(self.key)


def filter_choices(request, wanted: Sequence[str]) -> dict[str, list[tuple[int, str]]]:
    """Dropdown choices, by filter name, limited to what the user may read."""
    locations = (list(visible_to(request, Location).values_list("id", "name", "kind", "region_id"))
                 if {"region", "clinic", "location"} & set(wanted) else [])
    choices: dict[str, list[tuple[int, str]]] = {}
    if "region" in wanted:
        choices["region"] = [(i, name) for i, name, _, region in locations if region == i]
    if "clinic" in wanted:
        choices["clinic"] = [(i, name) for i, name, kind, _ in locations if kind == "clinic"]
    if "location" in wanted:
        choices["location"] = [(i, f"{name} ({kind})") for i, name, kind, _ in locations]
    if "service" in wanted:
        choices["service"] = list(Service.objects.values_list("id", "name"))
    if "role_group" in wanted:
        choices["role_group"] = list(RoleGroup.objects.values_list("id", "name"))
    return choices


def table_body(columns: Sequence[Column], rows: Iterable[dict],
               last_cell: Callable[[dict], str] | None = None) -> SafeString:
    """The ``<tr>`` rows of a table, rendered in Python: a two-year table has thousands of
    cells, which a template loop renders ten times slower. Text values are escaped
    (numbers and dates need not be). ``last_cell`` gives the HTML of one more cell per
    row (already safe)."""
    shows = [(c.key, formatter(c.key), c.key == "clinic_name") for c in columns]
    small, out = marker(), []
    for row in rows:
        hidden, extra = row.get("suppressed") or (), row.get("complementary") or ()
        cells = []
        for key, show, link in shows:
            value = row.get(key)
            if extra and key in extra:
                text = COMPLEMENTARY
            elif hidden and key in hidden:
                text = small
            elif value is None:
                text = "—"
            else:
                text = escape(value) if isinstance(value, str) else show(value)
            if link and row.get("clinic_id") is not None:
                text = f'<a href="{reverse("clinic", args=[row["clinic_id"]])}">{text}</a>'
            cells.append(text)
        if last_cell is not None:
            cells.append(last_cell(row))
        out.append("<tr><td>" + "</td><td>".join(cells) + "</td></tr>")
    return mark_safe("\n".join(out))


def query_without(request, *names: str) -> str:
    """The current query string without ``names`` (for sort and page links)."""
    query: QueryDict = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def wants_csv(request) -> bool:
    return request.GET.get("format") == "csv"


def table_page(request, template: str, *, title: str, columns: Sequence[Column], rows, prepare,
               filters: Sequence[str], filterset=None, csv_name: str, context: dict | None = None,
               paginate: bool = True, last_cell: Callable[[dict], str] | None = None):
    """Render a page around one table, or stream that table as CSV (``?format=csv``).

    ``rows`` is a queryset (or list) of raw dicts; ``prepare`` turns an iterable of them
    into display rows (suppression and names applied), for the current page only or for
    every row of the CSV.
    """
    if wants_csv(request):
        source = rows.iterator(chunk_size=2000) if hasattr(rows, "iterator") else rows
        return csv_response(csv_name, [c.key for c in columns], prepare(source))
    page = SummaryPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page")) if paginate else None
    shown = list(prepare(page.object_list if page else rows))
    ctx = {
        "title": title, "columns": columns, "rows": shown, "tbody": table_body(columns, shown, last_cell), "page": page,
        "choices": filter_choices(request, filters), "filters": filters,
        "values": request.GET, "errors": filterset.errors if filterset is not None and filterset.is_bound else {},
        "ordering": request.GET.get("ordering", ""),
        "sortable": set(filterset.ordering_fields) if filterset is not None else set(),
        "query_sort": query_without(request, "ordering", "page"),
        "query_page": query_without(request, "page"),
        "query_csv": query_without(request, "page", "format"),
    }
    ctx.update(context or {})
    return render(request, template, ctx)
