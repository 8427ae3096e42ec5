"""Literacy monitoring (公民科学素质监测): waves, respondents, margins, estimation runs.

Every model is scoped like plans: a wave belongs to an office (``owner``) and a region;
office members of the region subtree reach it (administrators manage, viewers read),
and no other organisation's members see it.  Child rows reach the gate through
``wave``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kepu.core.versioning import Versioned
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import ScopedQuerySet
from kepu.regions.models import Region


class CIMethod(models.TextChoices):
    LOGIT = "logit", "logit 变换 (推荐: 区间不超出 0—100%)"
    NORMAL = "normal", "正态近似 (Wald)"


CI_METHOD_SHORT: dict[str, str] = {CIMethod.LOGIT: "logit 变换", CIMethod.NORMAL: "正态近似"}


class WaveKind(models.TextChoices):
    NATIONAL = "national", "全国调查"
    PROVINCIAL = "provincial", "省级调查"
    LOCAL = "local", "本地调查"


# --- respondent attributes: stored codes and their Chinese labels ---------------------------
class UrbanRural(models.TextChoices):
    URBAN = "urban", "城镇"
    RURAL = "rural", "乡村"


class Sex(models.TextChoices):
    MALE = "male", "男"
    FEMALE = "female", "女"


class AgeBand(models.TextChoices):
    A18_29 = "18-29", "18—29岁"
    A30_39 = "30-39", "30—39岁"
    A40_49 = "40-49", "40—49岁"
    A50_59 = "50-59", "50—59岁"
    A60_69 = "60-69", "60—69岁"


class Education(models.TextChoices):
    PRIMARY = "primary", "小学及以下"
    JUNIOR = "junior", "初中"
    SENIOR = "senior", "高中(中专、技校)"
    COLLEGE = "college", "大学专科"
    BACHELOR = "bachelor", "大学本科及以上"


class SurveyKeyGroup(models.TextChoices):
    FARMERS = "farmers", "农民"
    WORKERS = "workers", "产业工人"
    ELDERLY = "elderly", "老年人"
    CADRES = "cadres", "领导干部和公务员"
    URBAN_LABOUR = "urban_labour", "城镇劳动者"
    OTHER = "other", "其他"


# Breakdown variables, in display order: (field on Respondent, Chinese label, choices).
BREAKDOWNS: list[tuple[str, str, type[models.TextChoices] | None]] = [
    ("subregion", "区域", None),
    ("urban_rural", "城乡", UrbanRural),
    ("sex", "性别", Sex),
    ("age_band", "年龄段", AgeBand),
    ("education", "文化程度", Education),
    ("key_group", "重点人群", SurveyKeyGroup),
]
BREAKDOWN_LABELS = {name: label for name, label, _ in BREAKDOWNS}
BREAKDOWN_CHOICES = {name: choices for name, _, choices in BREAKDOWNS if choices is not None}


class Wave(Versioned):
    """One round of the literacy survey for a region and year."""

    title = models.CharField("名称", max_length=200)
    kind = models.CharField("调查类型", max_length=20, choices=WaveKind.choices)
    year = models.PositiveSmallIntegerField("调查年份")
    region = models.ForeignKey(
        Region, verbose_name="调查区域", on_delete=models.PROTECT, related_name="survey_waves"
    )
    owner = models.ForeignKey(
        Organisation,
        verbose_name="负责单位",
        on_delete=models.PROTECT,
        related_name="survey_waves",
    )
    questionnaire = models.JSONField("问卷", default=dict, blank=True)
    scoring = models.JSONField("计分规则", default=dict, blank=True)
    min_n = models.PositiveIntegerField("最少样本量", default=30)
    max_rse = models.FloatField("最大相对标准误", default=0.30)
    ci_method = models.CharField(
        "比例的置信区间", max_length=10, choices=CIMethod.choices, default=CIMethod.LOGIT
    )
    notes = models.TextField("说明", blank=True)
    data_source_name = models.CharField("数据文件", max_length=255, blank=True)
    data_imported_at = models.DateTimeField("数据导入时间", null=True, blank=True)
    data_version = models.PositiveIntegerField("数据版本", default=0)
    data_mode = models.CharField("数据形式", max_length=10, blank=True)  # answers | scores
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("owner",)
    scope_owner = "owner"
    # County offices read a city or provincial survey (its results for their county).
    scope_read_down = True

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "监测调查"
        verbose_name_plural = "监测调查"
        ordering = ["region__code", "-year", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["region", "year", "kind", "title"], name="survey_wave_unique"
            )
        ]

    def __str__(self) -> str:
        return self.title

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.owner_id

    @property
    def item_ids(self) -> list[str]:
        return [str(item["id"]) for item in self.questionnaire.get("items", [])]


class WaveTarget(models.Model):
    """A target the wave is read against, e.g. 2025年达到13%."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="targets")
    label = models.CharField("目标说明", max_length=200, blank=True)
    year = models.PositiveSmallIntegerField("目标年份")
    rate = models.FloatField("目标比例(%)")
    plan_target = models.ForeignKey(
        "plans.Target",
        verbose_name="对应规划目标",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="survey_targets",
    )

    scope_region = "wave__region"
    scope_orgs = ("wave__owner",)
    scope_owner = "wave__owner"
    scope_read_down = True

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "监测目标"
        verbose_name_plural = "监测目标"
        ordering = ["year", "pk"]

    def __str__(self) -> str:
        return self.display

    @property
    def display(self) -> str:
        rate = int(self.rate) if float(self.rate).is_integer() else self.rate
        return self.label or f"{self.year}年达到{rate}%"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.wave.region.path, self.wave.owner_id


