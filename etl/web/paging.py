"""Pages of a listing, shared by the API and the pages: exact counts (the recorded one for
a whole table, see :func:`etl.web.tables.count_rows`) and pages read from the nearer end."""
from __future__ import annotations

from django.core.paginator import Paginator
from django.utils.functional import cached_property

from etl.web.tables import count_rows


class SummaryPaginator(Paginator):
    """Pages of a summary's rows. A page past the middle is read from the end: the same
    rows, fetched in the reverse order with the offset counted from the last row and turned
    back, so the last pages cost what the first ones do (an ``OFFSET`` reads every row
    before the page). Only for an order that ends with the id, which no two rows share:
    its reverse is exactly the mirror image (both databases put NULLs at opposite ends for
    ASC and DESC)."""

    @cached_property
    def count(self) -> int:
        return count_rows(self.object_list)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if bottom <= self.count // 2 or not ends_with_id(self.object_list):
            return super().page(number)
        rows = list(self.object_list.reverse()[self.count - top:self.count - bottom])
        rows.reverse()
        return self._get_page(rows, number, self)


def ends_with_id(queryset) -> bool:
    order = getattr(getattr(queryset, "query", None), "order_by", ())
    return bool(order) and order[-1] in ("id", "-id", "pk", "-pk")
