"""Writes for campaigns and activities. Each checks scope after writing (``save_in_scope``),
locks versioned rows (``version_check``) and leaves audit entries (signals for single
saves, ``audit_rows`` for bulk rows)."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kepu.audit.services import audit_rows
from kepu.campaigns import counts
from kepu.campaigns.models import (
    Activity,
    ActivityEvent,
    ActivityPhoto,
    ActivityType,
    Campaign,
    CampaignKind,
    Mode,
    Quota,
    Status,
)
from kepu.core.types import UserLike, as_account
from kepu.core.validation import length_errors
from kepu.core.versioning import version_check
from kepu.notifications.services import notify_organisation
from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import Action, ensure_in_scope, save_in_scope, user_grants
from kepu.orgs.selectors import acting_office
from kepu.plans.models import KeyGroup
from kepu.regions.models import Region

IMAGE_MAX_BYTES = 8 * 1024 * 1024
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".webp", ".gif")

# Words of a quota's "who" → kinds of organisation it applies to.
_QUOTA_KIND_WORDS: list[tuple[tuple[str, ...], str]] = [
    (("乡镇", "镇", "街道", "乡"), OrgKind.TOWNSHIP),
    (("学会", "协会", "研究会"), OrgKind.SOCIETY),
    (("县", "区科协", "县(市、区)", "县区"), OrgKind.ASSOCIATION),
    (("市直", "部门", "成员单位", "局", "委", "有关单位"), OrgKind.DEPARTMENT),
    (("企业",), OrgKind.ENTERPRISE),
    (("学校", "高校", "中小学"), OrgKind.SCHOOL),
    (("基地", "场馆", "科技馆"), OrgKind.EDUCATION_BASE),
]


def quota_kinds_for(who: str) -> list[str]:
    """'市直有关单位、学会、协会' → [department, society]; '各乡镇' → [township]."""
    kinds: list[str] = []
    for words, kind in _QUOTA_KIND_WORDS:
        if any(w in who for w in words) and kind not in kinds:
            kinds.append(kind)
    return kinds


def guess_kind(title: str) -> str:
    if "科普月" in title:
        return CampaignKind.SCIENCE_MONTH
    if "科普日" in title:
        return CampaignKind.SCIENCE_DAY
    if "活动周" in title or "科技周" in title:
        return CampaignKind.SCIENCE_WEEK
    return CampaignKind.LOCAL


# --- campaigns -----------------------------------------------------------------------------
@dataclass
class CampaignFields:
    title: str
    kind: str
    year: int
    event_start: dt.date
    event_end: dt.date
    registration_start: dt.date
    registration_end: dt.date
    theme: str = ""
    completion_deadline: dt.date | None = None
    summary_deadline: dt.date | None = None
    two_tier_review: bool = False
    summary_columns: list[str] = field(default_factory=list)


@dataclass
class QuotaFields:
    who: str
    min_count: int
    kinds: list[str]
    unit: str = "场次"


def _check_dates(f: CampaignFields) -> None:
    errors: dict[str, str] = {}
    if f.event_end < f.event_start:
        errors["event_end"] = "活动结束日期不能早于开始日期。"
    if f.registration_end < f.registration_start:
        errors["registration_end"] = "登记截止日期不能早于登记开始日期。"
    if f.completion_deadline and f.completion_deadline < f.event_start:
        errors["completion_deadline"] = "信息完善截止日期不能早于活动开始日期。"
    if f.summary_deadline and f.summary_deadline < f.event_start:
        errors["summary_deadline"] = "总结报送截止日期不能早于活动开始日期。"
    if not 2000 <= f.year <= 2100:
        errors["year"] = "年份应在 2000—2100 之间。"
    if f.kind not in CampaignKind.values:
        errors["kind"] = "活动类型无效。"
    errors.update(length_errors(Campaign, f.__dict__))
    if errors:
        raise ValidationError(errors)


def _apply(campaign: Campaign, f: CampaignFields) -> None:
    for name, value in f.__dict__.items():
        setattr(campaign, name, value.strip() if isinstance(value, str) else value)


def _set_quotas(user: UserLike, campaign: Campaign, quotas: list[QuotaFields]) -> None:
    old = list(campaign.quotas.all())
    if old:
        audit_rows(action="delete", rows=old, actor=user)
        Quota.objects.filter(pk__in=[q.pk for q in old]).delete()
    rows = []
    for q in quotas:
        if q.min_count <= 0:
            raise ValidationError(f"「{q.who}」的场次要求必须大于 0。")
        bad = [k for k in q.kinds if k not in OrgKind.values]
        if bad:
            raise ValidationError(f"「{q.who}」的组织类型无效: {'、'.join(bad)}")
        rows.append(
            Quota(
                campaign=campaign,
                who=q.who.strip()[:200],
                kinds=q.kinds,
                min_count=q.min_count,
                unit=(q.unit or "场次")[:10],
            )
        )
    created = Quota.objects.bulk_create(rows)
    audit_rows(action="create", rows=created, actor=user)


def campaign_create(
    *,
    user: UserLike,
    fields: CampaignFields,
    owner_id: int | None = None,
    quotas: list[QuotaFields] | None = None,
    organizers: list[Organisation] | None = None,
    source_name: str = "",
    source_bytes: bytes | None = None,
) -> Campaign:
    owner = acting_office(user=user, owner_id=owner_id, denied="只有办公室可以创建科普活动。")
    _check_dates(fields)
    campaign = Campaign(owner=owner, region=owner.region, created_by=as_account(user))
    _apply(campaign, fields)
    campaign.source_name = source_name[:255]
    if source_bytes is not None:
        campaign.source_file.save(
            source_name or "campaign.txt", ContentFile(source_bytes), save=False
        )

    def after() -> None:
        from kepu.campaigns.awards import criteria_create_defaults

        _set_quotas(user, campaign, quotas or [])
        criteria_create_defaults(user=user, campaign=campaign)
        if organizers:
            campaign.organizers.set(organizers)

    return save_in_scope(user, campaign, Action.ADD, after_save=after)


def campaign_update(
    *,
    user: UserLike,
    campaign: Campaign,
    fields: CampaignFields,
    version: int | None,
    quotas: list[QuotaFields] | None = None,
) -> Campaign:
    ensure_in_scope(user, campaign, Action.CHANGE)
    _check_dates(fields)
    with transaction.atomic():
        _apply(campaign, fields)
        version_check(campaign, expected=version, fields=list(fields.__dict__))

        def after() -> None:
            if quotas is not None:
                _set_quotas(user, campaign, quotas)

        save_in_scope(user, campaign, Action.CHANGE, after_save=after)
    return campaign


# --- activities ----------------------------------------------------------------------------
@dataclass
class ActivityFields:
    title: str
    kind: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    region: Region
    address: str = ""
    mode: str = Mode.OFFLINE
    link: str = ""
    co_organisers: str = ""
    audience: str = ""
    key_groups: list[str] = field(default_factory=list)
    expected_participants: int = 0
    summary: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    volunteers: str = ""
    latitude: float | None = None
    longitude: float | None = None


def _today() -> dt.date:
    return timezone.localdate()


def registration_open(campaign: Campaign, *, today: dt.date | None = None) -> bool:
    today = today or _today()
    return campaign.registration_start <= today <= campaign.registration_end


def check_activity(campaign: Campaign, f: ActivityFields) -> None:
    errors: dict[str, str] = {}
    if not f.title.strip():
        errors["title"] = "请填写活动名称。"
    if f.kind not in ActivityType.values:
        errors["kind"] = "活动类型无效。"
    if f.mode not in Mode.values:
        errors["mode"] = "活动形式无效。"
    if f.ends_at < f.starts_at:
        errors["ends_at"] = "结束时间不能早于开始时间。"
    if f.mode in (Mode.ONLINE, Mode.BOTH) and not f.link:
        errors["link"] = "线上活动请填写活动链接。"
    if f.mode in (Mode.OFFLINE, Mode.BOTH) and not f.address.strip():
        errors["address"] = "线下活动请填写详细地址。"
    bad_groups = [g for g in f.key_groups if g not in KeyGroup.values]
    if bad_groups:
        errors["key_groups"] = "重点人群无效。"
    if not f.region.path.startswith(campaign.region.path):
        errors["region"] = f"活动地点必须在「{campaign.region.name}」范围内。"
    if (f.latitude is None) != (f.longitude is None):
        errors["latitude"] = "经纬度须同时填写。"
    errors.update(length_errors(Activity, f.__dict__))
    if (
        f.latitude is not None
        and f.longitude is not None
        and not (-90 <= f.latitude <= 90 and -180 <= f.longitude <= 180)
    ):
        errors["latitude"] = "经纬度超出范围。"
    if errors:
        raise ValidationError(errors)


def _event(
    activity: Activity, *, user: UserLike, action: str, before: str, comment: str = ""
) -> None:
    ActivityEvent.objects.create(
        activity=activity,
        action=action,
        from_status=before,
        to_status=activity.status,
        comment=comment,
        user=as_account(user) if getattr(user, "pk", None) else None,
    )


def activity_register(
    *,
    user: UserLike,
    campaign: Campaign,
    organiser: Organisation,
    fields: ActivityFields,
    submit: bool = True,
    today: dt.date | None = None,
) -> Activity:
    """Register an activity within the campaign's registration window."""
    if not registration_open(campaign, today=today):
        raise ValidationError(
            f"不在登记时间内 (登记时间 {campaign.registration_start:%Y-%m-%d} 至 "
            f"{campaign.registration_end:%Y-%m-%d})。"
        )
    if not organiser.region.path.startswith(campaign.region.path):
        raise ValidationError(f"「{organiser.name}」不在本次活动的区域范围内。")
    ensure_in_scope(user, organiser, Action.ADD)
    check_activity(campaign, fields)
    activity = Activity(campaign=campaign, organiser=organiser, created_by=as_account(user))
    for name, value in fields.__dict__.items():
        setattr(activity, name, value.strip() if isinstance(value, str) else value)
    activity.status = Status.SUBMITTED if submit else Status.DRAFT
    save_in_scope(
        user,
        activity,
        Action.ADD,
        after_save=lambda: _event(activity, user=user, action="登记", before=""),
    )
    return activity


