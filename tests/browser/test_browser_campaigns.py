"""Campaigns in a real browser: the whole cycle from the plan document to the summary,
the public portal at phone width, and an XSS sweep of every campaign and portal page."""

from __future__ import annotations

import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kepu.campaigns import services
from kepu.campaigns.models import Activity, Campaign, Status
from tests.browser.test_browser_shell import login as _login
from tests.browser.test_xss_sweep import INJECTED_JS, Sweep, _hover_charts
from tests.campaigns import conftest as campaign_fixtures
from tests.campaigns.conftest import activity_fields, fields, png_bytes

pytestmark = pytest.mark.browser

# The campaign tests' fixtures, for these browser tests too.
campaign = campaign_fixtures.campaign
town_staff = campaign_fixtures.town_staff


def login(page, live_server, username: str) -> None:
    _login(page, live_server, username)
    page.wait_for_url(f"{live_server.url}/")


PLAN = """\
{year}年曲靖市全国科普月活动方案
一、活动主题和时间
{year}年全国科普月主题为:科学普及 你我同行。活动时间为{start}至{end}。
二、主办单位
市科协、市教体局
三、工作要求
(一)登记填报。请各单位于{reg_start}至{reg_end}期间登记活动信息,各乡镇至少填报2场次,市直有关单位至少填报1场次。
(二)信息完善。请各单位于{done}前补充完善活动图片。
(三)工作总结。请于{summary}前报送活动总结和汇总表。
附件:汇总表
序号  活动名称  活动时间  活动地点  参与人数
"""


