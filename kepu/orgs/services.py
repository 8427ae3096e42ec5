"""Writes to organisations, aliases and memberships. Each checks scope after saving."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from kepu.core.versioning import version_check
from kepu.orgs.models import Membership, Organisation, OrganisationAlias, OrgKind
from kepu.orgs.scoping import Action, Role, ensure_in_scope, forget_grants, save_in_scope
from kepu.regions.models import Region

ORG_FIELDS = ("name", "short_name", "kind", "region", "parent", "is_member_unit", "is_active")


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
    return sorted(split_names(aliases))


def _sync_aliases(org: Organisation, aliases: list[str]) -> None:
    current = {a.name: a for a in org.aliases.all()}
    for name, alias in current.items():
        if name not in aliases:
            alias.delete()
    for name in aliases:
        if name not in current and name != org.name:
            OrganisationAlias.objects.create(organisation=org, name=name)


def organisation_create(
    *,
    user: Any,
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
    return save_in_scope(user, org, Action.ADD, after_save=lambda: _sync_aliases(org, alias_list))


def organisation_update(
    *,
    user: Any,
    organisation: Organisation,
    aliases: str | list[str] | None = None,
    version: int | None = None,
    **fields: Any,
) -> Organisation:
    ensure_in_scope(user, organisation, Action.CHANGE)
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise ValueError(f"unknown organisation fields: {sorted(unknown)}")
    for key, value in fields.items():
        setattr(organisation, key, value.strip() if isinstance(value, str) else value)
    organisation.full_clean()
    after = None
    if aliases is not None:
        alias_list = _parse_aliases(aliases)

        def after() -> None:
            _sync_aliases(organisation, alias_list)

    with transaction.atomic():
        version_check(
            organisation, expected=version, fields=ORG_FIELDS, extra=_alias_difference(aliases)
        )
        return save_in_scope(user, organisation, Action.CHANGE, after_save=after)


def _alias_difference(aliases: str | list[str] | None) -> Any:
    """For a stale-edit refusal: the aliases submitted beside the ones saved."""

    def extra(current: Organisation) -> list[tuple[str, str, str]]:
        if aliases is None:
            return []
        saved = sorted(current.aliases.values_list("name", flat=True))
        return [("别名", "、".join(_parse_aliases(aliases)), "、".join(saved))]

    return extra


def organisation_delete(*, user: Any, organisation: Organisation) -> None:
    ensure_in_scope(user, organisation, Action.DELETE)
    if organisation.children.exists():
        raise ValidationError("该组织下还有下级单位, 不能删除。")
    organisation.delete()


def membership_add(
    *,
    user: Any,
    organisation: Organisation,
    username: str,
    role: str,
    password: str | None = None,
    full_name: str = "",
) -> Membership:
    """Add a user (created when new) to an organisation with a role.

    Only office administrators of the organisation's scope may do this; a
    membership may not grant a role stronger than the granter's own.
    """
    ensure_in_scope(user, organisation, Action.MANAGE)
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
        membership = Membership(user=member, organisation=organisation, role=Role(role))
        membership.full_clean()
        save_in_scope(user, membership, Action.MANAGE)
    forget_grants(member)
    return membership


def membership_remove(*, user: Any, membership: Membership) -> None:
    ensure_in_scope(user, membership, Action.MANAGE)
    if membership.user_id == user.pk:
        raise ValidationError("不能移除自己的成员身份。")
    membership.delete()
