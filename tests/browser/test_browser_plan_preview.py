"""The plan preview in a browser: the task's text and a wide title box, a bad value shown
beside its field, "accept suggestions above N points" (no alias learnt), the plan page
with its headings and appendix table; the preview at phone width."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.test_browser_shell import login

pytestmark = pytest.mark.browser

DOC = """2026年测试市科学素质工作要点

一、青少年科学素质提升
1.开展中小学科学教育。培训科学教师300人以上, 组织骨干教师赴外地跟岗学习, 建设一批科学教育特色学校。(市卫生健康委牵头,市民政部配合)
2.举办青少年科技节。全年举办活动不少于12场。(市教育局、市科协)

附件

2026年重点工作任务台账

一、老年人科学素质提升
1.开展银龄健康讲座。每年不少于20场次。(市卫健委牵头)
"""


def _shots(tmp_path: Path) -> Path:
    # KEPU_SCREENSHOT_DIR keeps the pictures for looking at after the run
    out = Path(os.environ.get("KEPU_SCREENSHOT_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    return out


def _upload(page, live_server, tmp_path):
    doc = tmp_path / "要点.txt"
    doc.write_text(DOC, encoding="utf-8")
    page.goto(f"{live_server.url}/plans/import/")
    page.set_input_files("input[name=document]", str(doc))
    page.select_option("select[name=kind]", "annual")
    page.click("text=解析并预览")
    page.wait_for_selector("#preview-form")


def test_preview_desktop_errors_accept_and_plan_page(page, live_server, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    shots = _shots(tmp_path)
    login(page, live_server, "admin_a")
    _upload(page, live_server, tmp_path)

    # the task's own text under a wide, multi-line title
    title = page.locator("textarea[name=t0-title]")
    assert title.input_value() == "开展中小学科学教育"
    assert title.bounding_box()["width"] >= 380
    body = page.locator("tr[data-index='0'] .task-body")
    assert body.is_visible() and "组织骨干教师赴外地跟岗学习" in body.inner_text()
    page.screenshot(path=str(shots / "preview-desktop.png"), full_page=True)

    # a bad value: shown beside its field, the page keeps what was typed, nothing saved
    page.fill("input[name=period_start]", "abc")
    page.fill("textarea[name=t1-title]", "改过的标题")
    page.click("#confirm")
    page.wait_for_selector("#id_period_start-error")
    error = page.locator("#id_period_start-error")
    assert "起始年应为" in error.inner_text()
    field_box = page.locator("input[name=period_start]").bounding_box()
    error_box = error.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40
    assert page.locator("textarea[name=t1-title]").input_value() == "改过的标题"
    page.screenshot(path=str(shots / "preview-error.png"), full_page=False)
    page.fill("input[name=period_start]", "2026")

    # the fuzzy suggestion is offered, not chosen; the absurd one is not offered
    fuzzy = page.locator("tr.unit-row[data-unit='市卫生健康委'] select.org-select")
    assert fuzzy.input_value() == ""
    absurd = page.locator("tr.unit-row[data-unit='市民政部']")
    assert absurd.locator("option[data-how='fuzzy']").count() == 0
    # accept all suggestions at or above N points: the top one is filled in, no alias ticked
    score = int(fuzzy.locator("option[data-how='fuzzy']").first.get_attribute("data-score"))
    page.fill("#accept-min", str(min(score + 1, 100)))
    page.click("#accept-above")
    assert fuzzy.input_value() == ""  # below the bar: left alone
    page.fill("#accept-min", str(score))
    page.click("#accept-above")
    assert fuzzy.input_value() == str(world.orgs["unit_a2"].pk)
    assert "已采纳 1 条" in page.locator("#accept-result").inner_text()
    assert not page.locator(
        "tr.unit-row[data-unit='市卫生健康委'] input[type=checkbox]"
    ).is_checked()

    page.click("#confirm")
    page.wait_for_selector("text=共 3 项任务")
    from kepu.orgs.models import OrganisationAlias
    from kepu.plans.models import TaskUnit

    assert TaskUnit.objects.get(name="市卫生健康委").organisation_id == world.orgs["unit_a2"].pk
    assert not OrganisationAlias.objects.filter(name="市卫生健康委").exists()

    # the plan page: headings, the appendix ledger as its own table, unroled units
    tables = page.locator("table.plan-tasks")
    assert tables.count() == 2
    assert "青少年科学素质提升" in tables.nth(0).locator("tr.section-row").first.inner_text()
    assert "任务台账" in page.locator("h3.appendix-title").inner_text()
    second = tables.nth(0).locator("tr.task-row").nth(1)
    assert "市教育局" in second.locator("td[data-label='责任单位']").inner_text()
    assert second.locator("td[data-label='牵头单位']").inner_text().strip() == ""
    page.screenshot(path=str(shots / "plan-desktop.png"), full_page=True)


WIDER_THAN_SCREEN = """Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > 391)
  .slice(0, 12).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))
  .concat([document.documentElement.scrollWidth, window.innerWidth, document.body.scrollWidth])"""


def test_preview_at_phone_width(browser, live_server, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    shots = _shots(tmp_path)
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    try:
        login(page, live_server, "admin_a")
        _upload(page, live_server, tmp_path)
        title = page.locator("textarea[name=t0-title]")
        assert title.bounding_box()["width"] >= 250  # the card is the width of the phone
        page.screenshot(path=str(shots / "preview-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, page.evaluate(
            WIDER_THAN_SCREEN
        )
        page.screenshot(path=str(shots / "preview-phone.png"), full_page=True)
    finally:
        context.close()
