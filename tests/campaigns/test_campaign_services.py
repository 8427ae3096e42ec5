"""Campaign services: windows, review tiers, locking after the deadline, quotas, awards of trail."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kepu.audit.models import AuditEntry
from kepu.campaigns import selectors, services
from kepu.campaigns.models import Activity, ActivityEvent, Campaign, Quota, Status
from kepu.core.versioning import StaleEditError
from tests.campaigns.conftest import TODAY, activity_fields, fields, png_bytes


def test_campaign_create_saves_quotas_with_audit_entries(world, campaign):
    assert campaign.owner == world.orgs["office_a"] and campaign.region == world.regions["city_a"]
    quotas = list(campaign.quotas.order_by("pk"))
    assert [(q.who, q.min_count) for q in quotas] == [
        ("各乡镇", 2),
        ("市直有关单位、学会、协会", 1),
    ]
    for q in quotas:
        assert AuditEntry.objects.filter(object_id=str(q.pk), content_type__model="quota").exists()


def test_only_offices_create_campaigns(world):
    with pytest.raises(PermissionDenied):
        services.campaign_create(user=world.users["staff_a1"], fields=fields())


def test_campaign_dates_are_validated(world):
    with pytest.raises(ValidationError) as exc:
        services.campaign_create(
            user=world.users["admin_a"],
            fields=fields(event_end=dt.date(2026, 8, 1), registration_end=dt.date(2026, 8, 1)),
        )
    assert set(exc.value.message_dict) == {"event_end", "registration_end"}
    assert not Campaign.objects.exists()


def test_quota_kinds_from_the_documents_words():
    assert services.quota_kinds_for("各乡镇") == ["township"]
    assert services.quota_kinds_for("市直有关单位、学会、协会") == ["society", "department"]
    assert services.quota_kinds_for("各县(市、区)科协") == ["association"]


def test_registration_only_within_the_window(world, campaign):
    staff = world.users["staff_a1"]
    unit = world.orgs["unit_a1"]
    for day in (dt.date(2026, 8, 19), dt.date(2026, 9, 26)):
        with pytest.raises(ValidationError, match="不在登记时间内"):
            services.activity_register(
                user=staff,
                campaign=campaign,
                organiser=unit,
                fields=activity_fields(world),
                today=day,
            )
    a = services.activity_register(
        user=staff, campaign=campaign, organiser=unit, fields=activity_fields(world), today=TODAY
    )
    assert a.status == Status.SUBMITTED and a.events.get().action == "登记"


def test_a_unit_registers_only_for_itself_and_inside_the_campaign(world, campaign):
    staff = world.users["staff_a1"]
    with pytest.raises(PermissionDenied):
        services.activity_register(
            user=staff,
            campaign=campaign,
            organiser=world.orgs["unit_a2"],
            fields=activity_fields(world),
        )
    with pytest.raises(ValidationError):
        services.activity_register(
            user=world.users["admin_b"],
            campaign=campaign,
            organiser=world.orgs["unit_b1"],
            fields=activity_fields(world, region_key="city_b"),
        )
    with pytest.raises(ValidationError) as exc:
        services.activity_register(
            user=staff,
            campaign=campaign,
            organiser=world.orgs["unit_a1"],
            fields=activity_fields(world, region_key="county_b"),
        )
    assert "region" in exc.value.message_dict
    assert not Activity.objects.exists()


def test_township_activity_must_stay_in_the_township(world, campaign, town_staff):
    with pytest.raises(PermissionDenied):
        services.activity_register(
            user=town_staff,
            campaign=campaign,
            organiser=world.orgs["town_a"],
            fields=activity_fields(world, region_key="city_a"),
        )
    a = services.activity_register(
        user=town_staff,
        campaign=campaign,
        organiser=world.orgs["town_a"],
        fields=activity_fields(world, region_key="town_a"),
    )
    assert a.region == world.regions["town_a"]


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"mode": "online", "link": ""}, "link"),
        ({"address": ""}, "address"),
        ({"kind": "bogus"}, "kind"),
        ({"key_groups": ["aliens"]}, "key_groups"),
        ({"latitude": 25.5}, "latitude"),
    ],
)
def test_activity_fields_are_validated(world, campaign, over, field):
    with pytest.raises(ValidationError) as exc:
        services.activity_register(
            user=world.users["staff_a1"],
            campaign=campaign,
            organiser=world.orgs["unit_a1"],
            fields=activity_fields(world, **over),
        )
    assert field in exc.value.message_dict


def _register(world, campaign, who="staff_a1", org="unit_a1", region="city_a", **over):
    return services.activity_register(
        user=world.users[who],
        campaign=campaign,
        organiser=world.orgs[org],
        fields=activity_fields(world, region_key=region, **over),
    )


def test_single_tier_review_by_an_office_over_the_activity(world, campaign):
    a = _register(world, campaign)
    assert services.review_tier(world.users["staff_a1"], a) is None
    assert services.review_tier(world.users["viewer_a"], a) is None
    assert services.review_tier(world.users["admin_b"], a) is None
    with pytest.raises(PermissionDenied):
        services.activity_review(user=world.users["staff_a1"], activity=a, approve=True)
    with pytest.raises(ValidationError, match="请填写意见"):
        services.activity_review(user=world.users["admin_a"], activity=a, approve=False)
    services.activity_review(
        user=world.users["admin_a"], activity=a, approve=False, comment="地址不详"
    )
    a.refresh_from_db()
    assert a.status == Status.RETURNED and a.review_comment == "地址不详"
    services.activity_submit(user=world.users["staff_a1"], activity=a)
    services.activity_review(user=world.users["admin_a"], activity=a, approve=True)
    a.refresh_from_db()
    assert a.status == Status.APPROVED
    assert [e.action for e in a.events.order_by("pk")] == ["登记", "退回修改", "提交", "审核通过"]


def test_two_tier_review_county_first_then_city(world, campaign, town_staff):
    campaign.two_tier_review = True
    campaign.save()
    a = _register(world, campaign, who="town_staff", org="town_a", region="town_a")
    city, county = world.users["admin_a"], world.users["county_admin_a"]
    assert services.review_tier(city, a) is None  # the county office decides first
    assert services.review_tier(county, a) == "first"
    services.activity_review(user=county, activity=a, approve=True)
    a.refresh_from_db()
    assert a.status == Status.FIRST_APPROVED
    assert services.review_tier(county, a) is None
    assert services.review_tier(city, a) == "final"
    services.activity_review(user=city, activity=a, approve=True)
    a.refresh_from_db()
    assert a.status == Status.APPROVED
    # A city unit has no office between it and the campaign: the city decides at once.
    b = _register(world, campaign)
    assert services.review_tier(city, b) == "final"


def test_completion_needs_a_photo_and_locks_after_the_deadline(world, campaign):
    staff = world.users["staff_a1"]
    a = _register(world, campaign)
    with pytest.raises(ValidationError, match="已发布"):
        services.activity_complete(user=staff, activity=a, actual_participants=10)
    services.activity_review(user=world.users["admin_a"], activity=a, approve=True)
    a.refresh_from_db()
    with pytest.raises(ValidationError, match="至少上传一张活动照片"):
        services.activity_complete(user=staff, activity=a, actual_participants=10)
    with pytest.raises(ValidationError, match="不是有效的图片"):
        services.activity_photo_add(user=staff, activity=a, name="x.png", data=b"not an image")
    with pytest.raises(ValidationError, match="不支持的图片类型"):
        services.activity_photo_add(user=staff, activity=a, name="x.svg", data=b"<svg/>")
    services.activity_photo_add(
        user=staff, activity=a, name="photo.png", data=png_bytes(), caption="现场"
    )
    late = dt.date(2026, 10, 6)
    with pytest.raises(ValidationError, match="已锁定"):
        services.activity_complete(user=staff, activity=a, actual_participants=95, today=late)
    with pytest.raises(PermissionDenied):
        services.activity_reopen(user=staff, activity=a, until=dt.date(2027, 1, 1))
    services.activity_reopen(user=world.users["admin_a"], activity=a, until=dt.date(2027, 1, 1))
    a.refresh_from_db()
    services.activity_complete(
        user=staff, activity=a, actual_participants=95, result_summary="圆满完成", today=late
    )
    a.refresh_from_db()
    assert a.status == Status.COMPLETED and a.actual_participants == 95


def test_stale_activity_edit_is_refused_and_nothing_is_lost(world, campaign):
    staff = world.users["staff_a1"]
    a = services.activity_register(
        user=staff,
        campaign=campaign,
        organiser=world.orgs["unit_a1"],
        fields=activity_fields(world),
        submit=False,
    )
    seen = a.version
    first = Activity.objects.get(pk=a.pk)
    services.activity_update(
        user=staff, activity=first, fields=activity_fields(world, title="第一人修改"), version=seen
    )
    second = Activity.objects.get(pk=a.pk)
    with pytest.raises(StaleEditError) as exc:
        services.activity_update(
            user=staff,
            activity=second,
            fields=activity_fields(world, title="第二人修改"),
            version=seen,
        )
    assert ("活动名称", "第二人修改", "第一人修改") in exc.value.differences
    assert Activity.objects.get(pk=a.pk).title == "第一人修改"


def test_quota_progress_counts_published_activities(world, campaign, town_staff):
    admin = world.users["admin_a"]
    approved = _register(world, campaign, who="town_staff", org="town_a", region="town_a")
    services.activity_review(user=admin, activity=approved, approve=True)
    _register(world, campaign, who="town_staff", org="town_a", region="town_a")  # still submitted
    dept = _register(world, campaign)
    services.activity_review(user=admin, activity=dept, approve=True)
    orgs = list(selectors.quota_organisations(user=admin, campaign=campaign))
    rows = {
        r.organisation.name: r
        for r in selectors.quota_rows(campaign=campaign, organisations=orgs, today=TODAY)
    }
    town = rows["麒麟区南宁街道办事处"]
    assert (town.registered, town.published, town.light, town.missing) == (2, 1, "yellow", 1)
    assert rows["曲靖市教育体育局"].light == "green"
    assert rows["曲靖市卫生健康委员会"].published == 0
    late = selectors.quota_rows(campaign=campaign, organisations=orgs, today=dt.date(2026, 9, 26))
    assert {r.organisation.name: r.light for r in late}["曲靖市卫生健康委员会"] == "red"
    rollup = {r["region"].name: r for r in selectors.quota_rollup(user=admin, campaign=campaign)}
    assert rollup["麒麟区"]["published"] == 1 and rollup["麒麟区"]["met"] == 0
    assert rollup["曲靖市"]["met"] == 1
    # A unit sees only its own row; another city's office sees nothing.
    mine = selectors.quota_organisations(user=world.users["staff_a1"], campaign=campaign)
    assert [o.name for o in mine] == ["曲靖市教育体育局"]
    assert not selectors.quota_organisations(
        user=world.users["admin_b"], campaign=campaign
    ).exists()


def test_public_activities_are_only_published_ones(world, campaign):
    admin = world.users["admin_a"]
    a = _register(world, campaign)
    assert not selectors.public_activities(campaign=campaign).exists()
    services.activity_review(user=admin, activity=a, approve=True)
    assert list(selectors.public_activities(campaign=campaign)) == [a]
    f = selectors.PublicFilters(key_group="youth")
    assert not selectors.public_activities(campaign=campaign, filters=f).exists()


def test_events_and_quotas_history_is_kept(world, campaign):
    a = _register(world, campaign)
    assert ActivityEvent.objects.filter(activity=a).count() == 1
    assert Quota.objects.filter(campaign=campaign).count() == 2


def test_reminders_for_quotas_and_completion_are_sent_once(world, campaign, town_staff):
    from django.core.management import call_command

    from kepu.campaigns.reminders import remind_campaigns
    from kepu.notifications.models import Notification

    # Three days before registration closes: every unit under a quota that is short.
    day = dt.date(2026, 9, 22)
    assert remind_campaigns(today=day) > 0
    titles = set(Notification.objects.values_list("user__username", flat=True))
    assert {"staff_a1", "staff_a2", "town_staff"} <= titles
    assert "admin_b" not in titles  # another city's units are not in this campaign
    assert remind_campaigns(today=day) == 0  # never twice
    # A unit that met its quota is not reminded on the last day.
    a = _register(world, campaign)
    services.activity_review(user=world.users["admin_a"], activity=a, approve=True)
    Notification.objects.all().delete()
    remind_campaigns(today=dt.date(2026, 9, 25))
    assert not Notification.objects.filter(user__username="staff_a1").exists()
    assert Notification.objects.filter(user__username="staff_a2").exists()
    # After the event, before the completion deadline: the organiser is asked to report.
    Notification.objects.all().delete()
    call_command("kepu_remind", "--date", "2026-10-03", "--no-email")
    done = Notification.objects.filter(key__startswith=f"campaign-done:{campaign.pk}:")
    assert [n.user.username for n in done] == ["staff_a1"]


def test_over_long_text_is_a_form_error_not_a_database_error(world, campaign):
    with pytest.raises(ValidationError) as exc:
        services.activity_register(
            user=world.users["staff_a1"],
            campaign=campaign,
            organiser=world.orgs["unit_a1"],
            fields=activity_fields(world, contact_name="张" * 51, title="讲" * 201),
        )
    assert {"contact_name", "title"} <= set(exc.value.message_dict)
    assert "最多 50 个字" in exc.value.message_dict["contact_name"][0]
    assert not Activity.objects.exists()
