"""The five summaries as the reading side serves them: columns, filters, and the one
row pipeline (scope → filters → values → suppression → names) that pages, CSV and the
API share."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from django.db.models import Model, OuterRef, QuerySet, Subquery

from etl.models import (
    ClinicDay, ClinicScore, RegionMonth, RoleGroup, Service, StaffCostSummary, StaffSummary, SummaryState,
)
from etl.web import filters
from etl.web.access import tree_of, visible_to
from etl.web.suppression import may_see_small, suppress

CHUNK = 2000


def _name_of(id_column: str) -> str:
    return id_column[: -len("_id")] + "_name"


@dataclass(frozen=True)
class SummaryTable:
    slug: str                     # the API path and CSV file name
    model: type[Model]
    filterset: type[filters.SummaryFilterSet]
    names: tuple[str, ...]        # *_id columns that get a *_name beside them

    @property
    def columns(self) -> list[str]:
        """The model's columns in declaration order, without the surrogate key."""
        return [f.attname for f in self.model._meta.concrete_fields if f.attname != "id"]

    @property
    def output_columns(self) -> list[str]:
        out: list[str] = []
        for column in self.columns:
            out.append(column)
            if column in self.names and _name_of(column) not in self.columns:
                out.append(_name_of(column))
        return out

    def queryset(self, request) -> QuerySet:
        """Every row the request's user may read, with what suppression needs."""
        qs = visible_to(request, self.model)
        if self.model is ClinicScore:
            # Suppression of a score's ratios needs the day's patient count.
            qs = qs.annotate(nr_patients=Subquery(
                ClinicDay.objects.filter(clinic_id=OuterRef("clinic_id"), day=OuterRef("day")).values("nr_patients")[:1]
            ))
        return qs

    def filtered(self, request, data=None) -> filters.SummaryFilterSet:
        return self.filterset(request.GET if data is None else data, queryset=self.queryset(request), request=request)


TABLES = {
    t.slug: t for t in (
        SummaryTable("staff-summary", StaffSummary, filters.StaffSummaryFilterSet,
                     ("location_id", "service_id", "role_group_id")),
        SummaryTable("staff-cost-summary", StaffCostSummary, filters.StaffCostSummaryFilterSet,
                     ("location_id", "role_group_id")),
        SummaryTable("clinic-days", ClinicDay, filters.ClinicDayFilterSet, ("clinic_id", "region_id")),
        SummaryTable("clinic-scores", ClinicScore, filters.ClinicScoreFilterSet, ("clinic_id", "region_id")),
        SummaryTable("region-months", RegionMonth, filters.RegionMonthFilterSet, ("region_id",)),
    )
}


class Names:
    """Names of locations, services and role groups, read once per request."""

    def __init__(self, request):
        self.tree = tree_of(request)
        self._services: dict[int, str] | None = None
        self._groups: dict[int, str] | None = None

    def location(self, location_id: int | None, none: str = "no region") -> str:
        if location_id is None:
            return none
        info = self.tree.get(location_id)
        return info.name if info else f"unknown location #{location_id}"

    def service(self, service_id: int | None) -> str:
        if self._services is None:
            self._services = dict(Service.objects.values_list("id", "name"))
        if service_id is None:
            return "no service"
        return self._services.get(service_id, f"unknown service #{service_id}")

    def role_group(self, group_id: int | None) -> str:
        if self._groups is None:
            self._groups = dict(RoleGroup.objects.values_list("id", "name"))
        if group_id is None:
            return "no role group"
        return self._groups.get(group_id, f"unknown role group #{group_id}")

    def of(self, column: str, value) -> str:
        if column == "service_id":
            return self.service(value)
        if column == "role_group_id":
            return self.role_group(value)
        return self.location(value, none="no region" if column == "region_id" else "none")


def values(table: SummaryTable, queryset: QuerySet) -> QuerySet:
    """The queryset as dicts of the columns the rows need (suppression included)."""
    extra = ["nr_patients"] if table.model is ClinicScore else []
    return queryset.values(*table.columns, *extra)


def prepare(request, table: SummaryTable, dicts: Iterable[dict]) -> Iterator[dict]:
    """Dicts of :func:`values` as rows of ``table.output_columns`` plus their
    ``suppressed`` list: suppression applied, names added."""
    allowed = may_see_small(request.user)
    names = Names(request)
    columns = table.columns
    named = {c: _name_of(c) for c in columns if c in table.names and _name_of(c) not in columns}
    # Each column once: (column, its name column or None, the name of an id already seen).
    plan = [(c, named.get(c), {}) for c in columns]
    for raw in dicts:
        row = suppress(raw, allowed, columns)
        out = {}
        for column, name_column, seen in plan:
            value = out[column] = row[column]
            if name_column is not None:
                if value not in seen:
                    seen[value] = names.of(column, value)
                out[name_column] = seen[value]
        out["suppressed"] = row["suppressed"]
        yield out


def rows(request, table: SummaryTable, queryset: QuerySet) -> Iterator[dict]:
    """Every row of a filtered queryset, prepared, streamed in chunks (constant memory)."""
    return prepare(request, table, values(table, queryset).iterator(chunk_size=CHUNK))


def count_rows(queryset: QuerySet) -> int:
    """The exact number of rows of a summary's queryset. An unfiltered one (a superuser's
    listing without filters) holds the whole table: its count is the one the last build
    recorded in the same transaction that wrote the rows (``SummaryState.row_count``),
    not a scan of a million rows. Anything filtered, or a table no build has recorded,
    is counted by the database."""
    query = queryset.query
    if not query.where and not query.distinct and not query.is_sliced and query.group_by is None:
        recorded = (SummaryState.objects.filter(name=queryset.model._meta.db_table)
                    .values_list("row_count", flat=True).first())
        if recorded is not None:
            return recorded
    return queryset.count()
