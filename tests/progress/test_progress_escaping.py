"""User text is escaped on every progress page and written to Excel as text."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.progress.helpers import progress_objects

pytestmark = pytest.mark.django_db
MARKUP = '"><img src=x onerror=alert(1)><script>alert(2)</script>'


@pytest.fixture
def objects(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return progress_objects(world, MARKUP)


def test_markup_is_escaped_on_every_page(client, world, objects):
    round_pk = objects["progress"]["pk"]
    pages = [
        reverse("progress:rounds"),
        reverse("progress:round", args=[round_pk]),
        reverse("progress:review", args=[round_pk]),
        reverse("progress:reports"),
        reverse("progress:report", args=[objects["progress:report"]["pk"]]),
        reverse("progress:notices"),
        reverse("progress:notice", args=[objects["progress:notice"]["pk"]]),
        reverse("progress:dashboard"),
        reverse("progress:plan_dashboard", args=[objects["progress:plan_dashboard"]["pk"]]),
        reverse("progress:office_dashboard", args=[objects["progress:office_dashboard"]["pk"]]),
        reverse("progress:plan_links", args=[objects["progress:plan_links"]["pk"]]),
        reverse("progress:plan_coverage", args=[objects["progress:plan_coverage"]["pk"]]),
        reverse("plans:ledger"),
        reverse("plans:my_tasks"),
        reverse("notifications:inbox"),
        reverse("home"),
    ]
    shown = 0
    for who in ("admin_a", "staff_a1"):
        client.force_login(world.users[who])
        for url in pages:
            resp = client.get(url)
            if resp.status_code != 200:
                continue
            html = resp.content.decode()
            assert "<img src=x" not in html and "<script>alert" not in html, (who, url)
            shown += "&lt;img src=x" in html
    assert shown >= 20  # the markup did reach the pages (escaped)
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("progress:dashboard")).content.decode()
    assert "\\u003Cimg src=x" in html  # the chart data: json_script escapes it


def test_excel_ledger_keeps_formula_like_text_as_text(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    objects = progress_objects(world, '=HYPERLINK("http://x","y")')
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("progress:round_xlsx", args=[objects["progress"]["pk"]]))
    ws = load_workbook(io.BytesIO(resp.content)).active
    cells = [c for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    formula_like = [c for c in cells if c.value.startswith("=")]
    assert not formula_like or all(c.data_type == "s" for c in formula_like)
    assert any("HYPERLINK" in c.value for c in cells)
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$3"
    header = [c.value for c in ws[3]]
    assert header == [
        "序号",
        "章节",
        "任务内容",
        "牵头单位",
        "配合单位",
        "目标任务",
        "完成时限",
        "进展情况",
        "状态",
    ]
    raw = zipfile.ZipFile(io.BytesIO(resp.content)).read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in raw  # no formula anywhere in the sheet
