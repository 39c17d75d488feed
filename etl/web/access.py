"""Who sees what: location grants resolved once per request, and :func:`visible_to`, the
one function every page, CSV, API endpoint, chart and filter choice reads rows through.

A :class:`~etl.models.LocationGrant` on a location covers it and every location under it
in the location tree (``dim_location``, kept by the build). A row is visible when the
location it belongs to is covered: ``location_id`` for the staff summaries, the clinic for
``clinic_day`` and ``clinic_score`` (so a grant on one department does not show its
clinic's totals), the region for ``region_month`` (so only a user granted the whole
region sees it). Superusers see everything; anyone else with no grant sees nothing: the
scope fails closed.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

from django.db.models import Model, QuerySet

from etl.models import (
    ClinicDay, ClinicScore, Location, LocationGrant, RegionMonth, StaffCostSummary, StaffSummary,
)

# The column that says which location a row belongs to. A model missing here cannot be
# read through visible_to at all (fails closed).
SCOPE_FIELD: dict[type[Model], str] = {
    StaffSummary: "location_id",
    StaffCostSummary: "location_id",
    ClinicDay: "clinic_id",
    ClinicScore: "clinic_id",
    RegionMonth: "region_id",
    Location: "id",
}


@dataclass(frozen=True)
class LocationInfo:
    name: str
    kind: str
    parent_id: int | None
    clinic_id: int | None
    region_id: int | None


@dataclass(frozen=True)
class Scope:
    """The locations one user may read: ``everything`` (superuser) or ``locations``."""

    everything: bool
    locations: frozenset[int]

    def covers(self, location_id: int | None) -> bool:
        return self.everything or (location_id is not None and location_id in self.locations)


def location_tree() -> dict[int, LocationInfo]:
    """Every location of the dimension, by id (one query)."""
    return {
        i: LocationInfo(n, k, p, c, r)
        for i, n, k, p, c, r in Location.objects.values_list("id", "name", "kind", "parent_id", "clinic_id",
                                                              "region_id")
    }


def covered(granted: Iterable[int], tree: dict[int, LocationInfo]) -> frozenset[int]:
    """The granted locations and every location under them (a walk down the tree; a loop
    stops where it meets a location already covered)."""
    children: dict[int, list[int]] = defaultdict(list)
    for location_id, info in tree.items():
        if info.parent_id is not None:
            children[info.parent_id].append(location_id)
    seen: set[int] = set()
    todo = list(granted)
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        todo.extend(children.get(node, ()))
    return frozenset(seen)


def tree_of(request) -> dict[int, LocationInfo]:
    """The location tree, read once per request."""
    if not hasattr(request, "_etl_location_tree"):
        request._etl_location_tree = location_tree()
    return request._etl_location_tree


def scope_of(request) -> Scope:
    """The request user's scope, resolved once per request."""
    if not hasattr(request, "_etl_scope"):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or not user.is_active:
            scope = Scope(False, frozenset())
        elif user.is_superuser:
            scope = Scope(True, frozenset())
        else:
            granted = LocationGrant.objects.filter(user=user).values_list("location_id", flat=True)
            scope = Scope(False, covered(granted, tree_of(request)))
        request._etl_scope = scope
    return request._etl_scope


# Tables whose rows belong to a clinic or a region: only a covered location that is a
# clinic (its own clinic) or a region (its own region) can match their rows.
ROW_LEVEL: dict[type[Model], str] = {ClinicDay: "clinic_id", ClinicScore: "clinic_id", RegionMonth: "region_id"}


def at_level(locations: frozenset[int], level: str | None, tree: dict[int, LocationInfo]) -> list[int]:
    """The covered ids a row of that level can carry: all of them for location-level rows;
    for clinic or region rows the covered clinics or regions (an id missing from the
    dimension is kept). Only ids that can never match are left out, so the rows are the
    same, and a short list lets the database estimate them: a region's clinic rows
    filtered by 221 ids of clinics and departments were counted by reading the whole
    table, by its 20 clinics through an index."""
    if level is None:
        return sorted(locations)
    return sorted(i for i in locations if i not in tree or getattr(tree[i], level) == i)


def visible_to(request, rows: type[Model] | QuerySet) -> QuerySet:
    """``rows`` (a model or a queryset of one) limited to what the request's user may read."""
    queryset = rows if isinstance(rows, QuerySet) else rows._default_manager.all()
    field = SCOPE_FIELD[queryset.model]
    scope = scope_of(request)
    if scope.everything:
        return queryset
    if not scope.locations:
        return queryset.none()
    level = ROW_LEVEL.get(queryset.model)
    ids = at_level(scope.locations, level, tree_of(request)) if level else sorted(scope.locations)
    return queryset.filter(**{f"{field}__in": ids}) if ids else queryset.none()