def _cn(d) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def test_campaign_cycle(browser, live_server, world, town_staff, settings, tmp_path):
    import datetime as dt

    from django.utils import timezone

    settings.MEDIA_ROOT = tmp_path / "media"
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=2), today + dt.timedelta(days=20)
    doc = PLAN.format(
        year=today.year,
        start=_cn(start),
        end=_cn(end),
        reg_start=_cn(today - dt.timedelta(days=5)),
        reg_end=_cn(today + dt.timedelta(days=10)),
        done=_cn(end + dt.timedelta(days=5)),
        summary=_cn(end + dt.timedelta(days=8)),
    )
    path = tmp_path / "方案.txt"
    path.write_text(doc, encoding="utf-8")
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    base = live_server.url
    try:
        # 1. The city office creates the campaign from its plan document.
        login(page, live_server, "admin_a")
        page.goto(base + reverse("campaigns:import"))
        page.set_input_files("input[name=file]", str(path))
        page.click("form.card button[type=submit]")
        page.wait_for_selector("text=确认活动方案")
        assert (
            page.input_value("#id_registration_end") == (today + dt.timedelta(days=10)).isoformat()
        )
        assert page.input_value("#id_q-0-who") == "各乡镇"
        page.click("text=确认创建")
        page.wait_for_selector("text=登记中")
        campaign = Campaign.objects.get()
        assert [q.min_count for q in campaign.quotas.order_by("pk")] == [2, 1]

        # 2. A township registers an activity.
        context.clear_cookies()
        login(page, live_server, "town_staff")
        page.goto(base + reverse("campaigns:register", args=[campaign.pk]))
        page.fill("#id_title", "南宁街道科普大篷车")
        page.select_option("#id_kind", "community")
        when = (today + dt.timedelta(days=1)).isoformat()
        page.fill("#id_starts_at", f"{when}T09:00")
        page.fill("#id_ends_at", f"{when}T11:30")
        page.fill("#id_region", "530302001")
        page.fill("#id_address", "南宁街道文化广场")
        page.fill("#id_expected_participants", "300")
        page.fill("#id_latitude", "25.49")
        page.fill("#id_longitude", "103.79")
        page.click("button.primary[type=submit]")
        page.wait_for_selector("text=待审核")
        activity = Activity.objects.get()

        # 3. The county office approves it (single tier: the office over the township).
        context.clear_cookies()
        login(page, live_server, "county_admin_a")
        page.goto(base + reverse("campaigns:review", args=[campaign.pk]))
        page.check(f"input[name=ids][value='{activity.pk}']")
        page.click("text=批量审核通过")
        page.wait_for_selector("text=已审核通过 1 项活动")
        activity.refresh_from_db()
        assert activity.status == Status.APPROVED

        # 4. The public sees it on the calendar, the map and in the iCal feed (no login).
        context.clear_cookies()
        page.goto(base + reverse("portal:campaign", args=[campaign.pk]) + f"?month={today:%Y-%m}")
        assert page.locator(".portal-list").get_by_text("南宁街道科普大篷车").count() == 1
        page.wait_for_selector("#portal-map canvas", timeout=20000)
        ics = page.request.get(base + reverse("portal:ics", args=[campaign.pk])).text()
        assert "SUMMARY:南宁街道科普大篷车" in ics

        # 5. The township completes it with a photo.
        login(page, live_server, "town_staff")
        page.goto(base + reverse("campaigns:activity", args=[activity.pk]))
        photo = tmp_path / "现场.png"
        photo.write_bytes(png_bytes())
        page.set_input_files("input[name=image]", str(photo))
        page.click("text=上传照片")
        page.wait_for_selector("text=照片已上传")
        page.fill("#id_actual_participants", "356")
        page.click("text=提交完成情况")
        page.wait_for_selector("text=已提交完成情况")
        activity.refresh_from_db()
        assert activity.status == Status.COMPLETED and activity.actual_participants == 356

        # 6. The office's summary table and quota progress show it.
        context.clear_cookies()
        login(page, live_server, "admin_a")
        page.goto(base + reverse("campaigns:quotas", args=[campaign.pk]))
        row = page.locator("tr", has_text="麒麟区南宁街道办事处").last
        assert re.search(r"1\s*1\s*1", row.inner_text().replace("\t", " ")), row.inner_text()
        resp = page.request.get(base + reverse("campaigns:summary", args=[campaign.pk]))
        ws = load_workbook(io.BytesIO(resp.body())).active
        header = [c.value for c in ws[2]]
        assert header[:5] == ["序号", "活动名称", "活动时间", "活动地点", "参与人数"]
        assert ws.cell(3, 2).value == "南宁街道科普大篷车" and ws.cell(3, 5).value == 356
    finally:
        context.close()


def test_public_pages_fit_a_phone(browser, live_server, world, campaign):
    a = services.activity_register(
        user=world.users["staff_a1"],
        campaign=campaign,
        organiser=world.orgs["unit_a1"],
        fields=activity_fields(
            world, title="一个名字相当长的科普活动用来检查手机上的换行是否正常显示"
        ),
    )
    services.activity_review(user=world.users["admin_a"], activity=a, approve=True)
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    try:
        for url in (
            reverse("portal:campaign", args=[campaign.pk]) + "?month=2026-9",
            reverse("portal:activity", args=[a.pk]),
        ):
            page.goto(live_server.url + url)
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (url, width)
    finally:
        context.close()


P = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


