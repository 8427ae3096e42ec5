"""A text-layer PDF imported through the browser: targets read like the document in the
preview and on the plan page, at desktop and phone widths (issue 12)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.test_browser_shell import login
from tests.office_files import make_pdf

pytestmark = pytest.mark.browser

PAGES = [
    [
        "2026年测试市科学素质工作要点",
        "到2025年,全市公民具备科学素质的比例超过15%。",
        "一、青少年科学素质提升",
        "1.开展中小学科学教育。培训科学教师300人以上。(市教体局牵头,市卫健委配合)",
        "2.开展科普大篷车进校园。全年覆盖10万人次。(市教体局)",
        "- 1 -",
    ]
]


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_pdf_import_shows_targets_as_written(page, live_server, world, tmp_path, settings, width):
    settings.MEDIA_ROOT = tmp_path / "media"
    shots = Path(os.environ.get("KEPU_SCREENSHOT_DIR") or tmp_path)  # to look at them
    pdf = tmp_path / "要点.pdf"
    pdf.write_bytes(make_pdf(PAGES))
    page.set_viewport_size({"width": width, "height": 900})
    login(page, live_server, "admin_a")
    page.goto(f"{live_server.url}/plans/import/")
    page.set_input_files("input[name=document]", str(pdf))
    page.select_option("select[name=kind]", "annual")
    page.click("text=解析并预览")
    page.wait_for_selector("#preview-form")
    preview = page.locator("main").inner_text()
    assert "培训科学教师300人以上" in preview and "覆盖10万人次" in preview
    assert "超过15% (2025年)" in preview and "100000" not in preview
    page.screenshot(path=str(shots / f"preview-{width}.png"), full_page=True)
    page.click("#confirm")
    page.wait_for_selector("text=共 2 项任务")
    plan_page = page.locator("main").inner_text()
    assert "覆盖10万人次" in plan_page and "超过15% (2025年)" in plan_page
    assert "等于100000" not in plan_page
    page.screenshot(path=str(shots / f"plan-{width}.png"), full_page=True)
