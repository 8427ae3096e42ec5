"""Awards of a campaign (优秀组织单位, 优秀活动): criteria are data the office edits;
offices nominate organisations and activities in their region with a score per
criterion; the campaign's office decides and publishes the list."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from kepu.audit.services import audit_rows
from kepu.campaigns.models import (
    DEFAULT_CRITERIA,
    PUBLISHED,
    Activity,
    AwardCategory,
    AwardCriterion,
    Campaign,
    Decision,
    Nomination,
)
from kepu.core.types import UserLike, as_account
from kepu.core.versioning import version_check
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action, can, save_in_scope, user_grants


def criteria_create_defaults(*, user: UserLike, campaign: Campaign) -> list[AwardCriterion]:
    """The customary six criteria, created with the campaign (the office may edit them)."""
    rows = AwardCriterion.objects.bulk_create(
        [
            AwardCriterion(campaign=campaign, name=name, max_points=points, order=i)
            for i, (name, points) in enumerate(DEFAULT_CRITERIA)
        ]
    )
    audit_rows(action="create", rows=rows, actor=user)
    return rows


def criteria_for(campaign: Campaign) -> list[AwardCriterion]:
    return list(campaign.criteria.all())


@dataclass
class CriterionFields:
    name: str
    max_points: int


def criteria_set(
    *, user: UserLike, campaign: Campaign, criteria: list[CriterionFields]
) -> list[AwardCriterion]:
    if not can(user, campaign, Action.CHANGE):
        raise PermissionDenied("只有本次活动的组织单位可以修改评选标准。")
    if campaign.nominations.exists():
        raise ValidationError("已有推荐, 不能再修改评选标准。")
    names = [c.name.strip() for c in criteria if c.name.strip()]
    if not names:
        raise ValidationError("至少需要一项评选标准。")
    if len(set(names)) != len(names):
        raise ValidationError("评选标准的名称不能重复。")
    if any(not 1 <= c.max_points <= 100 for c in criteria if c.name.strip()):
        raise ValidationError("每项满分应在 1—100 之间。")
    with transaction.atomic():
        old = list(campaign.criteria.all())
        audit_rows(action="delete", rows=old, actor=user)
        AwardCriterion.objects.filter(pk__in=[c.pk for c in old]).delete()
        rows = AwardCriterion.objects.bulk_create(
            [
                AwardCriterion(
                    campaign=campaign, name=c.name.strip(), max_points=c.max_points, order=i
                )
                for i, c in enumerate(x for x in criteria if x.name.strip())
            ]
        )
        audit_rows(action="create", rows=rows, actor=user)
    return rows


def can_nominate(user: UserLike, campaign: Campaign) -> bool:
    """Whether ``user`` administers an office inside (or over) the campaign's region."""
    path = campaign.region.path
    return user.is_superuser or any(
        g.region_path is not None
        and g.role == "office_admin"
        and (g.region_path.startswith(path) or path.startswith(g.region_path))
        for g in user_grants(user)
    )


def _nominating_office(user: UserLike, region_path: str) -> Organisation:
    """The user's office (administrator) whose region contains the nominee."""
    for g in user_grants(user):
        if (
            g.region_path is not None
            and g.role == "office_admin"
            and region_path.startswith(g.region_path)
        ):
            return Organisation.objects.get(pk=g.organisation_id)
    raise PermissionDenied("只有被推荐对象所在区域的办公室可以推荐。")


def _total(
    criteria: list[AwardCriterion], scores: dict[str, Any]
) -> tuple[dict[str, float], Decimal]:
    clean: dict[str, float] = {}
    errors = []
    for c in criteria:
        raw = scores.get(str(c.pk))
        try:
            value = float(raw)  # type: ignore[arg-type]  # None and text are refused below
        except (TypeError, ValueError):
            errors.append(f"请填写「{c.name}」的得分。")
            continue
        if not 0 <= value <= c.max_points:
            errors.append(f"「{c.name}」的得分应在 0—{c.max_points} 之间。")
            continue
        clean[str(c.pk)] = value
    if errors:
        raise ValidationError(errors)
    return clean, Decimal(str(round(sum(clean.values()), 1)))


def nomination_create(
    *,
    user: UserLike,
    campaign: Campaign,
    scores: dict[str, Any],
    organisation: Organisation | None = None,
    activity: Activity | None = None,
    reason: str = "",
) -> Nomination:
    if (organisation is None) == (activity is None):
        raise ValidationError("请选择被推荐的单位或活动。")
    if activity is not None:
        if activity.campaign_id != campaign.pk or activity.status not in PUBLISHED:
            raise ValidationError("只能推荐本次活动中已发布的活动。")
        region, category = activity.region, AwardCategory.ACTIVITY
    else:
        assert organisation is not None
        if not organisation.region.path.startswith(campaign.region.path):
            raise ValidationError("被推荐单位不在本次活动的区域范围内。")
        region, category = organisation.region, AwardCategory.ORGANISATION
    office = campaign.owner if user.is_superuser else _nominating_office(user, region.path)
    criteria = criteria_for(campaign)
    if not criteria:
        raise ValidationError("本次活动还没有评选标准。")
    clean, total = _total(criteria, scores)
    nomination = Nomination(
        campaign=campaign,
        category=category,
        organisation=organisation,
        activity=activity,
        region=region,
        nominated_by=office,
        scores=clean,
        total=total,
        reason=reason.strip()[:2000],
        created_by=as_account(user),
    )
    exists = Nomination.objects.filter(campaign=campaign)
    if (organisation and exists.filter(organisation=organisation).exists()) or (
        activity and exists.filter(activity=activity).exists()
    ):
        raise ValidationError("该对象已被推荐。")
    return save_in_scope(user, nomination, Action.ADD)


def nomination_decide(*, user: UserLike, nomination: Nomination, award: bool) -> Nomination:
    campaign = nomination.campaign
    if not can(user, campaign, Action.CHANGE):
        raise PermissionDenied("只有本次活动的组织单位可以评定。")
    with transaction.atomic():
        version_check(nomination, expected=None)
        nomination.decision = Decision.AWARDED if award else Decision.DECLINED
        nomination.decided_at = timezone.now()
        nomination.save()
    return nomination


def awards_publish(*, user: UserLike, campaign: Campaign, publish: bool = True) -> Campaign:
    if not can(user, campaign, Action.CHANGE):
        raise PermissionDenied("只有本次活动的组织单位可以发布评选结果。")
    if publish and campaign.nominations.filter(decision=Decision.PENDING).exists():
        raise ValidationError("还有待评定的推荐, 请全部评定后再发布。")
    with transaction.atomic():
        version_check(campaign, expected=None)
        campaign.awards_published_at = timezone.now() if publish else None
        campaign.save()
    return campaign


def published_awards(campaign: Campaign) -> list[Nomination]:
    if campaign.awards_published_at is None:
        return []
    return list(
        # unscoped: a published list of awards is public
        Nomination.objects.filter(campaign=campaign, decision=Decision.AWARDED)
        .select_related("organisation", "activity", "region")
        .order_by("category", "-total", "pk")
    )
