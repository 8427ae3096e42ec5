"""The statistics cycle in a browser: a unit fills its form with one invalid cell, sees
the error beside it, fixes it and submits; the office accepts and the regional roll-up
(table and chart) shows it."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_shell import login
from tests.statistics.conftest import make_collection, report_of, valid_values

pytestmark = pytest.mark.browser


def test_unit_fills_fixes_submits_office_accepts_rollup(page, live_server, world):
    collection = make_collection(world)
    report = report_of(collection, world)
    base = live_server.url
    problems: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))

    # 1. the education bureau fills its form with one invalid cell
    login(page, live_server, "staff_a1")
    page.goto(f"{base}/statistics/")
    page.click(f"a[href='/statistics/reports/{report.pk}/']")
    for code, value in valid_values().items():
        page.fill(f"input[name=v_{code}]", value)
    page.fill("input[name=v_P02]", "十")
    page.click("button[value=save]")
    page.wait_for_selector("#cell-error-count")
    error = page.inner_text("#err_P02")
    assert "「科普专职人员」须填写非负整数 (当前为「十」)" in error
    assert page.get_attribute("input[name=v_P02]", "aria-invalid") == "true"
    assert page.input_value("input[name=v_F01]") == "100"  # the other input is kept

    # 2. it fixes the cell and submits
    page.fill("input[name=v_P02]", "10")
    page.click("button[value=submit]")
    page.wait_for_selector("text=已提交, 等待上级审核")
    assert page.inner_text("#report-status") == "待审核"
    assert page.locator("input[name=v_P02]").count() == 0  # read-only once submitted

    # 3. the city office accepts it
    page.context.clear_cookies()
    login(page, live_server, "admin_a")
    page.goto(f"{base}/statistics/")
    page.click("text=曲靖市教育体育局")
    page.click("button[value=accept]")
    page.wait_for_selector("text=已通过。")
    assert page.inner_text("#report-status") == "已通过"

    # 4. the regional roll-up shows it, in the table and the chart
    page.goto(f"{base}/statistics/{collection.pk}/rollup/?indicator=P01")
    row = page.locator("table.rollup").first.locator("tr", has_text="曲靖市(本级)")
    cells = row.locator("td").all_inner_texts()
    assert cells[:3] == ["曲靖市(本级)", "1", "30"]
    page.wait_for_selector("#stat-chart-groups canvas")
    page.screenshot(path="/tmp/statistics_rollup.png", full_page=False)
    assert problems == []
