"""Annual statistics (科普统计): the year's indicator catalogue (data, not code), an
office's collection, one report per reporting unit, and the population per region that
per-capita indicators divide by.

Scoping: a report is the reporting organisation's (its staff fill it); offices whose
region contains it see it and review it. A collection belongs to its office.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kepu.core.versioning import Versioned
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import ScopedQuerySet
from kepu.regions.models import Region
from kepu.statistics import core


class Catalogue(Versioned):
    """One year's indicator system. Reference data for everyone (not scoped): imported
    by a superuser (the national office); a catalogue used by a collection is frozen."""

    year = models.PositiveSmallIntegerField("年度", unique=True)
    name = models.CharField("名称", max_length=200)
    data = models.JSONField("指标目录")
    source_name = models.CharField("来源文件", max_length=200, blank=True)
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = "科普统计指标目录"
        verbose_name_plural = "科普统计指标目录"
        ordering = ["-year"]

    def __str__(self) -> str:
        return self.name

    def parsed(self) -> core.Catalogue:
        cached = getattr(self, "_parsed", None)
        if cached is None:
            cached = self._parsed = core.parse_catalogue(self.data)
        return cached

    def audit_scope(self) -> tuple[str, int | None]:
        return "", None


class CollectionStatus(models.TextChoices):
    OPEN = "open", "填报中"
    CLOSED = "closed", "已结束"


class Collection(Versioned):
    """An office's collection of the year's statistics from the units in its region."""

    catalogue = models.ForeignKey(
        Catalogue, verbose_name="指标目录", on_delete=models.PROTECT, related_name="collections"
    )
    year = models.PositiveSmallIntegerField("统计年度")
    title = models.CharField("名称", max_length=200)
    office = models.ForeignKey(
        Organisation, verbose_name="组织单位", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name="统计区域", on_delete=models.PROTECT, related_name="+"
    )
    due_date = models.DateField("截止日期", null=True, blank=True)
    jump_threshold = models.PositiveSmallIntegerField("同比变动阈值(%)", default=50)
    status = models.CharField(
        "状态", max_length=10, choices=CollectionStatus.choices, default=CollectionStatus.OPEN
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("office",)
    scope_owner = "office"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科普统计调查"
        verbose_name_plural = "科普统计调查"
        ordering = ["-year", "region__code"]
        constraints = [
            models.UniqueConstraint(fields=["office", "year"], name="stat_collection_once_a_year")
        ]

    def __str__(self) -> str:
        return self.title

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.office_id


class ReportStatus(models.TextChoices):
    DRAFT = "draft", "填报中"
    SUBMITTED = "submitted", "待审核"
    RETURNED = "returned", "退回修改"
    ACCEPTED = "accepted", "已通过"


class StatReport(Versioned):
    """One reporting unit's form in a collection: integer values per indicator code."""

    collection = models.ForeignKey(
        Collection, verbose_name="统计调查", on_delete=models.CASCADE, related_name="reports"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name="填报单位", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="+"
    )
    department = models.CharField("部门类别代码", max_length=10, db_index=True)
    department_name = models.CharField("部门类别", max_length=50)
    values = models.JSONField("填报数据", default=dict)
    explanations = models.JSONField("变动说明", default=dict)
    status = models.CharField(
        "状态",
        max_length=10,
        choices=ReportStatus.choices,
        default=ReportStatus.DRAFT,
        db_index=True,
    )
    comment = models.TextField("审核意见", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region = "region"
    scope_orgs = ("organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科普统计报表"
        verbose_name_plural = "科普统计报表"
        ordering = ["region__code", "organisation__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "organisation"], name="stat_report_once_per_unit"
            )
        ]
        indexes = [models.Index(fields=["collection", "status"], name="stat_report_status")]

    def __str__(self) -> str:
        return f"{self.organisation.name} {self.collection.year}年科普统计"

    @property
    def editable(self) -> bool:
        return self.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.organisation_id


class CollectionTotal(models.Model):
    """Accepted reports of a collection summed per roll-up group and department kind:
    ``group`` is the region path one level below the collection's region (the region
    itself for its own units). The row with an empty group and department is the whole
    collection's total; it is created with the collection and marks the totals as kept.

    Derived data: added to in the same transaction as a report is accepted (an accepted
    report is final), rebuilt from the reports by ``collection_totals_rebuild``. The
    reports' audit trail covers it. Scoped to the collection's region and office: only
    users who see the whole collection see these rows; anyone else is rolled up from
    the reports they see."""

    collection = models.ForeignKey(
        Collection, verbose_name="统计调查", on_delete=models.CASCADE, related_name="totals"
    )
    group = models.CharField("汇总区域", max_length=255, blank=True)
    department = models.CharField("部门类别代码", max_length=10, blank=True)
    reports = models.PositiveIntegerField("报表数", default=0)
    values = models.JSONField("合计", default=dict)

    scope_region = "collection__region"
    scope_orgs = ("collection__office",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "科普统计汇总"
        verbose_name_plural = "科普统计汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["collection", "group", "department"], name="stat_total_once_per_group"
            )
        ]

    def __str__(self) -> str:
        return f"{self.collection_id} {self.group or '合计'} {self.department}"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.collection.region.path, self.collection.office_id


class Population(models.Model):
    """Resident population of a region in a year (imported by an office)."""

    region = models.ForeignKey(
        Region, verbose_name="区域", on_delete=models.PROTECT, related_name="+"
    )
    year = models.PositiveSmallIntegerField("年度")
    population = models.PositiveBigIntegerField("常住人口(人)")
    owner = models.ForeignKey(
        Organisation, verbose_name="导入单位", on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region = "region"
    scope_orgs = ("owner",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "常住人口"
        verbose_name_plural = "常住人口"
        ordering = ["region__code", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["region", "year"], name="population_once_a_year")
        ]

    def __str__(self) -> str:
        return f"{self.region.name} {self.year}年 {self.population}"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.owner_id
