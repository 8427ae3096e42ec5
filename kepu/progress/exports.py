"""A round's progress as a Word report (公文 layout) and as an Excel ledger with status.

Both are compiled from what the user may see, ``CHUNK`` tasks at a time (the reports of
each chunk are read with it), so memory stays bounded: the Excel ledger is written by the
streaming (write-only) workbook and has no task cap; the Word report is capped at
``MAX_TASKS`` tasks (a document, not a data dump: a larger round is reported per plan).
Large rounds run as background jobs (:mod:`kepu.progress.jobs`) with progress; the
``progress(fraction, message)`` callback is how they report it. User text goes to Excel
as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from openpyxl.utils import get_column_letter

from kepu.core.files import (
    CELL_STYLE,
    HEADER_STYLE,
    SUBTITLE_STYLE,
    TITLE_STYLE,
    add_office_styles,
    append_streaming_row,
    new_streaming_workbook,
    office_page_setup,
)
from kepu.core.types import UserLike
from kepu.orgs.scoping import Action
from kepu.plans.models import Task
from kepu.progress.documents import GongwenDocument
from kepu.progress.models import Report, ReportingRound, ReportStatus
from kepu.progress.selectors import attach_status

MAX_TASKS = 5000
CHUNK = 500
Progress = Callable[[float, str], None]


def job_threshold() -> int:
    """Above this many tasks a round's export runs as a background job."""
    return int(getattr(settings, "KEPU_PROGRESS_EXPORT_JOB_TASKS", 300))


def round_task_queryset(user: UserLike, round_: ReportingRound) -> QuerySet[Task]:
    """The round's tasks that have a report the user may see, in ledger order."""
    visible = Report.objects.restrict(user, Action.VIEW).filter(round=round_)
    return (
        # unscoped: narrowing to tasks of the reports restricted above
        Task.objects.filter(pk__in=visible.values("task_id"))
        .select_related("plan", "section")
        .prefetch_related("units", "targets")
        .order_by("plan_id", "order", "pk")
    )


def _chunks(
    user: UserLike, round_: ReportingRound, today: dt.date, tasks: QuerySet[Task]
) -> Iterator[tuple[list[Task], dict[int, list[Report]]]]:
    """Tasks ``CHUNK`` at a time with the visible reports of each, statuses attached."""
    from kepu.progress.services import office_setting

    warn_days = office_setting(round_.office).warn_days
    visible = Report.objects.restrict(user, Action.VIEW).filter(round=round_)
    it = tasks.iterator(chunk_size=CHUNK)
    while batch := list(islice(it, CHUNK)):
        reports: dict[int, list[Report]] = defaultdict(list)
        for r in (
            visible.filter(task_id__in=[t.pk for t in batch])
            .select_related("organisation")
            .prefetch_related(Prefetch("progress"))
            .order_by("task_id", "role", "organisation__name")
        ):
            reports[r.task_id].append(r)
        attach_status(
            batch,
            today=today,
            warn_days=warn_days,
            reports=[r for rs in reports.values() for r in rs],
        )
        yield batch, reports


def _progress_text(reports: list[Report], *, accepted_only: bool) -> str:
    parts = []
    for r in reports:
        if accepted_only and r.status != ReportStatus.ACCEPTED:
            continue
        if not r.narrative:
            continue
        state = f"[{r.get_state_display()}]" if r.state else ""
        parts.append(f"{r.organisation.name}{state}: {r.narrative}")
    return "\n".join(parts)


def _quiet(fraction: float, message: str) -> None:
    return None


