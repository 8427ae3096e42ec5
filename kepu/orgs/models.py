from __future__ import annotations

from django.conf import settings
from django.db import models

from kepu.core.versioning import Versioned
from kepu.orgs.scoping import Role, ScopedQuerySet
from kepu.regions.models import Region


class OrgKind(models.TextChoices):
    ASSOCIATION = "association", "科协"
    OFFICE = "office", "纲要实施工作办公室"
    DEPARTMENT = "department", "政府部门(成员单位)"
    SOCIETY = "society", "学会/协会"
    TOWNSHIP = "township", "乡镇/街道"
    SCHOOL = "school", "学校"
    ENTERPRISE = "enterprise", "企业"
    EDUCATION_BASE = "education_base", "科普教育基地"
    OTHER = "other", "其他"


OFFICE_KINDS = frozenset({OrgKind.ASSOCIATION, OrgKind.OFFICE})


class OrganisationQuerySet(ScopedQuerySet):
    def matching_name(self, name: str) -> OrganisationQuerySet:
        """Organisations whose name, short name or an alias is exactly ``name``."""
        name = name.strip()
        return self.filter(
            models.Q(name=name) | models.Q(short_name=name) | models.Q(aliases__name=name)
        ).distinct()


class Organisation(Versioned):
    # Indexed alone for exact name matching (documents name units; the unique
    # constraint leads with the region); trigram indexes serve substring search.
    name = models.CharField("名称", max_length=200, db_index=True)
    short_name = models.CharField("简称", max_length=100, blank=True, db_index=True)
    kind = models.CharField("类型", max_length=32, choices=OrgKind.choices)
    region = models.ForeignKey(
        Region, verbose_name="所在区域", on_delete=models.PROTECT, related_name="organisations"
    )
    parent = models.ForeignKey(
        "self",
        verbose_name="上级单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    is_member_unit = models.BooleanField("成员单位", default=False)
    is_active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    scope_region = "region"
    scope_orgs = ("pk",)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = "组织"
        verbose_name_plural = "组织"
        ordering = ["region__code", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="org_unique_name_in_region")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_office(self) -> bool:
        return self.kind in OFFICE_KINDS

    def audit_scope(self) -> tuple[str, int | None]:
        return self.region.path, self.pk


class OrganisationAlias(models.Model):
    """Another name documents use for an organisation (``市教体局`` → 曲靖市教育体育局)."""

    organisation = models.ForeignKey(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="aliases"
    )
    name = models.CharField("别名", max_length=200, db_index=True)

    scope_region = "organisation__region"
    scope_orgs = ("organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "组织别名"
        verbose_name_plural = "组织别名"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="alias_unique_per_org")
        ]

    def __str__(self) -> str:
        return self.name

    def audit_scope(self) -> tuple[str, int | None]:
        return self.organisation.region.path, self.organisation_id


class Membership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    organisation = models.ForeignKey(
        Organisation, verbose_name="组织", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    scope_region = "organisation__region"
    scope_orgs = ("organisation",)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        verbose_name = "成员"
        verbose_name_plural = "成员"
        ordering = ["organisation__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.get_role_display()})"

    def audit_scope(self) -> tuple[str, int | None]:
        return self.organisation.region.path, self.organisation_id
