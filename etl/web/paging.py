"""Pages of a listing, shared by the API and the pages: exact counts (the recorded one for
a whole table, see :func:`etl.web.tables.count_rows`), pages read from the nearer end,
deep pages started at their first day (:func:`leading_counts`), and the first pages of an
order by a measure from the ids sorted once per build (:func:`first_ids`)."""
from __future__ import annotations

import threading
from array import array
from collections import OrderedDict

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.core.paginator import Paginator
from django.db.models import Count, QuerySet
from django.utils.functional import cached_property

from etl.models import SummaryState
from etl.web.tables import count_rows

# Below this many rows before a page, the database steps over them (an OFFSET) sooner
# than a page needs the day counts.
SEEK_FROM = 5000

# The first rows of a listing in an order no index serves whose ids are kept (a page of
# 1,000 rows five pages deep), and how many such listings a process keeps.
KEEP_FIRST = 5000
KEEP_ORDERS = 128


class SummaryPaginator(Paginator):
    """Pages of a summary's rows, the same rows in the same order as ``OFFSET`` pages of
    the whole ordered listing, at the cost of a page near the start:

    - A page past the middle is read from the end: fetched in the reverse order with the
      offset counted from the last row, and turned back. Only for an order that ends with
      the id, which no two rows share: its reverse is exactly the mirror image (both
      databases put NULLs at opposite ends for ASC and DESC).
    - A deep page of a listing ordered first by the table's leading column (the day, or
      the month) starts at its first day: the rows of the days before it are counted
      from :func:`leading_counts`, so the database steps over the page's own day only,
      not over the half a table before it.
    """

    @cached_property
    def count(self) -> int:
        return count_rows(self.object_list) if isinstance(self.object_list, QuerySet) else super().count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if not ends_with_id(self.object_list):
            return super().page(number)
        listing, backwards = self.object_list, bottom > self.count // 2
        if backwards:
            listing, bottom, top = listing.reverse(), self.count - top, self.count - bottom
        rows = first_rows(listing, bottom, top, self.count)
        if rows is None:
            if bottom >= SEEK_FROM:
                listing, bottom, top = seek(listing, bottom, top)
            rows = list(listing[bottom:top])
        if backwards:
            rows.reverse()
        return self._get_page(rows, number, self)


def first_rows(listing: QuerySet, bottom: int, top: int, count: int) -> list | None:
    """The rows ``[bottom:top]`` of a listing of ``count`` rows ordered by anything but
    its table's leading column (a measure: no index serves the order, and the database
    sorts every row of the listing for each page), read by their ids from
    :func:`first_ids`; None when that does not apply. The same rows in the same order:
    the listing itself filtered to those ids."""
    query, model = listing.query, listing.model
    if top > KEEP_FIRST or top <= bottom or query.distinct or query.group_by is not None:
        return None
    leading = (model._meta.ordering or [None])[0]
    first = query.order_by[0] if query.order_by else None
    if not isinstance(first, str) or first.lstrip("-") in (leading, "id", "pk"):
        return None   # the table's indexes serve it
    if not _reads_its_table_only(listing):
        return None
    ids = first_ids(listing, count)
    if ids is None:
        return None
    wanted = ids[bottom:top]
    rows = list(listing.filter(pk__in=wanted.tolist()))
    # A row of the page or before it is gone: the table was changed by hand since its
    # build (rows deleted); read it plainly.
    if len(rows) != len(wanted) or (bottom and listing.filter(pk__in=ids[:bottom].tolist()).count() != bottom):
        return None
    return rows


def _reads_its_table_only(listing: QuerySet) -> bool:
    """Whether the listing's ``WHERE`` reads nothing but the summary's own table: no
    subquery (a ``clinic`` or ``region`` filter reads ``dim_location``, which a build
    may change without changing the summary's recorded count and time). The user's
    scope is a list of location ids, resolved in the request."""
    where = listing.query.where
    if not where:
        return True
    try:
        sql, _ = listing.query.get_compiler(using=listing.db).compile(where)
    except (EmptyResultSet, FullResultSet):
        return False
    return "select" not in sql.lower()


_FIRST: OrderedDict[tuple, tuple[tuple, array]] = OrderedDict()
_FIRST_LOCK = threading.Lock()  # a threaded server's requests share the dict


