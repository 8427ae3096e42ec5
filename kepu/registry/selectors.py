"""Reads for the registries: scoped, paginated lists and searches."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import Count, F, FilteredRelation, Q, QuerySet, Sum
from django.db.models.functions import ExtractYear

from kepu.core.types import UserLike
from kepu.orgs.scoping import Action, user_grants
from kepu.regions.models import Region
from kepu.registry.models import (
    MUSEUM_FIGURES,
    EducationBase,
    Expert,
    Museum,
    MuseumReport,
    RegionVolunteerTotals,
    ReportStatus,
    ScoreSheet,
    ServiceRecord,
    TeamTotals,
    TeamYearTotals,
    Volunteer,
    VolunteerTeam,
)


def base_list(
    *, user: UserLike, status: str = "", level: str = "", q: str = ""
) -> QuerySet[EducationBase]:
    qs = EducationBase.objects.restrict(user, Action.VIEW).select_related("region", "organisation")
    if status:
        qs = qs.filter(status=status)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("region__code", "name")


def sheets_for(*, user: UserLike, base: EducationBase) -> QuerySet[ScoreSheet]:
    """Score sheets that apply to ``base``: those of offices whose region contains it."""
    paths = [base.region.path[: i + 1] for i, ch in enumerate(base.region.path) if ch == "/"]
    # unscoped: sheets of the offices above the base (the base's staff fill them in)
    return ScoreSheet.objects.filter(region__path__in=paths).order_by("-year", "name")


def sheet_list(*, user: UserLike) -> QuerySet[ScoreSheet]:
    return ScoreSheet.objects.restrict(user, Action.VIEW).select_related("owner", "region")


def expert_search(
    *, user: UserLike, field: str = "", region_code: str = "", available: bool = False
) -> QuerySet[Expert]:
    qs = Expert.objects.restrict(user, Action.VIEW).select_related("region")
    if field:
        qs = qs.filter(Q(fields__icontains=field) | Q(title__icontains=field))
    if region_code:
        region = Region.objects.filter(code=region_code).only("path").first()
        qs = qs.filter(region__path__startswith=region.path) if region else qs.none()
    if available:
        qs = qs.filter(available=True)
    return qs.order_by("region__code", "name")


def is_office_over(user: UserLike, region: Region) -> bool:
    return user.is_superuser or any(
        g.region_path is not None
        and g.role == "office_admin"
        and region.path.startswith(g.region_path)
        for g in user_grants(user)
    )


# --- science museums ----------------------------------------------------------------------
def museum_list(*, user: UserLike, q: str = "", region_code: str = "") -> QuerySet[Museum]:
    qs = Museum.objects.restrict(user, Action.VIEW).select_related("region", "organisation")
    if q:
        qs = qs.filter(name__icontains=q)
    if region_code:
        region = Region.objects.filter(code=region_code).only("path").first()
        qs = qs.filter(region__path__startswith=region.path) if region else qs.none()
    return qs.order_by("region__code", "name")


def museum_reports(
    *, user: UserLike, year: int, accepted_only: bool = False
) -> QuerySet[MuseumReport]:
    qs = (
        MuseumReport.objects.restrict(user, Action.VIEW)
        .filter(year=year)
        .select_related("museum__region")
    )
    if accepted_only:
        qs = qs.filter(status=ReportStatus.ACCEPTED)
    return qs.order_by("museum__region__code", "museum__name")


def _user_top_region(user: UserLike) -> Region | None:
    """The widest region the user's offices cover (the root for a superuser)."""
    if user.is_superuser:
        return Region.objects.filter(parent__isnull=True).order_by("code").first()
    paths = sorted((g.region_path for g in user_grants(user) if g.region_path is not None), key=len)
    if not paths:
        return None
    return Region.objects.filter(path=paths[0]).first()


def _child_of(region: Region, path: str) -> str | None:
    """The path of ``region``'s child on the way to ``path`` (``path`` itself if it is a
    direct child, ``region.path`` for rows in the region itself)."""
    if not path.startswith(region.path):
        return None
    rest = path[len(region.path) :]
    if not rest:
        return region.path
    return region.path + rest.split("/", 1)[0] + "/"


def _rows_by_child(
    region: Region, grouped: list[dict[str, Any]], fields: list[str]
) -> list[dict[str, Any]]:
    """Roll rows grouped by a region path up to ``region``'s children (and itself)."""
    totals: dict[str, dict[str, Any]] = {}
    for row in grouped:
        child = _child_of(region, row["path"])
        if child is None:
            continue
        t = totals.setdefault(child, {f: 0 for f in fields})
        for f in fields:
            t[f] += row[f] or 0
    names = {
        r.path: r for r in Region.objects.filter(path__in=list(totals)).only("path", "code", "name")
    }
    out = []
    for path, t in sorted(totals.items()):
        r = names.get(path)
        label = (r.name if r else path) + (" (本级)" if path == region.path else "")
        out.append({"path": path, "code": r.code if r else "", "name": label, **t})
    return out


