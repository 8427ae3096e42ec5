"""The whole reporting cycle in a browser: the office opens a round, the unit reports with
a photo, the office returns it, the unit resubmits, the office accepts, and the dashboard
and the Word report show it."""

from __future__ import annotations

import io
import zipfile

import pytest

from tests.browser.test_browser_shell import login
from tests.progress.conftest import pw  # noqa: F401 (the progress world fixture)

pytestmark = pytest.mark.browser

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def test_round_report_return_resubmit_accept_dashboard(page, live_server, pw, tmp_path, settings):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(PNG)
    base = live_server.url
    problems: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))

    # 1. the city office opens a round
    login(page, live_server, "admin_a")
    page.goto(f"{base}/progress/rounds/new/")
    page.fill("input[name=title]", "2026年第三季度")
    page.select_option("select[name=plans]", str(pw.plan.pk))
    page.fill("input[name=opens_on]", "2026-07-01")
    page.fill("input[name=closes_on]", "2099-10-10")
    page.click("button:has-text('发起')")
    page.wait_for_selector("text=个单位任务待填报")
    assert "2026年第三季度" in page.inner_text("h1")

    # 2. the education bureau reports with a photo
    page.context.clear_cookies()
    login(page, live_server, "staff_a1")
    page.goto(f"{base}/")
    assert page.inner_text("#todo-write .num") == "2"
    page.goto(f"{base}/progress/reports/")
    page.click("a:has-text('开展中小学科学教育')")
    page.select_option("select[name=state]", "on_track")
    page.fill("textarea[name=narrative]", "已培训科学教师180人。")
    page.fill("input[name^=target_]", "180")
    page.set_input_files("input[name=evidence]", str(photo))
    page.click("button[name=submit]")
    page.wait_for_selector("text=报告已提交")
    assert page.inner_text("#report-status") == "已提交"
    assert "现场照片.png" in page.content()
    report_url = page.url

    # 3. the office returns it with a comment
    page.context.clear_cookies()
    login(page, live_server, "admin_a")
    page.goto(report_url)
    page.fill("textarea[name=comment]", "请补充培训名单。")
    page.click("button[value=return]")
    page.wait_for_selector("text=已退回修改")

    # 4. the unit sees the comment and resubmits
    page.context.clear_cookies()
    login(page, live_server, "staff_a1")
    page.goto(report_url)
    assert "请补充培训名单。" in page.inner_text(".review-comment")
    page.select_option("select[name=state]", "done")
    page.fill("textarea[name=narrative]", "已培训科学教师320人, 名单见附件。")
    page.click("button[name=submit]")
    page.wait_for_selector("text=报告已提交")

    # 5. the office accepts it from the review queue (bulk accept)
    page.context.clear_cookies()
    login(page, live_server, "admin_a")
    page.goto(f"{base}/progress/")
    page.click("a:has-text('2026年第三季度')")
    page.click("a:has-text('审核')")
    page.check("input[name=report]")
    page.click("button:has-text('批量通过')")
    page.wait_for_selector("text=已批量通过 1 份报告")
    page.goto(report_url)
    assert page.inner_text("#report-status") == "已通过"
    assert "已提交 → 已通过" in page.content() and "已提交 → 退回修改" in page.content()

    # 6. the dashboard and the Word report show it
    page.goto(f"{base}/progress/dashboard/")
    page.wait_for_selector("#chart-status canvas", timeout=15000)
    units = page.inner_text("table.grid")
    assert "曲靖市教育体育局" in units
    stats = page.inner_text(".stats")
    assert "已通过" in stats
    with page.expect_download() as download:
        page.click("a:has-text('进展报告 (Word)')")
    data = open(download.value.path(), "rb").read()
    xml = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml").decode()
    assert "已培训科学教师320人" in xml and "方正小标宋简体" in xml
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert problems == []
