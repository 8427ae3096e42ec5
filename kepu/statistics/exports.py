"""Excel files of the statistics, all through kepu.core.files (the one Excel writer):
the report template (generated from the catalogue), the roll-up in the table layout
(one sheet per category: 地区 rows, indicator columns, the total first) and the
population template."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from kepu.core.files import (
    CELL_STYLE,
    HEADER_STYLE,
    TITLE_STYLE,
    TOTAL_STYLE,
    add_office_styles,
    new_workbook,
    office_page_setup,
    workbook_bytes,
    write_cell,
    write_row,
)
from kepu.statistics import core
from kepu.statistics.services import POPULATION_HEADER, REPORT_HEADER


def _header(ws: Any, row: int, values: list[str]) -> None:
    for col, value in enumerate(values, start=1):
        write_cell(ws, row, col, value, style=HEADER_STYLE)


def _row(ws: Any, row: int, values: list[Any], style: str = CELL_STYLE) -> None:
    for col, value in enumerate(values, start=1):
        write_cell(ws, row, col, value, style=style)


def report_template(
    *, catalogue: core.Catalogue, values: dict[str, int], notes: dict[str, str]
) -> bytes:
    """The unit's form as a sheet: one indicator per row, its current value filled."""
    wb = new_workbook()
    ws = wb.active
    ws.title = "科普统计报表"
    add_office_styles(wb)
    _header(ws, 1, REPORT_HEADER)
    for n, ind in enumerate(catalogue.indicators, start=2):
        _row(
            ws,
            n,
            [
                ind.code,
                ind.name,
                core.CATEGORIES[ind.category],
                ind.unit,
                "存量" if ind.kind == "stock" else "流量",
                values.get(ind.code, ""),
                notes.get(ind.code, ""),
            ],
        )
    for col, width in enumerate([8, 44, 12, 8, 8, 14, 30], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    office_page_setup(ws, header_row=1, freeze_first_column=True)
    return workbook_bytes(wb)


def rollup_workbook(*, title: str, catalogue: core.Catalogue, rollup: Any) -> bytes:
    wb = new_workbook(keep_default_sheet=False)
    add_office_styles(wb)
    groups = [rollup.total, *rollup.rows]
    first = "部门类别" if rollup.by == "department" else "地区"
    for key, label in core.CATEGORIES.items():
        inds = [i for i in catalogue.indicators if i.category == key]
        if not inds:
            continue
        ws = wb.create_sheet(title=label[:28])
        last = len(inds) + 2
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=last)
        cell = write_cell(ws, 1, 1, f"{title} · {label}", style=TITLE_STYLE)
        cell.alignment = Alignment(horizontal="center")
        _header(ws, 2, [first, "填报单位数", *[f"{i.name}({i.unit})" for i in inds]])
        for r, group in enumerate(groups, start=3):
            _row(
                ws,
                r,
                [group.label, group.reports, *[group.values.get(i.code, 0) for i in inds]],
                TOTAL_STYLE if group is rollup.total else CELL_STYLE,
            )
        ws.column_dimensions["A"].width = 22
        for col in range(2, last + 1):
            ws.column_dimensions[get_column_letter(col)].width = 12
        office_page_setup(ws, header_row=2, freeze_first_column=True)
    if catalogue.derived:
        ws = wb.create_sheet(title="派生指标")
        _header(
            ws,
            1,
            [first, "常住人口(人)", *[f"{d.name}({d.unit})" for d in catalogue.derived]],
        )
        for r, group in enumerate(groups, start=2):
            _row(
                ws,
                r,
                [
                    group.label,
                    group.population if group.population is not None else "",
                    *[
                        group.derived.get(d.code) if group.derived.get(d.code) is not None else ""
                        for d in catalogue.derived
                    ],
                ],
            )
        ws.column_dimensions["A"].width = 22
        office_page_setup(ws, header_row=1, freeze_first_column=True)
    return workbook_bytes(wb)


def population_template(*, rows: list[tuple[str, str, int, int | str]]) -> bytes:
    wb = new_workbook()
    ws = wb.active
    ws.title = "常住人口"
    add_office_styles(wb)
    _header(ws, 1, POPULATION_HEADER)
    for n, row in enumerate(rows, start=2):
        write_row(ws, n, list(row))
    for col, width in enumerate([14, 20, 8, 16], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    return workbook_bytes(wb)
