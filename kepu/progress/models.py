"""Reporting rounds, report slots and reports, review history, supervision notices.

A **report** row is created for every (task, responsible organisation) when a round
opens: it is the unit's *report slot* (status ``pending``, 未填报) until the unit
saves a draft. One row per slot keeps opening a national round a single bulk insert.

Scoping: a report belongs to its organisation. An office sees the reports of every
organisation inside its region (the city sees its counties' reports: the roll-up);
a unit sees its own reports only; a county never sees a sibling county's.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kepu.core.versioning import Versioned
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import ScopedQuerySet
from kepu.plans.models import Plan, Target, Task, UnitRole


class OfficeSetting(models.Model):
    """Per-office settings of progress tracking."""

    office = models.OneToOneField(
        Organisation,
        verbose_name="办公室",
        on_delete=models.CASCADE,
        related_name="progress_setting",
    )
    warn_days = models.PositiveSmallIntegerField(
        "临近截止提醒天数 (黄灯)",
        default=14,
        help_text="距截止日期不超过这么多天且尚未完成的任务亮黄灯。",
    )
    remind_days = models.PositiveSmallIntegerField(
        "填报轮次截止前提醒天数", default=3, help_text="轮次截止前这么多天提醒未提交的单位。"
    )

    scope_region = "office__region"
    scope_orgs = ("office",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "进展设置"
        verbose_name_plural = "进展设置"

    def __str__(self) -> str:
        return f"{self.office} 进展设置"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.office.region.path, self.office_id


class RoundStatus(models.TextChoices):
    OPEN = "open", "填报中"
    CLOSED = "closed", "已结束"


class ReportingRound(Versioned):
    """填报轮次: an office asks for progress on chosen plans (or tasks) by a deadline."""

    office = models.ForeignKey(
        Organisation, verbose_name="组织办公室", on_delete=models.PROTECT, related_name="rounds"
    )
    title = models.CharField("轮次名称", max_length=200)
    plans = models.ManyToManyField(Plan, verbose_name="覆盖规划", related_name="rounds")
    tasks = models.ManyToManyField(
        Task, verbose_name="覆盖任务 (留空为所选规划的全部任务)", related_name="+", blank=True
    )
    opens_on = models.DateField("开始日期")
    closes_on = models.DateField("截止日期")
    status = models.CharField(
        "状态", max_length=10, choices=RoundStatus.choices, default=RoundStatus.OPEN
    )
    slot_count = models.PositiveIntegerField("填报任务数", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="创建人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_region = "office__region"
    scope_orgs = ("office",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "填报轮次"
        verbose_name_plural = "填报轮次"
        ordering = ["-opens_on", "-pk"]

    def __str__(self) -> str:
        return self.title

    def audit_scope(self) -> tuple[str, int | None]:
        return self.office.region.path, self.office_id


class ReportStatus(models.TextChoices):
    PENDING = "pending", "未填报"
    DRAFT = "draft", "草稿"
    SUBMITTED = "submitted", "已提交"
    RETURNED = "returned", "退回修改"
    ACCEPTED = "accepted", "已通过"


class ProgressState(models.TextChoices):
    """The unit's own account of the work."""

    ON_TRACK = "on_track", "正常推进"
    DONE = "done", "已完成"
    BEHIND = "behind", "进度滞后"
    NOT_STARTED = "not_started", "尚未开始"


