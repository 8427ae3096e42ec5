"""Score sheets as data, and their evaluation (pure Python, no Django).

A score sheet is plain data (JSON in the database, a sheet in Excel)::

    {"name": "科普教育基地年度评估表",
     "grades": [{"label": "优秀", "min": 0.9}, {"label": "优良", "min": 0.7},
                {"label": "合格", "min": 0.6}, {"label": "不合格", "min": 0}],
     "fail_grades": ["不合格"],
     "items": [
       {"code": "area", "name": "展示面积", "points": 10, "metric": "exhibition_area", "unit": "m²",
        "levels": [{"min": 1000, "fraction": 1}, {"min": 500, "fraction": 0.8},
                   {"min": 150, "fraction": 0.6}]},
       {"code": "rules", "name": "管理制度", "points": 20}]}

An item with a ``metric`` is computed from the base's figures: the first level whose
``min`` the value reaches gives ``fraction × points`` (below every level: 0). An item
without one is scored by a reviewer (0 … points). The total over the sheet's points gives
the grade: the first grade whose ``min`` (a share of the maximum) the total reaches.

The warning rule: consecutive failing years (a grade in ``fail_grades``) → ``warn_after``
of them put the base on warning (预警), ``revoke_after`` revoke it (摘牌).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class SheetError(ValueError):
    """An invalid score sheet; ``errors`` are Chinese messages."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("；".join(errors))


def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.replace(",", "").strip())
        except ValueError:
            return None
    return None


def validate_sheet(sheet: Mapping[str, Any]) -> dict[str, Any]:
    """Check a score sheet and return it normalised (numbers as floats, levels and grades
    sorted high to low). Raises :class:`SheetError` with every problem found."""
    errors: list[str] = []
    if not isinstance(sheet, Mapping):
        raise SheetError(["评分表格式无效。"])
    name = str(sheet.get("name") or "").strip()
    if not name:
        errors.append("评分表缺少名称。")
    items_in = sheet.get("items")
    if not isinstance(items_in, Sequence) or isinstance(items_in, str) or not items_in:
        errors.append("评分表至少需要一个评分项。")
        items_in = []
    items: list[dict[str, Any]] = []
    codes: set[str] = set()
    for i, raw in enumerate(items_in, start=1):
        where = f"第{i}项"
        if not isinstance(raw, Mapping):
            errors.append(f"{where}格式无效。")
            continue
        code = str(raw.get("code") or "").strip()
        item_name = str(raw.get("name") or "").strip()
        points = _num(raw.get("points"))
        if not code:
            errors.append(f"{where}缺少代码。")
        elif code in codes:
            errors.append(f"{where}的代码「{code}」重复。")
        codes.add(code)
        if not item_name:
            errors.append(f"{where}缺少名称。")
        if points is None or points <= 0:
            errors.append(f"{where}「{item_name}」的分值必须大于 0。")
        metric = raw.get("metric") or None
        levels: list[dict[str, float | str]] = []
        if metric:
            raw_levels = raw.get("levels") or []
            if not raw_levels:
                errors.append(f"{where}「{item_name}」按数据计分, 需要至少一个档次。")
            for j, lv in enumerate(raw_levels, start=1):
                lo = _num(lv.get("min")) if isinstance(lv, Mapping) else None
                frac = _num(lv.get("fraction")) if isinstance(lv, Mapping) else None
                if lo is None or frac is None or not 0 < frac <= 1:
                    errors.append(
                        f"{where}「{item_name}」第{j}档无效 (需要下限和 0—1 之间的得分比例)。"
                    )
                    continue
                levels.append({"min": lo, "fraction": frac, "label": str(lv.get("label") or "")})
            levels.sort(key=lambda lv: -float(lv["min"]))
            fracs = [float(lv["fraction"]) for lv in levels]
            if fracs != sorted(fracs, reverse=True):
                errors.append(f"{where}「{item_name}」的档次: 下限越高, 得分比例不能越低。")
        items.append(
            {
                "code": code,
                "name": item_name,
                "points": points or 0.0,
                "metric": str(metric) if metric else None,
                "unit": str(raw.get("unit") or ""),
                "levels": levels,
            }
        )
    grades_in = sheet.get("grades") or []
    grades: list[dict[str, Any]] = []
    for k, g in enumerate(grades_in, start=1):
        lo = _num(g.get("min")) if isinstance(g, Mapping) else None
        label = str(g.get("label") or "").strip() if isinstance(g, Mapping) else ""
        if lo is None or not 0 <= lo <= 1 or not label:
            errors.append(f"第{k}个等级无效 (需要名称和 0—1 之间的得分率下限)。")
            continue
        grades.append({"label": label, "min": lo})
    grades.sort(key=lambda g: -g["min"])
    if not grades:
        errors.append("评分表至少需要一个等级。")
    elif grades[-1]["min"] != 0:
        errors.append("最低等级的下限应为 0 (每个得分都要有等级)。")
    if len({g["label"] for g in grades}) != len(grades):
        errors.append("等级名称不能重复。")
    fail = [str(x) for x in (sheet.get("fail_grades") or [])]
    unknown = [x for x in fail if x not in {g["label"] for g in grades}]
    if unknown:
        errors.append(f"不合格等级「{'、'.join(unknown)}」不在等级中。")
    if errors:
        raise SheetError(errors)
    return {"name": name, "items": items, "grades": grades, "fail_grades": fail}


