"""Sign-ins and failed sign-ins go to the audit log.

Django sends ``user_logged_in`` (from ``login()``) and ``user_login_failed`` (from
``authenticate()`` on wrong credentials); kepu.core.forms sends ``user_login_failed``
with ``locked=True`` for attempts the throttle refused before checking the password.
Each sign-in over HTTP (a request with a client address) becomes an ``AuditEntry`` on the user (or, for an unknown username, on the name
typed), scoped to the user's first organisation so that its office administrators see it.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.contrib.contenttypes.models import ContentType
from django.http import HttpRequest

from kepu.core.throttle import client_ip
from kepu.core.types import UserLike, as_account


def _scope(user: UserLike | None) -> tuple[str, int | None]:
    if user is None or not user.pk:
        return "", None
    from kepu.orgs.models import Membership

    m = (
        Membership.objects.filter(user=user)
        .select_related("organisation__region")
        .order_by("pk")
        .first()
    )
    return (m.organisation.region.path, m.organisation_id) if m else ("", None)


def _write(
    *, action: str, user: UserLike | None, username: str, request: HttpRequest | None, reason: str
) -> None:
    from kepu.audit.models import AuditEntry

    ip = client_ip(request) if request is not None else None
    region_path, organisation_id = _scope(user)
    changes: dict[str, list[Any]] = {"来源地址": [None, ip or "未知"]}
    if reason:
        changes["原因"] = [None, reason]
    AuditEntry.objects.create(
        actor=as_account(user) if action == AuditEntry.Action.LOGIN else None,
        actor_name=username[:150],
        action=action,
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_id=str(user.pk) if user is not None else "",
        object_repr=username[:300],
        changes=changes,
        region_path=region_path,
        organisation_id=organisation_id,
    )


def on_logged_in(sender: Any, request: HttpRequest | None, user: UserLike, **kwargs: Any) -> None:
    from kepu.audit.models import AuditEntry

    if request is None or not request.META.get("REMOTE_ADDR"):
        # Not a sign-in over HTTP: a session made in code (the test client's force_login
        # builds a bare HttpRequest).  Every request a server receives has REMOTE_ADDR.
        return
    _write(
        action=AuditEntry.Action.LOGIN,
        user=user,
        username=user.get_username(),
        request=request,
        reason="",
    )


def on_login_failed(
    sender: Any,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    locked: bool = False,
    **kwargs: Any,
) -> None:
    from kepu.audit.models import AuditEntry

    username = str(credentials.get("username") or "")
    User = get_user_model()
    user = User._default_manager.filter(**{f"{User.USERNAME_FIELD}__iexact": username}).first()
    if locked:
        reason = "失败次数过多, 已拒绝 (未校验密码)"
    elif user is None:
        reason = "用户名不存在"
    else:
        reason = "密码错误或账号已停用"
    _write(
        action=AuditEntry.Action.LOGIN_FAILED,
        user=user,
        username=username,
        request=request,
        reason=reason,
    )


def connect() -> None:
    user_logged_in.connect(on_logged_in, dispatch_uid="kepu-core-audit-login")
    user_login_failed.connect(on_login_failed, dispatch_uid="kepu-core-audit-login-failed")