def _editable(activity: Activity, *, today: dt.date | None = None) -> None:
    if activity.status not in (Status.DRAFT, Status.RETURNED):
        raise ValidationError(f"活动状态为「{activity.get_status_display()}」, 不能修改。")
    _check_lock(activity, today=today)


def _check_lock(activity: Activity, *, today: dt.date | None = None) -> None:
    today = today or _today()
    deadline = activity.campaign.completion_deadline
    if deadline and today > deadline:
        if not (activity.reopened_until and today <= activity.reopened_until):
            raise ValidationError(
                f"已过信息完善截止日期 ({deadline:%Y-%m-%d}), 活动已锁定; 如需修改请联系办公室重新开放。"
            )


def activity_update(
    *,
    user: UserLike,
    activity: Activity,
    fields: ActivityFields,
    version: int | None,
    submit: bool = False,
    today: dt.date | None = None,
) -> Activity:
    ensure_in_scope(user, activity, Action.CHANGE)
    _editable(activity, today=today)
    check_activity(activity.campaign, fields)
    with transaction.atomic(), counts.track(activity):
        before = activity.status
        for name, value in fields.__dict__.items():
            setattr(activity, name, value.strip() if isinstance(value, str) else value)
        version_check(activity, expected=version, fields=["title", "starts_at", "address"])
        if submit:
            activity.status = Status.SUBMITTED

        def after() -> None:
            if submit:
                _event(activity, user=user, action="提交", before=before)

        save_in_scope(user, activity, Action.CHANGE, after_save=after)
    return activity


