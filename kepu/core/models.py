from __future__ import annotations

from django.conf import settings
from django.db import models

from kepu.orgs.scoping import ScopedQuerySet


class LoginCounter(models.Model):
    """Failed sign-ins counted per key within a window (see kepu.core.throttle).

    Keys: ``ip:<address>`` (one client address, every account), ``user:<username>`` (one
    account, every address) and ``pair:<username>|<address>``.  One row per key, changed
    only under a row lock, so parallel attempts are counted one after the other.
    """

    key = models.CharField("键", max_length=300, unique=True)
    failures = models.PositiveIntegerField("失败次数", default=0)
    window_start = models.DateTimeField("计数开始", db_index=True)

    class Meta:
        verbose_name = "登录失败计数"
        verbose_name_plural = "登录失败计数"

    def __str__(self) -> str:
        return f"{self.key}: {self.failures}"


class WorkStatus(models.TextChoices):
    """States of background work (jobs and survey estimation runs share them)."""

    QUEUED = "queued", "排队中"
    RUNNING = "running", "进行中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


ACTIVE_STATUSES = (WorkStatus.QUEUED, WorkStatus.RUNNING)


def _job_result_path(instance: Job, filename: str) -> str:
    return f"jobs/{instance.created_at:%Y/%m}/{instance.pk}/{filename}"


class Job(models.Model):
    """One piece of background work (a large export or import) with its progress.

    Run by :mod:`kepu.core.jobs` through django-tasks; scoped through the gate by the
    organisation it was started for.
    """

    kind = models.CharField("任务类型", max_length=40)
    title = models.CharField("名称", max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发起人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    organisation = models.ForeignKey(
        "orgs.Organisation",
        verbose_name="所属组织",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    func = models.CharField("执行函数", max_length=200)
    params = models.JSONField("参数", default=dict, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=WorkStatus.choices, default=WorkStatus.QUEUED
    )
    progress = models.PositiveSmallIntegerField("进度", default=0)
    message = models.CharField("进度说明", max_length=500, blank=True)
    error = models.TextField("错误信息", blank=True)
    result = models.FileField("结果文件", upload_to=_job_result_path, max_length=300, blank=True)
    result_name = models.CharField("结果文件名", max_length=200, blank=True)
    task_id = models.CharField("队列任务号", max_length=64, blank=True)
    created_at = models.DateTimeField("发起时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    heartbeat_at = models.DateTimeField("心跳时间", null=True, blank=True)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)

    scope_region = "organisation__region"
    scope_orgs = ("organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "后台任务"
        verbose_name_plural = "后台任务"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["created_by", "-created_at"], name="core_job_user_idx"),
            models.Index(fields=["status", "heartbeat_at"], name="core_job_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title or self.kind} #{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    @property
    def result_url(self) -> str:
        """A page of this site showing what the job made (set by the job function in
        ``params["result_url"]``, e.g. the statistics collection it created); "" if none."""
        url = str((self.params or {}).get("result_url") or "")
        return url if url.startswith("/") and not url.startswith("//") else ""

    def audit_scope(self) -> tuple[str, int | None]:
        if self.organisation_id is None:
            return "", None
        organisation = self.organisation
        assert organisation is not None
        return organisation.region.path, self.organisation_id
