"""Upload a document, correct a unit match, confirm; find the task in the ledger and
in the unit's "my tasks"."""

from __future__ import annotations

import pytest

from tests.browser.test_browser_shell import login

pytestmark = pytest.mark.browser

DOC = """2026年测试市科学素质工作要点

一、青少年科学素质提升
1.开展中小学科学教育。培训科学教师300人以上。(市教体局牵头,市卫健委配合)
2.举办青少年科技节。全年举办活动不少于12场。(教育体育局牵头)
"""


def test_upload_correct_confirm_and_find_task(page, live_server, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    doc = tmp_path / "要点.txt"
    doc.write_text(DOC, encoding="gb18030")  # an office's GBK file

    login(page, live_server, "admin_a")
    page.goto(f"{live_server.url}/plans/import/")
    page.set_input_files("input[name=document]", str(doc))
    page.select_option("select[name=kind]", "annual")
    page.click("text=解析并预览")
    page.wait_for_selector("#preview-form")
    page.screenshot(path=str(tmp_path / "preview.png"), full_page=True)

    # "教育体育局" is not an exact name or alias: it is offered as a fuzzy suggestion
    row = page.locator("tr.unit-row[data-unit='教育体育局']")
    assert "近似" in row.inner_text() or "未匹配" in row.inner_text()
    # the organisation is searched (only suggestions are listed), then chosen
    row.locator("input.autocomplete-input").fill("教育体育")
    row.locator("li.autocomplete-option").first.click()
    assert row.locator("select.org-select").input_value() == str(world.orgs["unit_a1"].pk)
    row.locator("input[type=checkbox]").check()  # remember the spelling as an alias
    page.click("#confirm")
    page.wait_for_selector("text=共 2 项任务")

    page.goto(f"{live_server.url}/plans/ledger/")
    ledger = page.locator("table.ledger").inner_text()
    assert "开展中小学科学教育" in ledger and "举办青少年科技节" in ledger
    page.screenshot(path=str(tmp_path / "ledger.png"), full_page=True)

    # the education bureau's staff see both tasks under "my tasks"
    page.context.clear_cookies()
    login(page, live_server, "staff_a1")
    page.goto(f"{live_server.url}/plans/my-tasks/")
    mine = page.locator("table.grid").inner_text()
    assert "开展中小学科学教育" in mine and "举办青少年科技节" in mine
    assert "牵头" in mine

    from kepu.orgs.models import OrganisationAlias

    assert OrganisationAlias.objects.filter(
        organisation=world.orgs["unit_a1"], name="教育体育局"
    ).exists()
