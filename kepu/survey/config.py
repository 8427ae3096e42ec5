"""The questionnaire and scoring rules as tables office staff can fill in.

A wave stores the engine's questionnaire (``items``) and scoring scheme (``dimensions``,
``bands``, ``literate_band``, ``total_points``) as JSON. This module turns them into three
plain tables and back:

- items: 题号, 题目, 维度 (the dimension's name), 题型, 分值, 正确答案, 选项数;
- dimensions: 维度, 满分;
- bands, lowest first: 等级, 起点分数 (a respondent reaches a band with a score at or
  above its threshold), and which band counts as 具备科学素质.

:func:`tables_to_config` checks the tables with Chinese messages (points add up to the
total, every dimension's items add up to its points, thresholds rise band by band, answers
fit the item type) before the engine's own check. The same tables are written to and read
from one sheet (Excel or CSV) with section rows 【题目】, 【维度】, 【等级】 and a 总分 row.

Pure: no Django.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

KIND_LABELS = {"single": "单选", "multiple": "多选", "true_false": "判断"}
KIND_BY_LABEL = {
    **{v: k for k, v in KIND_LABELS.items()},
    **{k: k for k in KIND_LABELS},
    "单选题": "single",
    "多选题": "multiple",
    "判断题": "true_false",
    "是非": "true_false",
    "是非题": "true_false",
}
TRUE_WORDS = {"对", "是", "正确", "√", "T", "TRUE", "Y", "1"}
FALSE_WORDS = {"错", "否", "错误", "×", "F", "FALSE", "N", "0"}
# Default names of the four bands of the national standard, lowest first.
STANDARD_BANDS = [("low", "较低"), ("basic", "基本具备"), ("literate", "具备"), ("high", "高阶")]

ITEM_HEADERS = ["题号", "题目", "维度", "题型", "分值", "正确答案", "选项数"]
DIMENSION_HEADERS = ["维度", "满分"]
BAND_HEADERS = ["等级", "起点分数", "具备科学素质"]
SECTION_ITEMS, SECTION_DIMENSIONS, SECTION_BANDS = "【题目】", "【维度】", "【等级】"
MAX_ROWS = 500  # items in one questionnaire (the national test has a few dozen)


@dataclass
class Tables:
    """What the form shows and posts: strings, as typed."""

    items: list[dict[str, str]] = field(default_factory=list)
    dimensions: list[dict[str, str]] = field(default_factory=list)
    bands: list[dict[str, str]] = field(default_factory=list)
    literate: str = ""  # the name of the band that counts as literate
    total: str = "100"
    name: str = ""


def _num(value: Any) -> str:
    if value is None or value == "":
        return ""
    f = float(value)
    return str(int(f)) if f == int(f) else f"{f:g}"


def _key_text(item: Mapping[str, Any]) -> str:
    key = item.get("key")
    if item.get("kind") == "true_false":
        truth = key in (True, 1) or str(key).strip().upper() in TRUE_WORDS
        return "对" if truth else "错"
    if isinstance(key, list | tuple):
        return "".join(str(k) for k in key)
    return str(key if key is not None else "")


def config_to_tables(questionnaire: Mapping[str, Any], scoring: Mapping[str, Any]) -> Tables:
    dims = list(scoring.get("dimensions") or [])
    dim_label = {d.get("code"): d.get("label") or d.get("code") for d in dims}
    bands = sorted(scoring.get("bands") or [], key=lambda b: float(b.get("threshold") or 0))
    literate_code = scoring.get("literate_band", "literate")
    return Tables(
        items=[
            {
                "id": str(it.get("id", "")),
                "text": str(it.get("text", "")),
                "dimension": str(dim_label.get(it.get("dimension"), it.get("dimension", ""))),
                "kind": KIND_LABELS.get(it.get("kind", ""), str(it.get("kind", ""))),
                "points": _num(it.get("points")),
                "key": _key_text(it),
                "options": "" if it.get("kind") == "true_false" else _num(it.get("options")),
            }
            for it in questionnaire.get("items") or []
        ],
        dimensions=[
            {"label": str(d.get("label") or d.get("code")), "points": _num(d.get("max_points"))}
            for d in dims
        ],
        bands=[
            {"label": str(b.get("label") or b.get("code")), "threshold": _num(b.get("threshold"))}
            for b in bands
        ],
        literate=next(
            (str(b.get("label") or b.get("code")) for b in bands if b.get("code") == literate_code),
            "",
        ),
        total=_num(scoring.get("total_points", 100)),
        name=str(questionnaire.get("name", "")),
    )


def _blank(row: Mapping[str, str]) -> bool:
    return not any(str(v).strip() for v in row.values())


def _number(text: str) -> float | None:
    try:
        value = float(str(text).strip().replace(",", "").replace("，", ""))
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _kind(kind_text: str, key: str) -> str | None:
    kind_text = kind_text.strip()
    if kind_text and kind_text not in ("自动", "auto"):
        return KIND_BY_LABEL.get(kind_text)
    key = key.strip().upper()
    if key in TRUE_WORDS | FALSE_WORDS:
        return "true_false"
    letters = re.sub(r"[\s,，、]", "", key)
    return "multiple" if len(letters) > 1 else "single"


def tables_to_config(
    tables: Tables,
    *,
    previous_questionnaire: Mapping[str, Any] | None = None,
    previous_scoring: Mapping[str, Any] | None = None,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(questionnaire, scoring, errors). Codes of dimensions and bands are kept from the
    previous configuration where the names match, so stored data keeps its meaning."""
    errors: list[str] = []
    prev_q = previous_questionnaire or {}
    prev_s = previous_scoring or {}

    # dimensions
    prev_dims = {d.get("label"): d.get("code") for d in prev_s.get("dimensions") or []}
    dims: list[dict[str, Any]] = []
    code_by_label: dict[str, str] = {}
    for n, row in enumerate(tables.dimensions, start=1):
        if _blank(row):
            continue
        label = row.get("label", "").strip()
        points = _number(row.get("points", ""))
        if not label:
            errors.append(f"维度第{n}行: 请填写维度名称。")
            continue
        if label in code_by_label:
            errors.append(f"维度「{label}」重复。")
            continue
        if points is None or points <= 0:
            errors.append(f"维度「{label}」的满分应为大于 0 的数字。")
        code = prev_dims.get(label) or f"d{len(dims) + 1}"
        while code in code_by_label.values():
            code += "_"
        code_by_label[label] = code
        dims.append({"code": code, "label": label, "max_points": points})
    if not dims:
        errors.append("请至少填写一个维度 (如「科学知识」及其满分)。")

    total = _number(tables.total)
    if total is None or total <= 0:
        errors.append("总分应为大于 0 的数字。")
    elif dims and all(d["max_points"] is not None for d in dims):
        dim_sum = sum(d["max_points"] for d in dims)
        if abs(dim_sum - total) > 1e-9:
            errors.append(f"各维度满分之和为 {dim_sum:g} 分, 与总分 {total:g} 分不一致。")

    # items
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    per_dim: dict[str, float] = {}
    for n, row in enumerate(tables.items, start=1):
        if _blank(row):
            continue
        item_id = row.get("id", "").strip()
        where = f"第{n}题" + (f" ({item_id})" if item_id else "")
        if not item_id:
            errors.append(f"{where}: 请填写题号 (数据文件中的列名, 如 q01)。")
            continue
        if item_id.lower() in seen:
            errors.append(f"题号「{item_id}」重复。")
            continue
        seen.add(item_id.lower())
        dim = row.get("dimension", "").strip()
        if dim not in code_by_label:
            known = "、".join(code_by_label) or "无"
            errors.append(f"{where}: 维度「{dim}」不在维度表中 (现有: {known})。")
        points = _number(row.get("points", ""))
        if points is None or points <= 0:
            errors.append(f"{where}: 分值应为大于 0 的数字。")
        key = row.get("key", "").strip()
        kind = _kind(row.get("kind", ""), key)
        if kind is None:
            errors.append(f"{where}: 题型「{row.get('kind')}」无效, 应为 单选、多选 或 判断。")
            continue
        if not key:
            errors.append(f"{where}: 请填写正确答案。")
            continue
        item: dict[str, Any] = {
            "id": item_id,
            "dimension": code_by_label.get(dim, dim),
            "points": points,
            "kind": kind,
        }
        text = row.get("text", "").strip()
        if text:
            item["text"] = text
        if kind == "true_false":
            upper = key.upper()
            if upper not in TRUE_WORDS | FALSE_WORDS:
                errors.append(f"{where}: 判断题的正确答案应为「对」或「错」, 而不是「{key}」。")
                continue
            item["key"] = upper in TRUE_WORDS
            item["options"] = 2
        else:
            letters = re.sub(r"[\s,，、]", "", key).upper()
            options_text = row.get("options", "").strip()
            options = _number(options_text) if options_text else None
            if options_text and (options is None or options < 2 or options != int(options)):
                errors.append(f"{where}: 选项数应为不小于 2 的整数。")
                continue
            n_options = int(options) if options else max(4, max(ord(c) - 64 for c in letters))
            bad = [c for c in letters if not ("A" <= c <= "Z") or ord(c) - 64 > n_options]
            if bad or not letters:
                last = chr(64 + min(n_options, 26))
                errors.append(f"{where}: 正确答案「{key}」应为 A—{last} 中的字母。")
                continue
            if kind == "single" and len(letters) != 1:
                errors.append(f"{where}: 单选题只能有一个正确答案, 而不是「{key}」。")
                continue
            item["key"] = letters
            item["options"] = n_options
        items.append(item)
        if points is not None and dim in code_by_label:
            per_dim[dim] = per_dim.get(dim, 0.0) + points
    if not items and not any("题" in e for e in errors):
        errors.append("请至少填写一道题目。")
    for d in dims:
        got = per_dim.get(d["label"], 0.0)
        if d["max_points"] is not None and items and abs(got - d["max_points"]) > 1e-9:
            errors.append(
                f"维度「{d['label']}」的题目分值之和为 {got:g} 分, 应等于该维度满分 "
                f"{d['max_points']:g} 分。"
            )

    # bands, lowest first
    prev_bands = {b.get("label"): b.get("code") for b in prev_s.get("bands") or []}
    standard = dict((label, code) for code, label in STANDARD_BANDS)
    bands: list[dict[str, Any]] = []
    previous: tuple[str, float] | None = None
    for n, row in enumerate(tables.bands, start=1):
        if _blank(row):
            continue
        label = row.get("label", "").strip()
        threshold = _number(row.get("threshold", ""))
        if not label:
            errors.append(f"等级第{n}行: 请填写等级名称。")
            continue
        if threshold is None or threshold < 0:
            errors.append(f"等级「{label}」的起点分数应为不小于 0 的数字。")
            continue
        if total is not None and threshold > total:
            errors.append(f"等级「{label}」的起点分数 {threshold:g} 超过总分 {total:g}。")
        if previous is not None and threshold <= previous[1]:
            errors.append(
                f"等级的起点分数应逐级升高: 「{label}」({threshold:g} 分) 应高于"
                f"「{previous[0]}」({previous[1]:g} 分)。"
            )
        previous = (label, threshold)
        code = prev_bands.get(label) or standard.get(label) or f"b{len(bands) + 1}"
        while code in {b["code"] for b in bands}:
            code += "_"
        bands.append({"code": code, "label": label, "threshold": threshold, "inclusive": True})
    if not bands:
        errors.append("请至少填写一个等级。")
    elif bands[0]["threshold"] != 0:
        errors.append(f"最低的等级「{bands[0]['label']}」应从 0 分起。")
    literate = next((b["code"] for b in bands if b["label"] == tables.literate.strip()), None)
    if bands and literate is None:
        errors.append("请选择哪个等级算作「具备科学素质」。")

    questionnaire: dict[str, Any] = {
        "id": str(prev_q.get("id") or "custom"),
        "name": tables.name.strip() or str(prev_q.get("name") or ""),
        "items": items,
    }
    scoring = {
        "dimensions": dims,
        "bands": bands,
        "literate_band": literate or "",
        "total_points": total,
    }
    return questionnaire, scoring, errors


