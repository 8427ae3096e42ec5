"""Demo campaign: a city's science-popularization month, dated around today, with
activities in every state (draft, waiting, returned, published, completed with a photo)."""

from __future__ import annotations

import datetime as dt
import io

from django.contrib.auth import get_user_model
from django.utils import timezone

from kepu.campaigns import services
from kepu.campaigns.models import ActivityType, Campaign, CampaignKind, Mode
from kepu.core.demo import DemoContext
from kepu.orgs.models import OrgKind


def _png(color: tuple[int, int, int]) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (480, 320), color)
    draw = ImageDraw.Draw(img)
    for i in range(0, 480, 40):
        draw.line([(i, 0), (i + 160, 320)], fill=(255, 255, 255), width=6)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def load(ctx: DemoContext) -> None:
    association = ctx.data["association"]
    city = ctx.data["city"]
    today = timezone.localdate()
    title = f"{today.year}年{city.name}科普活动月"
    if Campaign.objects.filter(owner=association, title=title).exists():
        return
    User = get_user_model()
    admin = User.objects.get(username="city_admin")
    town_user = User.objects.get(username="town_staff")
    edu_user = User.objects.get(username="edu_staff")
    county_admin = User.objects.get(username="county_admin")
    start = today - dt.timedelta(days=5)
    campaign = services.campaign_create(
        user=admin,
        owner_id=association.pk,
        fields=services.CampaignFields(
            title=title,
            kind=CampaignKind.LOCAL,
            year=today.year,
            theme="弘扬科学精神 普及科学知识",
            event_start=start,
            event_end=start + dt.timedelta(days=29),
            registration_start=today - dt.timedelta(days=15),
            registration_end=today + dt.timedelta(days=20),
            completion_deadline=start + dt.timedelta(days=40),
            summary_deadline=start + dt.timedelta(days=45),
            two_tier_review=True,
            summary_columns=["序号", "活动名称", "活动时间", "活动地点", "主办单位", "参与人数"],
        ),
        quotas=[
            services.QuotaFields(who="各乡镇(街道)", min_count=3, kinds=[OrgKind.TOWNSHIP]),
            services.QuotaFields(
                who="市直有关单位、学会、协会",
                min_count=2,
                kinds=[OrgKind.DEPARTMENT, OrgKind.SOCIETY],
            ),
        ],
        organizers=[association, ctx.data["units"]["市教体局"], ctx.data["units"]["市卫生健康委"]],
    )
    tz = timezone.get_current_timezone()
    town = ctx.data["townships"][0]
    edu = ctx.data["units"]["市教体局"]

    def at(days: int, hour: int) -> dt.datetime:
        return dt.datetime.combine(today + dt.timedelta(days=days), dt.time(hour), tzinfo=tz)

    def add(
        user,
        org,
        title,
        kind,
        days,
        *,
        region=None,
        mode=Mode.OFFLINE,
        groups=(),
        lat=None,
        lng=None,
    ):
        return services.activity_register(
            user=user,
            campaign=campaign,
            organiser=org,
            fields=services.ActivityFields(
                title=title,
                kind=kind,
                starts_at=at(days, 9),
                ends_at=at(days, 11),
                region=region or org.region,
                address="社区新时代文明实践站" if mode != Mode.ONLINE else "",
                mode=mode,
                link="https://live.example.cn/kepu" if mode != Mode.OFFLINE else "",
                key_groups=list(groups),
                expected_participants=150,
                summary="面向公众的科普活动 (演示数据)。",
                contact_name="陈乡镇",
                contact_phone="0874-0000000",
                latitude=lat,
                longitude=lng,
            ),
        )

    done = add(
        town_user,
        town,
        "银龄健康科普讲座",
        ActivityType.LECTURE,
        -3,
        groups=["elderly"],
        lat=25.49,
        lng=103.80,
    )
    services.activity_review(user=county_admin, activity=done, approve=True)
    services.activity_review(user=admin, activity=done, approve=True)
    done.refresh_from_db()
    services.activity_photo_add(
        user=town_user,
        activity=done,
        name="讲座现场.png",
        data=_png((29, 95, 168)),
        caption="讲座现场",
    )
    services.activity_complete(
        user=town_user, activity=done, actual_participants=168, result_summary="讲座圆满完成。"
    )
    published = add(
        town_user, town, "社区应急科普体验日", ActivityType.COMMUNITY, 3, lat=25.50, lng=103.78
    )
    services.activity_review(user=county_admin, activity=published, approve=True)
    services.activity_review(user=admin, activity=published, approve=True)
    add(
        town_user, town, "农技专家进村入户", ActivityType.VILLAGE, 8, groups=["farmers"]
    )  # waiting for the county
    school = add(
        edu_user,
        edu,
        "青少年科学节",
        ActivityType.SCHOOL,
        6,
        groups=["youth"],
        lat=25.51,
        lng=103.79,
    )
    services.activity_review(user=admin, activity=school, approve=True)
    returned = add(
        edu_user,
        edu,
        "线上科学课堂",
        ActivityType.LIVESTREAM,
        10,
        mode=Mode.ONLINE,
        groups=["youth"],
    )
    services.activity_review(
        user=admin, activity=returned, approve=False, comment="请补充直播平台和面向学段。"
    )
    services.activity_register(
        user=edu_user,
        campaign=campaign,
        organiser=edu,
        fields=services.ActivityFields(
            title="科技馆开放日 (草稿)",
            kind=ActivityType.OPEN_DAY,
            starts_at=at(12, 9),
            ends_at=at(12, 17),
            region=city,
            address="市科技馆",
        ),
        submit=False,
    )
    ctx.notes.append(
        f"演示科普活动「{campaign.title}」: {campaign.activities.count()} 场活动 (各种状态)。"
    )
