from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q

from kepu.orgs.scoping import Role, ScopedQuerySet, user_grants


class AuditQuerySet(ScopedQuerySet):
    """Audit entries are visible to office administrators within their scope only."""

    def _grants_for(self, user, action):
        return [g for g in super()._grants_for(user, action) if g.role == Role.OFFICE_ADMIN]

    def _scope_q(self, grant, action):
        if grant.region_path is not None:
            return Q(region_path__startswith=grant.region_path)
        return Q(organisation_id=grant.organisation_id)


class AuditEntry(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "新建"
        UPDATE = "update", "修改"
        DELETE = "delete", "删除"
        LOGIN = "login", "登录"
        LOGIN_FAILED = "login_failed", "登录失败"

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人", max_length=150, blank=True)
    action = models.CharField("操作", max_length=20, choices=Action.choices)
    content_type = models.ForeignKey(ContentType, verbose_name="对象类型", on_delete=models.PROTECT)
    object_id = models.CharField("对象ID", max_length=64)
    object_repr = models.CharField("对象", max_length=300)
    changes = models.JSONField("变更", default=dict, blank=True)
    # Where the object lived, for scoping the log itself.
    region_path = models.CharField(max_length=64, blank=True, db_index=True)
    organisation_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = "审计日志"
        verbose_name_plural = "审计日志"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.object_repr}"


__all__ = ["AuditEntry", "user_grants"]