def activity_submit(
    *, user: UserLike, activity: Activity, today: dt.date | None = None
) -> Activity:
    ensure_in_scope(user, activity, Action.CHANGE)
    _editable(activity, today=today)
    with transaction.atomic():
        before = activity.status
        version_check(activity, expected=None)
        activity.status = Status.SUBMITTED
        save_in_scope(
            user,
            activity,
            Action.CHANGE,
            after_save=lambda: _event(activity, user=user, action="提交", before=before),
        )
    return activity


# --- review ---------------------------------------------------------------------------------
def _reviewer_paths(user: UserLike) -> list[str]:
    """Region paths of the offices where ``user`` may review (administrators)."""
    return [
        g.region_path
        for g in user_grants(user)
        if g.region_path is not None and Action.CHANGE in g.actions and g.role == "office_admin"
    ]


def review_tier(user: UserLike, activity: Activity) -> str | None:
    """``final`` or ``first`` when ``user`` may review ``activity`` now, else None.

    Single tier: any office whose region contains the activity. Two tiers: an office
    below the campaign's region approves first (初审), an office at the campaign's region
    or above decides; activities with no office below the campaign's region (city
    units) go straight to the final decision.
    """
    if activity.status not in (Status.SUBMITTED, Status.FIRST_APPROVED):
        return None
    campaign_path = activity.campaign.region.path
    paths = (
        [activity.region.path[: i + 1] for i, ch in enumerate(activity.region.path) if ch == "/"]
        if user.is_superuser
        else [p for p in _reviewer_paths(user) if activity.region.path.startswith(p)]
    )
    if not paths:
        return None
    is_upper = any(campaign_path.startswith(p) for p in paths)
    if not activity.campaign.two_tier_review:
        return "final" if paths else None
    if activity.status == Status.SUBMITTED:
        lower = [p for p in paths if len(p) > len(campaign_path)]
        if lower:
            return "first"
        needs_first = activity.region.path != campaign_path and _has_lower_office(activity)
        return "final" if is_upper and not needs_first else None
    return "final" if is_upper else None