class Report(Versioned):
    """A unit's report on one task in one round (its slot while ``pending``)."""

    # Opening a national round writes 500,000 rows in one statement, so indexes are kept
    # to what the pages use (round via the unique (round, task, organisation),
    # organisation via (organisation, status)) and the three keys carry no database
    # constraint (whose deferred checks cost more than the insert itself; parent and
    # reviewed_by below likewise): the insert
    # selects them from existing rows, and Django applies on_delete=CASCADE itself.
    round = models.ForeignKey(
        ReportingRound,
        verbose_name="轮次",
        on_delete=models.CASCADE,
        related_name="reports",
        db_index=False,
        db_constraint=False,
    )
    task = models.ForeignKey(
        Task,
        verbose_name="任务",
        on_delete=models.CASCADE,
        related_name="reports",
        db_constraint=False,
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="填报单位",
        on_delete=models.CASCADE,
        related_name="reports",
        db_index=False,
        db_constraint=False,
    )
    role = models.CharField("角色", max_length=20, choices=UnitRole.choices)
    # 分解落实: "各县(市、区)" on a city task → one report per county office.
    via = models.CharField("分解自", max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级分解",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(
        "状态", max_length=12, choices=ReportStatus.choices, default=ReportStatus.PENDING
    )
    state = models.CharField(
        "进展状态", max_length=12, choices=ProgressState.choices, blank=True, default=""
    )
    narrative = models.TextField("本期进展情况", blank=True)
    links = models.TextField("相关链接 (每行一个)", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    is_late = models.BooleanField("逾期提交", default=False)
    review_comment = models.TextField("审核意见", blank=True)
    reviewed_at = models.DateTimeField("审核时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region = "organisation__region"
    scope_orgs = ("organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "进展报告"
        verbose_name_plural = "进展报告"
        ordering = ["round", "task__order", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "task", "organisation"], name="report_one_per_unit_and_task"
            )
        ]
        indexes = [models.Index(fields=["organisation", "status"], name="report_org_status")]

    def __str__(self) -> str:
        # Names only when already loaded: audit rows of 500,000 new slots must not
        # cost two queries each.
        cache = self._state.fields_cache
        if "organisation" in cache and "task" in cache:
            return f"{self.organisation} · {self.task}"
        return f"进展报告 {self.pk} (任务 {self.task_id}, 单位 {self.organisation_id})"

    def audit_scope(self) -> tuple[str, int | None]:
        cached = getattr(self, "_audit_scope", None)
        if cached is not None:
            return cached
        return self.organisation.region.path, self.organisation_id

    @property
    def editable(self) -> bool:
        return self.status in (ReportStatus.PENDING, ReportStatus.DRAFT, ReportStatus.RETURNED)

    def link_list(self) -> list[str]:
        return [ln.strip() for ln in self.links.splitlines() if ln.strip()]


class ReportProgress(models.Model):
    """Numeric progress against one target of the task ("培训教师 180 / 300 人")."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="progress")
    target = models.ForeignKey(Target, verbose_name="目标", on_delete=models.CASCADE)
    value = models.FloatField("完成值")

    scope_region = "report__organisation__region"
    scope_orgs = ("report__organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "目标完成值"
        verbose_name_plural = "目标完成值"
        constraints = [
            models.UniqueConstraint(fields=["report", "target"], name="progress_one_per_target")
        ]

    def __str__(self) -> str:
        return f"{self.target}: {self.value}"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.report.organisation.region.path, self.report.organisation_id


class ReportEvidence(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField("文件", upload_to="progress/%Y/%m/")
    name = models.CharField("文件名", max_length=255)
    size = models.PositiveIntegerField("大小")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField("上传时间", auto_now_add=True)

    scope_region = "report__organisation__region"
    scope_orgs = ("report__organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "佐证材料"
        verbose_name_plural = "佐证材料"
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_image(self) -> bool:
        return self.name.lower().endswith((".jpg", ".jpeg", ".png"))

    def audit_scope(self) -> tuple[str, int | None]:
        return self.report.organisation.region.path, self.report.organisation_id


class ReportEvent(models.Model):
    """One transition of a report (the history: who, when, from what to what)."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField("原状态", max_length=12, choices=ReportStatus.choices)
    to_status = models.CharField("新状态", max_length=12, choices=ReportStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField("操作人", max_length=150)
    comment = models.TextField("说明", blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    scope_region = "report__organisation__region"
    scope_orgs = ("report__organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "报告流转记录"
        verbose_name_plural = "报告流转记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class TaskTermination(models.Model):
    """已终止: an office stops a task (it no longer counts as late)."""

    task = models.OneToOneField(Task, on_delete=models.CASCADE, related_name="termination")
    reason = models.CharField("终止原因", max_length=300)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField("终止时间", auto_now_add=True)

    scope_region = "task__plan__region"
    scope_orgs = ("task__plan__owner",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "任务终止"
        verbose_name_plural = "任务终止"

    def __str__(self) -> str:
        return f"{self.task} 已终止"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.task.plan.region.path, self.task.plan.owner_id


# ------------------------------------------------------------------------------ 督办
class NoticeLevel(models.TextChoices):
    BLUE = "blue", "蓝色督办"
    YELLOW = "yellow", "黄色督办"
    RED = "red", "红色督办"


class NoticeStatus(models.TextChoices):
    FILED = "filed", "立项"
    ISSUED = "issued", "交办"
    ACKNOWLEDGED = "acknowledged", "签收"
    HANDLING = "handling", "办理"
    ANSWERED = "answered", "反馈"
    CHECKED = "checked", "复核"
    CLOSED = "closed", "办结"


class Notice(Versioned):
    """督办单: an office chases a unit about a task (or an unreported slot)."""

    office = models.ForeignKey(
        Organisation, verbose_name="督办单位", on_delete=models.PROTECT, related_name="+"
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name="承办单位", on_delete=models.CASCADE, related_name="notices"
    )
    task = models.ForeignKey(
        Task, verbose_name="任务", on_delete=models.CASCADE, related_name="notices"
    )
    report = models.ForeignKey(
        Report, verbose_name="相关报告", null=True, blank=True, on_delete=models.SET_NULL
    )
    number = models.CharField("督办单编号", max_length=40, blank=True)
    level = models.CharField("督办级别", max_length=10, choices=NoticeLevel.choices)
    status = models.CharField(
        "状态", max_length=14, choices=NoticeStatus.choices, default=NoticeStatus.FILED
    )
    subject = models.CharField("督办事项", max_length=300)
    requirement = models.TextField("督办要求")
    answer_by = models.DateField("反馈期限")
    answer = models.TextField("办理情况反馈", blank=True)
    check_comment = models.TextField("复核意见", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField("立项时间", auto_now_add=True)
    issued_at = models.DateTimeField("交办时间", null=True, blank=True)

    scope_region = "organisation__region"
    scope_orgs = ("organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "督办单"
        verbose_name_plural = "督办单"
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.number or '督办单'} {self.subject}"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.organisation.region.path, self.organisation_id


class NoticeEvent(models.Model):
    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField("原状态", max_length=14, choices=NoticeStatus.choices)
    to_status = models.CharField("新状态", max_length=14, choices=NoticeStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField("操作人", max_length=150)
    comment = models.TextField("说明", blank=True)
    at = models.DateTimeField("时间", auto_now_add=True)

    scope_region = "notice__organisation__region"
    scope_orgs = ("notice__organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "督办流转记录"
        verbose_name_plural = "督办流转记录"
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


# ------------------------------------------------------------------------------ 上下级任务对应
class LinkStatus(models.TextChoices):
    SUGGESTED = "suggested", "待确认"
    CONFIRMED = "confirmed", "已确认"
    REJECTED = "rejected", "已否决"


class TaskLink(models.Model):
    """A local task implements a task of a parent plan (the county's "科技馆进校园" →
    the city's task): suggested by the matcher, confirmed or rejected by the office that
    owns the local plan."""

    local = models.ForeignKey(
        Task, verbose_name="本级任务", on_delete=models.CASCADE, related_name="parent_links"
    )
    parent = models.ForeignKey(
        Task, verbose_name="上级任务", on_delete=models.CASCADE, related_name="local_links"
    )
    status = models.CharField(
        "状态", max_length=10, choices=LinkStatus.choices, default=LinkStatus.SUGGESTED
    )
    score = models.FloatField("相似度", default=0)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="确认人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField("确认时间", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_region = "local__plan__region"
    scope_orgs = ("local__plan__owner", "local__units__organisation")
    scope_orgs_write = ("local__plan__owner",)
    scope_owner = "local__plan__owner"

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "上下级任务对应"
        verbose_name_plural = "上下级任务对应"
        ordering = ["local_id", "-score", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["local", "parent"], name="task_link_once"),
        ]
        indexes = [models.Index(fields=["parent", "status"], name="task_link_parent_status")]

    def __str__(self) -> str:
        cache = self._state.fields_cache
        if "local" in cache and "parent" in cache:
            return f"{self.local} → {self.parent}"
        return f"任务对应 {self.pk} (任务 {self.local_id} → {self.parent_id})"

    def audit_scope(self) -> tuple[str, int | None]:
        cached = getattr(self, "_audit_scope", None)
        if cached is not None:
            return cached
        return self.local.plan.region.path, self.local.plan.owner_id
