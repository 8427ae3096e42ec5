"""Ledger (任务台账) in Excel: export in the customary layout and all-or-nothing import."""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from kepu.core.files import SPREADSHEET, cell_text, check_upload
from kepu.orgs.models import Organisation
from kepu.orgs.scoping import Action
from kepu.orgs.selectors import organisation_match
from kepu.orgs.services import split_names
from kepu.plans.models import Plan, PlanKind, Task
from kepu.plans.services import PlanFields, plan_create_from_parsed

LEDGER_HEADERS = ["序号", "任务内容", "牵头单位", "配合单位", "目标任务", "完成时限"]

# Header spellings seen in real ledgers → our column.
HEADER_ALIASES = {
    "序号": "number",
    "编号": "number",
    "任务内容": "content",
    "重点任务": "content",
    "工作任务": "content",
    "任务": "content",
    "工作内容": "content",
    "具体任务": "content",
    "牵头单位": "lead",
    "责任单位": "lead",
    "牵头部门": "lead",
    "配合单位": "cooperate",
    "配合部门": "cooperate",
    "参与单位": "cooperate",
    "目标任务": "targets",
    "目标": "targets",
    "工作目标": "targets",
    "完成时限": "deadline",
    "完成时间": "deadline",
    "时限": "deadline",
}


def ledger_workbook(*, title: str, tasks: Iterable[Task]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "任务台账"
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(LEDGER_HEADERS))
    ws.cell(1, 1, title).font = Font(size=14, bold=True)
    ws.cell(1, 1).alignment = Alignment(horizontal="center")
    for col, header in enumerate(LEDGER_HEADERS, start=1):
        cell = ws.cell(2, col, header)
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
            cell = ws.cell(row, col, value)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            cell.border = border
        row += 1
    for col, width in enumerate([6, 70, 24, 30, 28, 14], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A3"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass
class LedgerImportError(Exception):
    errors: list[str]

    def __str__(self) -> str:
        return "；".join(self.errors)


def _header_map(rows: list[tuple[Any, ...]]) -> tuple[int, dict[str, int]]:
    for idx, row in enumerate(rows[:10]):
        mapping: dict[str, int] = {}
        for col, value in enumerate(row):
            key = HEADER_ALIASES.get(cell_text(value).replace(" ", "").replace("\n", ""))
            if key and key not in mapping:
                mapping[key] = col
        if "content" in mapping:
            return idx, mapping
    raise LedgerImportError(
        ["找不到表头: 需要包含「任务内容」列 (以及「牵头单位」「配合单位」等)。"]
    )


def _targets_of(text: str) -> list[dict[str, Any]]:
    if not text:
        return []
    from kepu.plans import parsing

    try:
        result = parsing.parse_text(text).to_dict()
    except parsing.ParseError:
        return []
    found = list(result.get("targets") or [])
    for task in result.get("tasks") or []:
        found.extend(task.get("targets") or [])
    return found


def ledger_import_xlsx(
    *,
    user: Any,
    owner: Organisation,
    name: str,
    data: bytes,
    title: str,
    kind: str = PlanKind.OTHER,
) -> Plan:
    """Import an existing ledger as a plan. All-or-nothing; row errors are collected."""
    check_upload(name, data, SPREADSHEET)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise LedgerImportError([f"无法读取 Excel 文件: {exc.__class__.__name__}"]) from exc
    ws = wb.worksheets[0]
    rows = [tuple(r) for r in ws.iter_rows(values_only=True)]
    header_idx, cols = _header_map(rows)
    visible = Organisation.objects.restrict(user, Action.VIEW)
    match_cache: dict[str, bool] = {}

    def known(unit: str) -> bool:
        if unit not in match_cache:
            matches = organisation_match(name=unit, candidates=visible)
            match_cache[unit] = any(m.how in ("exact", "alias") for m in matches)
        return match_cache[unit]

    errors: list[str] = []
    tasks: list[dict[str, Any]] = []
    deadlines: dict[int, str] = {}
    for offset, row in enumerate(rows[header_idx + 1 :], start=header_idx + 2):

        def get(key: str, row: tuple[Any, ...] = row) -> str:
            col = cols.get(key)
            return cell_text(row[col]) if col is not None and col < len(row) else ""

        if not any(cell_text(v) for v in row):
            continue
        content = get("content")
        if not content:
            errors.append(f"第{offset}行: 「任务内容」为空。")
            continue
        lead, coop = split_names(get("lead")), split_names(get("cooperate"))
        for label, names in (("牵头单位", lead), ("配合单位", coop)):
            for unit in names:
                if not known(unit):
                    errors.append(
                        f"第{offset}行: {label}「{unit}」在组织库中找不到对应组织 "
                        "(请先新建该组织或为其添加别名)。"
                    )
        if not lead and not coop:
            errors.append(f"第{offset}行: 没有填写牵头单位。")
        title_text = content.split("。", 1)[0].strip() or content
        tasks.append(
            {
                "path": [],
                "number": get("number") or None,
                "title": title_text[:500],
                "text": content,
                "lead": lead,
                "cooperate": coop,
                "responsible": lead + coop,
                "targets": _targets_of(get("targets")) or _targets_of(content),
            }
        )
        deadlines[len(tasks) - 1] = get("deadline")
    if not tasks and not errors:
        errors.append("表格中没有任务行。")
    if errors:
        raise LedgerImportError(errors)
    try:
        return plan_create_from_parsed(
            user=user,
            owner=owner,
            parsed={"tasks": tasks, "targets": []},
            fields=PlanFields(title=title, kind=kind),
            source_name=name,
            source_bytes=data,
            deadlines=deadlines,
        )
    except ValidationError as exc:
        raise LedgerImportError(exc.messages) from exc


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


def _ledger_styles(wb: Workbook) -> None:
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


def _styled(ws: Any, value: Any, style: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # user text stays text: "=…" is never a formula
    cell.style = style
    return cell


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

    wb = Workbook(write_only=True)
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
    ws.append([_styled(ws, title, "kepu_title")])
    ws.append([_styled(ws, h, "kepu_header") for h in LEDGER_HEADERS])
    written = 0
    for number, task in enumerate(tasks, start=1):
        ws.append([_styled(ws, v, "kepu_cell") for v in ledger_row(number, task)])
        written = number
        if progress is not None and number % every == 0:
            progress(number)
    wb.save(out)
    return written
