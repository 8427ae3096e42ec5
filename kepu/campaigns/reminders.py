"""Campaign reminders for ``kepu remind`` (through the shared notifications): safe to run
every few minutes, every reminder has a key so a second run sends nothing.

- ``DAYS`` before registration closes and on its last day: each organisation under a quota
  that has registered fewer activities than it must;
- ``DAYS`` before the completion deadline and on it: each approved activity whose organiser
  has not yet reported its completion (photos, participants).
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from kepu.campaigns.models import Activity, Campaign, Status
from kepu.notifications.models import Notification
from kepu.orgs.models import Membership, Organisation

DAYS = 3
BATCH = 2000
COUNTED = (Status.SUBMITTED, Status.FIRST_APPROVED, Status.APPROVED, Status.COMPLETED)


def _bulk(rows: list[Notification], prefix: str) -> int:
    before = Notification.objects.filter(key__startswith=prefix).count()
    for start in range(0, len(rows), BATCH):
        Notification.objects.bulk_create(rows[start : start + BATCH], ignore_conflicts=True)
    return Notification.objects.filter(key__startswith=prefix).count() - before


def _quota_reminders(campaign: Campaign, today: dt.date) -> int:
    quotas = list(campaign.quotas.all())
    if not quotas:
        return 0
    need: dict[str, int] = {}
    for q in quotas:
        for kind in q.kinds:
            need.setdefault(kind, q.min_count)
    orgs = dict(
        Organisation.objects.filter(
            region__path__startswith=campaign.region.path, kind__in=list(need), is_active=True
        ).values_list("pk", "kind")
    )
    have = dict(
        Activity.objects.filter(campaign=campaign, status__in=COUNTED, organiser_id__in=list(orgs))
        .values("organiser_id")
        .annotate(n=Count("pk"))
        .values_list("organiser_id", "n")
    )
    short = {
        org_id: (have.get(org_id, 0), need[kind])
        for org_id, kind in orgs.items()
        if have.get(org_id, 0) < need[kind]
    }
    if not short:
        return 0
    last_day = campaign.registration_end == today
    prefix = f"campaign-reg-{'due' if last_day else 'closing'}:{campaign.pk}:"
    rows = []
    for user_id, org_id in Membership.objects.filter(
        organisation_id__in=list(short), user__is_active=True
    ).values_list("user_id", "organisation_id"):
        n, m = short[org_id]
        when = "今天" if last_day else f"{campaign.registration_end:%Y-%m-%d}"
        rows.append(
            Notification(
                user_id=user_id,
                key=f"{prefix}{org_id}",
                title=f"活动登记提醒: {campaign.title}"[:200],
                body=f"「{campaign.title}」登记{when}截止, 贵单位已登记 {n} 场, 要求至少 {m} 场。",
                url=f"/campaigns/{campaign.pk}/",
            )
        )
    return _bulk(rows, prefix)


def _completion_reminders(campaign: Campaign, today: dt.date) -> int:
    activities = list(
        Activity.objects.filter(
            campaign=campaign, status=Status.APPROVED, ends_at__date__lte=today
        ).values_list("pk", "title", "organiser_id")
    )
    if not activities:
        return 0
    prefix = f"campaign-done:{campaign.pk}:"
    members: dict[int, list[int]] = {}
    for user_id, org_id in Membership.objects.filter(
        organisation_id__in={a[2] for a in activities}, user__is_active=True
    ).values_list("user_id", "organisation_id"):
        members.setdefault(org_id, []).append(user_id)
    deadline = campaign.completion_deadline
    rows = [
        Notification(
            user_id=user_id,
            key=f"{prefix}{pk}",
            title=f"请填报活动完成情况: {title}"[:200],
            body=f"活动「{title}」已结束, 请于 {deadline:%Y-%m-%d} 前上传活动照片并填写实际参与人数。",
            url=f"/campaigns/activities/{pk}/",
        )
        for pk, title, org_id in activities
        for user_id in members.get(org_id, [])
    ]
    return _bulk(rows, prefix)


def remind_campaigns(*, today: dt.date) -> int:
    created = 0
    window = Q(registration_end__gte=today, registration_end__lte=today + dt.timedelta(days=DAYS))
    for campaign in Campaign.objects.filter(window).select_related("region").order_by("pk"):
        created += _quota_reminders(campaign, today)
    done_window = Q(
        completion_deadline__gte=today, completion_deadline__lte=today + dt.timedelta(days=DAYS)
    )
    for campaign in Campaign.objects.filter(done_window).order_by("pk"):
        created += _completion_reminders(campaign, today)
    return created
