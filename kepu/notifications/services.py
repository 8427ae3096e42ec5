"""Notify users in the app and by e-mail. Each notification has a ``key``: creating the
same (user, key) twice does nothing, so reminders are never sent twice."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from kepu.core.types import UserLike
from kepu.notifications.models import Notification
from kepu.orgs.models import Membership, Organisation

log = logging.getLogger(__name__)


def notify_users(
    *, users: Iterable[Any], key: str, title: str, body: str = "", url: str = ""
) -> int:
    """Create one notification per user unless that user already has ``key``.
    Returns how many were new."""
    user_ids = {u.pk if hasattr(u, "pk") else int(u) for u in users}
    if not user_ids:
        return 0
    with transaction.atomic():
        existing = set(
            Notification.objects.filter(user_id__in=user_ids, key=key).values_list(
                "user_id", flat=True
            )
        )
        new = [
            Notification(user_id=uid, key=key[:120], title=title[:200], body=body, url=url[:300])
            for uid in sorted(user_ids - existing)
        ]
        Notification.objects.bulk_create(new, ignore_conflicts=True)
    return len(new)


def notify_organisation(
    *, organisation: Organisation, key: str, title: str, body: str = "", url: str = ""
) -> int:
    """Notify every active member of ``organisation``."""
    users = Membership.objects.filter(organisation=organisation, user__is_active=True).values_list(
        "user_id", flat=True
    )
    return notify_users(users=list(users), key=key, title=title, body=body, url=url)


def notification_mark_read(*, user: UserLike, notification_ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.for_user(user).unread()
    if notification_ids is not None:
        qs = qs.filter(pk__in=list(notification_ids))
    return qs.update(read_at=timezone.now())


def send_pending_emails(*, limit: int = 500) -> int:
    """E-mail notifications not e-mailed yet (users without an address are skipped and
    marked, so nobody is e-mailed twice). Each row is claimed before sending."""
    sent = 0
    User = get_user_model()
    pending = list(
        Notification.objects.filter(emailed_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "user_id")[:limit]
    )
    emails = dict(User.objects.filter(pk__in={u for _, u in pending}).values_list("pk", "email"))
    for pk, user_id in pending:
        claimed = Notification.objects.filter(pk=pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now()
        )
        if not claimed:
            continue  # another run took it
        address = emails.get(user_id) or ""
        if not address:
            continue
        n = Notification.objects.get(pk=pk)
        try:
            send_mail(
                subject=f"[科普平台] {n.title}",
                message=f"{n.body}\n\n{getattr(settings, 'KEPU_SITE_URL', '')}{n.url}".strip(),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=[address],
            )
            sent += 1
        except Exception:
            log.exception("e-mail for notification %s failed", pk)
    return sent