def test_planted_markup_never_runs_on_campaign_pages(
    browser, live_server, world, monkeypatch, settings, tmp_path
):
    from tests.campaigns.conftest import TODAY

    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(services, "_today", lambda: TODAY)
    admin, staff = world.users["admin_a"], world.users["staff_a1"]
    hostile = services.campaign_create(
        user=admin,
        fields=fields(title="C1" + P, theme="C2" + P, summary_columns=["序号", "C3" + P]),
        quotas=[services.QuotaFields(who="C4" + P, min_count=1, kinds=["department"])],
    )
    a = services.activity_register(
        user=staff,
        campaign=hostile,
        organiser=world.orgs["unit_a1"],
        fields=activity_fields(
            world,
            title="A1" + P,
            address="A2" + P,
            summary="A3" + P,
            co_organisers="A4" + P,
            audience="A5" + P,
            volunteers="A6" + P,
            latitude=25.49,
            longitude=103.79,
        ),
    )
    services.activity_review(user=admin, activity=a, approve=False, comment="A7" + P)
    services.activity_submit(user=staff, activity=a)
    services.activity_review(user=admin, activity=a, approve=True)
    a.refresh_from_db()
    services.activity_photo_add(
        user=staff, activity=a, name="p.png", data=png_bytes(), caption="A8" + P
    )
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sweep = Sweep(page, live_server.url)
    try:
        login(page, live_server, "admin_a")
        for name, args in (
            ("campaigns:list", []),
            ("campaigns:detail", [hostile.pk]),
            ("campaigns:activities", [hostile.pk]),
            ("campaigns:quotas", [hostile.pk]),
            ("campaigns:awards", [hostile.pk]),
            ("campaigns:edit", [hostile.pk]),
            ("campaigns:activity", [a.pk]),
            ("audit", []),
        ):
            sweep.visit(reverse(name, args=args))
        context.clear_cookies()
        sweep.visit(reverse("portal:campaign", args=[hostile.pk]) + "?month=2026-9")
        page.wait_for_selector("#portal-map canvas", timeout=30000)
        tooltips = _hover_charts(page)
        assert not page.evaluate(INJECTED_JS)
        sweep.visit(reverse("portal:activity", args=[a.pk]))
        # The planted text is on the page, shown as text.
        shown = page.locator("body").inner_text()
        assert 'A1"><img src=x onerror=alert(1)>' in shown and "A2" in shown
    finally:
        context.close()
    assert not sweep.problems, "\n".join(sweep.problems)
    assert not [t for t in tooltips if "<img src=x" in t], tooltips[:5]
    # The map's activity point shows the planted title, escaped.
    assert any("&lt;img src=x" in html for html in tooltips), tooltips[:5]


def test_coordinates_are_picked_on_the_map(browser, live_server, world, campaign):
    """A click on the activity form's map fills 纬度/经度, and saving stores them."""
    a = services.activity_register(
        user=world.users["staff_a1"],
        campaign=campaign,
        organiser=world.orgs["unit_a1"],
        fields=activity_fields(world),
        submit=False,
    )
    assert a.latitude is None
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        login(page, live_server, "staff_a1")
        page.goto(live_server.url + reverse("campaigns:activity_edit", args=[a.pk]))
        assert page.input_value("#id_latitude") == ""
        page.wait_for_selector("#activity-map-picker canvas", timeout=20000)
        page.locator("#activity-map-picker").click()  # scrolled into view, at its centre
        from playwright.sync_api import expect

        expect(page.locator("#id_latitude")).not_to_have_value("", timeout=10000)
        lat = float(page.input_value("#id_latitude"))
        lng = float(page.input_value("#id_longitude"))
        # 曲靖市 spans about 24°–27° N and 102.7°–104.7° E
        assert 24 < lat < 27.5 and 102.5 < lng < 105, (lat, lng)
        assert "已选定" in page.inner_text("#activity-map-hint")
        page.click("button[name=save]")
        page.wait_for_url(f"**{reverse('campaigns:activity', args=[a.pk])}")
        a.refresh_from_db()
        assert (round(float(a.latitude), 6), round(float(a.longitude), 6)) == (
            round(lat, 6),
            round(lng, 6),
        )
        # The saved point is drawn again when the form is opened.
        page.goto(live_server.url + reverse("campaigns:activity_edit", args=[a.pk]))
        page.wait_for_selector("#activity-map-picker canvas", timeout=20000)
        assert abs(float(page.input_value("#id_latitude")) - lat) < 1e-6
        page.screenshot(path="/tmp/campaigns_picker.png", full_page=True)
        assert errors == []
    finally:
        context.close()
