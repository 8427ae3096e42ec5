"""Scheduled reminders (``kepu remind``): safe to run every few minutes.

- ``remind_days`` before a round closes, and on its closing day, every organisation
  that has not submitted all its reports in the round is reminded;
- every notification not yet e-mailed is e-mailed once.

Each reminder has a key (round, organisation, kind): the unique (user, key) constraint
of :class:`~kepu.notifications.models.Notification` makes a second run a no-op.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kepu.notifications.models import Notification
from kepu.notifications.services import send_pending_emails
from kepu.orgs.models import Membership
from kepu.progress.models import OfficeSetting, Report, ReportingRound, ReportStatus, RoundStatus

BATCH = 2000
OPEN_STATUSES = (ReportStatus.PENDING, ReportStatus.DRAFT, ReportStatus.RETURNED)


@dataclass
class RemindResult:
    created: int = 0
    emailed: int = 0


def _round_reminders(round_: ReportingRound, kind: str, today: dt.date) -> int:
    org_ids = set(
        Report.objects.filter(round=round_, status__in=OPEN_STATUSES)
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    if not org_ids:
        return 0
    if kind == "due":
        title = f"今天截止: {round_.title}"
        body = f"「{round_.title}」今天 ({round_.closes_on:%Y-%m-%d}) 截止, 贵单位还有报告未提交。"
    else:
        days = (round_.closes_on - today).days
        title = f"填报提醒: {round_.title}"
        body = (
            f"「{round_.title}」将于 {round_.closes_on:%Y-%m-%d} 截止 (还有 {days} 天), "
            "贵单位还有报告未提交。"
        )
    members = Membership.objects.filter(
        organisation_id__in=org_ids, user__is_active=True
    ).values_list("user_id", "organisation_id")
    rows = [
        Notification(
            user_id=user_id,
            key=f"round-{kind}:{round_.pk}:{org_id}",
            title=title[:200],
            body=body,
            url="/progress/reports/?round=" + str(round_.pk),
        )
        for user_id, org_id in members
    ]
    before = Notification.objects.filter(key__startswith=f"round-{kind}:{round_.pk}:").count()
    for start in range(0, len(rows), BATCH):
        Notification.objects.bulk_create(rows[start : start + BATCH], ignore_conflicts=True)
    return (
        Notification.objects.filter(key__startswith=f"round-{kind}:{round_.pk}:").count() - before
    )


def remind(*, today: dt.date, send_email: bool = True) -> RemindResult:
    result = RemindResult()
    warn = dict(OfficeSetting.objects.values_list("office_id", "remind_days"))
    for round_ in ReportingRound.objects.filter(
        status=RoundStatus.OPEN, opens_on__lte=today, closes_on__gte=today
    ).order_by("pk"):
        days_left = (round_.closes_on - today).days
        if days_left == 0:
            result.created += _round_reminders(round_, "due", today)
        elif days_left <= warn.get(round_.office_id, 3):
            result.created += _round_reminders(round_, "closing", today)
    if send_email:
        result.emailed = send_pending_emails()
    return result