def _has_lower_office(activity: Activity) -> bool:
    """Whether an office exists between the campaign's region and the activity's."""
    campaign_path = activity.campaign.region.path
    path = activity.region.path
    between = [
        path[: i + 1] for i, ch in enumerate(path) if ch == "/" and i + 1 > len(campaign_path)
    ]
    return Organisation.objects.filter(
        region__path__in=between, kind__in=[OrgKind.ASSOCIATION, OrgKind.OFFICE], is_active=True
    ).exists()


def activity_review(
    *, user: UserLike, activity: Activity, approve: bool, comment: str = ""
) -> Activity:
    tier = review_tier(user, activity)
    if tier is None:
        raise PermissionDenied("您不能审核这项活动。")
    if not approve and not comment.strip():
        raise ValidationError("退回修改时请填写意见。")
    with transaction.atomic(), counts.track(activity):
        before = activity.status
        version_check(activity, expected=None)
        if not approve:
            activity.status = Status.RETURNED
        elif tier == "first":
            activity.status = Status.FIRST_APPROVED
        else:
            activity.status = Status.APPROVED
        activity.review_comment = comment.strip()
        activity.save()
        label = {"first": "初审通过", "final": "审核通过"}[tier] if approve else "退回修改"
        _event(activity, user=user, action=label, before=before, comment=comment.strip())
    return activity


def activities_bulk_approve(*, user: UserLike, activities: list[Activity]) -> int:
    done = 0
    for activity in activities:
        if review_tier(user, activity) is not None:
            activity_review(user=user, activity=activity, approve=True)
            done += 1
    return done


# --- after the event ----------------------------------------------------------------------
def _image(name: str, data: bytes) -> None:
    lower = (name or "").lower()
    if not lower.endswith(IMAGE_EXTENSIONS):
        raise ValidationError(f"不支持的图片类型「{name}」, 请上传 jpg、png、webp 或 gif 图片。")
    if not data:
        raise ValidationError("上传的图片是空的。")
    if len(data) > IMAGE_MAX_BYTES:
        raise ValidationError(
            f"图片过大 ({len(data) / 1024 / 1024:.1f} MB), 上限为 {IMAGE_MAX_BYTES // 1024 // 1024} MB。"
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as img:
            if img.width * img.height > 60_000_000:
                raise ValidationError("图片像素过多。")
            img.verify()
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"文件「{name}」不是有效的图片。") from exc


