"""Scoping matrix for every campaign view, and the public portal's promises."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kepu.campaigns import services
from kepu.campaigns.models import Activity, ActivityPhoto, Campaign, Status
from tests.campaigns.conftest import activity_fields, png_bytes

USERS = [
    "super",
    "admin_a",
    "admin_b",
    "viewer_a",
    "staff_a1",
    "staff_a2",
    "county_admin_a",
    "nobody",
    "anon",
]
# The city campaign is open to every organisation inside the city.
SEE_CAMPAIGN = {"super", "admin_a", "viewer_a", "staff_a1", "staff_a2", "county_admin_a"}
OFFICES = {"super", "admin_a", "admin_b", "county_admin_a"}
# Activity of unit_a1 in the city itself: its unit, the city office and superuser.
SEE_ACTIVITY = {"super", "admin_a", "viewer_a", "staff_a1"}
CHANGE_ACTIVITY = {"super", "admin_a", "staff_a1"}


def as_user(client, world, who):
    if who != "anon":
        client.force_login(world.users[who])
    return client


def login_redirect(resp):
    return resp.status_code == 302 and resp["Location"].startswith(reverse("login"))


@pytest.fixture
def activity(world, campaign):
    return services.activity_register(
        user=world.users["staff_a1"],
        campaign=campaign,
        organiser=world.orgs["unit_a1"],
        fields=activity_fields(world),
    )


@pytest.mark.parametrize("who", USERS)
def test_campaign_list(client, world, campaign, who):
    resp = as_user(client, world, who).get(reverse("campaigns:list"))
    if who == "anon":
        assert login_redirect(resp)
        return
    assert resp.status_code == 200
    assert (campaign.title in resp.content.decode()) == (who in SEE_CAMPAIGN)


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["campaigns:create", "campaigns:import"])
def test_create_and_import_pages_for_offices_only(client, world, who, name):
    resp = as_user(client, world, who).get(reverse(name))
    if who == "anon":
        assert login_redirect(resp)
    else:
        assert resp.status_code == (200 if who in OFFICES else 403), who


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize(
    "name",
    [
        "campaigns:detail",
        "campaigns:activities",
        "campaigns:review",
        "campaigns:quotas",
        "campaigns:summary",
        "campaigns:register",
        "campaigns:edit",
    ],
)
def test_campaign_pages(client, world, campaign, activity, who, name):
    resp = as_user(client, world, who).get(reverse(name, args=[campaign.pk]))
    if who == "anon":
        assert login_redirect(resp)
        return
    if who not in SEE_CAMPAIGN:
        assert resp.status_code == 404, who
        return
    expected = 200
    if name == "campaigns:edit" and who not in {"super", "admin_a"}:
        expected = 403
    if name == "campaigns:register" and who == "viewer_a":
        expected = 403
    assert resp.status_code == expected, who
    if name == "campaigns:activities":
        assert (activity.title in resp.content.decode()) == (who in SEE_ACTIVITY), who
    if name == "campaigns:summary":
        ws = load_workbook(io.BytesIO(resp.content)).active
        titles = [ws.cell(r, 2).value for r in range(3, ws.max_row + 1)]
        assert (activity.title in titles) == (who in SEE_ACTIVITY), who


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["campaigns:activity", "campaigns:activity_edit"])
def test_activity_pages(client, world, activity, who, name):
    resp = as_user(client, world, who).get(reverse(name, args=[activity.pk]))
    if who == "anon":
        assert login_redirect(resp)
        return
    if who not in SEE_ACTIVITY:
        assert resp.status_code == 404, who
    elif name == "campaigns:activity_edit" and who not in CHANGE_ACTIVITY:
        assert resp.status_code == 403, who
    else:
        assert resp.status_code == 200, who


@pytest.mark.parametrize("who", USERS)
def test_review_post_changes_nothing_for_others(client, world, activity, who):
    resp = as_user(client, world, who).post(
        reverse("campaigns:activity_review", args=[activity.pk]), {"decision": "approve"}
    )
    activity.refresh_from_db()
    if who in {"super", "admin_a"}:
        assert activity.status == Status.APPROVED
        return
    assert activity.status == Status.SUBMITTED
    if who == "anon":
        assert login_redirect(resp)
    else:
        assert resp.status_code == (403 if who in SEE_ACTIVITY else 404), who


def test_office_unpublishes_with_a_reason_from_the_activity_page(client, world, activity):
    """The city office takes a published activity off the portal: the form is on the
    activity page (with a confirm step), the reason is required, the counts follow, the
    change is audited and the organiser's members are notified."""
    from django.contrib.contenttypes.models import ContentType
    from django.core.cache import cache

    from kepu.audit.models import AuditEntry
    from kepu.campaigns import counts
    from kepu.notifications.models import Notification

    services.activity_review(user=world.users["admin_a"], activity=activity, approve=True)
    campaign = activity.campaign
    assert counts.total(campaign) == 1
    url = reverse("campaigns:activity_unpublish", args=[activity.pk])
    c = as_user(client, world, "staff_a1")
    assert url not in c.get(reverse("campaigns:activity", args=[activity.pk])).content.decode()
    c = as_user(client, world, "admin_a")
    page = c.get(reverse("campaigns:activity", args=[activity.pk])).content.decode()
    assert url in page and "data-confirm=" in page and 'name="reason"' in page

    resp = c.post(url, {"reason": "  "}, follow=True)
    assert "撤销发布时请填写原因" in resp.content.decode()
    assert Activity.objects.get(pk=activity.pk).status == Status.APPROVED

    resp = c.post(url, {"reason": "活动地点有误"}, follow=True)
    assert "已撤销发布" in resp.content.decode()
    activity.refresh_from_db()
    assert activity.status == Status.RETURNED and activity.review_comment == "活动地点有误"
    assert counts.total(campaign) == 0 and counts.stored(campaign) == counts.computed(campaign)
    cache.clear()
    assert client.get(reverse("portal:activity", args=[activity.pk])).status_code == 404
    event = activity.events.order_by("-pk").first()
    assert (event.action, event.comment, event.user) == (
        "撤销发布",
        "活动地点有误",
        world.users["admin_a"],
    )
    audit = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Activity), object_id=str(activity.pk)
    ).first()
    assert audit.changes["status"] == ["approved", "returned"]
    assert audit.actor == world.users["admin_a"]
    note = Notification.objects.get(user=world.users["staff_a1"])
    assert "活动地点有误" in note.body and note.url == reverse(
        "campaigns:activity", args=[activity.pk]
    )
    # Not published any more: a second withdrawal is refused with a message.
    resp = c.post(url, {"reason": "再次"}, follow=True)
    assert "只有已发布的活动才能撤销发布" in resp.content.decode()


