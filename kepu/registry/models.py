"""Registries: science education bases (科普教育基地) with their annual review on a score
sheet that is data, science museums (科技馆) with their annual reports, science volunteers
(科技志愿者) in teams (服务队) with their service hours, and the expert pool (科普专家库).

A base is an organisation's record in a region: its own staff (members of
``organisation``) file the application and the annual self-report; offices whose region
contains it endorse, certify and review it. Contact details are private (never on public
pages or exports meant for the public).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kepu.core.versioning import Versioned
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import ScopedQuerySet
from kepu.regions.models import Region
from kepu.registry.identity import mask_name


class BaseLevel(models.TextChoices):
    NATIONAL = "national", "全国"
    PROVINCIAL = "provincial", "省级"
    CITY = "city", "市级"
    COUNTY = "county", "县级"


class BaseCategory(models.TextChoices):
    VENUE = "venue", "科技场馆"
    RESEARCH = "research", "教育科研与重大工程"
    RURAL = "rural", "三农"
    ENTERPRISE = "enterprise", "企业"
    NATURE = "nature", "自然资源"
    OTHER = "other", "其他"


class BaseStatus(models.TextChoices):
    APPLYING = "applying", "申报中"
    ENDORSED = "endorsed", "已推荐"
    CERTIFIED = "certified", "已认定"
    WARNING = "warning", "预警"
    REVOKED = "revoked", "摘牌"
    EXPIRED = "expired", "到期"
    REJECTED = "rejected", "未通过"


class EducationBase(Versioned):
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="依托单位",
        on_delete=models.PROTECT,
        related_name="education_bases",
    )
    name = models.CharField("基地名称", max_length=200)
    level = models.CharField("级别", max_length=20, choices=BaseLevel.choices)
    category = models.CharField("类型", max_length=20, choices=BaseCategory.choices)
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField("地址", max_length=300, blank=True)
    exhibition_area = models.PositiveIntegerField("展示面积(平方米)", default=0)
    opening_days = models.PositiveSmallIntegerField("年开放天数", default=0)
    annual_visitors = models.PositiveIntegerField("年接待人次", default=0)
    free_days = models.PositiveSmallIntegerField("免费/优惠开放天数", default=0)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    batch = models.CharField("认定批次", max_length=50, blank=True)
    valid_from = models.PositiveSmallIntegerField("有效期起", null=True, blank=True)
    valid_to = models.PositiveSmallIntegerField("有效期止", null=True, blank=True)
    status = models.CharField(
        "状态",
        max_length=20,
        choices=BaseStatus.choices,
        default=BaseStatus.APPLYING,
        db_index=True,
    )
    recommended_by = models.ForeignKey(
        Organisation,
        verbose_name="推荐单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    certified_by = models.ForeignKey(
        Organisation,
        verbose_name="认定单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("申报时间", auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科普教育基地"
        verbose_name_plural = "科普教育基地"
        ordering = ["region__code", "name"]
        indexes = [models.Index(fields=["status", "level"], name="base_status_level")]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.organisation_id


class ScoreSheet(models.Model):
    """An office's annual review score sheet (data: see ``kepu.registry.scoring``)."""

    owner = models.ForeignKey(
        Organisation, verbose_name="制定单位", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name="适用区域", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    name = models.CharField("名称", max_length=200)
    data = models.JSONField("评分表")
    warn_after = models.PositiveSmallIntegerField("连续不合格几年预警", default=1)
    revoke_after = models.PositiveSmallIntegerField("连续不合格几年摘牌", default=2)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("owner",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "评估评分表"
        verbose_name_plural = "评估评分表"
        ordering = ["-year", "name"]

    def __str__(self) -> str:
        return f"{self.year}年 {self.name}"

    @property
    def max_points(self) -> float:
        return sum(float(i["points"]) for i in self.data.get("items", []))

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.owner_id


class ReviewStatus(models.TextChoices):
    DRAFT = "draft", "填报中"
    SUBMITTED = "submitted", "待评分"
    SCORED = "scored", "已评分"


class BaseReview(Versioned):
    """A base's annual review: its self-report (figures, evidence), the reviewers' scores."""

    base = models.ForeignKey(EducationBase, on_delete=models.CASCADE, related_name="reviews")
    year = models.PositiveSmallIntegerField("年度")
    sheet = models.ForeignKey(
        ScoreSheet, verbose_name="评分表", on_delete=models.PROTECT, related_name="reviews"
    )
    figures = models.JSONField("自评数据", default=dict)
    summary = models.TextField("年度工作总结", blank=True)
    evidence_links = models.TextField("佐证材料链接", blank=True)
    reviewer_scores = models.JSONField("评审得分", default=dict)
    item_scores = models.JSONField("各项得分", default=list)
    total = models.DecimalField("总分", max_digits=7, decimal_places=2, null=True, blank=True)
    grade = models.CharField("等级", max_length=20, blank=True)
    failed = models.BooleanField("不合格", default=False)
    status = models.CharField(
        "状态", max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.DRAFT
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    scored_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    scored_at = models.DateTimeField("评分时间", null=True, blank=True)

    scope_region = "base__region"
    scope_orgs = ("base__organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "基地年度评估"
        verbose_name_plural = "基地年度评估"
        ordering = ["base", "-year"]
        constraints = [models.UniqueConstraint(fields=["base", "year"], name="review_once_a_year")]

    def __str__(self) -> str:
        return f"{self.base.name} {self.year}年度评估"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.base.region.path, self.base.organisation_id


class Expert(Versioned):
    """A science-popularization expert: fields of expertise, region, availability."""

    name = models.CharField("姓名", max_length=50)
    title = models.CharField("职称/职务", max_length=100, blank=True)
    employer = models.CharField("工作单位", max_length=200, blank=True)
    fields = models.JSONField("专业领域", default=list)
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        Organisation, verbose_name="管理单位", on_delete=models.PROTECT, related_name="+"
    )
    available = models.BooleanField("可邀请", default=True)
    bio = models.TextField("简介", blank=True)
    phone = models.CharField("联系电话", max_length=30, blank=True)
    talks = models.PositiveIntegerField("科普讲座次数", default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("owner",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科普专家"
        verbose_name_plural = "科普专家"
        ordering = ["region__code", "name"]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.owner_id


# --- science museums (科技馆) -------------------------------------------------------------
class MuseumScale(models.TextChoices):
    """Building-area classes of the science museum building standard (建标 101)."""

    XL = "xl", "特大型"
    LARGE = "large", "大型"
    MEDIUM = "medium", "中型"
    SMALL = "small", "小型"


def museum_scale(building_area: int) -> str:
    if building_area > 30000:
        return MuseumScale.XL
    if building_area >= 15000:
        return MuseumScale.LARGE
    if building_area >= 8000:
        return MuseumScale.MEDIUM
    return MuseumScale.SMALL


class Museum(Versioned):
    """A science museum (venue) run by ``organisation`` in ``region``."""

    organisation = models.ForeignKey(
        Organisation, verbose_name="运营单位", on_delete=models.PROTECT, related_name="museums"
    )
    name = models.CharField("科技馆名称", max_length=200)
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField("地址", max_length=300, blank=True)
    building_area = models.PositiveIntegerField("建筑面积(平方米)", default=0)
    exhibition_area = models.PositiveIntegerField("展厅面积(平方米)", default=0)
    opened_year = models.PositiveSmallIntegerField("开馆年份", null=True, blank=True)
    scale = models.CharField("建设规模", max_length=10, choices=MuseumScale.choices, blank=True)
    free_entry = models.BooleanField("免费开放", default=True)
    contact_name = models.CharField("联系人", max_length=50, blank=True)
    contact_phone = models.CharField("联系电话", max_length=30, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科技馆"
        verbose_name_plural = "科技馆"
        ordering = ["region__code", "name"]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.organisation_id


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "填报中"
    SUBMITTED = "submitted", "已提交"
    RETURNED = "returned", "已退回"
    ACCEPTED = "accepted", "已审核"


# The annual report's figures: (field, label, section). Calendar-year actuals (flows for
# the year, stocks at 12-31). The form, the validation, the export and the per-region
# summary all follow this list.
MUSEUM_SECTIONS = ("基础运行", "展览教育", "科研工作", "社会反馈", "免费开放补助")
MUSEUM_FIGURES: tuple[tuple[str, str, str], ...] = (
    ("opening_days", "全年开放天数(天)", "基础运行"),
    ("visitors", "全年接待观众(人次)", "基础运行"),
    ("staff", "从业人员(人)", "基础运行"),
    ("staff_full_time", "其中: 科普专职人员(人)", "基础运行"),
    ("operating_funds", "全年运行经费(万元)", "基础运行"),
    ("exhibits", "常设展品(件/套)", "展览教育"),
    ("temp_exhibitions", "举办临时展览(个)", "展览教育"),
    ("education_activities", "举办教育活动(场次)", "展览教育"),
    ("education_participants", "教育活动参与(人次)", "展览教育"),
    ("outreach_events", "流动科普/进校园进社区(场次)", "展览教育"),
    ("research_projects", "承担科研项目(项)", "科研工作"),
    ("papers", "发表论文、出版著作(篇/部)", "科研工作"),
    ("exhibits_developed", "自主研发展品(件/套)", "科研工作"),
    ("satisfaction", "观众满意度(%)", "社会反馈"),
    ("complaints", "有效投诉(件)", "社会反馈"),
    ("media_reports", "媒体报道(篇)", "社会反馈"),
    ("subsidy_received", "免费开放补助资金到位(万元)", "免费开放补助"),
    ("subsidy_used", "免费开放补助资金使用(万元)", "免费开放补助"),
)
MONEY_FIGURES = ("operating_funds", "subsidy_received", "subsidy_used")


def _count(label: str) -> models.PositiveIntegerField:
    return models.PositiveIntegerField(label, default=0)


def _money(label: str) -> models.DecimalField:
    return models.DecimalField(label, max_digits=12, decimal_places=2, default=0)


class MuseumReport(Versioned):
    """A museum's annual report (年度报告) for one calendar year."""

    museum = models.ForeignKey(Museum, on_delete=models.CASCADE, related_name="reports")
    year = models.PositiveSmallIntegerField("年度")
    status = models.CharField(
        "状态", max_length=10, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    opening_days = models.PositiveSmallIntegerField("全年开放天数(天)", default=0)
    visitors = _count("全年接待观众(人次)")
    staff = _count("从业人员(人)")
    staff_full_time = _count("科普专职人员(人)")
    operating_funds = _money("全年运行经费(万元)")
    exhibits = _count("常设展品(件/套)")
    temp_exhibitions = _count("举办临时展览(个)")
    education_activities = _count("举办教育活动(场次)")
    education_participants = _count("教育活动参与(人次)")
    outreach_events = _count("流动科普/进校园进社区(场次)")
    research_projects = _count("承担科研项目(项)")
    papers = _count("发表论文、出版著作(篇/部)")
    exhibits_developed = _count("自主研发展品(件/套)")
    satisfaction = models.PositiveSmallIntegerField("观众满意度(%)", default=0)
    complaints = _count("有效投诉(件)")
    media_reports = _count("媒体报道(篇)")
    subsidy_received = _money("免费开放补助资金到位(万元)")
    subsidy_used = _money("免费开放补助资金使用(万元)")
    subsidy_use = models.TextField("补助资金使用情况", blank=True)
    summary = models.TextField("年度工作总结", blank=True)
    review_comment = models.CharField("审核意见", max_length=500, blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)

    scope_region = "museum__region"
    scope_orgs = ("museum__organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科技馆年度报告"
        verbose_name_plural = "科技馆年度报告"
        ordering = ["museum", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["museum", "year"], name="museum_report_once_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.museum.name} {self.year}年度报告"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.museum.region.path, self.museum.organisation_id


# --- science volunteers (科技志愿者) and teams (服务队) ---------------------------------------
class TeamKind(models.TextChoices):
    GENERAL = "general", "综合类"
    YOUTH = "youth", "青少年科技教育"
    HEALTH = "health", "医疗卫生健康"
    AGRICULTURE = "agriculture", "农业农村技术"
    EMERGENCY = "emergency", "应急科普"
    ELDERLY = "elderly", "老年人科普"
    ECOLOGY = "ecology", "生态环境"
    OTHER = "other", "其他"


class VolunteerTeam(Versioned):
    """A volunteer service team, kept by ``office`` (the team's office: the only one that
    sees its volunteers' personal data) and optionally hosted by a unit (依托单位)."""

    name = models.CharField("服务队名称", max_length=200)
    kind = models.CharField("类别", max_length=20, choices=TeamKind.choices)
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="+"
    )
    office = models.ForeignKey(
        Organisation, verbose_name="管理办公室", on_delete=models.PROTECT, related_name="+"
    )
    host = models.ForeignKey(
        Organisation,
        verbose_name="依托单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteer_teams",
    )
    leader = models.CharField("队长", max_length=50, blank=True)
    founded_on = models.DateField("成立日期", null=True, blank=True)
    description = models.TextField("服务内容", blank=True)
    active = models.BooleanField("在册", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("office", "host")
    scope_orgs_write = ("office",)
    scope_owner = "office"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科技志愿服务队"
        verbose_name_plural = "科技志愿服务队"
        ordering = ["region__code", "name"]
        indexes = [models.Index(fields=["kind"], name="team_kind")]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.office_id


class Gender(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class Volunteer(Versioned):
    """A science volunteer (real name). The identity number itself is never stored: only
    its keyed hash (unique: one registration a person) and a masked form; see
    ``kepu.registry.identity``."""

    team = models.ForeignKey(
        VolunteerTeam, verbose_name="服务队", on_delete=models.PROTECT, related_name="volunteers"
    )
    name = models.CharField("姓名", max_length=50)
    id_hash = models.CharField("身份证号摘要", max_length=64, unique=True)
    id_masked = models.CharField("身份证号", max_length=18)
    gender = models.CharField("性别", max_length=10, choices=Gender.choices)
    birth_year = models.PositiveSmallIntegerField("出生年份")
    phone = models.CharField("手机号", max_length=20, blank=True)
    skills = models.CharField("专业特长", max_length=200, blank=True)
    joined_on = models.DateField("加入日期", null=True, blank=True)
    active = models.BooleanField("在册", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "team__region"
    scope_orgs = ("team__office", "team__host")
    scope_orgs_write = ("team__office",)
    scope_owner = "team__office"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科技志愿者"
        verbose_name_plural = "科技志愿者"
        ordering = ["team", "name", "pk"]
        indexes = [models.Index(fields=["team", "name"], name="volunteer_team_name")]

    # The audit log is read by every office over the team's region; personal data are
    # the team's office's only (docs/registry.md): names masked, the rest hidden.
    audit_personal = {
        "name": mask_name,
        "phone": None,
        "id_masked": None,
        "gender": None,
        "birth_year": None,
    }

    def __str__(self) -> str:
        return f"{self.name} ({self.id_masked})"

    def audit_repr(self) -> str:
        return mask_name(self.name)

    def audit_scope(self) -> tuple[str, int | None]:
        return self.team.region.path, self.team.office_id


class ServiceRecord(Versioned):
    """Hours a volunteer served on a day, against a campaign activity or a task of a plan
    (progress work) where there is one. The team's office corrects (versioned) or deletes
    it with a reason."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="services")
    team = models.ForeignKey(
        VolunteerTeam, verbose_name="服务队", on_delete=models.PROTECT, related_name="+"
    )
    served_on = models.DateField("服务日期")
    hours = models.DecimalField("服务时长(小时)", max_digits=5, decimal_places=1)
    activity = models.ForeignKey(
        "campaigns.Activity",
        verbose_name="科普活动",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    task = models.ForeignKey(
        "plans.Task",
        verbose_name="工作任务",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    description = models.CharField("服务内容", max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "team__region"
    scope_orgs = ("team__office", "team__host")
    scope_orgs_write = ("team__office",)
    scope_owner = "team__office"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "志愿服务记录"
        verbose_name_plural = "志愿服务记录"
        ordering = ["-served_on", "pk"]
        indexes = [
            models.Index(fields=["volunteer", "served_on"], name="service_volunteer_day"),
            models.Index(fields=["team", "served_on"], name="service_team_day"),
        ]

    def __str__(self) -> str:
        return f"{self.served_on} {self.hours}小时"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.team.region.path, self.team.office_id


# --- maintained totals (kepu.registry.totals) ---------------------------------------------
class TeamTotals(models.Model):
    """A team's volunteers on the register (active), kept up to date by the services that
    register, import or (de)activate volunteers; rebuilt by ``kepu registry recount``."""

    team = models.OneToOneField(
        VolunteerTeam, primary_key=True, on_delete=models.CASCADE, related_name="totals"
    )
    volunteers = models.IntegerField("在册志愿者", default=0)

    scope_region = "team__region"
    scope_orgs = ("team__office", "team__host")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "服务队人数统计"
        verbose_name_plural = "服务队人数统计"

    def __str__(self) -> str:
        return f"{self.team_id}: {self.volunteers}"


class TeamYearTotals(models.Model):
    """A team's service in a calendar year: volunteers who served, records, hours; kept up
    to date by the services that add, change or delete service records."""

    team = models.ForeignKey(VolunteerTeam, on_delete=models.CASCADE, related_name="year_totals")
    year = models.PositiveSmallIntegerField("年度")
    served = models.IntegerField("参加服务的志愿者", default=0)
    records = models.IntegerField("服务记录", default=0)
    hours = models.DecimalField("服务时长(小时)", max_digits=14, decimal_places=1, default=0)

    scope_region = "team__region"
    scope_orgs = ("team__office", "team__host")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "服务队年度服务统计"
        verbose_name_plural = "服务队年度服务统计"
        constraints = [
            models.UniqueConstraint(fields=["team", "year"], name="team_year_totals_once")
        ]
        indexes = [models.Index(fields=["year", "team"], name="team_year_totals_year")]

    def __str__(self) -> str:
        return f"{self.team_id} {self.year}: {self.records}"


class RegionVolunteerTotals(models.Model):
    """The teams' totals summed per region (the team's own region) and year, for the
    per-region page of an office (1,600 rows a province instead of 110,000 teams).

    Year 0 holds the register (active teams, active volunteers); a calendar year holds
    its service (volunteers who served, records, hours). Kept by ``kepu.registry.totals``
    with the team rows."""

    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField("年度 (0: 在册)")
    teams = models.IntegerField("在册服务队", default=0)
    volunteers = models.IntegerField("在册志愿者", default=0)
    served = models.IntegerField("参加服务的志愿者", default=0)
    records = models.IntegerField("服务记录", default=0)
    hours = models.DecimalField("服务时长(小时)", max_digits=16, decimal_places=1, default=0)

    class Meta:
        verbose_name = "区域志愿服务统计"
        verbose_name_plural = "区域志愿服务统计"
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="region_volunteer_totals_once")
        ]

    def __str__(self) -> str:
        return f"{self.region_id} {self.year}"