def activity_photo_add(
    *,
    user: UserLike,
    activity: Activity,
    name: str,
    data: bytes,
    caption: str = "",
    public: bool = True,
) -> ActivityPhoto:
    ensure_in_scope(user, activity, Action.CHANGE)
    _check_lock(activity)
    _image(name, data)
    photo = ActivityPhoto(
        activity=activity,
        caption=caption.strip()[:200],
        public=public,
        uploaded_by=as_account(user),
    )
    photo.image.save(name, ContentFile(data), save=False)
    return save_in_scope(user, photo, Action.CHANGE)


def activity_poster_set(*, user: UserLike, activity: Activity, name: str, data: bytes) -> Activity:
    ensure_in_scope(user, activity, Action.CHANGE)
    _image(name, data)
    activity.poster.save(name, ContentFile(data), save=False)
    return save_in_scope(user, activity, Action.CHANGE)


def activity_complete(
    *,
    user: UserLike,
    activity: Activity,
    actual_participants: int,
    result_summary: str = "",
    news_links: str = "",
    version: int | None = None,
    today: dt.date | None = None,
) -> Activity:
    ensure_in_scope(user, activity, Action.CHANGE)
    if activity.status not in (Status.APPROVED, Status.COMPLETED):
        raise ValidationError("只有已发布的活动才能填报完成情况。")
    _check_lock(activity, today=today)
    if actual_participants < 0:
        raise ValidationError({"actual_participants": "实际参与人数不能为负。"})
    if not activity.photos.exists():
        raise ValidationError("请至少上传一张活动照片后再提交完成情况。")
    with transaction.atomic(), counts.track(activity):
        before = activity.status
        version_check(activity, expected=version, fields=["actual_participants", "result_summary"])
        activity.actual_participants = actual_participants
        activity.result_summary = result_summary.strip()
        activity.news_links = news_links.strip()
        activity.status = Status.COMPLETED
        activity.completed_at = timezone.now()
        save_in_scope(
            user,
            activity,
            Action.CHANGE,
            after_save=lambda: _event(activity, user=user, action="填报完成情况", before=before),
        )
    return activity


def activity_unpublish(*, user: UserLike, activity: Activity, comment: str) -> Activity:
    """An office over the activity takes it off the portal (退回修改 with a reason): the
    published counts lose it in the same transaction, the change is audited (signal and
    the activity's record) and the organiser's members are notified."""
    if not review_tier_any(user, activity):
        raise PermissionDenied("只有活动所在地区的办公室管理员可以撤销发布。")
    if activity.status not in (Status.APPROVED, Status.COMPLETED):
        raise ValidationError("只有已发布的活动才能撤销发布。")
    reason = comment.strip()
    if not reason:
        raise ValidationError("撤销发布时请填写原因。")
    with transaction.atomic(), counts.track(activity):
        before = activity.status
        version_check(activity, expected=None)
        activity.status = Status.RETURNED
        activity.review_comment = reason
        activity.save()
        _event(activity, user=user, action="撤销发布", before=before, comment=reason)
        # In-app notifications are rows of the same transaction (e-mail goes out later
        # with ``kepu remind``); the key carries the new version, so a later withdrawal
        # of the same activity notifies again.
        notify_organisation(
            organisation=activity.organiser,
            key=f"activity-unpublished:{activity.pk}:v{activity.version}",
            title=f"活动已撤销发布: {activity.title}"[:200],
            body=f"「{activity.title}」已被办公室撤销发布, 不再在公众门户显示, "
            f"已退回修改。原因: {reason}",
            url=reverse("campaigns:activity", args=[activity.pk]),
        )
    return activity


def activity_reopen(*, user: UserLike, activity: Activity, until: dt.date) -> Activity:
    if review_tier_any(user, activity) is False:
        raise PermissionDenied("只有办公室可以重新开放活动。")
    if until < _today():
        raise ValidationError("重新开放的截止日期不能早于今天。")
    with transaction.atomic():
        version_check(activity, expected=None)
        activity.reopened_until = until
        activity.save()
        _event(activity, user=user, action=f"重新开放至{until:%Y-%m-%d}", before=activity.status)
    return activity


def review_tier_any(user: UserLike, activity: Activity) -> bool:
    """Whether ``user`` administers an office over the activity (regardless of its status)."""
    if user.is_superuser:
        return True
    return any(activity.region.path.startswith(p) for p in _reviewer_paths(user))
