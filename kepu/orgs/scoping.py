"""The one place scoping rules live.

Every scoped model uses :class:`ScopedQuerySet` (or a subclass) and declares how it
reaches a region and an organisation::

    class Organisation(models.Model):
        scope_region = "region"          # lookup to a Region
        scope_orgs = ("pk",)             # lookups to Organisation ids that own the row
        objects = ScopedQuerySet.as_manager()

Optional:

- ``scope_orgs_write`` lists the lookups that grant a unit writes when they differ from
  those that grant reading (a plan is readable by every unit it names, but only its
  owner may change it);
- ``scope_owner`` is the lookup to the organisation that owns the row (a plan's or a
  survey wave's office). When it is set, an office writes a row only when the owner is
  that office or an organisation below it: offices below the owner read, the owner's
  office (and the offices above it) write. See "Who owns what" in docs/architecture.md.
- ``scope_read_down = True`` lets an office *below* the row's region read it (never
  write it): a city or provincial survey's results are shown to the county offices
  inside that region (:func:`reads_from_below` tells the pages which reader that is).
  ``scope_read_down = READ_DOWN_ON_REQUEST`` does the same only where a page or service
  asks for it with ``restrict(user, "view", read_down=True)``: a city plan and its tasks
  are read by a county office on the pages that link the county's tasks to them, not in
  its plan lists or ledger. ``read_down=True`` is refused for writes.

Whether a lookup crosses a to-many relation is worked out from the model's meta
(:func:`scope_spec`); ``kepu.core.checks`` resolves every lookup at start-up, so a
misspelt lookup is a system-check error rather than a hole.

``Model.objects.restrict(user, action)`` then returns exactly what the user may
see (``view``) or act on (``add``, ``change``, ``delete``):

- a superuser: everything;
- a member of an office (科协 / 纲要办): the office's region and everything below it
  (for writes to owned rows: only rows owned by the office or by organisations below it);
- a member of any other organisation: rows owned by that organisation;
- the role decides the actions: office administrator all (including managing
  members), unit staff view/add/change, viewer view only;
- anonymous users: nothing.

``restrict(user, action, owned=True)`` applies the ownership rule to reading too (the
original document of a plan: its owner office and the offices above it, not every unit
a task names).

After a create or edit, :func:`save_in_scope` re-checks inside the same transaction,
with the user's grants re-read *after* the write, that the object is still within reach,
so a user can neither move an object out of their scope nor create one elsewhere, nor
widen their own grants by editing the organisation they belong to. Changing what grants
an organisation carries (its kind, region, parent, active flag) is reserved to an office
administrator above it: :func:`can_restructure`.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar, cast

from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db import models, transaction
from django.db.models import Q

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    from kepu.core.types import UserLike


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
        for m in Membership.objects.filter(user_id=cast(int, user.pk), organisation__is_active=True)
        .select_related("organisation__region")
        .order_by("pk")
    ]
    user._kepu_grants = grants  # type: ignore[union-attr]
    return grants


def forget_grants(user: UserLike) -> None:
    """Drop the cached grants (after memberships or organisations change)."""
    if hasattr(user, "_kepu_grants"):
        del user._kepu_grants


# --- what a model declares, resolved against its meta -------------------------------------
class ScopeDeclarationError(Exception):
    """A scope lookup that does not resolve (reported by the system check)."""


@dataclass(frozen=True)
class ResolvedLookup:
    lookup: str
    target: type[models.Model]  # the model the lookup ends at
    multivalued: bool  # crosses a to-many relation


def resolve_lookup(model: type[models.Model], lookup: str) -> ResolvedLookup:
    """Follow ``lookup`` (``"plan__owner"``, ``"pk"``) through ``model``'s relations.

    Raises :class:`ScopeDeclarationError` when a part is not a field or relation, or a
    plain field is followed further.
    """
    current = model
    multivalued = False
    parts = lookup.split("__")
    for i, part in enumerate(parts):
        try:
            field = current._meta.pk if part == "pk" else current._meta.get_field(part)
        except FieldDoesNotExist as exc:
            raise ScopeDeclarationError(
                f"{model.__name__}: '{lookup}': {current.__name__} has no field '{part}'"
            ) from exc
        if field.is_relation:
            multivalued = multivalued or bool(field.one_to_many or field.many_to_many)
            current = field.related_model  # type: ignore[assignment]
        elif i != len(parts) - 1:
            raise ScopeDeclarationError(f"{model.__name__}: '{lookup}': '{part}' is not a relation")
        elif part == "pk" or getattr(field, "primary_key", False):
            current = current  # the row itself (Organisation.pk)
        else:
            raise ScopeDeclarationError(
                f"{model.__name__}: '{lookup}': '{part}' is a plain field, not a relation"
            )
    return ResolvedLookup(lookup=lookup, target=current, multivalued=multivalued)


@dataclass(frozen=True)
class ScopeSpec:
    region: ResolvedLookup
    orgs: tuple[ResolvedLookup, ...]
    orgs_write: tuple[ResolvedLookup, ...]
    owner: ResolvedLookup | None

    @property
    def multivalued(self) -> bool:
        lookups = (self.region, *self.orgs, *self.orgs_write, *([self.owner] if self.owner else []))
        return any(r.multivalued for r in lookups)


def declares_scope(model: type[models.Model]) -> bool:
    return hasattr(model, "scope_region") or hasattr(model, "scope_orgs")


def _resolve_spec(model: type[models.Model]) -> ScopeSpec:
    """Resolve and type-check a model's scope declaration (raises ScopeDeclarationError)."""
    from kepu.orgs.models import Organisation
    from kepu.regions.models import Region

    def to(lookup: str, target: type[models.Model], what: str) -> ResolvedLookup:
        if not isinstance(lookup, str) or not lookup:
            raise ScopeDeclarationError(f"{model.__name__}.{what}: {lookup!r} is not a lookup")
        resolved = resolve_lookup(model, lookup)
        if resolved.target is not target:
            raise ScopeDeclarationError(
                f"{model.__name__}.{what}: '{lookup}' leads to {resolved.target.__name__}, "
                f"not {target.__name__}"
            )
        return resolved

    def many(name: str, default: Any = None) -> tuple[ResolvedLookup, ...]:
        value = getattr(model, name, default)
        if isinstance(value, str) or not isinstance(value, (tuple, list)):
            raise ScopeDeclarationError(f"{model.__name__}.{name} must be a tuple of lookups")
        return tuple(to(v, Organisation, name) for v in value)

    if not hasattr(model, "scope_region") or not hasattr(model, "scope_orgs"):
        raise ScopeDeclarationError(
            f"{model.__name__} declares only one of scope_region and scope_orgs"
        )
    orgs = many("scope_orgs")
    if not orgs:
        raise ScopeDeclarationError(f"{model.__name__}.scope_orgs is empty")
    orgs_write = many("scope_orgs_write", getattr(model, "scope_orgs", ()))
    owner_lookup = getattr(model, "scope_owner", None)
    owner = to(owner_lookup, Organisation, "scope_owner") if owner_lookup is not None else None
    if owner is not None and owner.multivalued:
        raise ScopeDeclarationError(
            f"{model.__name__}.scope_owner '{owner.lookup}' crosses a to-many relation"
        )
    return ScopeSpec(
        region=to(model.scope_region, Region, "scope_region"),
        orgs=orgs,
        orgs_write=orgs_write,
        owner=owner,
    )


