"""Bounded lists: page numbers with a count that stays cheap at national scale.

``paginate(request, queryset)`` returns a Django ``Page``; the count is capped
(``COUNT(*)`` over at most ``count_cap + 1`` rows) so a national office's 200,000
tasks cost no more to count than 10,000. ``max_pages`` lowers the cap for lists whose
deep pages are costly (5.2 million volunteers): the pages stop there. Templates include ``core/_pager.html``
with ``page``; it keeps the other query parameters.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PER_PAGE = 50
MAX_PER_PAGE = 200
COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    count_cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if hasattr(qs, "order_by"):
            n = qs.order_by()[: self.count_cap + 1].count()
        else:
            n = len(qs)
        self.capped = n > self.count_cap
        return min(n, self.count_cap) if self.capped else n

    capped = False


def paginate(
    request: HttpRequest,
    object_list: Any,
    *,
    per_page: int = PER_PAGE,
    param: str = "page",
    max_pages: int | None = None,
) -> Page:
    """A page of ``object_list``; ``max_pages`` caps how deep one may page (the count and
    the page numbers stop there: "共 1000+ 条"), for lists at national scale whose deep
    pages would cost a walk over every row before them; narrowing the search is the way
    on."""
    try:
        size = int(request.GET.get("per_page", per_page))
    except ValueError:
        size = per_page
    size = max(1, min(size, MAX_PER_PAGE))
    paginator = CappedPaginator(object_list, size)
    if max_pages is not None:
        paginator.count_cap = min(paginator.count_cap, max_pages * size)
    page = paginator.get_page(request.GET.get(param))
    query = request.GET.copy()
    query.pop(param, None)
    page.base_query = query.urlencode()  # type: ignore[attr-defined]
    page.param = param  # type: ignore[attr-defined]
    return page
