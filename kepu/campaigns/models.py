"""Activity campaigns (全国科普日/科普月, 科技活动周, local campaigns) and their activities.

A campaign belongs to an office (``owner``) and a region; any organisation inside that
region may register activities in it. An activity belongs to its organiser and lives in a
region down to the township, so the gate gives: the organiser's staff edit their own
activities, an office reviews and reads every activity in its region subtree, and the
public portal shows approved activities only (public selectors, never the gate).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kepu.core.versioning import Versioned
from kepu.orgs.models import Organisation, OrgKind
from kepu.orgs.scoping import ScopedQuerySet
from kepu.regions.models import Region


class CampaignKind(models.TextChoices):
    SCIENCE_MONTH = "science_month", "全国科普月"
    SCIENCE_DAY = "science_day", "全国科普日"
    SCIENCE_WEEK = "science_week", "科技活动周"
    LOCAL = "local", "地方活动"


class Campaign(Versioned):
    title = models.CharField("名称", max_length=200)
    kind = models.CharField("类型", max_length=20, choices=CampaignKind.choices)
    year = models.PositiveSmallIntegerField("年份")
    theme = models.CharField("主题", max_length=200, blank=True)
    region = models.ForeignKey(
        Region, verbose_name="活动区域", on_delete=models.PROTECT, related_name="campaigns"
    )
    owner = models.ForeignKey(
        Organisation, verbose_name="组织单位", on_delete=models.PROTECT, related_name="campaigns"
    )
    event_start = models.DateField("活动开始")
    event_end = models.DateField("活动结束")
    registration_start = models.DateField("登记开始")
    registration_end = models.DateField("登记截止")
    completion_deadline = models.DateField("信息完善截止", null=True, blank=True)
    summary_deadline = models.DateField("总结报送截止", null=True, blank=True)
    two_tier_review = models.BooleanField(
        "两级审核", default=False, help_text="县级办公室先审, 再由活动组织单位审定"
    )
    summary_columns = models.JSONField("汇总表列", default=list, blank=True)
    awards_published_at = models.DateTimeField("评选结果发布时间", null=True, blank=True)
    organizers = models.ManyToManyField(
        Organisation, verbose_name="主办单位", blank=True, related_name="organised_campaigns"
    )
    source_name = models.CharField("原始文件名", max_length=255, blank=True)
    source_file = models.FileField("原始文件", upload_to="campaigns/%Y/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("owner",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科普活动"
        verbose_name_plural = "科普活动"
        ordering = ["-year", "-event_start", "pk"]

    def __str__(self) -> str:
        return self.title

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.owner_id


class Quota(models.Model):
    """At least ``min_count`` activities for each organiser of the given kinds."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="quotas")
    who = models.CharField("对象(原文)", max_length=200)
    kinds = models.JSONField("组织类型", default=list)
    min_count = models.PositiveIntegerField("至少场次")
    unit = models.CharField("单位", max_length=10, default="场次")

    scope_region = "campaign__region"
    scope_orgs = ("campaign__owner",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "场次要求"
        verbose_name_plural = "场次要求"
        ordering = ["campaign", "pk"]

    def __str__(self) -> str:
        return f"{self.who}至少{self.min_count}{self.unit}"

    @property
    def kind_labels(self) -> list[str]:
        return [OrgKind(k).label for k in self.kinds if k in OrgKind.values]

    def audit_scope(self) -> tuple[str, int | None]:
        return self.campaign.region.path, self.campaign.owner_id


class ActivityType(models.TextChoices):
    LECTURE = "lecture", "讲座"
    EXHIBITION = "exhibition", "展览"
    CONTEST = "contest", "竞赛"
    MAIN_EVENT = "main_event", "科普日主场"
    OPEN_DAY = "open_day", "开放日"
    SCHOOL = "school", "科普进校园"
    COMMUNITY = "community", "科普进社区"
    VILLAGE = "village", "科普进乡村"
    LIVESTREAM = "livestream", "线上直播"
    TRAINING = "training", "培训"
    OTHER = "other", "其他"


class Mode(models.TextChoices):
    OFFLINE = "offline", "线下"
    ONLINE = "online", "线上"
    BOTH = "both", "线上线下结合"


class Status(models.TextChoices):
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "待审核"
    FIRST_APPROVED = "first_approved", "初审通过"
    RETURNED = "returned", "退回修改"
    APPROVED = "approved", "已发布"
    COMPLETED = "completed", "已完成"


# Statuses that count towards quotas and appear on the public portal.
PUBLISHED = (Status.APPROVED, Status.COMPLETED)


class Activity(Versioned):
    campaign = models.ForeignKey(
        Campaign, verbose_name="所属活动", on_delete=models.CASCADE, related_name="activities"
    )
    organiser = models.ForeignKey(
        Organisation, verbose_name="主办单位", on_delete=models.PROTECT, related_name="activities"
    )
    co_organisers = models.CharField("协办单位", max_length=500, blank=True)
    title = models.CharField("活动名称", max_length=200)
    kind = models.CharField("活动类型", max_length=20, choices=ActivityType.choices)
    starts_at = models.DateTimeField("开始时间", db_index=True)
    ends_at = models.DateTimeField("结束时间")
    region = models.ForeignKey(
        Region, verbose_name="活动地点(区划)", on_delete=models.PROTECT, related_name="activities"
    )
    address = models.CharField("详细地址", max_length=300, blank=True)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    mode = models.CharField("形式", max_length=10, choices=Mode.choices, default=Mode.OFFLINE)
    link = models.URLField("线上链接", blank=True)
    audience = models.CharField("面向对象", max_length=200, blank=True)
    key_groups = models.JSONField("重点人群", default=list, blank=True)
    expected_participants = models.PositiveIntegerField("预计参与人数", default=0)
    summary = models.TextField("活动简介", blank=True)
    poster = models.ImageField("海报", upload_to="activities/posters/%Y/", blank=True)
    # Private: never on public pages or open-data exports.
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    volunteers = models.TextField("参与的志愿者/专家", blank=True)

    status = models.CharField(
        "状态", max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    review_comment = models.TextField("审核意见", blank=True)
    # After the event: what happened.
    actual_participants = models.PositiveIntegerField("实际参与人数", null=True, blank=True)
    result_summary = models.TextField("活动总结", blank=True)
    news_links = models.TextField("新闻/视频链接", blank=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)
    reopened_until = models.DateField("重新开放至", null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region = "region"
    scope_orgs = ("organiser",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科普活动场次"
        verbose_name_plural = "科普活动场次"
        ordering = ["starts_at", "pk"]
        indexes = [
            models.Index(fields=["campaign", "status", "starts_at"], name="activity_public"),
            models.Index(fields=["campaign", "organiser"], name="activity_by_organiser"),
            models.Index(fields=["campaign", "kind"], name="activity_by_kind"),
            # The portal's list: published activities of a campaign in date order, read
            # with LIMIT (no sort, no count over the whole campaign).
            models.Index(
                fields=["campaign", "starts_at", "id"],
                name="activity_published_order",
                condition=models.Q(status__in=["approved", "completed"]),
            ),
            # The portal map's points: published activities with coordinates, soonest
            # first (without it the walk above reads every activity when few have them).
            models.Index(
                fields=["campaign", "starts_at", "id"],
                name="activity_published_points",
                condition=models.Q(
                    status__in=["approved", "completed"],
                    latitude__isnull=False,
                    longitude__isnull=False,
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.organiser_id

    @property
    def is_published(self) -> bool:
        return self.status in PUBLISHED


# How many levels below the campaign's region the published counts go (0 = the campaign's
# region itself): a national campaign keeps the nation, provinces and prefectures.
COUNT_DEPTH = 2


class PublishedCount(models.Model):
    """Published activities of a campaign per day × region × type (× facet: all, a mode or
    a key group): the portal's calendar,
    totals and map read these few rows instead of counting the activities.

    An activity counts once in each of its regions from the campaign's region down to
    ``COUNT_DEPTH`` levels below it; ``day`` is the local date it starts. Maintained in
    the same transaction as every change of a published activity
    (``kepu.campaigns.counts``) and rebuilt by ``kepu campaign recount``.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    depth = models.PositiveSmallIntegerField("相对层级")
    day = models.DateField("日期")
    kind = models.CharField("活动类型", max_length=20, choices=ActivityType.choices)
    # "" = all; "mode:<mode>" or "group:<key group>": the activities of that mode/group
    facet = models.CharField("维度", max_length=30, default="", blank=True)
    n = models.IntegerField("已发布场次", default=0)

    scope_region = "region"
    scope_orgs = ("campaign__owner",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "已发布活动计数"
        verbose_name_plural = "已发布活动计数"
        ordering = ["campaign", "region", "day", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "region", "day", "kind", "facet"],
                name="published_count_key",
            )
        ]
        indexes = [
            models.Index(fields=["campaign", "depth", "facet"], name="published_count_depth")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind}: {self.n}"


class ActivityPhoto(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos")
    image = models.ImageField("照片", upload_to="activities/photos/%Y/%m/")
    caption = models.CharField("说明", max_length=200, blank=True)
    public = models.BooleanField("可公开展示", default=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    scope_region = "activity__region"
    scope_orgs = ("activity__organiser",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "活动照片"
        verbose_name_plural = "活动照片"
        ordering = ["activity", "pk"]

    def __str__(self) -> str:
        return self.caption or self.image.name or ""

    def audit_scope(self) -> tuple[str, int | None]:
        return self.activity.region.path, self.activity.organiser_id


class ActivityEvent(models.Model):
    """The history of an activity: every transition with who, when and the comment."""

    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="events")
    action = models.CharField("操作", max_length=30)
    from_status = models.CharField("原状态", max_length=20, blank=True)
    to_status = models.CharField("新状态", max_length=20)
    comment = models.TextField("意见", blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField("时间", auto_now_add=True)

    scope_region = "activity__region"
    scope_orgs = ("activity__organiser",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "活动记录"
        verbose_name_plural = "活动记录"
        ordering = ["activity", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.to_status}"

    @property
    def to_label(self) -> str:
        return Status(self.to_status).label if self.to_status in Status.values else self.to_status


# --- awards (优秀组织单位, 优秀活动) ------------------------------------------------------
DEFAULT_CRITERIA = [
    ("组织动员", 20),
    ("数量规模", 20),
    ("品牌宣传", 15),
    ("科技志愿", 15),
    ("联合行动", 15),
    ("网络传播", 15),
]


class AwardCategory(models.TextChoices):
    ORGANISATION = "organisation", "优秀组织单位"
    ACTIVITY = "activity", "优秀活动"


class AwardCriterion(models.Model):
    """One scoring criterion of a campaign's awards (data, editable by the office)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField("评选标准", max_length=50)
    max_points = models.PositiveSmallIntegerField("满分")
    order = models.PositiveSmallIntegerField(default=0)

    scope_region = "campaign__region"
    scope_orgs = ("campaign__owner",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "评选标准"
        verbose_name_plural = "评选标准"
        ordering = ["campaign", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.name}({self.max_points}分)"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.campaign.region.path, self.campaign.owner_id


class Decision(models.TextChoices):
    PENDING = "pending", "待评定"
    AWARDED = "awarded", "获评"
    DECLINED = "declined", "未获评"


class Nomination(Versioned):
    """An office's nomination of an organisation or an activity, with criteria scores."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="nominations")
    category = models.CharField("奖项", max_length=20, choices=AwardCategory.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="被推荐单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="nominations",
    )
    activity = models.ForeignKey(
        Activity,
        verbose_name="被推荐活动",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="nominations",
    )
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="+"
    )
    nominated_by = models.ForeignKey(
        Organisation, verbose_name="推荐单位", on_delete=models.PROTECT, related_name="+"
    )
    scores = models.JSONField("各项得分", default=dict)
    total = models.DecimalField("总分", max_digits=6, decimal_places=1, default=0)
    reason = models.TextField("推荐理由", blank=True)
    decision = models.CharField(
        "评定结果", max_length=10, choices=Decision.choices, default=Decision.PENDING
    )
    decided_at = models.DateTimeField("评定时间", null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("推荐时间", auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("nominated_by",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "评选推荐"
        verbose_name_plural = "评选推荐"
        ordering = ["campaign", "category", "-total", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organisation"],
                condition=models.Q(organisation__isnull=False),
                name="nomination_unique_org",
            ),
            models.UniqueConstraint(
                fields=["campaign", "activity"],
                condition=models.Q(activity__isnull=False),
                name="nomination_unique_activity",
            ),
        ]

    def __str__(self) -> str:
        return self.nominee_name

    @property
    def nominee_name(self) -> str:
        if self.activity is not None:
            return self.activity.title
        return self.organisation.name if self.organisation is not None else ""

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.nominated_by_id
