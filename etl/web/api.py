"""The read-only REST API: one list endpoint per summary, paginated
(``{count, next, previous, results}``), filtered and ordered by the summary's FilterSet,
limited by :func:`etl.web.access.visible_to`, suppressed by
:func:`etl.web.suppression.suppress`; ``?format=csv`` streams every filtered row."""
from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import generics, renderers, serializers
from rest_framework.pagination import PageNumberPagination

from etl.web.csvexport import csv_response
from etl.web.paging import SummaryPaginator
from etl.web.tables import TABLES, SummaryTable, prepare, rows, values


class Pages(PageNumberPagination):
    django_paginator_class = SummaryPaginator
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class CSVRenderer(renderers.BaseRenderer):
    """Lets content negotiation accept ``?format=csv``; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data


def serializer_for(table: SummaryTable) -> type[serializers.ModelSerializer]:
    """A serializer of the table's columns, names and ``suppressed`` list; it reads the
    dicts :func:`etl.web.tables.rows` yields (suppression already applied)."""
    extra = {
        name: serializers.CharField(read_only=True)
        for name in table.output_columns if name not in table.columns
    }
    meta = type("Meta", (), {"model": table.model, "fields": table.output_columns + ["suppressed"]})
    attrs = {
        "Meta": meta, **extra,
        "suppressed": serializers.ListField(
            child=serializers.CharField(), read_only=True,
            help_text="columns hidden by small-cell suppression (null in this row)",
        ),
    }
    return type(f"{table.model.__name__}Serializer", (serializers.ModelSerializer,), attrs)


class SummaryList(generics.ListAPIView):
    """List one summary's rows the caller may read."""

    table: SummaryTable
    pagination_class = Pages
    filter_backends = [DjangoFilterBackend]
    renderer_classes = [renderers.JSONRenderer, renderers.BrowsableAPIRenderer, CSVRenderer]

    def get_queryset(self):
        return self.table.queryset(self.request)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if request.accepted_renderer.format == "csv":
            return csv_response(f"{self.table.slug}.csv", self.table.output_columns,
                                rows(request, self.table, queryset))
        page = self.paginate_queryset(values(self.table, queryset))
        # The rows are plain dicts of the serializer's fields already (it documents them in
        # the schema); the JSON encoder writes decimals as numbers and dates as ISO text.
        return self.get_paginated_response(list(prepare(request, self.table, page)))


def endpoint(slug: str):
    table = TABLES[slug]
    view = type(f"{table.model.__name__}List", (SummaryList,), {
        "table": table, "filterset_class": table.filterset, "serializer_class": serializer_for(table),
        "__doc__": f"Rows of `{table.model._meta.db_table}` the caller may read (see docs/web.md).",
    })
    return view.as_view()
