from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models

from kepu.core.versioning import Versioned
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import READ_DOWN_ON_REQUEST, ScopedQuerySet
from kepu.regions.models import Region

if TYPE_CHECKING:
    from kepu.progress.selectors import TaskStatus


class PlanKind(models.TextChoices):
    IMPLEMENTATION = "implementation", "实施方案"
    ANNUAL = "annual", "年度工作要点"
    CAMPAIGN = "campaign", "活动方案"
    OTHER = "other", "其他"


class UnitRole(models.TextChoices):
    LEAD = "lead", "牵头"
    COOPERATE = "cooperate", "配合"
    RESPONSIBLE = "responsible", "责任"  # named without a role


class KeyGroup(models.TextChoices):
    YOUTH = "youth", "青少年"
    FARMERS = "farmers", "农民"
    WORKERS = "workers", "产业工人"
    ELDERLY = "elderly", "老年人"
    CADRES = "cadres", "领导干部和公务员"


# Words that mark a task as serving a key group.
KEY_GROUP_WORDS: dict[str, tuple[str, ...]] = {
    KeyGroup.YOUTH: ("青少年", "中小学", "学生", "校园", "未成年人", "儿童"),
    KeyGroup.FARMERS: ("农民", "农村", "乡村", "农业"),
    KeyGroup.WORKERS: ("产业工人", "职工", "工匠", "技能"),
    KeyGroup.ELDERLY: ("老年人", "银龄", "老年", "适老"),
    KeyGroup.CADRES: ("领导干部", "公务员", "干部"),
}


class DeadlineRecurring(models.TextChoices):
    """Recurring work without a single due date (the parser's ``recurring`` values)."""

    MONTHLY = "monthly", "每月"
    QUARTERLY = "quarterly", "每季度"
    HALF_YEARLY = "half_yearly", "每半年"
    YEARLY = "yearly", "每年"
    ONGOING = "ongoing", "长期"


