"""The campaign's Word summary report (公文 layout, the project's one Word writer in
``kepu.progress.documents``): totals, by type, by region and by key group, the quota
picture and a few photos of completed activities."""

from __future__ import annotations

import io

from django.db.models import Count, Q, Sum
from django.utils import timezone

from kepu.campaigns import selectors
from kepu.campaigns.models import PUBLISHED, ActivityPhoto, ActivityType, Campaign, Status
from kepu.core.types import UserLike
from kepu.plans.models import KeyGroup
from kepu.progress.documents import GongwenDocument

PHOTOS = 4


def summary_docx(*, user: UserLike, campaign: Campaign) -> bytes:
    """Compiled from the activities ``user`` may see (an office: its region's)."""
    qs = selectors.activity_list(user=user, campaign=campaign).filter(status__in=PUBLISHED)
    totals = qs.aggregate(
        n=Count("pk"),
        done=Count("pk", filter=Q(status=Status.COMPLETED)),
        expected=Sum("expected_participants"),
        actual=Sum("actual_participants"),
        organisers=Count("organiser", distinct=True),
    )
    doc = GongwenDocument(f"{campaign.title}工作总结")
    doc.heading("一、总体情况")
    doc.para(
        f"{campaign.event_start:%Y年%-m月%-d日}至{campaign.event_end:%Y年%-m月%-d日}, "
        f"共有 {totals['organisers'] or 0} 个单位登记并发布科普活动 {totals['n'] or 0} 场, "
        f"其中已完成并报送情况的 {totals['done'] or 0} 场; 预计参与 {totals['expected'] or 0:,} 人次, "
        f"已报实际参与 {totals['actual'] or 0:,} 人次。"
        + (f"活动主题为「{campaign.theme}」。" if campaign.theme else "")
    )
    doc.heading("二、按活动类型")
    kinds = dict(ActivityType.choices)
    rows = qs.order_by().values("kind").annotate(n=Count("pk"), people=Sum("expected_participants"))
    doc.table(
        ["活动类型", "场次", "预计参与人次"],
        [
            [kinds.get(r["kind"], r["kind"]), str(r["n"]), f"{r['people'] or 0:,}"]
            for r in rows.order_by("-n")
        ],
    )
    doc.heading("三、按区域")
    doc.table(
        ["区域", "有场次要求的单位", "已达标", "已发布活动", "已完成活动"],
        [
            [
                r["region"].name,
                str(r["orgs"]),
                str(r["met"]),
                str(r["published"]),
                str(r["completed"]),
            ]
            for r in selectors.quota_rollup(user=user, campaign=campaign)
        ],
    )
    doc.table(
        ["区域", "单位类型", "有场次要求的单位", "已达标", "已发布活动", "已完成活动"],
        [
            [
                r["region"].name,
                r["kind_label"],
                str(r["orgs"]),
                str(r["met"]),
                str(r["published"]),
                str(r["completed"]),
            ]
            for r in selectors.quota_rollup(user=user, campaign=campaign, by_kind=True)
        ],
    )
    doc.heading("四、按重点人群")
    groups = []
    for value, label in KeyGroup.choices:
        n = qs.filter(selectors.key_group_q(value)).count()
        groups.append([label, str(n)])
    doc.table(["重点人群", "场次"], groups)
    photos = list(
        ActivityPhoto.objects.filter(activity__in=qs.filter(status=Status.COMPLETED), public=True)
        .select_related("activity")
        .order_by("-activity__actual_participants", "pk")[:PHOTOS]
    )
    if photos:
        from docx.shared import Mm

        doc.heading("五、活动剪影")
        for photo in photos:
            try:
                with photo.image.open("rb") as fh:
                    doc.doc.add_picture(io.BytesIO(fh.read()), width=Mm(120))
            except (OSError, ValueError):
                continue  # a missing or unreadable file must not stop the report
            doc.para(f"{photo.activity.title} {photo.caption}".strip(), indent=False)
    doc.signature(campaign.owner.name, timezone.localdate())
    return doc.bytes()
