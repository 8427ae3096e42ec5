"""The ledger export: immediate when small, a background job with a download above the
threshold, written in constant memory, user text never a formula."""

from __future__ import annotations

import io
import tracemalloc
import types
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kepu.core.models import Job, WorkStatus
from kepu.plans import excel
from kepu.plans.services import PlanFields, plan_create_from_parsed

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _task(i: int, text: str | None = None) -> dict:
    return {
        "path": [],
        "number": str(i),
        "title": f"任务{i}",
        "text": text or f"开展第{i}项科普活动。",
        "lead": ["市教体局"],
        "cooperate": ["市卫健委"],
        "responsible": ["市教体局", "市卫健委"],
        "targets": [],
    }


@pytest.fixture
def plans(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KEPU_LEDGER_EXPORT_JOB_ROWS = 3
    tasks = [_task(i) for i in range(1, 6)]
    tasks.append(_task(6, '=HYPERLINK("http://evil.example","点击")'))
    plan_a = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": tasks, "targets": []},
        fields=PlanFields(title="曲靖要点"),
        source_name="a.txt",
        source_bytes=b"plan a",
    )
    plan_b = plan_create_from_parsed(
        user=world.users["admin_b"],
        owner=world.orgs["office_b"],
        parsed={"tasks": [{**_task(1), "lead": ["市教育局"], "cooperate": []}], "targets": []},
        fields=PlanFields(title="昆明要点"),
        source_name="b.txt",
        source_bytes=b"plan b",
    )
    return plan_a, plan_b


def test_small_export_stays_immediate(client, world, plans, settings):
    settings.KEPU_LEDGER_EXPORT_JOB_ROWS = 100
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("plans:ledger_export"), {"plan": plans[0].pk})
    assert resp.status_code == 200 and resp["Content-Type"] == XLSX
    assert not Job.objects.exists()


def test_large_export_runs_as_a_job_with_a_download(client, world, plans):
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("plans:ledger_export"), {"plan": plans[0].pk})
    job = Job.objects.get()
    assert resp.status_code == 302 and resp["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.kind == "ledger_export" and job.status == WorkStatus.DONE, job.message
    assert job.message == "完成: 导出 6 条任务" and job.created_by == world.users["admin_a"]
    page = client.get(resp["Location"]).content.decode()
    assert "下载 曲靖要点 任务台账.xlsx" in page and "已完成" in page
    download = client.get(reverse("jobs:download", args=[job.pk]))
    assert download.status_code == 200
    data = b"".join(download.streaming_content)
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].value == "曲靖要点 任务台账"
    assert ws["A2"].value.startswith("导出日期")
    assert [c.value for c in ws[3]] == excel.LEDGER_HEADERS
    assert ws.max_row == 9 and ws["D4"].value == "市教体局" and ws["E4"].value == "市卫健委"
    # the user's "=HYPERLINK(...)" is text in the file, not a formula
    assert ws["C9"].value.startswith("=HYPERLINK") and ws["C9"].data_type == "s"
    assert ws["C9"].quotePrefix and not ws["C8"].quotePrefix
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"<f " not in sheet_xml
    # customary layout: Song typeface, repeated header row, landscape
    assert ws["C4"].font.name == "宋体" and ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.freeze_panes == "A4"


def test_export_job_contains_only_what_the_user_sees(client, world, plans):
    client.force_login(world.users["super"])
    client.get(reverse("plans:ledger_export"))
    job = Job.objects.get()
    assert job.organisation is None and job.message == "完成: 导出 7 条任务"
    client.force_login(world.users["admin_b"])
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404


@pytest.mark.parametrize("plan", ["other", "9999", "abc"])
def test_export_of_a_plan_out_of_sight_is_404(client, world, plans, plan):
    value = {"other": str(plans[1].pk)}.get(plan, plan)
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("plans:ledger_export"), {"plan": value})
    assert resp.status_code == 404
    assert not Job.objects.exists()


def test_export_job_through_the_database_queue(client, world, plans, settings):
    from tests.core.test_jobs_worker import make_worker

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.backend.DatabaseBackend"}}
    client.force_login(world.users["admin_a"])
    client.get(reverse("plans:ledger_export"), {"plan": plans[0].pk})
    job = Job.objects.get()
    assert job.status == WorkStatus.QUEUED
    html = client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert "排队中" in html and "hx-get" in html  # the page polls while it waits
    make_worker().run()
    job.refresh_from_db()
    assert job.status == WorkStatus.DONE and job.result
    html = client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert "下载" in html and "hx-get" not in html


def _fake_tasks(n: int):
    unit = types.SimpleNamespace(name="曲靖市教育体育局")
    none = types.SimpleNamespace(all=list)
    for i in range(n):
        yield types.SimpleNamespace(
            text=f"开展第{i}项科普活动, 面向青少年和老年人。" * 4,
            title="",
            deadline="2026年12月",
            lead_units=[unit],
            unroled_units=[],
            cooperating_units=[unit],
            targets=none,
        )


def _peak(n: int, tmp_path) -> int:
    tracemalloc.start()
    try:
        excel.ledger_workbook_stream(title="台账", tasks=_fake_tasks(n), out=tmp_path / "x.xlsx")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_writer_uses_constant_memory(tmp_path):
    small, large = _peak(200, tmp_path), _peak(2_000, tmp_path)
    # the in-memory writer needs ~6 MB for 2,000 rows; streaming stays flat
    assert large < 2_000_000 and large < small * 2, (small, large)
    rows = load_workbook(tmp_path / "x.xlsx", read_only=True).active.iter_rows(values_only=True)
    assert sum(1 for _ in rows) == 2_003  # title, date, header and the 2,000 tasks
