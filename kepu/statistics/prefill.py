"""Values already in the system, offered as the starting values of a report.

A catalogue indicator names its source in ``prefill`` (e.g. ``"registry.bases"``). A
source is a function ``(user, organisation, year) -> int | None`` registered in
``SOURCES``; every source counts through the scoping gate (``restrict``), so a unit is
offered only what it may see itself.

Hook for the registries still being built: register the museum and volunteer counts
here when their models land, e.g.::

    SOURCES["registry.museums"] = _museums      # kepu.registry museums of the unit
    SOURCES["registry.volunteers"] = _volunteers  # registered volunteers of its teams

Until then indicators naming those sources are simply not prefilled (the catalogue
shipped with the project already names them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from kepu.core.types import UserLike
from kepu.orgs.scoping import Action

Source = Callable[[Any, Any, int], int | None]


def _year_range(year: int) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)


def _campaign_activities(user: UserLike, organisation: Any, year: int) -> int | None:
    """Activities the unit organised in campaigns that year (published or completed)."""
    from kepu.campaigns.models import Activity, Status

    start, end = _year_range(year)
    return (
        Activity.objects.restrict(user, Action.VIEW)
        .filter(
            organiser=organisation,
            status__in=[Status.APPROVED, Status.COMPLETED],
            starts_at__gte=start,
            starts_at__lt=end,
        )
        .count()
    )


def _bases(user: UserLike, organisation: Any, year: int) -> int | None:
    """The unit's certified education bases (also those on warning) at year end."""
    from kepu.registry.models import BaseStatus, EducationBase

    return (
        EducationBase.objects.restrict(user, Action.VIEW)
        .filter(organisation=organisation, status__in=[BaseStatus.CERTIFIED, BaseStatus.WARNING])
        .count()
    )


def _experts(user: UserLike, organisation: Any, year: int) -> int | None:
    """Experts in the pool that the unit manages."""
    from kepu.registry.models import Expert

    return Expert.objects.restrict(user, Action.VIEW).filter(owner=organisation).count()


SOURCES: dict[str, Source] = {
    "campaigns.activities": _campaign_activities,
    "registry.bases": _bases,
    "registry.experts": _experts,
}
SOURCE_LABELS = {
    "campaigns.activities": "科普活动(已发布的活动)",
    "registry.bases": "基地与队伍: 科普教育基地",
    "registry.experts": "基地与队伍: 科普专家库",
    "registry.museums": "基地与队伍: 科技馆 (待接入)",
    "registry.volunteers": "基地与队伍: 科技志愿者 (待接入)",
}


def prefill_values(
    *, user: UserLike, organisation: Any, year: int, indicators: Any
) -> dict[str, int]:
    """``{code: value}`` for the indicators whose source is registered (one query each)."""
    out: dict[str, int] = {}
    for ind in indicators:
        source = SOURCES.get(ind.prefill) if ind.prefill else None
        if source is None:
            continue
        value = source(user, organisation, year)
        if value is not None:
            out[ind.code] = int(value)
    return out
