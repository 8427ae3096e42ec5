from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def login(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_office_admin_logs_in_and_sees_dashboard(page, live_server, world, tmp_path):
    login(page, live_server, "admin_a")
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator("h2.org-name").first.inner_text() == "曲靖市科学技术协会"
    assert "办公室管理员" in page.content()
    nav = page.locator("nav.mainnav").inner_text()
    for area in ("任务台账", "进展填报", "科普活动", "素质监测", "基地与队伍", "审计日志"):
        assert area in nav
    assert "考核" not in nav and "即将上线" not in nav  # areas not built yet are not shown
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    # the organisation list is scoped: the sibling city's bureau is not there
    page.click("text=组织机构")
    body = page.locator("table.grid").inner_text()
    assert "曲靖市教育体育局" in body and "昆明市教育局" not in body


def test_wrong_password_shows_chinese_error(page, live_server, world):
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("input[name=username]", "admin_a")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().strip() == "用户名或密码错误。"