def round_report_docx(
    *,
    user: UserLike,
    round_: ReportingRound,
    today: dt.date,
    progress: Progress = _quiet,
) -> bytes:
    """The Word progress report: summary, then each section's tasks with units and
    accepted progress text, then the overdue list."""
    tasks_qs = round_task_queryset(user, round_)
    total = tasks_qs.count()
    if total > MAX_TASKS:
        raise ValidationError(
            f"该轮次任务超过 {MAX_TASKS} 项, Word 报告请按规划分别导出 (Excel 台账不受此限)。"
        )
    visible = Report.objects.restrict(user, Action.VIEW).filter(round=round_)
    figures = visible.aggregate(
        n=Count("pk"),
        submitted=Count("pk", filter=Q(status__in=(ReportStatus.SUBMITTED, ReportStatus.ACCEPTED))),
        accepted=Count("pk", filter=Q(status=ReportStatus.ACCEPTED)),
        late=Count("pk", filter=Q(is_late=True)),
    )
    body: list[tuple[str, str, str | None]] = []  # (text, bold lead, kind)
    late: list[Task] = []
    n_done = 0
    current = None
    seen = 0
    for batch, reports in _chunks(user, round_, today, tasks_qs):
        for t in batch:
            section = t.section.title if t.section else "其他任务"
            if section != current:
                current = section
                body.append((section, "", None))
            units = "、".join(u.name for u in t.units.all()) or "—"
            body.append(
                (
                    f"{t.title} (责任单位: {units}; 状态: {t.progress_status.label})",
                    f"{t.number or '·'} ",
                    None,
                )
            )
            text = _progress_text(reports.get(t.pk, []), accepted_only=True)
            body.append((text or "暂无审核通过的进展报告。", "", "plain"))
            n_done += t.progress_status.code == "done"
            if t.progress_status.code == "late":
                late.append(t)
        seen += len(batch)
        progress(0.05 + 0.85 * seen / max(total, 1), f"已汇总 {seen}/{total} 项任务")
    doc = GongwenDocument(f"{round_.title}工作进展情况报告")
    doc.heading("一、总体情况")
    doc.para(
        f"本轮填报共涉及任务 {total} 项、单位任务 {figures['n']} 个。"
        f"已提交报告 {figures['submitted']} 份, 审核通过 {figures['accepted']} 份, "
        f"逾期提交 {figures['late']} 份。"
        f"任务已完成 {n_done} 项, 滞后 {len(late)} 项。"
    )
    doc.heading("二、各项任务进展")
    for text, lead, kind in body:
        if kind == "plain":
            doc.para(text)
        else:
            doc.para(text, bold_lead=lead)
    doc.heading("三、逾期未完成任务")
    if late:
        for t in late:
            doc.para(f"{t.title} (完成时限: {t.deadline or '—'})")
    else:
        doc.para("无。")
    doc.signature(round_.office.name, today)
    progress(0.95, "生成文档")
    return doc.bytes()


LEDGER_HEADERS = [
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
WIDTHS = [6, 16, 40, 16, 16, 18, 14, 40, 10]
HEADER_ROW = 3


def round_ledger_xlsx(*, user: UserLike, round_: ReportingRound, today: dt.date) -> bytes:
    """The Excel ledger of a round as bytes (small rounds, inside the request)."""
    import io

    buffer = io.BytesIO()
    round_ledger_write(user=user, round_=round_, today=today, out=buffer)
    return buffer.getvalue()


def round_ledger_write(
    *,
    user: UserLike,
    round_: ReportingRound,
    today: dt.date,
    out: Any,
    progress: Progress = _quiet,
) -> int:
    """Stream the Excel ledger of a round (progress and status columns, office print
    set-up) to ``out`` (a path or binary file); returns the number of tasks written."""

    tasks_qs = round_task_queryset(user, round_)
    total = tasks_qs.count()
    wb = new_streaming_workbook()
    add_office_styles(wb)
    ws = wb.create_sheet("进展台账")
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    office_page_setup(ws, header_row=HEADER_ROW)
    append_streaming_row(ws, [f"{round_.title} 任务进展台账"], TITLE_STYLE)
    append_streaming_row(ws, [f"{round_.office.name}  导出日期: {today:%Y-%m-%d}"], SUBTITLE_STYLE)
    append_streaming_row(ws, LEDGER_HEADERS, HEADER_STYLE)
    number = 0
    for batch, reports in _chunks(user, round_, today, tasks_qs):
        for t in batch:
            number += 1
            units = list(t.units.all())
            append_streaming_row(
                ws,
                [
                    str(number),
                    t.section.title if t.section else " › ".join(t.path or []),
                    t.text or t.title,
                    "、".join(u.name for u in units if u.role == "lead"),
                    "、".join(u.name for u in units if u.role == "cooperate"),
                    "; ".join(g.label for g in t.targets.all()),
                    t.deadline,
                    _progress_text(reports.get(t.pk, []), accepted_only=False),
                    t.progress_status.label,
                ],
                CELL_STYLE,
            )
        progress(0.05 + 0.9 * number / max(total, 1), f"已写入 {number}/{total} 项任务")
    wb.save(out)
    return number
