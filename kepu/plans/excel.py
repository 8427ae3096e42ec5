"""Ledger (任务台账) in Excel: export in the customary layout (the import is in
:mod:`kepu.plans.importing`, called through ``kepu.plans.services.ledger_import``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from kepu.core.files import (
    CELL_STYLE,
    HEADER_STYLE,
    SUBTITLE_STYLE,
    TITLE_STYLE,
    add_office_styles,
    append_streaming_row,
    new_streaming_workbook,
    new_workbook,
    office_page_setup,
    workbook_bytes,
    write_cell,
)
from kepu.plans.models import Task

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
WIDTHS = [6, 18, 48, 18, 22, 22, 14, 36, 8]
HEADER_ROW = 3


def _progress(tasks: list[Task]) -> dict[int, str]:
    """The latest submitted or accepted report text per task (lead unit first)."""
    from kepu.progress.models import Report, ReportStatus

    out: dict[int, str] = {}
    ids = [t.pk for t in tasks]
    for start in range(0, len(ids), 5000):
        rows = (
            Report.objects.filter(  # unscoped: narrowing to tasks the caller restricted
                task_id__in=ids[start : start + 5000],
                status__in=(ReportStatus.SUBMITTED, ReportStatus.ACCEPTED),
            )
            .exclude(narrative="")
            .order_by("task_id", "-round__closes_on", "role", "pk")
            .values_list("task_id", "organisation__name", "narrative")
        )
        for task_id, org, text in rows:
            if task_id not in out:
                out[task_id] = f"{org}: {text}"
    return out


def _sheet(wb, title: str, subtitle: str, tasks: list[Task]) -> None:  # type: ignore[no-untyped-def]
    safe = re.sub(r"[\\/*?:\[\]]", "-", title)[:28].strip("'") or "任务台账"
    name, n = safe, 2
    while name in wb.sheetnames:  # two plans with the same title
        name, n = f"{safe[:25]}({n})", n + 1
    ws = wb.create_sheet(title=name)
    add_office_styles(wb)
    last = len(LEDGER_HEADERS)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
    write_cell(ws, 1, 1, title, style=TITLE_STYLE).alignment = Alignment(horizontal="center")
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=last)
    write_cell(ws, 2, 1, subtitle, style=SUBTITLE_STYLE)
    for col, header in enumerate(LEDGER_HEADERS, start=1):
        write_cell(ws, HEADER_ROW, col, header, style=HEADER_STYLE)
    # Named styles: one lookup per cell (per-cell Font/Border objects cost openpyxl a
    # style-table search each, 30 s for a city's 1,400 tasks).
    for number, values in enumerate(ledger_rows(tasks), start=1):
        row = HEADER_ROW + number
        for col, value in enumerate(values, start=1):
            write_cell(ws, row, col, value, style=CELL_STYLE)
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    office_page_setup(ws, header_row=HEADER_ROW)


def ledger_workbook(*, title: str, tasks: Iterable[Task]) -> bytes:
    """The ledger for office use: title row, issuer and date, the customary columns with
    section, deadline, progress and status; 宋体, landscape A4 fit to width, the header
    row repeated on every printed page; one sheet per plan when the tasks span several."""
    from django.utils import timezone

    tasks = list(tasks)
    by_plan: dict[int, list[Task]] = {}
    for t in tasks:
        by_plan.setdefault(t.plan_id, []).append(t)
    wb = new_workbook(keep_default_sheet=False)
    today = timezone.localdate()
    if len(by_plan) <= 1:
        plan = tasks[0].plan if tasks else None
        subtitle = "  ".join(
            x
            for x in (
                f"发文机关: {plan.issuer}" if plan and plan.issuer else "",
                f"导出日期: {today:%Y-%m-%d}",
            )
            if x
        )
        _sheet(wb, title, subtitle, tasks)
    else:
        for plan_tasks in by_plan.values():
            plan = plan_tasks[0].plan
            subtitle = f"发文机关: {plan.issuer or '—'}  导出日期: {today:%Y-%m-%d}"
            _sheet(wb, f"{plan.title} 任务台账", subtitle, plan_tasks)
    return workbook_bytes(wb)


# --- streaming export (background job) ----------------------------------------------------
def ledger_rows(tasks: Iterable[Task], *, chunk: int = 200) -> Iterator[list[Any]]:
    """Ledger lines in LEDGER_HEADERS order. Status and the latest progress text are looked
    up for ``chunk`` tasks at a time, so a streamed export stays in constant memory."""
    from django.utils import timezone

    from kepu.progress.selectors import attach_status

    number = 0
    it = iter(tasks)
    while batch := list(islice(it, chunk)):
        saved = [t for t in batch if getattr(t, "pk", None) is not None]
        progress: dict[int, str] = {}
        if saved:
            attach_status(saved, today=timezone.localdate())  # N of each plan's office
            progress = _progress(saved)
        for task in batch:
            number += 1
            leads = [u.name for u in task.lead_units] or [u.name for u in task.unroled_units]
            status = getattr(task, "progress_status", None)
            yield [
                number,
                " › ".join(getattr(task, "path", None) or []),
                task.text or task.title,
                "、".join(leads),
                "、".join(u.name for u in task.cooperating_units),
                "；".join(t.label for t in task.targets.all()),
                task.deadline,
                progress.get(getattr(task, "pk", None) or 0, ""),
                status.label if status is not None else "",
            ]


def ledger_workbook_stream(
    *,
    title: str,
    tasks: Iterable[Task],
    out: Any,
    progress: Any = None,
    every: int = 500,
) -> int:
    """Write the ledger to ``out`` (a path or binary file) in constant memory.

    openpyxl write-only mode with named styles (no per-cell style objects); rows are
    produced by :func:`ledger_row`.  ``progress(rows_written)`` is called every
    ``every`` rows.  Returns the number of task rows written.
    """
    from django.utils import timezone

    wb = new_streaming_workbook()
    add_office_styles(wb)
    ws = wb.create_sheet("任务台账")
    for col, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    office_page_setup(ws, header_row=HEADER_ROW)
    append_streaming_row(ws, [title], TITLE_STYLE)
    append_streaming_row(ws, [f"导出日期: {timezone.localdate():%Y-%m-%d}"], SUBTITLE_STYLE)
    append_streaming_row(ws, LEDGER_HEADERS, HEADER_STYLE)
    written = 0
    for number, values in enumerate(ledger_rows(tasks), start=1):
        append_streaming_row(ws, values, CELL_STYLE)
        written = number
        if progress is not None and number % every == 0:
            progress(number)
    wb.save(out)
    return written