@dataclass(frozen=True)
class ItemScore:
    code: str
    name: str
    max_points: float
    points: float | None  # None: not scored yet
    source: str  # computed | reviewer | missing
    value: float | None = None  # the figure a computed item used


@dataclass
class Evaluation:
    items: list[ItemScore] = field(default_factory=list)
    total: float = 0.0
    max_total: float = 0.0
    complete: bool = True
    grade: str | None = None
    failed: bool = False

    @property
    def rate(self) -> float:
        return self.total / self.max_total if self.max_total else 0.0


def level_fraction(levels: Sequence[Mapping[str, Any]], value: float) -> float:
    for lv in levels:  # sorted high to low
        if value >= float(lv["min"]):
            return float(lv["fraction"])
    return 0.0


def evaluate(
    sheet: Mapping[str, Any],
    figures: Mapping[str, Any],
    reviewer: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Score ``figures`` (metric → number) and ``reviewer`` scores (code → points) on a
    validated sheet. Missing figures or scores leave the evaluation incomplete (no grade).
    Reviewer points outside 0 … item points raise :class:`SheetError`."""
    reviewer = reviewer or {}
    result = Evaluation()
    errors: list[str] = []
    for item in sheet["items"]:
        max_points = float(item["points"])
        result.max_total += max_points
        if item["metric"]:
            value = _num(figures.get(item["metric"]))
            if value is None:
                result.items.append(
                    ItemScore(item["code"], item["name"], max_points, None, "missing")
                )
                result.complete = False
                continue
            pts = round(max_points * level_fraction(item["levels"], value), 2)
            result.items.append(
                ItemScore(item["code"], item["name"], max_points, pts, "computed", value)
            )
            result.total += pts
            continue
        raw = reviewer.get(item["code"])
        pts_in = _num(raw) if raw not in (None, "") else None
        if pts_in is None:
            result.items.append(ItemScore(item["code"], item["name"], max_points, None, "missing"))
            result.complete = False
            continue
        if not 0 <= pts_in <= max_points:
            errors.append(f"「{item['name']}」的得分应在 0—{max_points:g} 之间。")
            continue
        result.items.append(ItemScore(item["code"], item["name"], max_points, pts_in, "reviewer"))
        result.total += pts_in
    if errors:
        raise SheetError(errors)
    result.total = round(result.total, 2)
    if result.complete:
        rate = result.rate
        result.grade = next((g["label"] for g in sheet["grades"] if rate >= g["min"] - 1e-9), None)
        result.failed = result.grade in sheet.get("fail_grades", [])
    return result


def status_after(failures_in_a_row: int, *, warn_after: int = 1, revoke_after: int = 2) -> str:
    """``ok`` | ``warning`` | ``revoked`` for a number of consecutive failing years."""
    if failures_in_a_row >= revoke_after:
        return "revoked"
    if failures_in_a_row >= warn_after:
        return "warning"
    return "ok"


DEFAULT_SHEET: dict[str, Any] = {
    "name": "科普教育基地年度评估表",
    "grades": [
        {"label": "优秀", "min": 0.9},
        {"label": "优良", "min": 0.7},
        {"label": "合格", "min": 0.6},
        {"label": "不合格", "min": 0},
    ],
    "fail_grades": ["不合格"],
    "items": [
        {
            "code": "area",
            "name": "展示面积",
            "points": 10,
            "metric": "exhibition_area",
            "unit": "平方米",
            "levels": [
                {"min": 1000, "fraction": 1, "label": "≥1000"},
                {"min": 500, "fraction": 0.8, "label": "500—1000"},
                {"min": 150, "fraction": 0.6, "label": "150—500"},
            ],
        },
        {
            "code": "days",
            "name": "开放天数",
            "points": 10,
            "metric": "opening_days",
            "unit": "天",
            "levels": [
                {"min": 300, "fraction": 1},
                {"min": 250, "fraction": 0.8},
                {"min": 200, "fraction": 0.6},
            ],
        },
        {
            "code": "visitors",
            "name": "接待人次",
            "points": 10,
            "metric": "annual_visitors",
            "unit": "人次",
            "levels": [
                {"min": 30000, "fraction": 1},
                {"min": 10000, "fraction": 0.8},
                {"min": 1000, "fraction": 0.6},
            ],
        },
        {
            "code": "activities",
            "name": "开展科普活动",
            "points": 20,
            "metric": "campaign_activities",
            "unit": "场",
            "levels": [
                {"min": 12, "fraction": 1},
                {"min": 6, "fraction": 0.8},
                {"min": 3, "fraction": 0.6},
            ],
        },
        {"code": "rules", "name": "管理制度与队伍", "points": 20},
        {"code": "content", "name": "展教内容与更新", "points": 20},
        {"code": "safety", "name": "安全与服务", "points": 10},
    ],
}