MUSEUM_SUM_FIELDS = [k for k, _, _ in MUSEUM_FIGURES if k != "satisfaction"]


def museum_summary(
    *, user: UserLike, year: int, region: Region | None = None, accepted_only: bool = False
) -> dict[str, Any]:
    """The year's museum reports per child region of ``region`` (default: the user's widest
    office region): museums, reports, and the sums of every figure (satisfaction: mean)."""
    region = region or _user_top_region(user)
    if region is None:
        return {"region": None, "rows": [], "total": {}}
    reports = museum_reports(user=user, year=year, accepted_only=accepted_only).filter(
        museum__region__path__startswith=region.path,
        status__in=[ReportStatus.SUBMITTED, ReportStatus.ACCEPTED],
    )
    sums: dict[str, Any] = {f: Sum(f) for f in MUSEUM_SUM_FIELDS}
    sums.update(reports=Count("pk"), satisfaction_sum=Sum("satisfaction"))
    grouped: list[dict[str, Any]] = [
        dict(r) for r in reports.order_by().values(path=F("museum__region__path")).annotate(**sums)
    ]
    museums: list[dict[str, Any]] = list(
        Museum.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=region.path)
        .order_by()
        .values(path=F("region__path"))
        .annotate(museums=Count("pk"))
    )
    fields = ["museums", "reports", "satisfaction_sum", *MUSEUM_SUM_FIELDS]
    for m in museums:
        grouped.append({"path": m["path"], "museums": m["museums"]})
    for g in grouped:
        for f in fields:
            g.setdefault(f, 0)
    rows = _rows_by_child(region, grouped, fields)
    total = {f: sum(r[f] for r in rows) for f in fields}
    for r in [*rows, total]:
        r["satisfaction"] = round(r["satisfaction_sum"] / r["reports"], 1) if r["reports"] else None
    return {"region": region, "rows": rows, "total": total}


def museum_figures_by_region(
    *, user: UserLike, year: int, region: Region | None = None
) -> dict[str, dict[str, Any]]:
    """For prefill (e.g. the annual statistics): accepted museum reports of ``year`` per
    child region code of ``region``: ``{code: {"museums", "reports", <figure>: sum …}}``."""
    summary = museum_summary(user=user, year=year, region=region, accepted_only=True)
    return {
        r["code"]: {k: v for k, v in r.items() if k not in ("path", "name")}
        for r in summary["rows"]
    }


# --- volunteers ---------------------------------------------------------------------------
def personal_offices(user: UserLike) -> set[int] | None:
    """Organisations whose teams' personal data ``user`` may see (None: all, superuser)."""
    if user.is_superuser:
        return None
    return {g.organisation_id for g in user_grants(user) if g.region_path is not None}


def personal_access(user: UserLike, team: VolunteerTeam) -> bool:
    """Whether ``user`` sees the personal data of ``team``'s volunteers: members of the
    team's office only (not the host unit, not other offices above or below)."""
    if not getattr(user, "is_authenticated", False):
        return False
    offices = personal_offices(user)
    return offices is None or team.office_id in offices


def team_list(
    *, user: UserLike, q: str = "", kind: str = "", region_code: str = ""
) -> QuerySet[VolunteerTeam]:
    qs = VolunteerTeam.objects.restrict(user, Action.VIEW).select_related(
        "region", "office", "host"
    )
    if q:
        qs = qs.filter(name__icontains=q)
    if kind:
        qs = qs.filter(kind=kind)
    if region_code:
        region = Region.objects.filter(code=region_code).only("path").first()
        qs = qs.filter(region__path__startswith=region.path) if region else qs.none()
    return qs.order_by("region__code", "name")


def volunteer_search(
    *, user: UserLike, q: str = "", team: VolunteerTeam | None = None, personal_only: bool = False
) -> QuerySet[Volunteer]:
    """Volunteers in sight; a name search from the start of the name (surname or full name:
    a prefix index serves it at national scale). ``personal_only`` keeps the teams whose
    personal data the user may see (searching by name is a personal-data search)."""
    qs = Volunteer.objects.restrict(user, Action.VIEW).select_related("team")
    if team is not None:
        qs = qs.filter(team=team)
    if personal_only:
        offices = personal_offices(user)
        if offices is not None:
            qs = qs.filter(team__office_id__in=offices)
    if q:
        qs = qs.filter(name__startswith=q)
    if team is not None:
        return qs.order_by("name", "pk")  # the (team, name) index
    # across teams: newest registrations first, along the primary key (deep pages of a
    # national list stay an index walk instead of a sort of every row)
    return qs.order_by("-pk")


