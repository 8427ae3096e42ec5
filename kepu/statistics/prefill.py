"""Values already in the system, offered as the starting values of a report.

A catalogue indicator names its source in ``prefill`` (e.g. ``"registry.bases"``): the
mapping from indicators to figures is catalogue data. A source is a function
``(user, organisation, year) -> int | None`` registered in ``SOURCES``; every source counts
through the scoping gate (``restrict``), so a unit is offered only what it may see itself.

Sources with a figure after a colon read that figure of a registry record:
``registry.museums:building_area`` (the unit's registered museums, summed) and
``registry.museum_reports:visitors`` (the accepted annual reports of the unit's museums
for the statistics year, summed; any figure of ``MUSEUM_FIGURES``). Volunteers count the
unit's teams: the teams it hosts (依托单位), and the teams its office keeps without a host
(so no team is counted for two units in a roll-up).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q, Sum
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


def _museums(user: UserLike, organisation: Any, year: int) -> int | None:
    """The unit's registered science museums (科技馆)."""
    from kepu.registry.models import Museum

    return Museum.objects.restrict(user, Action.VIEW).filter(organisation=organisation).count()


def _museum_field(field: str) -> Source:
    """A figure of the unit's registered museums, summed (e.g. building area)."""

    def source(user: UserLike, organisation: Any, year: int) -> int | None:
        from kepu.registry.models import Museum

        total = (
            Museum.objects.restrict(user, Action.VIEW)
            .filter(organisation=organisation)
            .aggregate(total=Sum(field))["total"]
        )
        return _whole(total or 0)

    return source


def _museum_report_figure(field: str) -> Source:
    """A figure of the year's accepted annual reports of the unit's museums, summed."""

    def source(user: UserLike, organisation: Any, year: int) -> int | None:
        from kepu.registry.models import MuseumReport
        from kepu.registry.models import ReportStatus as MuseumReportStatus

        total = (
            MuseumReport.objects.restrict(user, Action.VIEW)
            .filter(
                museum__organisation=organisation,
                year=year,
                status=MuseumReportStatus.ACCEPTED,
            )
            .aggregate(total=Sum(field))["total"]
        )
        return _whole(total)  # None (not prefilled) until a report of the year is accepted

    return source


def _whole(value: Any) -> int | None:
    """Statistics cells are whole numbers: a decimal sum (万元, hours) is rounded."""
    if value is None:
        return None
    return int(Decimal(value).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _unit_teams(organisation: Any) -> Q:
    """The teams a unit reports: those it hosts, and its office's teams without a host."""
    return Q(host=organisation) | Q(host__isnull=True, office=organisation)


def _volunteers(user: UserLike, organisation: Any, year: int) -> int | None:
    """Volunteers on the register (active) in the unit's active teams (a count only)."""
    from kepu.registry.models import Volunteer, VolunteerTeam

    teams = VolunteerTeam.objects.restrict(user, Action.VIEW).filter(
        _unit_teams(organisation), active=True
    )
    # unscoped below: a count per team the user reached through the gate (no personal data)
    return Volunteer.objects.filter(team__in=teams.values("pk"), active=True).count()


def _volunteer_hours(user: UserLike, organisation: Any, year: int) -> int | None:
    """Service hours recorded in the year by the unit's teams (rounded to whole hours)."""
    from kepu.registry.models import ServiceRecord, VolunteerTeam

    teams = VolunteerTeam.objects.restrict(user, Action.VIEW).filter(_unit_teams(organisation))
    total = (
        # unscoped: records of the teams the user reached through the gate, summed
        ServiceRecord.objects.filter(
            team__in=teams.values("pk"),
            served_on__gte=dt.date(year, 1, 1),
            served_on__lt=dt.date(year + 1, 1, 1),
        ).aggregate(total=Sum("hours"))["total"]
    )
    return _whole(total) if total is not None else 0


def _volunteer_teams(user: UserLike, organisation: Any, year: int) -> int | None:
    """The unit's active volunteer service teams."""
    from kepu.registry.models import VolunteerTeam

    return (
        VolunteerTeam.objects.restrict(user, Action.VIEW)
        .filter(_unit_teams(organisation), active=True)
        .count()
    )


# Registry figures offered to catalogues (field, label); money in 万元 and rates rounded.
MUSEUM_FIELDS = (("building_area", "建筑面积"), ("exhibition_area", "展厅面积"))


def _museum_report_fields() -> list[tuple[str, str]]:
    from kepu.registry.models import MUSEUM_FIGURES

    return [(f, label) for f, label, _ in MUSEUM_FIGURES if f != "satisfaction"]


SOURCES: dict[str, Source] = {
    "campaigns.activities": _campaign_activities,
    "registry.bases": _bases,
    "registry.experts": _experts,
    "registry.museums": _museums,
    "registry.volunteers": _volunteers,
    "registry.volunteer_hours": _volunteer_hours,
    "registry.volunteer_teams": _volunteer_teams,
}
SOURCE_LABELS = {
    "campaigns.activities": "科普活动(已发布的活动)",
    "registry.bases": "基地与队伍: 科普教育基地",
    "registry.experts": "基地与队伍: 科普专家库",
    "registry.museums": "基地与队伍: 登记的科技馆",
    "registry.volunteers": "基地与队伍: 在册科技志愿者",
    "registry.volunteer_hours": "基地与队伍: 科技志愿服务时长(小时)",
    "registry.volunteer_teams": "基地与队伍: 科技志愿服务队",
}


def _register_figures() -> None:
    for field, label in MUSEUM_FIELDS:
        SOURCES[f"registry.museums:{field}"] = _museum_field(field)
        SOURCE_LABELS[f"registry.museums:{field}"] = f"基地与队伍: 科技馆{label}"
    for field, label in _museum_report_fields():
        SOURCES[f"registry.museum_reports:{field}"] = _museum_report_figure(field)
        SOURCE_LABELS[f"registry.museum_reports:{field}"] = f"科技馆年度报告(已审核): {label}"


_register_figures()


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
