"""The one place scoping rules live.

Every scoped model uses :class:`ScopedQuerySet` (or a subclass) and declares how it
reaches a region and an organisation::

    class Organisation(models.Model):
        scope_region = "region"          # lookup to a Region
        scope_orgs = ("pk",)             # lookups to Organisation ids that own the row
        objects = ScopedQuerySet.as_manager()

Optional: ``scope_orgs_write`` lists the lookups that grant writes when they differ
from those that grant reading (a plan is readable by every unit it names, but only
its owner may change it); ``scope_multivalued = True`` when a lookup crosses a to-many
relation.

``Model.objects.restrict(user, action)`` then returns exactly what the user may
see (``view``) or act on (``add``, ``change``, ``delete``):

- a superuser: everything;
- a member of an office (科协 / 纲要办): the office's region and everything below it;
- a member of any other organisation: rows owned by that organisation;
- the role decides the actions: office administrator all (including managing
  members), unit staff view/add/change, viewer view only;
- anonymous users: nothing.

After a create or edit, :func:`save_in_scope` re-checks inside the same
transaction that the object is still within reach, so a user can neither move an
object out of their scope nor create one elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class Action(StrEnum):
    VIEW = "view"
    ADD = "add"
    CHANGE = "change"
    DELETE = "delete"
    MANAGE = "manage"  # manage members and roles


ACTION_LABELS = {
    Action.VIEW: "查看",
    Action.ADD: "新建",
    Action.CHANGE: "修改",
    Action.DELETE: "删除",
    Action.MANAGE: "管理成员",
}


class Role(models.TextChoices):
    OFFICE_ADMIN = "office_admin", "办公室管理员"
    UNIT_STAFF = "unit_staff", "单位填报员"
    VIEWER = "viewer", "只读用户"


ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.OFFICE_ADMIN: frozenset(Action),
    Role.UNIT_STAFF: frozenset({Action.VIEW, Action.ADD, Action.CHANGE}),
    Role.VIEWER: frozenset({Action.VIEW}),
}


@dataclass(frozen=True)
class Grant:
    """One membership turned into a scope: where it reaches and what it allows."""

    membership_id: int
    organisation_id: int
    organisation_name: str
    role: str
    actions: frozenset[Action]
    region_id: int
    region_name: str
    region_code: str
    # Set when the organisation is an office: the whole region subtree is in scope.
    region_path: str | None
    # The organisation's own region path (a unit's writes must stay inside it).
    unit_region_path: str = ""

    @property
    def role_label(self) -> str:
        return Role(self.role).label

    @property
    def scope_label(self) -> str:
        if self.region_path is not None:
            return f"{self.region_name}({self.region_code})及下辖全部区域"
        return f"本单位: {self.organisation_name}"

    @property
    def action_labels(self) -> list[str]:
        return [ACTION_LABELS[a] for a in Action if a in self.actions]


def user_grants(user: AbstractBaseUser | AnonymousUser) -> list[Grant]:
    """The user's grants, computed once per user object (i.e. once per request)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_kepu_grants", None)
    if cached is not None:
        return cached
    from kepu.orgs.models import Membership

    grants = [
        Grant(
            membership_id=m.pk,
            organisation_id=m.organisation_id,
            organisation_name=m.organisation.name,
            role=m.role,
            actions=ROLE_ACTIONS[m.role],
            region_id=m.organisation.region_id,
            region_name=m.organisation.region.name,
            region_code=m.organisation.region.code,
            region_path=m.organisation.region.path if m.organisation.is_office else None,
            unit_region_path=m.organisation.region.path,
        )
        for m in Membership.objects.filter(user=user, organisation__is_active=True)
        .select_related("organisation__region")
        .order_by("pk")
    ]
    user._kepu_grants = grants  # type: ignore[union-attr]
    return grants


def forget_grants(user: Any) -> None:
    """Drop the cached grants (after memberships change)."""
    if hasattr(user, "_kepu_grants"):
        del user._kepu_grants


class ScopedQuerySet(models.QuerySet):
    """A queryset with the scoping gate ``restrict(user, action)``."""

    def _scope_q(self, grant: Grant, action: Action) -> Q:
        model = self.model
        if grant.region_path is not None:
            return Q(**{f"{model.scope_region}__path__startswith": grant.region_path})
        q = Q(pk__in=[])
        lookups = model.scope_orgs
        if action != Action.VIEW:
            # Being named on a row may grant reading it; only these lookups grant writing.
            lookups = getattr(model, "scope_orgs_write", lookups)
        for lookup in lookups:
            q |= Q(**{lookup: grant.organisation_id})
        if action != Action.VIEW:
            # A unit writes only what stays inside its own region: it can never move
            # its data out of its office's reach.
            q &= Q(**{f"{model.scope_region}__path__startswith": grant.unit_region_path})
        return q

    def _grants_for(self, user: Any, action: Action) -> list[Grant]:
        return [g for g in user_grants(user) if action in g.actions]

    def restrict(self, user: Any, action: Action | str = Action.VIEW) -> ScopedQuerySet:
        action = Action(action)
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return self.none()
        if user.is_superuser:
            return self
        grants = self._grants_for(user, action)
        if not grants:
            return self.none()
        q = Q(pk__in=[])
        for grant in grants:
            q |= self._scope_q(grant, action)
        if getattr(self.model, "scope_multivalued", False):
            return self.filter(pk__in=self.model._default_manager.filter(q).values("pk"))
        return self.filter(q)


def can(user: Any, obj: models.Model, action: Action | str) -> bool:
    """Whether ``user`` may perform ``action`` on the saved object ``obj``."""
    manager = type(obj)._default_manager
    return manager.restrict(user, action).filter(pk=obj.pk).exists()


def ensure_in_scope(user: Any, obj: models.Model, action: Action | str) -> None:
    if not can(user, obj, action):
        raise PermissionDenied("您无权在此范围内进行该操作。")


def save_in_scope(
    user: Any,
    obj: models.Model,
    action: Action | str,
    *,
    after_save: Callable[[], None] | None = None,
    update_fields: Iterable[str] | None = None,
) -> models.Model:
    """Save ``obj`` and re-check, in the same transaction, that it is in scope.

    Raises ``PermissionDenied`` (and rolls back) if the saved object is outside what
    ``user`` may ``action``: the post-save scope check.
    """
    with transaction.atomic():
        obj.save(update_fields=update_fields)
        if after_save is not None:
            after_save()
        ensure_in_scope(user, obj, action)
    return obj