# --- one sheet ---------------------------------------------------------------------------
def tables_to_sheet(tables: Tables) -> list[list[Any]]:
    """The rows of the questionnaire sheet (Excel or CSV)."""
    rows: list[list[Any]] = [[SECTION_ITEMS], ITEM_HEADERS]
    for it in tables.items:
        points = _number(it.get("points", ""))
        options = _number(it.get("options", ""))
        rows.append(
            [
                it.get("id", ""),
                it.get("text", ""),
                it.get("dimension", ""),
                it.get("kind", ""),
                points if points is not None else it.get("points", ""),
                it.get("key", ""),
                int(options) if options is not None else "",
            ]
        )
    rows += [[], [SECTION_DIMENSIONS], DIMENSION_HEADERS]
    for d in tables.dimensions:
        points = _number(d.get("points", ""))
        rows.append([d.get("label", ""), points if points is not None else d.get("points", "")])
    total = _number(tables.total)
    rows.append(["总分", total if total is not None else tables.total])
    rows += [[], [SECTION_BANDS], BAND_HEADERS]
    for b in tables.bands:
        threshold = _number(b.get("threshold", ""))
        rows.append(
            [
                b.get("label", ""),
                threshold if threshold is not None else b.get("threshold", ""),
                "是" if b.get("label") == tables.literate else "",
            ]
        )
    return rows


