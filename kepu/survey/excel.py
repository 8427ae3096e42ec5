"""Excel export of every results table: overall, each breakdown, and the trend."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from kepu.core.files import append_row, new_workbook, workbook_bytes, write_cell
from kepu.survey.models import Estimate, Wave
from kepu.survey.selectors import Results, Trend

THIN = Side(style="thin", color="999999")
BORDER = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
HEADERS = [
    "类别",
    "样本量",
    "具备科学素质的比例(%)",
    "标准误(百分点)",
    "95%置信区间下限(%)",
    "95%置信区间上限(%)",
    "logit置信区间下限(%)",
    "logit置信区间上限(%)",
    "设计效应",
    "平均得分",
    "平均得分标准误",
    "提示",
]
WIDTHS = [22, 9, 14, 12, 14, 14, 14, 14, 10, 10, 12, 40]


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _row(rate: Estimate, mean: Estimate | None) -> list[object]:
    return [
        rate.label,
        rate.n,
        _pct(rate.estimate),
        _pct(rate.se),
        _pct(rate.ci_low),
        _pct(rate.ci_high),
        _pct(rate.ci_logit_low),
        _pct(rate.ci_logit_high),
        _round(rate.deff),
        _round(mean.estimate, 2) if mean else None,
        _round(mean.se, 3) if mean else None,
        rate.flag_reason,
    ]


def _sheet(
    wb: Any,
    title: str,
    caption: str,
    headers: list[str],
    rows: list[list[object]],
    widths: list[int],
) -> None:
    ws = wb.create_sheet(title[:31])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    write_cell(ws, 1, 1, caption).font = Font(size=13, bold=True)
    for col, header in enumerate(headers, start=1):
        cell = write_cell(ws, 2, col, header)
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE7F3")
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BORDER
    for r, values in enumerate(rows, start=3):
        for col, value in enumerate(values, start=1):
            cell = write_cell(ws, r, col, value)
            cell.border = BORDER
            if isinstance(value, float):
                cell.number_format = "0.00"
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "B3"


def results_workbook(*, wave: Wave, results: Results, trend: Trend | None = None) -> bytes:
    wb = new_workbook(keep_default_sheet=False)
    run = results.run
    caption = f"{wave.title} · 估计任务#{run.pk} · 样本量 {run.n_respondents}"
    overall_rows = []
    if results.overall_rate is not None:
        overall_rows.append(_row(results.overall_rate, results.overall_mean))
    _sheet(wb, "总体", caption, HEADERS, overall_rows, WIDTHS)
    for b in results.breakdowns:
        if not b.rates:
            continue
        _sheet(
            wb,
            f"按{b.label}",
            f"{wave.title} · 按{b.label}",
            HEADERS,
            [_row(rate, mean) for rate, mean in b.rows],
            WIDTHS,
        )
    if trend is not None:
        rows = []
        for p in trend.points:
            est = p.estimate
            rows.append(
                [
                    p.wave.year,
                    p.wave.title,
                    _pct(est.estimate) if est else None,
                    _pct(est.ci_low) if est else None,
                    _pct(est.ci_high) if est else None,
                    p.target.display if p.target else "",
                    p.target.rate if p.target else None,
                    _round(p.gap, 2),
                ]
            )
        _sheet(
            wb,
            "趋势",
            f"{wave.region.name} 公民具备科学素质的比例: 历次调查与目标",
            [
                "年份",
                "调查",
                "比例(%)",
                "95%下限(%)",
                "95%上限(%)",
                "目标",
                "目标比例(%)",
                "差距(目标−估计, 百分点)",
            ],
            rows,
            [8, 36, 10, 11, 11, 22, 12, 22],
        )
    config = wb.create_sheet("估计配置")
    append_row(config, ["项目", "值"])
    append_row(config, ["引擎版本", run.engine_version])
    append_row(config, ["数据文件", run.config.get("data_source", "")])
    append_row(config, ["是否按总体边际校准", "是" if run.config.get("raked") else "否"])
    for variable, cats in (run.config.get("margins") or {}).items():
        append_row(config, [f"边际: {variable}", "; ".join(f"{k}={v:g}" for k, v in cats.items())])
    append_row(config, ["收敛信息", str(run.convergence)])
    append_row(config, ["最少样本量", run.config.get("min_n")])
    append_row(config, ["最大相对标准误", run.config.get("max_rse")])
    config.column_dimensions["A"].width = 22
    config.column_dimensions["B"].width = 90
    return workbook_bytes(wb)
