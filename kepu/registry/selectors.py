"""Reads for the registries: scoped, paginated lists and searches."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kepu.orgs.scoping import Action, user_grants
from kepu.regions.models import Region
from kepu.registry.models import EducationBase, Expert, ScoreSheet


def base_list(
    *, user: Any, status: str = "", level: str = "", q: str = ""
) -> QuerySet[EducationBase]:
    qs = EducationBase.objects.restrict(user, Action.VIEW).select_related("region", "organisation")
    if status:
        qs = qs.filter(status=status)
    if level:
        qs = qs.filter(level=level)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("region__code", "name")


def sheets_for(*, user: Any, base: EducationBase) -> QuerySet[ScoreSheet]:
    """Score sheets that apply to ``base``: those of offices whose region contains it."""
    paths = [base.region.path[: i + 1] for i, ch in enumerate(base.region.path) if ch == "/"]
    # unscoped: sheets of the offices above the base (the base's staff fill them in)
    return ScoreSheet.objects.filter(region__path__in=paths).order_by("-year", "name")


def sheet_list(*, user: Any) -> QuerySet[ScoreSheet]:
    return ScoreSheet.objects.restrict(user, Action.VIEW).select_related("owner", "region")


def expert_search(
    *, user: Any, field: str = "", region_code: str = "", available: bool = False
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


def is_office_over(user: Any, region: Region) -> bool:
    return user.is_superuser or any(
        g.region_path is not None
        and g.role == "office_admin"
        and region.path.startswith(g.region_path)
        for g in user_grants(user)
    )
