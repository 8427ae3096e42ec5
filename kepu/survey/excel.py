"""Excel export of every results table: overall, each breakdown, and the trend."""

from __future__ import annotations

from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from kepu.core.files import (
    CELL_STYLE,
    DECIMAL_STYLE,
    HEADER_STYLE,
    TITLE_STYLE,
    add_office_styles,
    append_row,
    new_workbook,
    workbook_bytes,
    write_cell,
)
from kepu.survey.models import BREAKDOWN_LABELS, CI_METHOD_SHORT, CIMethod, Estimate, Wave
from kepu.survey.selectors import Results, Trend


def headers(method: str) -> list[str]:
    """Column headers: the office's CI method first, the other one after it."""
    chosen = CI_METHOD_SHORT.get(method, CI_METHOD_SHORT[CIMethod.LOGIT])
    other = next(v for k, v in CI_METHOD_SHORT.items() if v != chosen)
    return [
        "类别",
        "样本量",
        "具备科学素质的比例(%)",
        "标准误(百分点)",
        f"95%置信区间下限(%, {chosen})",
        f"95%置信区间上限(%, {chosen})",
        f"另一方法下限(%, {other})",
        f"另一方法上限(%, {other})",
        "设计效应",
        "平均得分",
        "平均得分标准误",
        "提示",
    ]


WIDTHS = [22, 9, 14, 12, 16, 16, 16, 16, 10, 10, 12, 40]


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 2)


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _row(rate: Estimate, mean: Estimate | None, method: str) -> list[object]:
    low, high = rate.interval(method)
    other_low, other_high = rate.other_interval(method)
    return [
        rate.label,
        rate.n,
        _pct(rate.estimate),
        _pct(rate.se),
        _pct(low),
        _pct(high),
        _pct(other_low),
        _pct(other_high),
        _round(rate.deff),
        _round(mean.estimate, 2) if mean else None,
        _round(mean.se, 3) if mean else None,
        rate.flag_reason,
    ]


def plain(value: Any) -> str:
    """A number as office staff write it: thousands separators, no exponent (1,500,000)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if value == int(value) and abs(value) < 1e15:
            return f"{int(value):,}"
        text = f"{value:,.6f}".rstrip("0").rstrip(".")
        return text if text not in ("0", "-0") else "0"
    return str(value)


def config_rows(wave: Wave, run: Any) -> list[tuple[str, str]]:
    """The "估计配置" sheet: every setting of a run in Chinese, numbers written out."""
    from kepu.survey.tasks import category_labels

    config = run.config or {}
    labels = category_labels(wave.region)
    rows: list[tuple[str, str]] = [
        ("估计任务", f"#{run.pk}"),
        ("完成时间", run.finished_at.strftime("%Y-%m-%d %H:%M") if run.finished_at else ""),
        ("引擎版本", str(run.engine_version or "")),
        ("数据文件", str(config.get("data_source", ""))),
        ("数据版本", plain(config.get("data_version", ""))),
        ("受访者人数", plain(run.n_respondents or 0)),
    ]
    design = config.get("design") or {}
    if design:
        rows.append(
            (
                "抽样设计",
                f"样本量 {plain(design.get('n', 0))}; 层数 {plain(design.get('strata', 0))}; "
                f"初级抽样单元 {plain(design.get('psu', 0))}",
            )
        )
    by = config.get("by") or []
    rows.append(("分组变量", "、".join(BREAKDOWN_LABELS.get(v, v) for v in by)))
    rows.append(("是否按总体边际校准", "是" if config.get("raked") else "否"))
    for variable, cats in (config.get("margins") or {}).items():
        names = labels.get(variable, {})
        order = {code: i for i, code in enumerate(names)}
        ordered = sorted(cats.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        text = "; ".join(f"{names.get(k, k)} {plain(v)}" for k, v in ordered)
        rows.append((f"总体边际: {BREAKDOWN_LABELS.get(variable, variable)}", text))
    conv = run.convergence or {}
    if conv:
        parts = [f"{'已收敛' if conv.get('converged') else '未收敛'}"]
        if conv.get("iterations") is not None:
            parts.append(f"迭代 {plain(conv['iterations'])} 次")
        if conv.get("max_error") is not None:
            parts.append(f"最大误差 {plain(float(conv['max_error']))}")
        if conv.get("g_min") is not None and conv.get("g_max") is not None:
            parts.append(
                f"权重调整系数 {plain(round(float(conv['g_min']), 4))}"
                f" — {plain(round(float(conv['g_max']), 4))}"
            )
        rows.append(("校准收敛情况", "; ".join(parts)))
    if config.get("threshold") is not None:
        rows.append(("具备科学素质的得分线", f"{plain(float(config['threshold']))} 分"))
    if config.get("min_n") is not None:
        rows.append(("最少样本量", f"{plain(config['min_n'])} 人"))
    if config.get("max_rse") is not None:
        rows.append(("最大相对标准误", f"{plain(round(float(config['max_rse']) * 100, 2))}%"))
    rows.append(("置信区间方法", CI_METHOD_SHORT.get(wave.ci_method, "")))
    return rows


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
    add_office_styles(wb)
    write_cell(ws, 1, 1, caption, style=TITLE_STYLE)
    for col, header in enumerate(headers, start=1):
        write_cell(ws, 2, col, header, style=HEADER_STYLE)
    # Named styles: one lookup per cell instead of a style-table search per attribute.
    for r, values in enumerate(rows, start=3):
        for col, value in enumerate(values, start=1):
            style = DECIMAL_STYLE if isinstance(value, float) else CELL_STYLE
            write_cell(ws, r, col, value, style=style)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "B3"


def results_workbook(*, wave: Wave, results: Results, trend: Trend | None = None) -> bytes:
    wb = new_workbook(keep_default_sheet=False)
    run = results.run
    caption = f"{wave.title} · 估计任务#{run.pk} · 样本量 {run.n_respondents}"
    method = wave.ci_method
    cols = headers(method)
    overall_rows = []
    if results.overall_rate is not None:
        overall_rows.append(_row(results.overall_rate, results.overall_mean, method))
    _sheet(wb, "总体", caption, cols, overall_rows, WIDTHS)
    for b in results.breakdowns:
        if not b.rates:
            continue
        _sheet(
            wb,
            f"按{b.label}",
            f"{wave.title} · 按{b.label}",
            cols,
            [_row(rate, mean, method) for rate, mean in b.rows],
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
                    _pct(est.interval(method)[0]) if est else None,
                    _pct(est.interval(method)[1]) if est else None,
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
    for cell in config[1]:
        cell.font = Font(bold=True)
    for label, value in config_rows(wave, run):
        append_row(config, [label, value])
    for row in config.iter_rows(min_row=2, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")
    config.column_dimensions["A"].width = 22
    config.column_dimensions["B"].width = 90
    return workbook_bytes(wb)


def questionnaire_workbook(tables: Any) -> bytes:
    """The questionnaire and scoring rules as one sheet (读回: ``config.sheet_to_tables``)."""
    from kepu.survey import config

    wb = new_workbook()
    ws = wb.active
    ws.title = "问卷与计分规则"
    for r, values in enumerate(config.tables_to_sheet(tables), start=1):
        for col, value in enumerate(values, start=1):
            cell = write_cell(ws, r, col, value)
            if isinstance(value, str) and value.startswith("【"):
                cell.font = Font(size=12, bold=True)
            elif values in (config.ITEM_HEADERS, config.DIMENSION_HEADERS, config.BAND_HEADERS):
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDE7F3")
    for col, width in enumerate([10, 40, 16, 8, 8, 10, 8], start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    return workbook_bytes(wb)