@functools.cache
def scope_spec(model: type[models.Model]) -> ScopeSpec:
    """The resolved scope declaration of ``model`` (cached per model class)."""
    return _resolve_spec(model)


# --- the gate ------------------------------------------------------------------------------
NATIONAL_PATH = "CN/"  # the root of the region tree (kepu.regions.models.short_code)


READ_DOWN_ON_REQUEST = "on_request"


def _reads_down(model: type[models.Model], read_down: bool) -> bool:
    declared = getattr(model, "scope_read_down", False)
    if read_down and declared not in (True, READ_DOWN_ON_REQUEST):
        raise TypeError(f"{model.__name__} does not declare scope_read_down")
    return declared is True or (declared == READ_DOWN_ON_REQUEST and read_down)


class ScopedQuerySet(models.QuerySet):
    """A queryset with the scoping gate ``restrict(user, action)``."""

    def _owner_below_q(self, grant: Grant, owner: str) -> Q:
        """Rows whose owner is the grant's office or an organisation below it."""
        from kepu.orgs.models import OFFICE_KINDS

        path = grant.region_path
        below = Q(**{f"{owner}__region__path__startswith": path}) & ~Q(
            **{f"{owner}__region__path": path, f"{owner}__kind__in": sorted(OFFICE_KINDS)}
        )
        return Q(**{owner: grant.organisation_id}) | below

    def _scope_terms(
        self, grant: Grant, action: Action, *, owned: bool = False, read_down: bool = False
    ) -> list[Q]:
        """The grant's reach as a list of terms to OR (one per lookup)."""
        model = self.model
        spec = scope_spec(model)
        writing = owned or action != Action.VIEW
        region = spec.region.lookup
        if grant.region_path is not None:
            if grant.region_path == NATIONAL_PATH:
                # Every region hangs under the national root: no join to regions needed.
                q = Q(pk__isnull=False)
            else:
                q = Q(**{f"{region}__path__startswith": grant.region_path})
            if writing and spec.owner is not None:
                q &= self._owner_below_q(grant, spec.owner.lookup)
            if not writing and _reads_down(model, read_down):
                # An office below the row's region reads it (a city survey for a county).
                q |= Q(**{f"{region}__path__in": ancestor_paths(grant.region_path)})
            return [q]
        # Being named on a row may grant reading it; only the write lookups grant writing.
        lookups = spec.orgs_write if writing else spec.orgs
        terms = [Q(**{r.lookup: grant.organisation_id}) for r in lookups]
        if writing:
            # A unit writes only what stays inside its own region: it can never move
            # its data out of its office's reach.
            inside = Q(**{f"{region}__path__startswith": grant.unit_region_path})
            terms = [t & inside for t in terms]
        return terms

    def _scope_q(self, grant: Grant, action: Action) -> Q:
        """The grant's reach as one condition (subclasses may override with their own)."""
        return functools.reduce(operator.or_, self._scope_terms(grant, action), Q(pk__in=[]))

    def _terms_multivalued(self, grants: list[Grant], action: Action, *, owned: bool) -> bool:
        """Whether the grants' terms may cross a to-many relation (so a plain JOIN filter
        could repeat rows). A single office grant filters by the region lookup (and the
        owner, never to-many): a plain filter lets the database start from the region
        instead of probing every row through a pk subquery."""
        spec = scope_spec(self.model)
        if len(grants) != 1:
            return spec.multivalued
        grant = grants[0]
        if grant.region_path is not None:
            return spec.region.multivalued
        writing = owned or action != Action.VIEW
        lookups = spec.orgs_write if writing else spec.orgs
        if len(lookups) != 1:
            return spec.multivalued
        return lookups[0].multivalued or (writing and spec.region.multivalued)

    def _grants_for(self, user: UserLike, action: Action) -> list[Grant]:
        return [g for g in user_grants(user) if action in g.actions]

    def restrict(
        self,
        user: UserLike,
        action: Action | str = Action.VIEW,
        *,
        owned: bool = False,
        read_down: bool = False,
    ) -> ScopedQuerySet:
        action = Action(action)
        if read_down and (action != Action.VIEW or owned):
            raise ValueError("read_down is for reading only")
        if read_down:
            _reads_down(self.model, read_down)  # raises for a model that does not declare it
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return self.none()
        if user.is_superuser:
            return self
        grants = self._grants_for(user, action)
        if not grants:
            return self.none()
        custom = type(self)._scope_q is not ScopedQuerySet._scope_q
        if custom:
            if owned or read_down:
                raise TypeError(
                    f"{type(self).__name__} has its own rule; owned=/read_down= not supported"
                )
            terms = [self._scope_q(g, action) for g in grants]
            multivalued = False
        else:
            terms = [
                t
                for g in grants
                for t in self._scope_terms(g, action, owned=owned, read_down=read_down)
            ]
            multivalued = self._terms_multivalued(grants, action, owned=owned)
        if len(terms) == 1 and not multivalued:
            return self.filter(terms[0])
        # Several ways in (owner OR named on a task, several memberships), or a to-many
        # lookup: one pk subquery per way in, combined with UNION. Each subquery can use
        # its own index (task units by organisation, plans by owner), where a single
        # WHERE over a LEFT JOIN with OR forces a scan of both tables.
        base = self.model._default_manager.all()
        subqueries = [base.filter(t).order_by().values("pk") for t in terms]
        if len(subqueries) == 1:
            return self.filter(pk__in=subqueries[0])
        return self.filter(pk__in=subqueries[0].union(*subqueries[1:]))


