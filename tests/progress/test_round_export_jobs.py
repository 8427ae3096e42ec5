"""A large round's Excel ledger and Word report run as background jobs with progress and
a download, compiled from what the job's user may see."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from kepu.core.models import Job
from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.progress import services
from kepu.progress.models import Report

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_round(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KEPU_PROGRESS_EXPORT_JOB_TASKS = 3
    tasks = [
        {
            "path": ["一、重点任务"],
            "number": str(k),
            "title": f"任务{k}",
            "text": f'=HYPERLINK("x") 任务{k}。',
            "lead": ["市教体局" if k % 2 else "市卫健委"],
            "cooperate": [],
            "responsible": ["市教体局" if k % 2 else "市卫健委"],
            "targets": [],
            "deadline": {"text": "6月底", "due": "2026-06-30", "recurring": None},
        }
        for k in range(1, 7)
    ]
    plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": tasks},
        fields=PlanFields(title="要点", period_start=2026, period_end=2026),
    )
    round_ = services.round_open(
        user=world.users["admin_a"],
        office=world.orgs["office_a"],
        title="2026年第三季度",
        plans=[plan],
        opens_on=dt.date(2026, 1, 1),
        closes_on=dt.date(2026, 12, 31),
    )
    report = Report.objects.filter(round=round_, organisation=world.orgs["unit_a1"]).first()
    services.report_save(
        user=world.users["staff_a1"],
        report=report,
        version=None,
        state="done",
        narrative="已完成培训",
    )
    services.report_submit(user=world.users["staff_a1"], report=report)
    services.report_review(user=world.users["admin_a"], report=report, accept=True)
    return round_


def _download(client, job) -> bytes:
    return b"".join(client.get(reverse("jobs:download", args=[job.pk])).streaming_content)


def test_large_round_ledger_is_a_job_with_a_download(client, world, big_round):
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("progress:round_xlsx", args=[big_round.pk]))
    job = Job.objects.get()
    assert resp.status_code == 302 and resp.url == reverse("jobs:detail", args=[job.pk])
    assert job.status == "done", job.error
    assert job.progress == 100 and "6 项任务" in job.message
    ws = load_workbook(io.BytesIO(_download(client, job))).active
    assert [c.value for c in ws[3]][-1] == "状态"
    texts = [ws.cell(r, 3).value for r in range(4, ws.max_row + 1)]
    assert texts == [f'=HYPERLINK("x") 任务{k}。' for k in range(1, 7)]
    assert all(ws.cell(r, 3).data_type == "s" for r in range(4, ws.max_row + 1))
    assert ws.cell(4, 8).value.startswith("曲靖市教育体育局[已完成]: 已完成培训")
    # another city's office cannot fetch the file
    client.force_login(world.users["admin_b"])
    assert client.get(reverse("jobs:download", args=[job.pk])).status_code == 404


def test_large_round_report_is_a_job_with_a_download(client, world, big_round):
    client.force_login(world.users["admin_a"])
    client.get(reverse("progress:round_docx", args=[big_round.pk]))
    job = Job.objects.get()
    assert job.status == "done", job.error
    doc = Document(io.BytesIO(_download(client, job)))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "2026年第三季度工作进展情况报告" in text
    assert "本轮填报共涉及任务 6 项" in text and "任务已完成 1 项" in text
    assert "已完成培训" in text


def test_small_round_export_answers_at_once(client, world, big_round, settings):
    settings.KEPU_PROGRESS_EXPORT_JOB_TASKS = 100
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("progress:round_xlsx", args=[big_round.pk]))
    assert resp.status_code == 200 and not Job.objects.exists()


def test_job_file_has_only_what_its_user_sees(client, world, big_round):
    """A round's job run by a county office sees none of the city units' reports."""
    from kepu.core.jobs import job_start

    job = job_start(
        user=world.users["county_admin_a"],
        kind="progress_ledger",
        organisation=world.orgs["county_office_a"],
        func="kepu.progress.jobs.round_ledger_export",
        params={"round": big_round.pk, "today": "2026-09-01"},
    )
    job.refresh_from_db()
    assert job.status == "failed" and "不在您的范围内" in job.message
