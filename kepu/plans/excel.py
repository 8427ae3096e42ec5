"""Ledger (任务台账) in Excel: export in the customary layout (the import is in
:mod:`kepu.plans.importing`, called through ``kepu.plans.services.ledger_import``)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from kepu.core.files import (
    append_streaming_row,
    new_streaming_workbook,
    new_workbook,
    workbook_bytes,
    write_cell,
)
from kepu.plans.models import Task

LEDGER_HEADERS = ["序号", "任务内容", "牵头单位", "配合单位", "目标任务", "完成时限"]


def ledger_workbook(*, title: str, tasks: Iterable[Task]) -> bytes:
    wb = new_workbook()
    ws = wb.active
    ws.title = "任务台账"
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LEDGER_HEADERS))
    write_cell(ws, 1, 1, title).font = Font(size=14, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    for col, header in enumerate(LEDGER_HEADERS, start=1):
        cell = write_cell(ws, 2, col, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F3")
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.border = border
    row = 3
    for number, task in enumerate(tasks, start=1):
        leads = [u.name for u in task.lead_units] or [u.name for u in task.unroled_units]
        values = [
            number,
            task.text or task.title,
            "、".join(leads),
            "、".join(u.name for u in task.cooperating_units),
            "；".join(t.text for t in task.targets.all()),
            task.deadline,
        ]
        for col, value in enumerate(values, start=1):
            cell = write_cell(ws, row, col, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = border
        row += 1
    for col, width in enumerate([6, 70, 24, 30, 28, 14], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A3"
    return workbook_bytes(wb)


# --- streaming export (background job) ----------------------------------------------------
LEDGER_WIDTHS = [6, 70, 24, 30, 28, 14]


def ledger_row(number: int, task: Task) -> list[Any]:
    """One ledger line in the export's column order (LEDGER_HEADERS)."""
    leads = [u.name for u in task.lead_units] or [u.name for u in task.unroled_units]
    return [
        number,
        task.text or task.title,
        "、".join(leads),
        "、".join(u.name for u in task.cooperating_units),
        "；".join(t.text for t in task.targets.all()),
        task.deadline,
    ]


def _ledger_styles(wb: Any) -> None:
    from openpyxl.styles import NamedStyle

    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wb.add_named_style(NamedStyle(name="kepu_title", font=Font(name="宋体", size=14, bold=True)))
    wb.add_named_style(
        NamedStyle(
            name="kepu_header",
            font=Font(name="宋体", bold=True),
            fill=PatternFill("solid", fgColor="DDE7F3"),
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
            border=border,
        )
    )
    wb.add_named_style(
        NamedStyle(
            name="kepu_cell",
            font=Font(name="宋体"),
            alignment=Alignment(wrap_text=True, vertical="top"),
            border=border,
        )
    )


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
    from openpyxl.worksheet.page import PageMargins

    wb = new_streaming_workbook()
    _ledger_styles(wb)
    ws = wb.create_sheet("任务台账")
    for col, width in enumerate(LEDGER_WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A3"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_title_rows = "2:2"
    append_streaming_row(ws, [title], "kepu_title")
    append_streaming_row(ws, LEDGER_HEADERS, "kepu_header")
    written = 0
    for number, task in enumerate(tasks, start=1):
        append_streaming_row(ws, ledger_row(number, task), "kepu_cell")
        written = number
        if progress is not None and number % every == 0:
            progress(number)
    wb.save(out)
    return written
