"""Ledger (任务台账) in Excel: export in the customary layout (the import is in
:mod:`kepu.plans.importing`, called through ``kepu.plans.services.ledger_import``)."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from kepu.core.files import new_workbook, workbook_bytes, write_cell
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
