"""Registries: science education bases (科普教育基地) with their annual review on a score
sheet that is data, and the expert pool (科普专家库).

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