class SheetError(ValueError):
    """The sheet is not a questionnaire sheet (Chinese message)."""


def sheet_to_tables(rows: Iterable[list[str]]) -> Tables:
    """Read the questionnaire sheet written by :func:`tables_to_sheet` (or typed by hand)."""
    tables = Tables(total="")
    section = ""
    seen: set[str] = set()
    header_next = False
    for raw in rows:
        row = [str(c or "").strip() for c in raw]
        while row and not row[-1]:
            row.pop()
        if not row:
            continue
        first = row[0].replace("[", "【").replace("]", "】")
        if first in (SECTION_ITEMS, SECTION_DIMENSIONS, SECTION_BANDS):
            section = first
            seen.add(section)
            header_next = True
            continue
        if header_next:
            header_next = False
            if row[0] in ("题号", "维度", "等级"):
                continue
        cells = row + [""] * 7
        if section == SECTION_ITEMS:
            keys = ["id", "text", "dimension", "kind", "points", "key", "options"]
            tables.items.append(dict(zip(keys, cells[:7], strict=True)))
        elif section == SECTION_DIMENSIONS:
            if cells[0] in ("总分", "合计"):
                tables.total = cells[1]
            else:
                tables.dimensions.append({"label": cells[0], "points": cells[1]})
        elif section == SECTION_BANDS:
            tables.bands.append({"label": cells[0], "threshold": cells[1]})
            if cells[2] in ("是", "√", "Y", "1", "具备"):
                tables.literate = cells[0]
    missing = [s for s in (SECTION_ITEMS, SECTION_DIMENSIONS, SECTION_BANDS) if s not in seen]
    if missing:
        raise SheetError(
            f"没有找到 {'、'.join(missing)} 部分: 请先下载问卷 Excel, 在其中修改后再导入。"
        )
    if not tables.total:
        totals = [_number(d["points"]) for d in tables.dimensions]
        tables.total = _num(sum(t for t in totals if t is not None)) if totals else ""
    return tables
