"""Writes to organisations, aliases and memberships. Each checks scope after saving."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kepu.core.types import UserLike
from kepu.core.versioning import version_check
from kepu.orgs.models import Membership, Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import (
    RESTRUCTURE_DENIED,
    Action,
    Role,
    can_restructure,
    ensure_in_scope,
    forget_grants,
    save_in_scope,
    user_grants,
)
from kepu.regions.models import Region

ORG_FIELDS = ("name", "short_name", "kind", "region", "parent", "is_member_unit", "is_active")
# Fields that decide what grants an organisation carries (an office reaches its whole
# region; an inactive organisation grants nothing) or where it sits in the tree. Only an
# office administrator above the organisation may change them (scoping.can_restructure).
STRUCTURAL_FIELDS = ("kind", "region", "parent", "is_member_unit", "is_active")

ROLE_DENIED = "不能授予高于自己在该组织范围内的角色。"

# Roles from weakest to strongest (a membership never grants more than its granter holds).
ROLE_RANK = {Role.VIEWER: 0, Role.UNIT_STAFF: 1, Role.OFFICE_ADMIN: 2}


NAME_SEPARATORS = ("、", ",", "，", ";", "；", "\n")


def split_names(value: str | Iterable[str] | None) -> list[str]:
    """'A、B，C' → ['A', 'B', 'C'] (order kept, duplicates and blanks dropped)."""
    if value is None:
        return []
    if not isinstance(value, str):
        value = "、".join(value)
    for sep in NAME_SEPARATORS[1:]:
        value = value.replace(sep, "、")
    seen: list[str] = []
    for part in value.split("、"):
        part = part.strip()
        if part and part not in seen:
            seen.append(part)
    return seen


def _parse_aliases(aliases: str | list[str] | None) -> list[str]:
    names = sorted(split_names(aliases))
    limit = OrganisationAlias._meta.get_field("name").max_length or 0
    if limit and any(len(n) > limit for n in names):
        raise ValidationError({"aliases": f"每个别名不超过 {limit} 个字。"})
    return names


def _sync_aliases(org: Organisation, aliases: list[str]) -> None:
    current = {a.name: a for a in org.aliases.all()}
    for name, alias in current.items():
        if name not in aliases:
            alias.delete()
    for name in aliases:
        if name not in current and name != org.name:
            OrganisationAlias.objects.create(organisation=org, name=name)


def _check_parent(org: Organisation, parent: Organisation | None) -> None:
    """A parent must not be the organisation itself nor one of its descendants."""
    seen: set[int] = set()
    node = parent
    while node is not None and org.pk is not None:
        if node.pk == org.pk:
            raise ValidationError({"parent": "上级单位不能是本单位或其下级单位。"})
        if node.pk in seen:  # a cycle already in the data: stop rather than loop
            break
        seen.add(node.pk)
        node = node.parent


def _ensure_can_restructure(user: UserLike, organisation: Organisation) -> None:
    if not can_restructure(user, organisation):
        raise PermissionDenied(RESTRUCTURE_DENIED)


def organisation_create(
    *,
    user: UserLike,
    name: str,
    kind: str,
    region: Region,
    short_name: str = "",
    parent: Organisation | None = None,
    is_member_unit: bool = False,
    aliases: str | list[str] | None = None,
) -> Organisation:
    org = Organisation(
        name=name.strip(),
        short_name=short_name.strip(),
        kind=OrgKind(kind),
        region=region,
        parent=parent,
        is_member_unit=is_member_unit,
    )
    org.full_clean()
    alias_list = _parse_aliases(aliases)
    # A new office reaches its whole region: only an office administrator above may make one.
    check = (lambda: _ensure_can_restructure(user, org)) if org.is_office else None
    return save_in_scope(
        user, org, Action.ADD, after_save=lambda: _sync_aliases(org, alias_list), check=check
    )


def organisation_update(
    *,
    user: UserLike,
    organisation: Organisation,
    aliases: str | list[str] | None = None,
    version: int | None = None,
    **fields: Any,
) -> Organisation:
    """Change an organisation's fields (and aliases when given).

    Structural fields (kind, region, parent, flags) may change only by an office
    administrator above the organisation, who must still be above it after the change;
    everything is checked with the grants as they are after the write.
    """
    ensure_in_scope(user, organisation, Action.CHANGE)
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise ValueError(f"unknown organisation fields: {sorted(unknown)}")
    fields = {k: v.strip() if isinstance(v, str) else v for k, v in fields.items()}
    structural = [
        key
        for key in STRUCTURAL_FIELDS
        if key in fields and fields[key] != getattr(organisation, key)
    ]
    if structural:
        _ensure_can_restructure(user, organisation)
    for key, value in fields.items():
        setattr(organisation, key, value)
    if "parent" in fields:
        _check_parent(organisation, organisation.parent)
    organisation.full_clean()
    alias_list = _parse_aliases(aliases) if aliases is not None else None

    def after() -> None:
        if alias_list is not None:
            _sync_aliases(organisation, alias_list)

    def still_above() -> None:
        if structural:
            _ensure_can_restructure(user, Organisation.objects.get(pk=organisation.pk))

    try:
        with transaction.atomic():
            version_check(
                organisation,
                expected=version,
                fields=ORG_FIELDS,
                extra=_alias_difference(aliases),
            )
            return save_in_scope(
                user, organisation, Action.CHANGE, after_save=after, check=still_above
            )
    except PermissionDenied:
        organisation.refresh_from_db()
        raise


def _alias_difference(aliases: str | list[str] | None) -> Any:
    """For a stale-edit refusal: the aliases submitted beside the ones saved."""

    def extra(current: Organisation) -> list[tuple[str, str, str]]:
        if aliases is None:
            return []
        saved = sorted(current.aliases.values_list("name", flat=True))
        return [("别名", "、".join(_parse_aliases(aliases)), "、".join(saved))]

    return extra


def organisation_delete(*, user: UserLike, organisation: Organisation) -> None:
    """Delete an organisation: structural, so only an office administrator above it
    (an office cannot delete itself and its colleagues' memberships with it)."""
    ensure_in_scope(user, organisation, Action.DELETE)
    _ensure_can_restructure(user, organisation)
    if organisation.children.exists():
        raise ValidationError("该组织下还有下级单位, 不能删除。")
    with transaction.atomic():
        # Wait for a reporting round being opened over it (key-share lock, see
        # kepu.progress.services.round_open) so the delete also collects its new slots.
        list(Organisation.objects.select_for_update().filter(pk=organisation.pk).values_list("pk"))
        organisation.delete()


def membership_add(
    *,
    user: UserLike,
    organisation: Organisation,
    username: str,
    role: str,
    password: str | None = None,
    full_name: str = "",
) -> Membership:
    """Add a user (created when new) to an organisation with a role.

    Only office administrators of the organisation's scope may do this; a
    membership may not grant a role stronger than the granter's own, and nobody
    grants themselves anything.
    """
    ensure_in_scope(user, organisation, Action.MANAGE)
    role = Role(role)
    _ensure_may_grant(user, organisation, role)
    User = get_user_model()
    with transaction.atomic():
        member, created = User.objects.get_or_create(username=username.strip())
        if created:
            if not password:
                raise ValidationError("新用户需要设置初始密码。")
            member.set_password(password)
            member.first_name = full_name.strip()[:150]
            member.save()
        elif member.is_superuser and not user.is_superuser:
            raise PermissionDenied("不能修改超级管理员。")
        if member.pk == user.pk and not user.is_superuser:
            raise PermissionDenied("不能给自己添加成员身份。")
        membership = Membership(user=member, organisation=organisation, role=role)
        membership.full_clean()
        save_in_scope(
            user,
            membership,
            Action.MANAGE,
            check=lambda: _ensure_may_grant(user, organisation, role),
        )
    forget_grants(member)
    return membership


def _ensure_may_grant(user: UserLike, organisation: Organisation, role: Role) -> None:
    """The granter's strongest role over ``organisation`` must be at least ``role``."""
    if user.is_superuser:
        return
    path = organisation.region.path
    best = -1
    for g in user_grants(user):
        if Action.MANAGE not in g.actions:
            continue
        reaches = g.organisation_id == organisation.pk or (
            g.region_path is not None and path.startswith(g.region_path)
        )
        if reaches:
            best = max(best, ROLE_RANK[Role(g.role)])
    if best < ROLE_RANK[role]:
        raise PermissionDenied(ROLE_DENIED)


def membership_remove(*, user: UserLike, membership: Membership) -> None:
    ensure_in_scope(user, membership, Action.MANAGE)
    if membership.user_id == user.pk:
        raise ValidationError("不能移除自己的成员身份。")
    membership.delete()