class Respondent(models.Model):
    """One row of microdata: attributes, design variables and the literacy score."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="respondents")
    row_number = models.PositiveIntegerField("行号")
    external_id = models.CharField("编号", max_length=64, blank=True)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    # The child of the wave's region that contains ``region`` (null when it is the region).
    subregion = models.ForeignKey(
        Region, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    urban_rural = models.CharField("城乡", max_length=10, choices=UrbanRural.choices)
    sex = models.CharField("性别", max_length=10, choices=Sex.choices)
    age_band = models.CharField("年龄段", max_length=10, choices=AgeBand.choices)
    education = models.CharField("文化程度", max_length=10, choices=Education.choices)
    key_group = models.CharField(
        "重点人群", max_length=20, choices=SurveyKeyGroup.choices, blank=True
    )
    stratum = models.CharField("层", max_length=64, blank=True)
    psu = models.CharField("初级抽样单元", max_length=64, blank=True)
    weight = models.FloatField("权重")
    answers = models.JSONField("作答", null=True, blank=True)
    score = models.FloatField("得分")
    literate = models.BooleanField("具备科学素质")

    scope_region = "wave__region"
    scope_orgs = ("wave__owner",)
    scope_owner = "wave__owner"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "受访者"
        verbose_name_plural = "受访者"
        ordering = ["wave", "row_number"]
        indexes = [models.Index(fields=["wave", "row_number"], name="survey_resp_wave_row")]

    def __str__(self) -> str:
        return f"{self.wave_id}#{self.row_number}"


class Margin(models.Model):
    """A population total for one category of a raking variable."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="margins")
    variable = models.CharField("变量", max_length=20)
    category = models.CharField("类别", max_length=64)
    population = models.FloatField("总体人数")

    scope_region = "wave__region"
    scope_orgs = ("wave__owner",)
    scope_owner = "wave__owner"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "总体边际"
        verbose_name_plural = "总体边际"
        ordering = ["wave", "variable", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["wave", "variable", "category"], name="survey_margin_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.variable}={self.category}: {self.population:g}"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.wave.region.path, self.wave.owner_id


class RunStatus(models.TextChoices):
    QUEUED = "queued", "排队中"
    RUNNING = "running", "计算中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


class EstimationRun(models.Model):
    """One estimation of a wave, with the configuration used and its progress."""

    wave = models.ForeignKey(Wave, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(
        "状态", max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField("进度", default=0)
    message = models.CharField("进度说明", max_length=500, blank=True)
    rake = models.BooleanField("按总体边际校准(raking)", default=True)
    config = models.JSONField("估计配置", default=dict, blank=True)
    convergence = models.JSONField("收敛信息", default=dict, blank=True)
    engine_version = models.CharField("引擎版本", max_length=40, blank=True)
    data_version = models.PositiveIntegerField("数据版本", default=0)
    n_respondents = models.PositiveIntegerField("样本量", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("心跳时间", null=True, blank=True)
    task_id = models.CharField("队列任务号", max_length=64, blank=True)

    scope_region = "wave__region"
    scope_orgs = ("wave__owner",)
    scope_owner = "wave__owner"
    scope_read_down = True

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "估计任务"
        verbose_name_plural = "估计任务"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.wave} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING)

    def audit_scope(self) -> tuple[str, int | None]:
        return self.wave.region.path, self.wave.owner_id


class Measure(models.TextChoices):
    RATE = "rate", "具备科学素质的比例"
    MEAN = "mean", "平均得分"


class Estimate(models.Model):
    """One estimated cell: a measure overall or for one category of a breakdown."""

    run = models.ForeignKey(EstimationRun, on_delete=models.CASCADE, related_name="estimates")
    measure = models.CharField("指标", max_length=10, choices=Measure.choices)
    variable = models.CharField("分组变量", max_length=20)  # "overall" or a breakdown
    category = models.CharField("类别", max_length=64, blank=True)
    label = models.CharField("名称", max_length=100)
    order = models.PositiveSmallIntegerField(default=0)
    estimate = models.FloatField("估计值", null=True)
    se = models.FloatField("标准误", null=True)
    ci_low = models.FloatField("95%置信区间下限", null=True)
    ci_high = models.FloatField("95%置信区间上限", null=True)
    ci_logit_low = models.FloatField("logit置信区间下限", null=True)
    ci_logit_high = models.FloatField("logit置信区间上限", null=True)
    deff = models.FloatField("设计效应", null=True)
    n = models.PositiveIntegerField("样本量", default=0)
    weighted_n = models.FloatField("加权人数", null=True)
    flagged = models.BooleanField("需谨慎解读", default=False)
    flag_reason = models.CharField("提示", max_length=200, blank=True)

    scope_region = "run__wave__region"
    scope_orgs = ("run__wave__owner",)
    scope_owner = "run__wave__owner"
    scope_read_down = True

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "估计结果"
        verbose_name_plural = "估计结果"
        ordering = ["run", "measure", "order"]
        indexes = [models.Index(fields=["run", "measure", "variable"], name="survey_est_lookup")]

    def __str__(self) -> str:
        return f"{self.label}: {self.estimate}"

    def interval(self, method: str = CIMethod.LOGIT) -> tuple[float | None, float | None]:
        """The 95% CI by ``method`` (logit for rates when stored; means have only the normal)."""
        if method == CIMethod.LOGIT and self.ci_logit_low is not None:
            return self.ci_logit_low, self.ci_logit_high
        return self.ci_low, self.ci_high

    def other_interval(self, method: str = CIMethod.LOGIT) -> tuple[float | None, float | None]:
        """The CI by the method not chosen (None, None when there is none)."""
        if self.ci_logit_low is None:
            return None, None
        if method == CIMethod.LOGIT:
            return self.ci_low, self.ci_high
        return self.ci_logit_low, self.ci_logit_high

    @property
    def rse(self) -> float | None:
        if self.estimate in (None, 0) or self.se is None:
            return None
        return self.se / abs(self.estimate)
