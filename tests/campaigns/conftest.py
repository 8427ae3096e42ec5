"""A campaign of the city office in region A, with users for every role and a township."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from kepu.campaigns import services
from kepu.campaigns.models import ActivityType, CampaignKind, Mode
from kepu.orgs.models import Membership, OrgKind
from kepu.orgs.scoping import Role
from tests.conftest import PASSWORD

TODAY = dt.date(2026, 9, 10)


@pytest.fixture
def town_staff(world):
    user = get_user_model().objects.create_user(username="town_staff", password=PASSWORD)
    Membership.objects.create(user=user, organisation=world.orgs["town_a"], role=Role.UNIT_STAFF)
    world.users["town_staff"] = user
    return user


def fields(**over) -> services.CampaignFields:
    data = dict(
        title="2026年曲靖市全国科普月活动",
        kind=CampaignKind.SCIENCE_MONTH,
        year=2026,
        theme="科学普及 你我同行",
        event_start=dt.date(2026, 9, 1),
        event_end=dt.date(2026, 9, 30),
        registration_start=dt.date(2026, 8, 20),
        registration_end=dt.date(2026, 9, 25),
        completion_deadline=dt.date(2026, 10, 5),
        summary_deadline=dt.date(2026, 10, 8),
        summary_columns=["序号", "活动名称", "活动时间", "活动地点"],
    )
    data.update(over)
    return services.CampaignFields(**data)


@pytest.fixture
def campaign(world, monkeypatch):
    monkeypatch.setattr(services, "_today", lambda: TODAY)
    return services.campaign_create(
        user=world.users["admin_a"],
        fields=fields(),
        quotas=[
            services.QuotaFields(who="各乡镇", min_count=2, kinds=[OrgKind.TOWNSHIP]),
            services.QuotaFields(
                who="市直有关单位、学会、协会",
                min_count=1,
                kinds=[OrgKind.DEPARTMENT, OrgKind.SOCIETY],
            ),
        ],
    )


def activity_fields(world, region_key="city_a", **over) -> services.ActivityFields:
    tz = timezone.get_current_timezone()
    data = dict(
        title="走进社区健康讲座",
        kind=ActivityType.LECTURE,
        starts_at=dt.datetime(2026, 9, 15, 9, 0, tzinfo=tz),
        ends_at=dt.datetime(2026, 9, 15, 11, 0, tzinfo=tz),
        region=world.regions[region_key],
        address="文化路1号社区活动中心",
        mode=Mode.OFFLINE,
        expected_participants=120,
        contact_name="张三",
        contact_phone="13800000000",
    )
    data.update(over)
    return services.ActivityFields(**data)


def png_bytes() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 50, 50)).save(buf, format="PNG")
    return buf.getvalue()
