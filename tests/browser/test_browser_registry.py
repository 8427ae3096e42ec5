"""The annual review of an education base in a browser: the base files its self-report,
the county office scores it, the base is warned; then a museum's annual report with one
invalid figure is fixed and submitted."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_shell import login
from tests.registry.conftest import base_org, certified, sheet  # noqa: F401

pytestmark = pytest.mark.browser


def test_base_self_report_scored_and_warned(page, live_server, world, certified, sheet, tmp_path):  # noqa: F811
    base = live_server.url
    problems: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))

    # 1. the base's own staff open and file the self-report
    login(page, live_server, "base_staff")
    page.goto(f"{base}/registry/{certified.pk}/")
    assert "已认定" in page.inner_text("h1")
    page.select_option("select[name=sheet]", str(sheet.pk))
    page.click("button:has-text('填报年度自评')")
    page.wait_for_selector("text=自评数据")
    page.fill("input[name=m_exhibition_area]", "100")
    page.fill("input[name=m_opening_days]", "150")
    page.fill("input[name=m_annual_visitors]", "500")
    page.fill("textarea[name=summary]", "全年开放一百五十天。")
    page.click("button[name=submit]")
    page.wait_for_selector("text=已提交自评")
    assert "待评分" in page.inner_text("h1")
    assert page.locator("input[name=m_opening_days]").count() == 0  # locked after submitting
    review_url = page.url
    page.screenshot(path=str(tmp_path / "self_report.png"), full_page=True)

    # 2. the county office scores the items left to reviewers
    page.context.clear_cookies()
    login(page, live_server, "county_admin_a")
    page.goto(review_url)
    page.fill("input[name=s_rules]", "5")
    page.fill("input[name=s_content]", "5")
    page.fill("input[name=s_safety]", "2")
    page.click("button:has-text('提交评分')")
    page.wait_for_selector("text=已评分")
    assert "不合格" in page.inner_text(".stats")

    # 3. the base is on warning, for its staff too
    page.context.clear_cookies()
    login(page, live_server, "base_staff")
    page.goto(f"{base}/registry/{certified.pk}/")
    assert "预警" in page.inner_text("h1")
    page.goto(f"{base}/registry/")
    assert "预警" in page.inner_text("table")
    assert not problems, problems


def test_museum_report_invalid_cell_fixed_submitted_accepted(page, live_server, world, tmp_path):
    from tests.registry.conftest import registry_world

    reg = registry_world(world)
    report = reg["report"]
    base = live_server.url
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))

    # the museum's operating unit fills the report with one invalid figure
    login(page, live_server, "staff_a1")
    page.goto(f"{base}/registry/museum-reports/{report.pk}/")
    page.fill("input[name=opening_days]", "300")
    page.fill("input[name=visitors]", "120000")
    page.fill("input[name=staff]", "40")
    page.fill("input[name=staff_full_time]", "55")
    page.fill("input[name=satisfaction]", "95")
    page.fill(
        "textarea[name=summary]", "全年开放三百天, 举办科普展览和教育活动, 开展流动科技馆进校园。"
    )
    page.click("button[name=submit]")
    page.wait_for_selector("text=科普专职人员不能多于从业人员")
    page.screenshot(path=str(tmp_path / "museum_report_error.png"), full_page=True)
    assert "填报中" in page.inner_text("#report-status")
    page.fill("input[name=staff_full_time]", "25")
    page.click("button[name=submit]")
    page.wait_for_selector("text=已提交年度报告")
    assert "已提交" in page.inner_text("#report-status")

    # the city office accepts it; the per-region summary shows it
    page.context.clear_cookies()
    login(page, live_server, "admin_a")
    page.goto(f"{base}/registry/museum-reports/{report.pk}/")
    page.click("button[value=accept]")
    page.wait_for_selector("text=已审核")
    page.goto(f"{base}/registry/museums/summary/?year={report.year}")
    assert "120000" in page.inner_text("#museum-summary")
    page.screenshot(path=str(tmp_path / "museum_summary.png"), full_page=True)
    # the team page of the city office shows its volunteers in full (masked number)
    page.goto(f"{base}/registry/teams/{reg['team'].pk}/")
    assert "张晓明" in page.inner_text("table")
    page.screenshot(path=str(tmp_path / "team.png"), full_page=True)
    assert not problems, problems


def test_service_record_corrected_then_deleted_with_reason(page, live_server, world, tmp_path):
    """The team's office corrects a volunteer's service hours, then deletes the record with
    a reason; the volunteer page follows each step."""
    from tests.registry.conftest import registry_world

    reg = registry_world(world)
    volunteer = reg["volunteer"]
    base = live_server.url
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))

    login(page, live_server, "admin_a")
    page.goto(f"{base}/registry/volunteers/{volunteer.pk}/")
    assert "3.5" in page.inner_text("table")
    page.click("text=修改/删除")
    # the saved date is prefilled in the browser's date picker (ISO value), not dropped
    assert page.input_value("input[name=served_on]").endswith("-01-01")
    page.fill("input[name=hours]", "5")
    page.fill("input[name=description]", "社区健康讲座 (更正时长)")
    page.click("button:has-text('保存')")
    page.wait_for_selector("text=已修改服务记录")
    text = page.inner_text("main")
    assert "更正时长" in text and "3.5" not in text
    assert "\t1\t5" in page.inner_text("table")  # the year's summary: 1 record, 5 hours
    page.screenshot(path=str(tmp_path / "service_corrected.png"), full_page=True)

    page.click("text=修改/删除")
    page.fill("input[name=reason]", "重复登记")
    page.click("button:has-text('删除')")
    page.wait_for_selector("text=已删除服务记录")
    assert "更正时长" not in page.inner_text("main")
    assert not problems, problems