def first_ids(listing: QuerySet, count: int) -> array | None:
    """The ids of the first :data:`KEEP_FIRST` rows of an ordered listing of ``count``
    rows, as of its table's last recorded build.

    They are sorted once after each build (one top-N sort, as the listing's first page
    needs anyway) and kept in the process, keyed by the listing's own SQL and parameters
    (its scope, filters and order) and by the build's recorded count and time, which
    every build changes in the transaction that writes the rows; the :data:`KEEP_ORDERS`
    listings used last are kept. Only listings whose ``WHERE`` reads the summary's table
    alone use them (:func:`_reads_its_table_only`): their SQL then holds everything that
    chooses their rows, the user's scope included (a list of ids), so two requests share
    the ids only when they read the same rows; and each page reads its rows through the
    listing itself, with its ``WHERE``. Like the recorded count, they assume the table is
    written by builds only. None when no build recorded the table's count, or the listing
    does not hold ``count`` rows (checked on every use)."""
    recorded = recorded_build(listing.model._meta.db_table)
    if recorded is None:
        return None
    try:
        sql, params = listing.query.sql_with_params()
    except (EmptyResultSet, FullResultSet):
        return None
    key = (sql, tuple(params))
    with _FIRST_LOCK:
        kept = _FIRST.get(key)
        if kept is not None and kept[0] == recorded:
            _FIRST.move_to_end(key)
    if kept is not None and kept[0] == recorded and len(kept[1]) == min(count, KEEP_FIRST):
        return kept[1]
    ids = array("q", listing.values_list("pk", flat=True)[:KEEP_FIRST])
    if len(ids) != min(count, KEEP_FIRST):
        return None
    with _FIRST_LOCK:
        _FIRST[key] = (recorded, ids)
        _FIRST.move_to_end(key)
        while len(_FIRST) > KEEP_ORDERS:
            _FIRST.popitem(last=False)
    return ids


def recorded_build(table: str) -> tuple | None:
    """The summary table's last recorded build, (row count, build time), which every build
    writes in the transaction that writes the rows: the key of what a listing keeps from
    one request to the next (:func:`first_ids`, :func:`leading_counts`); None when no
    build recorded a count."""
    recorded = SummaryState.objects.filter(name=table).values_list("row_count", "built_at").first()
    return None if recorded is None or recorded[0] is None else recorded


def ends_with_id(queryset) -> bool:
    order = getattr(getattr(queryset, "query", None), "order_by", ())
    return bool(order) and order[-1] in ("id", "-id", "pk", "-pk")


def seek(listing: QuerySet, bottom: int, top: int) -> tuple[QuerySet, int, int]:
    """The rows ``[bottom:top]`` of ``listing`` as a slice of a shorter listing: when the
    listing is ordered first by the table's leading column, the rows from the value of
    that column where row ``bottom`` lies, with the rows of the values before it (counted
    by :func:`leading_counts`) taken off both ends of the slice. The same rows: the order
    starts with that column, so the rows of the earlier values come first."""
    query, model = listing.query, listing.model
    leading = (model._meta.ordering or [None])[0]
    first = query.order_by[0] if query.order_by else None
    if (not leading or not isinstance(first, str) or first.lstrip("-") != leading or query.distinct
            or query.group_by is not None or model._meta.get_field(leading).null):
        return listing, bottom, top
    counts = leading_counts(listing, leading)
    if counts is None:
        return listing, bottom, top
    # The direction the rows come in: the order's own, turned by reverse().
    descending = query.order_by[0].startswith("-") == query.standard_ordering
    before = 0
    for value, rows in (reversed(counts) if descending else counts):
        if before + rows > bottom:
            lookup = f"{leading}__{'lte' if descending else 'gte'}"
            return listing.filter(**{lookup: value}), bottom - before, top - before
        before += rows
    return listing, bottom, top


_COUNTS: dict[tuple[str, str], tuple[tuple, list[tuple[object, int]]]] = {}


def leading_counts(listing: QuerySet, column: str) -> list[tuple[object, int]] | None:
    """The rows of ``listing`` of each value of ``column``, by value (ascending).

    A filtered listing (a scope, a filter) is counted now, by one ``GROUP BY`` of its rows
    (over the indexes that count them: a region's 117k ``staff_summary`` rows in about
    20 ms). A whole table is counted as of its last recorded build, and the counts are
    kept in the process from one request to the next, keyed by the build's recorded count
    and time, which every build changes in the transaction that writes the rows: one
    ``GROUP BY`` of the table after each build, not one per page. These are counts of
    the whole table, the same for every user (only a listing without any ``WHERE`` uses
    them), so they cannot show one user's rows to another. None when no build recorded
    the table's count, or the table does not hold the rows the build recorded (changed
    by hand since; the same rule as :func:`etl.web.tables.count_rows`)."""
    def counted():  # sorted here: a reversed listing would give them in the reverse order
        return sorted(listing.order_by().values_list(column).annotate(rows=Count("*")), key=lambda row: row[0])

    if listing.query.where:
        return counted()
    table = listing.model._meta.db_table
    recorded = recorded_build(table)
    if recorded is None:
        return None
    kept = _COUNTS.get((table, column))
    if kept is not None and kept[0] == recorded:
        return kept[1]
    counts = counted()
    if sum(rows for _, rows in counts) != recorded[0]:
        return None
    _COUNTS[(table, column)] = (recorded, counts)
    return counts
