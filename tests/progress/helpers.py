"""Objects of every progress URL, for project-wide sweeps (headers, XSS, matrix)."""

from __future__ import annotations

import datetime as dt

from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.progress import services
from kepu.progress.models import Report

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def progress_objects(world, text: str = "进展") -> dict:
    """A round with a submitted report (with a photo) and an issued notice; the url
    kwargs of every progress view. ``text`` goes into every user-editable field."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    task_fields = {
        "path": [f"一、{text}"],
        "number": "1",
        "title": f"任务 {text}",
        "text": f"任务 {text}。",
        "lead": ["市教体局"],
        "cooperate": [],
        "responsible": ["市教体局"],
        "targets": [],
        "deadline": {"text": "6月底", "due": "2026-06-30", "recurring": None},
    }
    plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": [task_fields]},
        fields=PlanFields(title=f"规划 {text}", period_start=2026, period_end=2026),
    )
    round_ = services.round_open(
        user=world.users["admin_a"],
        office=world.orgs["office_a"],
        title=f"轮次 {text}",
        plans=[plan],
        opens_on=dt.date(2026, 1, 1),
        closes_on=dt.date(2026, 12, 31),
    )
    report = Report.objects.get(round=round_)
    services.report_save(
        user=world.users["staff_a1"],
        report=report,
        version=None,
        state="on_track",
        narrative=f"进展 {text}",
        files=[SimpleUploadedFile("照片.png", PNG)],
    )
    services.report_submit(user=world.users["staff_a1"], report=report)
    notice = services.notice_create(
        user=world.users["admin_a"],
        office=world.orgs["office_a"],
        task=report.task,
        organisation=report.organisation,
        report=report,
        level="red",
        subject=f"督办 {text}",
        requirement=f"要求 {text}",
        answer_by=dt.date(2026, 10, 1),
    )
    services.notice_advance(user=world.users["admin_a"], notice=notice)
    task = report.task
    parent = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={"tasks": [{**task_fields, "title": f"上级任务 {text}"}]},
        fields=PlanFields(title=f"上级规划 {text}", period_start=2026, period_end=2026),
    )
    services.links_suggest(user=world.users["admin_a"], local_plan=plan, parent_plan=parent)
    link = task.parent_links.get()
    services.link_decide(user=world.users["admin_a"], link=link, confirm=True)
    return {
        "progress": {"pk": round_.pk},
        "progress:report": {"pk": report.pk},
        "progress:report_review": {"pk": report.pk},
        "progress:report_split": {"pk": report.pk},
        "progress:notice_create": {"report_pk": report.pk},
        "progress:evidence": {"pk": report.evidence.get().pk},
        "progress:notice": {"pk": notice.pk},
        "progress:notice_docx": {"pk": notice.pk},
        "progress:task_terminate": {"pk": task.pk},
        "progress:plan_dashboard": {"pk": plan.pk},
        "progress:office_dashboard": {"pk": world.orgs["office_a"].pk},
        "progress:plan_links": {"pk": plan.pk},
        "progress:plan_links_suggest": {"pk": plan.pk},
        "progress:plan_coverage": {"pk": parent.pk},
        "progress:link_decide": {"pk": link.pk},
    }