def ancestor_paths(path: str) -> list[str]:
    """The materialised paths strictly above ``path`` (``CN/53/5303/`` → ``CN/``, ``CN/53/``)."""
    parts = path.strip("/").split("/")[:-1]
    return ["/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def reads_from_below(user: UserLike, *, region_path: str, owner_id: int | None) -> bool:
    """Whether ``user`` reaches a row of ``region_path`` only as an office below it
    (``scope_read_down``): no office grant covering the region, not a member of the owner."""
    if not getattr(user, "is_authenticated", False) or user.is_superuser:
        return False
    return not any(
        (g.region_path is not None and region_path.startswith(g.region_path))
        or g.organisation_id == owner_id
        for g in user_grants(user)
    )


def can(
    user: UserLike,
    obj: models.Model,
    action: Action | str,
    *,
    owned: bool = False,
    read_down: bool = False,
) -> bool:
    """Whether ``user`` may perform ``action`` on the saved object ``obj``."""
    manager: Any = type(obj)._default_manager
    qs = manager.restrict(user, action, owned=owned, read_down=read_down)
    return bool(qs.filter(pk=obj.pk).exists())


def get_in_scope(
    queryset: models.QuerySet | type[models.Model],
    user: UserLike,
    action: Action | str = Action.VIEW,
    *,
    owned: bool = False,
    message: str = "您没有权限进行该操作。",
    **lookup: Any,
) -> Any:
    """The one object matching ``lookup`` that ``user`` may ``action``.

    Raises ``Http404`` when the object is out of the user's sight (or does not exist) and
    ``PermissionDenied`` when the user can see it but may not ``action`` it: the exact
    statuses the view matrix asserts.
    """
    from django.http import Http404

    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    scoped: Any = queryset
    action = Action(action)
    obj = scoped.restrict(user, action, owned=owned).filter(**lookup).first()
    if obj is not None:
        return obj
    if (action != Action.VIEW or owned) and scoped.restrict(user).filter(**lookup).exists():
        raise PermissionDenied(message)
    raise Http404


def ensure_in_scope(
    user: UserLike, obj: models.Model, action: Action | str, *, read_down: bool = False
) -> None:
    if not can(user, obj, action, read_down=read_down):
        raise PermissionDenied("您无权在此范围内进行该操作。")


def office_admin_above(user: UserLike, *, region_path: str, organisation_id: int | None) -> bool:
    """Whether ``user`` administers an office whose region contains ``region_path`` and
    which is not the organisation ``organisation_id`` itself (superusers: always)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    if user.is_superuser:
        return True
    return any(
        g.role == Role.OFFICE_ADMIN
        and g.region_path is not None
        and region_path.startswith(g.region_path)
        and g.organisation_id != organisation_id
        for g in user_grants(user)
    )


def can_restructure(user: UserLike, organisation: Any) -> bool:
    """Whether ``user`` may change what grants ``organisation`` carries: its kind, region,
    parent, active and member-unit flags. Only an office administrator above it may
    (never the organisation's own members, so nobody widens their own reach)."""
    return office_admin_above(
        user, region_path=organisation.region.path, organisation_id=organisation.pk
    )


_M = TypeVar("_M", bound=models.Model)

# Organisation fields that decide what grants its members hold, or where it sits.
ORG_STRUCTURAL_FIELDS = ("kind", "region_id", "parent_id", "is_member_unit", "is_active")
RESTRUCTURE_DENIED = "只有上级办公室的管理员可以修改组织的类型、所在区域、上级单位和启用状态。"


def _structural_change(user: UserLike, obj: models.Model, action: Action | str) -> bool:
    """For an organisation about to be saved: whether the save creates an office or
    changes a structural field. Checked here, in the one gate, so that every service that
    saves an organisation (the plan import creates some) obeys the rule; refused at once
    when the user may not restructure the organisation as it is now."""
    if obj._meta.label != "orgs.Organisation":
        return False
    if obj.pk is None or Action(action) == Action.ADD:
        return bool(obj.is_office)  # type: ignore[attr-defined]
    before = type(obj)._default_manager.select_related("region").filter(pk=obj.pk).first()
    if before is None:
        return bool(obj.is_office)  # type: ignore[attr-defined]
    changed = any(getattr(before, f) != getattr(obj, f) for f in ORG_STRUCTURAL_FIELDS)
    if changed and not can_restructure(user, before):
        raise PermissionDenied(RESTRUCTURE_DENIED)
    return changed


def save_in_scope(
    user: UserLike,
    obj: _M,
    action: Action | str,
    *,
    after_save: Callable[[], None] | None = None,
    update_fields: Iterable[str] | None = None,
    check: Callable[[], None] | None = None,
) -> _M:
    """Save ``obj`` and re-check, in the same transaction, that it is in scope.

    The user's grants are re-read after the write (the write may have changed them: an
    organisation's kind, region or active flag, a membership), so the check sees the
    world as it will be committed. ``check`` runs after the scope check for further
    rules that need the written state. Raises ``PermissionDenied`` (and rolls back) if
    the saved object is outside what ``user`` may ``action``.
    """
    structural = _structural_change(user, obj, action)
    try:
        with transaction.atomic():
            obj.save(update_fields=update_fields)
            if after_save is not None:
                after_save()
            forget_grants(user)
            ensure_in_scope(user, obj, action)
            if structural and not can_restructure(user, type(obj)._default_manager.get(pk=obj.pk)):
                raise PermissionDenied(RESTRUCTURE_DENIED)
            if check is not None:
                check()
    finally:
        # Grants read inside the transaction may describe a rolled-back state.
        forget_grants(user)
    return obj