@pytest.mark.parametrize("who", USERS)
def test_unpublish_is_refused_to_units_and_other_offices(client, world, activity, who):
    services.activity_review(user=world.users["admin_a"], activity=activity, approve=True)
    resp = as_user(client, world, who).post(
        reverse("campaigns:activity_unpublish", args=[activity.pk]), {"reason": "不合适"}
    )
    status = Activity.objects.get(pk=activity.pk).status
    if who in {"super", "admin_a"}:
        assert resp.status_code == 302 and status == Status.RETURNED
        return
    assert status == Status.APPROVED, who
    if who == "anon":
        assert login_redirect(resp)
    else:
        assert resp.status_code == (403 if who in SEE_ACTIVITY else 404), who


@pytest.mark.parametrize("who", USERS)
def test_photo_upload_and_complete_only_by_the_organiser_side(client, world, activity, who):
    services.activity_review(user=world.users["admin_a"], activity=activity, approve=True)
    upload = io.BytesIO(png_bytes())
    upload.name = "现场.png"
    c = as_user(client, world, who)
    resp = c.post(reverse("campaigns:activity_photo_add", args=[activity.pk]), {"image": upload})
    saved = ActivityPhoto.objects.filter(activity=activity).exists()
    assert saved == (who in CHANGE_ACTIVITY), who
    if who == "anon":
        assert login_redirect(resp)
    elif who not in CHANGE_ACTIVITY:
        assert resp.status_code == (403 if who in SEE_ACTIVITY else 404)
    resp = c.post(
        reverse("campaigns:activity_complete", args=[activity.pk]),
        {"actual_participants": "88", "version": str(Activity.objects.get(pk=activity.pk).version)},
    )
    done = Activity.objects.get(pk=activity.pk).status == Status.COMPLETED
    assert done == (who in CHANGE_ACTIVITY), who


