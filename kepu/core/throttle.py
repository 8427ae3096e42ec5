"""Login throttling: too many failures for a username or an address lock it for a while."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone

from kepu.core.models import LoginFailure


def client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _window_start() -> dt.datetime:
    return timezone.now() - dt.timedelta(seconds=settings.KEPU_LOGIN_WINDOW_SECONDS)


def is_locked(username: str, ip: str | None) -> bool:
    limit = settings.KEPU_LOGIN_MAX_FAILURES
    recent = LoginFailure.objects.filter(at__gte=_window_start())
    if recent.filter(username__iexact=username).count() >= limit:
        return True
    return bool(ip) and recent.filter(ip=ip).count() >= limit * 4


def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], ip=ip)
    LoginFailure.objects.filter(at__lt=_window_start()).delete()


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(Q(username__iexact=username)).delete()