class Plan(Versioned):
    title = models.CharField("标题", max_length=300)
    kind = models.CharField("类型", max_length=20, choices=PlanKind.choices, default=PlanKind.OTHER)
    region = models.ForeignKey(
        Region, verbose_name="所属区域", on_delete=models.PROTECT, related_name="plans"
    )
    owner = models.ForeignKey(
        Organisation, verbose_name="导入单位", on_delete=models.PROTECT, related_name="owned_plans"
    )
    issuer = models.CharField("发文机关", max_length=200, blank=True)
    doc_number = models.CharField("文号", max_length=100, blank=True)
    issued_on = models.DateField("发文日期", null=True, blank=True)
    period_start = models.PositiveSmallIntegerField("起始年份", null=True, blank=True)
    period_end = models.PositiveSmallIntegerField("截止年份", null=True, blank=True)
    source_file = models.FileField("原始文件", upload_to="plans/%Y/%m/", blank=True)
    source_name = models.CharField("原始文件名", max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="导入人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("owner", "tasks__units__organisation")
    scope_orgs_write = ("owner",)
    scope_owner = "owner"
    # An office below reads the plan (never writes it) where a page asks for it: a
    # county links its own tasks to the city plan's (kepu.progress, 上级任务对应).
    scope_read_down = READ_DOWN_ON_REQUEST

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "规划文件"
        verbose_name_plural = "规划文件"
        ordering = ["-issued_on", "-created_at"]

    def __str__(self) -> str:
        return self.title

    @property
    def period_label(self) -> str:
        if self.period_start and self.period_end:
            return f"{self.period_start}—{self.period_end}年"
        return ""

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.owner_id


class Section(models.Model):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    title = models.CharField("标题", max_length=300)
    depth = models.PositiveSmallIntegerField(default=0)
    order = models.PositiveIntegerField(default=0)

    scope_region = "plan__region"
    scope_orgs = ("plan__owner", "plan__tasks__units__organisation")
    scope_orgs_write = ("plan__owner",)
    scope_owner = "plan__owner"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "章节"
        verbose_name_plural = "章节"
        # by the column, not the related plan's ordering (no join)
        ordering = ["plan_id", "order"]

    def __str__(self) -> str:
        return self.title

    def audit_scope(self) -> tuple[str, int | None]:
        return self.plan.region.path, self.plan.owner_id


class Task(Versioned):
    plan = models.ForeignKey(
        Plan, verbose_name="规划", on_delete=models.CASCADE, related_name="tasks"
    )
    section = models.ForeignKey(
        Section,
        verbose_name="章节",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="tasks",
    )
    order = models.PositiveIntegerField("顺序", default=0)
    number = models.CharField("序号", max_length=20, blank=True)
    title = models.CharField("任务", max_length=500)
    text = models.TextField("任务内容", blank=True)
    path = models.JSONField("所在章节", default=list, blank=True)
    deadline = models.CharField("完成时限", max_length=100, blank=True)
    due_on = models.DateField("截止日期", null=True, blank=True, db_index=True)
    deadline_recurring = models.CharField(
        "周期", max_length=20, blank=True, choices=DeadlineRecurring.choices
    )
    key_groups = models.JSONField("重点人群", default=list, blank=True)

    scope_region = "plan__region"
    scope_orgs = ("plan__owner", "units__organisation")
    scope_orgs_write = ("plan__owner",)
    scope_owner = "plan__owner"
    scope_read_down = READ_DOWN_ON_REQUEST  # as the plan's

    objects = ScopedQuerySet.as_manager()

    # Not a column: set on list rows by kepu.progress.selectors.attach_status.
    progress_status: TaskStatus

    class Meta:
        verbose_name = "任务"
        verbose_name_plural = "任务"
        # by the column, not the related plan's ordering (no join); the index serves
        # the ledger's ORDER BY plan_id, order with LIMIT (pagination)
        ordering = ["plan_id", "order"]
        indexes = [models.Index(fields=["plan", "order"], name="task_plan_order_idx")]

    def __str__(self) -> str:
        return self.title

    def audit_scope(self) -> tuple[str, int | None]:
        return self.plan.region.path, self.plan.owner_id

    def units_with(self, role: str) -> list[TaskUnit]:
        return [u for u in self.units.all() if u.role == role]

    @property
    def lead_units(self) -> list[TaskUnit]:
        return self.units_with(UnitRole.LEAD)

    @property
    def cooperating_units(self) -> list[TaskUnit]:
        return self.units_with(UnitRole.COOPERATE)

    @property
    def unroled_units(self) -> list[TaskUnit]:
        return self.units_with(UnitRole.RESPONSIBLE)


class TaskUnit(models.Model):
    """A unit named by a task, as written, with its role and (when matched) organisation."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="units")
    name = models.CharField("单位名称(原文)", max_length=200)
    role = models.CharField("角色", max_length=20, choices=UnitRole.choices)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="对应组织",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="task_units",
    )
    order = models.PositiveSmallIntegerField(default=0)

    scope_region = "task__plan__region"
    scope_orgs = ("task__plan__owner", "organisation")
    scope_orgs_write = ("task__plan__owner",)
    scope_owner = "task__plan__owner"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "任务单位"
        verbose_name_plural = "任务单位"
        # "task" would order by the task's own ordering and join tasks and plans on
        # every prefetch; the column and its index do not
        ordering = ["task_id", "order"]
        indexes = [models.Index(fields=["task", "order"], name="taskunit_task_order_idx")]
        constraints = [
            models.UniqueConstraint(fields=["task", "name", "role"], name="task_unit_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name}({self.get_role_display()})"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.task.plan.region.path, self.task.plan.owner_id


class Comparator(models.TextChoices):
    GE = ">=", "不少于"
    GT = ">", "超过"
    EQ = "=", "等于"
    LE = "<=", "不超过"
    LT = "<", "低于"


class Target(models.Model):
    """A quantitative target: 'comparator value unit' by 'year', quoted from the text."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="targets")
    task = models.ForeignKey(
        Task, null=True, blank=True, on_delete=models.CASCADE, related_name="targets"
    )
    text = models.CharField("原文", max_length=300)
    comparator = models.CharField("比较", max_length=2, choices=Comparator.choices)
    value = models.FloatField("数值")
    unit = models.CharField("单位", max_length=20, blank=True)
    year = models.PositiveSmallIntegerField("年份", null=True, blank=True)

    scope_region = "plan__region"
    scope_orgs = ("plan__owner", "task__units__organisation")
    scope_orgs_write = ("plan__owner",)
    scope_owner = "plan__owner"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "目标"
        verbose_name_plural = "目标"
        ordering = ["plan_id", "task_id", "pk"]

    def __str__(self) -> str:
        return self.text

    @property
    def label(self) -> str:
        """The target as the document words it: "不少于20个", "覆盖10万人次",
        "超过15% (2025年)" (the one display used by pages, ledger and exports)."""
        from kepu.plans.parsing.targets import target_display

        return target_display(self.text, self.comparator, self.value, self.unit, self.year)

    @property
    def structured_label(self) -> str:
        """The structured reading, for a tooltip: "≥ 100000 人次 (2025年)"."""
        from kepu.plans.parsing.targets import format_value

        symbol = {">=": "≥", ">": ">", "=": "=", "<=": "≤", "<": "<"}.get(self.comparator, "")
        year = f" ({self.year}年)" if self.year else ""
        return f"{symbol} {format_value(self.value)} {self.unit}{year}".strip()

    def audit_scope(self) -> tuple[str, int | None]:
        return self.plan.region.path, self.plan.owner_id


class PlanDraft(models.Model):
    """An uploaded document awaiting confirmation. Deleted on confirm or cancel."""

    owner = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    region = models.ForeignKey(Region, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=PlanKind.choices, default=PlanKind.OTHER)
    source_name = models.CharField(max_length=255)
    source_file = models.FileField(upload_to="plan-drafts/%Y/%m/")
    parsed = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    scope_region = "region"
    scope_orgs = ("owner",)
    scope_owner = "owner"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "待确认的导入"
        verbose_name_plural = "待确认的导入"

    def __str__(self) -> str:
        return self.source_name
