"""A round's progress as a Word report (公文 layout) and as an Excel ledger with status.

Both are compiled from what the user may see; both are capped at ``MAX_TASKS`` tasks
(a larger round is exported per plan). User text goes to Excel as text, never as a
formula.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

from kepu.core.files import new_workbook, workbook_bytes, write_cell
from kepu.orgs.scoping import Action
from kepu.plans.models import Task
from kepu.progress.documents import GongwenDocument
from kepu.progress.models import Report, ReportingRound, ReportStatus
from kepu.progress.selectors import attach_status

MAX_TASKS = 5000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _round_tasks(user: Any, round_: ReportingRound) -> tuple[list[Task], dict[int, list[Report]]]:
    visible = Report.objects.restrict(user, Action.VIEW).filter(round=round_)
    tasks_qs = (
        Task.objects.filter(pk__in=visible.values("task_id"))
        .select_related("plan", "section")
        .prefetch_related("units", "targets")
        .order_by("plan_id", "order")
    )
    if tasks_qs[: MAX_TASKS + 1].count() > MAX_TASKS:
        raise ValidationError(f"该轮次任务超过 {MAX_TASKS} 项, 请按规划分别导出。")
    tasks = list(tasks_qs)
    reports: dict[int, list[Report]] = defaultdict(list)
    for r in (
        visible.select_related("organisation")
        .prefetch_related(Prefetch("progress"))
        .order_by("task_id", "role", "organisation__name")
    ):
        reports[r.task_id].append(r)
    return tasks, reports


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


def round_report_docx(*, user: Any, round_: ReportingRound, today: dt.date) -> bytes:
    """The Word progress report: summary, then each section's tasks with units and
    accepted progress text, then the overdue list."""
    from kepu.progress.services import office_setting

    tasks, reports = _round_tasks(user, round_)
    attach_status(
        tasks,
        today=today,
        warn_days=office_setting(round_.office).warn_days,
        reports=[r for rs in reports.values() for r in rs],
    )
    all_reports = [r for rs in reports.values() for r in rs]
    n_done = sum(1 for t in tasks if t.progress_status.code == "done")
    n_late = [t for t in tasks if t.progress_status.code == "late"]
    doc = GongwenDocument(f"{round_.title}工作进展情况报告")
    doc.heading("一、总体情况")
    submitted = sum(
        1 for r in all_reports if r.status in (ReportStatus.SUBMITTED, ReportStatus.ACCEPTED)
    )
    accepted = sum(1 for r in all_reports if r.status == ReportStatus.ACCEPTED)
    late_reports = sum(1 for r in all_reports if r.is_late)
    doc.para(
        f"本轮填报共涉及任务 {len(tasks)} 项、单位任务 {len(all_reports)} 个。"
        f"已提交报告 {submitted} 份, 审核通过 {accepted} 份, 逾期提交 {late_reports} 份。"
        f"任务已完成 {n_done} 项, 滞后 {len(n_late)} 项。"
    )
    doc.heading("二、各项任务进展")
    current = None
    for t in tasks:
        section = t.section.title if t.section else "其他任务"
        if section != current:
            current = section
            doc.para(section, bold_lead="")
        units = "、".join(u.name for u in t.units.all()) or "—"
        doc.para(
            f"{t.title} (责任单位: {units}; 状态: {t.progress_status.label})",
            bold_lead=f"{t.number or '·'} ",
        )
        text = _progress_text(reports.get(t.pk, []), accepted_only=True)
        doc.para(text or "暂无审核通过的进展报告。")
    doc.heading("三、逾期未完成任务")
    if n_late:
        for t in n_late:
            doc.para(f"{t.title} (完成时限: {t.deadline or '—'})")
    else:
        doc.para("无。")
    doc.signature(round_.office.name, today)
    return doc.bytes()


def _text_cell(ws, row: int, col: int, value: Any, font: Font) -> None:  # type: ignore[no-untyped-def]
    cell = write_cell(ws, row, col, value)  # text, never a formula
    cell.font = font
    cell.alignment = Alignment(wrap_text=True, vertical="top")


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


def round_ledger_xlsx(*, user: Any, round_: ReportingRound, today: dt.date) -> bytes:
    """The Excel ledger of a round with progress and status columns, office print set-up."""
    from kepu.progress.services import office_setting

    tasks, reports = _round_tasks(user, round_)
    attach_status(
        tasks,
        today=today,
        warn_days=office_setting(round_.office).warn_days,
        reports=[r for rs in reports.values() for r in rs],
    )
    wb = new_workbook()
    ws = wb.active
    ws.title = "进展台账"
    title_font = Font(name="宋体", size=16, bold=True)
    head_font = Font(name="宋体", size=11, bold=True)
    body_font = Font(name="宋体", size=10)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LEDGER_HEADERS))
    _text_cell(ws, 1, 1, f"{round_.title} 任务进展台账", title_font)
    ws.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=len(LEDGER_HEADERS))
    _text_cell(ws, 2, 1, f"{round_.office.name}  导出日期: {today:%Y-%m-%d}", body_font)
    for col, (label, width) in enumerate(zip(LEDGER_HEADERS, WIDTHS, strict=True), start=1):
        _text_cell(ws, 3, col, label, head_font)
        ws.cell(row=3, column=col).border = border
        ws.column_dimensions[get_column_letter(col)].width = width
    for i, t in enumerate(tasks, start=1):
        row = 3 + i
        values = [
            str(i),
            t.section.title if t.section else " › ".join(t.path or []),
            t.text or t.title,
            "、".join(u.name for u in t.units.all() if u.role == "lead"),
            "、".join(u.name for u in t.units.all() if u.role == "cooperate"),
            "; ".join(g.label for g in t.targets.all()),
            t.deadline,
            _progress_text(reports.get(t.pk, []), accepted_only=False),
            t.progress_status.label,
        ]
        for col, v in enumerate(values, start=1):
            _text_cell(ws, row, col, v, body_font)
            ws.cell(row=row, column=col).border = border
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "3:3"
    ws.freeze_panes = "A4"
    return workbook_bytes(wb)