def service_records(*, user: UserLike, volunteer: Volunteer, year: int) -> QuerySet[ServiceRecord]:
    return (
        ServiceRecord.objects.restrict(user, Action.VIEW)
        .filter(volunteer=volunteer, served_on__year=year)
        .select_related("activity", "task")
        .order_by("served_on", "pk")
    )


def volunteer_year_hours(*, user: UserLike, volunteer: Volunteer) -> list[dict[str, Any]]:
    """A volunteer's totals per year: records and hours."""
    return list(
        ServiceRecord.objects.restrict(user, Action.VIEW)
        .filter(volunteer=volunteer)
        .order_by()
        .annotate(year=ExtractYear("served_on"))
        .values("year")
        .annotate(records=Count("pk"), hours=Sum("hours"))
        .order_by("-year")
    )


def team_year_totals(
    *, user: UserLike, year: int, teams: list[VolunteerTeam]
) -> dict[int, dict[str, Any]]:
    """Per team of ``teams``: volunteers, volunteers who served in ``year``, records, hours
    (the maintained totals, ``kepu.registry.totals``)."""
    ids = [t.pk for t in teams]
    # The caller passes teams it read through the gate, so reading their totals by team
    # id needs no second restrict.
    members = dict(
        TeamTotals.objects.filter(team_id__in=ids).values_list(  # unscoped: teams restricted
            "team_id", "volunteers"
        )
    )
    served: dict[int, dict[str, Any]] = {
        r["team_id"]: dict(r)
        for r in TeamYearTotals.objects.filter(  # unscoped: teams restricted by the caller
            team_id__in=ids, year=year
        ).values("team_id", "served", "records", "hours")
    }
    return {
        i: {
            "volunteers": members.get(i, 0),
            "served": served.get(i, {}).get("served", 0),
            "records": served.get(i, {}).get("records", 0),
            "hours": served.get(i, {}).get("hours") or Decimal(0),
        }
        for i in ids
    }


def volunteer_region_totals(
    *, user: UserLike, year: int, region: Region | None = None
) -> dict[str, Any]:
    """The year's volunteer figures per child region of ``region`` (default: the user's
    widest office region): teams, volunteers on the register, volunteers who served,
    service records and hours. Aggregates only: no personal data.

    One grouped query over the teams in sight and their maintained totals
    (``kepu.registry.totals``), not over every volunteer and record."""
    region = region or _user_top_region(user)
    if region is None:
        return {"region": None, "rows": [], "total": {}}
    fields = ["teams", "volunteers", "served", "records", "hours"]
    grouped: list[dict[str, Any]]
    if _sees_region(user, region):
        # every team in the region is in sight: the per-region rows (year 0: the register)
        grouped = [
            dict(r)
            for r in RegionVolunteerTotals.objects.filter(  # unscoped: region in sight
                region__path__startswith=region.path, year__in=[0, year]
            )
            .order_by()
            .values(path=F("region__path"))
            .annotate(**{f: Sum(f) for f in fields})
        ]
    else:
        grouped = _team_region_totals(user, year, region)
    for g in grouped:
        for f in fields:
            g[f] = g.get(f) or 0
    # a region whose teams all left keeps a row of zeros until the next recount
    grouped = [g for g in grouped if any(g[f] for f in fields)]
    rows = _rows_by_child(region, grouped, fields)
    total = {f: sum(r[f] for r in rows) for f in fields}
    return {"region": region, "rows": rows, "total": total}


def _sees_region(user: UserLike, region: Region) -> bool:
    """Whether the user sees every team in ``region`` (an office whose region holds it)."""
    return user.is_superuser or any(
        g.region_path is not None and region.path.startswith(g.region_path)
        for g in user_grants(user)
    )


def _team_region_totals(user: UserLike, year: int, region: Region) -> list[dict[str, Any]]:
    """Per-region sums over the teams in the user's sight (a host unit's teams)."""
    return [
        dict(r)
        for r in VolunteerTeam.objects.restrict(user, Action.VIEW)
        .filter(region__path__startswith=region.path)
        .annotate(this_year=FilteredRelation("year_totals", condition=Q(year_totals__year=year)))
        .order_by()
        .values(path=F("region__path"))
        .annotate(
            teams=Count("pk", filter=Q(active=True)),
            volunteers=Sum("totals__volunteers"),
            served=Sum("this_year__served"),
            records=Sum("this_year__records"),
            hours=Sum("this_year__hours"),
        )
    ]


def volunteer_totals_by_region(
    *, user: UserLike, year: int, region: Region | None = None
) -> dict[str, dict[str, Any]]:
    """For prefill (e.g. the annual statistics): ``{child region code: {"teams",
    "volunteers", "served", "records", "hours"}}`` for ``year``."""
    totals = volunteer_region_totals(user=user, year=year, region=region)
    return {
        r["code"]: {k: v for k, v in r.items() if k not in ("path", "name")} for r in totals["rows"]
    }