def test_register_through_the_form_then_edit_with_a_stale_version(client, world, campaign):
    c = as_user(client, world, "staff_a1")
    data = {
        "organiser": world.orgs["unit_a1"].pk,
        "title": "<img src=x onerror=alert(1)>科学之夜",
        "kind": "lecture",
        "starts_at": "2026-09-20T19:00",
        "ends_at": "2026-09-20T21:00",
        "region": "530300",
        "address": "科技馆报告厅",
        "mode": "offline",
        "expected_participants": "200",
        "key_groups": ["youth"],
    }
    resp = c.post(reverse("campaigns:register", args=[campaign.pk]), {**data, "save_draft": "1"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    a = Activity.objects.get()
    html = c.get(reverse("campaigns:activity", args=[a.pk])).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x" in html
    # Two editors: the second, starting from the same version, is refused and sees the first's.
    form = {**data, "version": a.version, "title": "第一位编辑"}
    form.pop("organiser")
    assert c.post(reverse("campaigns:activity_edit", args=[a.pk]), form).status_code == 302
    form["title"] = "第二位编辑"
    resp = c.post(reverse("campaigns:activity_edit", args=[a.pk]), form)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "其他人已修改" in html and "第一位编辑" in html
    assert Activity.objects.get(pk=a.pk).title == "第一位编辑"
    # Once submitted it is no longer editable by the unit.
    c.post(reverse("campaigns:activity_submit", args=[a.pk]))
    form["version"] = Activity.objects.get(pk=a.pk).version
    resp = c.post(reverse("campaigns:activity_edit", args=[a.pk]), form)
    assert "不能修改" in resp.content.decode()
    assert Activity.objects.get(pk=a.pk).status == Status.SUBMITTED


def test_import_preview_and_confirm(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    text = (
        "2026年曲靖市全国科普月活动方案\n一、活动主题和时间\n主题为:科学普及 你我同行。"
        "活动时间为9月1日至30日。\n二、主办单位\n市科协、市教体局\n"
        "三、工作要求\n请各单位于2026年8月20日至9月25日期间登记活动,各乡镇至少填报5场次。\n"
        "请于10月8日前报送活动总结和汇总表。\n"
    ).encode()
    upload = io.BytesIO(text)
    upload.name = "方案.txt"
    c = as_user(client, world, "admin_a")
    resp = c.post(reverse("campaigns:import"), {"file": upload})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "确认活动方案" in html and "2026-09-30" in html and "各乡镇" in html
    ctx = resp.context
    post = {
        "draft": ctx["draft"],
        "parsed": ctx["parsed"],
        "owner": world.orgs["office_a"].pk,
        **{
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in ctx["form"].initial.items()
            if v is not None
        },
        "q-TOTAL_FORMS": "1",
        "q-INITIAL_FORMS": "0",
        "q-0-who": "各乡镇",
        "q-0-min_count": "5",
        "q-0-kinds": ["township"],
        "organiser_0": str(world.orgs["office_a"].pk),
    }
    resp = c.post(reverse("campaigns:import"), post)
    assert resp.status_code == 302, resp.content.decode()[:3000]
    campaign = Campaign.objects.get()
    assert campaign.registration_end.isoformat() == "2026-09-25"
    assert campaign.summary_deadline.isoformat() == "2026-10-08"
    assert [q.min_count for q in campaign.quotas.all()] == [5]
    assert list(campaign.organizers.all()) == [world.orgs["office_a"]]
    assert campaign.source_file.read() == text
    # The draft is single use: a replay creates nothing more.
    resp = c.post(reverse("campaigns:import"), post)
    assert Campaign.objects.count() == 1


# --- public portal -----------------------------------------------------------------------
@pytest.fixture
def published(world, activity):
    services.activity_review(user=world.users["admin_a"], activity=activity, approve=True)
    activity.refresh_from_db()
    return activity


def test_public_pages_show_only_approved_activities_without_personal_data(
    client, world, campaign, activity
):
    assert client.get(reverse("portal:activity", args=[activity.pk])).status_code == 404
    assert (
        activity.title
        not in client.get(reverse("portal:campaign", args=[campaign.pk])).content.decode()
    )
    services.activity_review(user=world.users["admin_a"], activity=activity, approve=True)
    from django.core.cache import cache

    cache.clear()
    for url in (
        reverse("portal:campaign", args=[campaign.pk]),
        reverse("portal:activity", args=[activity.pk]),
        reverse("portal:open_json", args=[campaign.pk]),
        reverse("portal:open_csv", args=[campaign.pk]),
        reverse("portal:ics", args=[campaign.pk]),
    ):
        resp = client.get(url)
        assert resp.status_code == 200, url
        body = resp.content.decode("utf-8-sig")
        assert activity.title in body, url
        assert "张三" not in body and "13800000000" not in body, url


def test_ical_feed_is_rfc5545(client, published, campaign, world):
    from icalendar import Calendar

    resp = client.get(reverse("portal:ics", args=[campaign.pk]), {"region": "530300"})
    assert resp["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(resp.content)
    events = cal.walk("VEVENT")
    assert [str(e["summary"]) for e in events] == [published.title]
    assert events[0].decoded("dtstart") == published.starts_at
    other = client.get(reverse("portal:ics", args=[campaign.pk]), {"region": "530100"})
    assert Calendar.from_ical(other.content).walk("VEVENT") == []


def test_ical_feed_folds_long_lines_and_keeps_a_window(client, published, campaign, world):
    """Long Chinese titles fold at 75 octets without splitting a character; the window:
    a finished campaign's feed shows its last 30 days, ``from`` moves the start."""
    import datetime as dt

    from django.core.cache import cache
    from icalendar import Calendar

    from kepu.campaigns import selectors

    cache.clear()
    title = "科普讲座;逗号,反斜杠\\" + "长标题" * 30
    Activity.objects.filter(pk=published.pk).update(title=title)
    resp = client.get(reverse("portal:ics", args=[campaign.pk]))
    lines = resp.content.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert resp.content.decode("utf-8")  # no character cut in half
    cal = Calendar.from_ical(resp.content)
    (event,) = cal.walk("VEVENT")
    assert str(event["summary"]) == title
    assert event.decoded("dtstart") == published.starts_at
    assert event["url"].endswith(reverse("portal:activity", args=[published.pk]))
    # The window: a finished campaign is anchored at its end (the event of 15 September is
    # among the last 30 days); ``from`` moves the anchor: 30 days after the event it is gone.
    f = selectors.PublicFilters()
    feb = dt.datetime(2027, 2, 1, tzinfo=dt.UTC)
    assert selectors.feed_anchor(campaign=campaign, filters=f, now=feb) == selectors.day_start(
        dt.date(2026, 10, 1)
    )
    assert [r["pk"] for r in selectors.public_feed(campaign=campaign, filters=f, now=feb)] == [
        published.pk
    ]
    for day, n in (("2026-09-01", 1), ("2026-10-10", 1), ("2026-10-20", 0)):
        resp = client.get(reverse("portal:ics", args=[campaign.pk]), {"from": day})
        assert len(Calendar.from_ical(resp.content).walk("VEVENT")) == n, day


def test_open_data_json_and_filters(client, published, campaign):
    data = json.loads(client.get(reverse("portal:open_json", args=[campaign.pk])).content)
    row = data["activities"][0]
    assert row["title"] == published.title and "contact_phone" not in row
    assert (
        client.get(reverse("portal:open_json", args=[campaign.pk]), {"kind": "contest"}).json()[
            "activities"
        ]
        == []
    )


def test_public_calendar_counts_by_day(client, published, campaign):
    resp = client.get(reverse("portal:campaign", args=[campaign.pk]), {"month": "2026-9"})
    weeks = resp.context["weeks"]
    counts = {d["date"].day: d["count"] for w in weeks for d in w if d["in_month"]}
    assert counts[15] == 1 and sum(counts.values()) == 1


def test_public_points_and_photos(client, world, published, campaign):
    published.latitude, published.longitude = 25.49, 103.79
    published.save()
    from django.core.cache import cache

    cache.clear()
    pts = client.get(reverse("portal:points", args=[campaign.pk])).json()["points"]
    assert pts[0]["value"] == [103.79, 25.49]
    services.activity_photo_add(
        user=world.users["staff_a1"], activity=published, name="p.png", data=png_bytes()
    )
    photo = published.photos.get()
    assert client.get(reverse("portal:photo", args=[photo.pk])).status_code == 200
    photo.public = False
    photo.save()
    assert client.get(reverse("portal:photo", args=[photo.pk])).status_code == 404


def test_public_pages_are_not_for_drafts_of_other_campaigns(client, world, campaign):
    assert client.get(reverse("portal:campaign", args=[999999])).status_code == 404
    assert client.get(reverse("portal:index")).status_code == 200


@pytest.mark.parametrize("n", [2, 12])
def test_query_counts_are_constant(client, world, campaign, django_assert_max_num_queries, n):
    for i in range(n):
        a = services.activity_register(
            user=world.users["staff_a1"],
            campaign=campaign,
            organiser=world.orgs["unit_a1"],
            fields=activity_fields(world, title=f"活动{i}"),
        )
        services.activity_review(user=world.users["admin_a"], activity=a, approve=True)
    from django.core.cache import cache

    cache.clear()
    c = as_user(client, world, "admin_a")
    for name, limit in (
        ("campaigns:activities", 12),
        ("campaigns:review", 12),
        ("campaigns:quotas", 16),
        ("campaigns:detail", 20),
    ):
        with django_assert_max_num_queries(limit):
            assert c.get(reverse(name, args=[campaign.pk])).status_code == 200
    client.logout()
    with django_assert_max_num_queries(10):
        assert client.get(reverse("portal:campaign", args=[campaign.pk])).status_code == 200


def test_word_summary_report(client, world, campaign, published, settings, tmp_path):
    import docx

    settings.MEDIA_ROOT = tmp_path
    services.activity_photo_add(
        user=world.users["staff_a1"], activity=published, name="p.png", data=png_bytes()
    )
    services.activity_complete(
        user=world.users["staff_a1"], activity=published, actual_participants=88
    )
    resp = as_user(client, world, "admin_a").get(
        reverse("campaigns:summary_report", args=[campaign.pk])
    )
    assert resp.status_code == 200
    d = docx.Document(io.BytesIO(resp.content))
    text = "\n".join(p.text for p in d.paragraphs)
    assert "工作总结" in text and "发布科普活动 1 场" in text and "已报实际参与 88 人次" in text
    assert "曲靖市科学技术协会" in text  # the issuing office signs
    assert any("讲座" in c.text for t in d.tables for r in t.rows for c in r.cells)
    assert len(d.inline_shapes) == 1  # the photo
    section = d.sections[0]
    assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297


def test_large_summary_runs_as_a_job_with_a_download(
    client, world, campaign, monkeypatch, settings, tmp_path
):
    from kepu.campaigns import views as campaign_views
    from kepu.core.models import Job

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(campaign_views, "SUMMARY_JOB_ROWS", 2)
    for i in range(3):
        services.activity_register(
            user=world.users["staff_a1"],
            campaign=campaign,
            organiser=world.orgs["unit_a1"],
            fields=activity_fields(world, title=f'=HYPERLINK("x") 活动{i}'),
        )
    c = as_user(client, world, "admin_a")
    resp = c.get(reverse("campaigns:summary", args=[campaign.pk]))
    assert resp.status_code == 302
    job = Job.objects.get()
    assert job.status == "done", job.error
    data = b"".join(c.get(reverse("jobs:download", args=[job.pk])).streaming_content)
    ws = load_workbook(io.BytesIO(data)).active
    titles = [ws.cell(r, 2).value for r in range(3, ws.max_row + 1)]
    assert sorted(titles) == [f'=HYPERLINK("x") 活动{i}' for i in range(3)]
    assert all(ws.cell(r, 2).data_type == "s" for r in range(3, ws.max_row + 1))
    # another city's office cannot fetch the file
    other = as_user(client, world, "admin_b")
    assert other.get(reverse("jobs:download", args=[job.pk])).status_code == 404
