"""The statistics core: catalogue parsing, cell and rule validation, year-over-year
checks, roll-ups and derived indicators. Pure Python: no Django, plain data in and out.

A *catalogue* is the year's indicator system as data::

    {"year": 2026, "name": "...",
     "indicators": [{"code": "P01", "name": "科普人员合计", "category": "personnel",
                     "unit": "人", "kind": "stock", "prefill": ""}, ...],
     "rules": [{"kind": "le", "left": "P02", "right": "P01"},
               {"kind": "sum", "total": "P01", "parts": ["P02", "P03"]}],
     "derived": [{"code": "D01", "name": "人均科普专项经费", "numerator": "F02",
                  "denominator": "population", "scale": 10000, "unit": "元/人"}],
     "departments": [{"code": "02", "name": "科协", "kinds": ["association"],
                      "keywords": ["科协"]}, ...]}

Values are non-negative integers (flows for the calendar year, stocks at 12-31).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

CATEGORIES: dict[str, str] = {
    "personnel": "科普人员",
    "venues": "科普场地",
    "funding": "科普经费",
    "media": "科普传媒",
    "activities": "科普活动",
    "innovation": "创新创业中的科普",
}
KINDS = {"flow": "流量(当年累计)", "stock": "存量(年末)"}
KIND_BY_LABEL = {"流量": "flow", "存量": "stock", "flow": "flow", "stock": "stock"}
CATEGORY_BY_LABEL = {**{v: k for k, v in CATEGORIES.items()}, **{k: k for k in CATEGORIES}}
CODE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,15}$")
MAX_VALUE = 10**15
OTHER_DEPARTMENT = ("99", "其他")


class CatalogueError(Exception):
    """A catalogue that cannot be used; ``errors`` are Chinese messages."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("；".join(errors))


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    category: str
    unit: str
    kind: str = "flow"
    prefill: str = ""

    @property
    def label(self) -> str:
        return f"{self.code} {self.name}"


@dataclass(frozen=True)
class Rule:
    kind: str  # "le" (left ≤ right) or "sum" (total = sum of parts)
    left: str = ""
    right: str = ""
    total: str = ""
    parts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Derived:
    code: str
    name: str
    numerator: str
    denominator: str  # an indicator code or "population"
    scale: float = 1.0
    unit: str = ""


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    kinds: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()


@dataclass
class Catalogue:
    year: int
    name: str
    indicators: list[Indicator]
    rules: list[Rule] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)

    def by_code(self) -> dict[str, Indicator]:
        return {i.code: i for i in self.indicators}

    def codes(self) -> list[str]:
        return [i.code for i in self.indicators]

    def to_data(self) -> dict[str, Any]:
        return {
            "year": self.year,
            "name": self.name,
            "indicators": [vars(i) | {} for i in self.indicators],
            "rules": [
                {"kind": "le", "left": r.left, "right": r.right}
                if r.kind == "le"
                else {"kind": "sum", "total": r.total, "parts": list(r.parts)}
                for r in self.rules
            ],
            "derived": [vars(d) | {} for d in self.derived],
            "departments": [
                {
                    "code": d.code,
                    "name": d.name,
                    "kinds": list(d.kinds),
                    "keywords": list(d.keywords),
                }
                for d in self.departments
            ],
        }


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """A catalogue from its data (the JSON file's contents); raises CatalogueError."""
    errors: list[str] = []
    try:
        year = int(data.get("year"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        year = 0
    if not 2000 <= year <= 2100:
        errors.append("目录缺少有效的年度 (year)。")
    name = _text(data.get("name")) or f"{year}年度科普统计指标目录"
    indicators: list[Indicator] = []
    seen: set[str] = set()
    raw_indicators = data.get("indicators") or []
    if not isinstance(raw_indicators, list) or not raw_indicators:
        errors.append("目录中没有指标 (indicators)。")
        raw_indicators = []
    for n, item in enumerate(raw_indicators, start=1):
        if not isinstance(item, Mapping):
            errors.append(f"第{n}个指标格式有误。")
            continue
        code = _text(item.get("code"))
        where = f"第{n}个指标「{code or '(无代码)'}」"
        if not CODE_RE.match(code):
            errors.append(f"{where}: 代码须以字母开头, 由字母、数字组成 (不超过16位)。")
            continue
        if code in seen:
            errors.append(f"{where}: 代码重复。")
            continue
        seen.add(code)
        category = CATEGORY_BY_LABEL.get(_text(item.get("category")))
        kind = KIND_BY_LABEL.get(_text(item.get("kind")) or "flow")
        iname = _text(item.get("name"))
        if not iname:
            errors.append(f"{where}: 缺少指标名称。")
        if category is None:
            errors.append(f"{where}: 类别须为 {'、'.join(CATEGORIES.values())} 之一。")
        if kind is None:
            errors.append(f"{where}: 类型须为「流量」或「存量」。")
        if iname and category and kind:
            indicators.append(
                Indicator(
                    code=code,
                    name=iname[:200],
                    category=category,
                    unit=_text(item.get("unit"))[:20],
                    kind=kind,
                    prefill=_text(item.get("prefill"))[:50],
                )
            )
    rules: list[Rule] = []
    for n, item in enumerate(data.get("rules") or [], start=1):
        kind = _text(item.get("kind")) if isinstance(item, Mapping) else ""
        if kind == "le":
            left, right = _text(item.get("left")), _text(item.get("right"))
            missing = [c for c in (left, right) if c not in seen]
            rule = Rule(kind="le", left=left, right=right)
        elif kind == "sum":
            total = _text(item.get("total"))
            parts = tuple(_text(p) for p in item.get("parts") or [])
            missing = [c for c in (total, *parts) if c not in seen]
            if not parts:
                missing.append("(无组成项)")
            rule = Rule(kind="sum", total=total, parts=parts)
        else:
            errors.append(f"第{n}条校验规则: 类型须为 le (不大于) 或 sum (合计)。")
            continue
        if missing:
            errors.append(f"第{n}条校验规则引用了不存在的指标: {'、'.join(missing)}。")
        else:
            rules.append(rule)
    derived: list[Derived] = []
    for n, item in enumerate(data.get("derived") or [], start=1):
        code = _text(item.get("code"))
        num, den = _text(item.get("numerator")), _text(item.get("denominator"))
        if not CODE_RE.match(code) or code in seen:
            errors.append(f"第{n}个派生指标: 代码「{code}」无效或与指标重复。")
            continue
        if num not in seen or (den != "population" and den not in seen):
            errors.append(f"第{n}个派生指标「{code}」引用了不存在的指标。")
            continue
        try:
            scale = float(item.get("scale", 1) or 1)
        except (TypeError, ValueError):
            errors.append(f"第{n}个派生指标「{code}」的倍数无效。")
            continue
        derived.append(
            Derived(
                code=code,
                name=_text(item.get("name")) or code,
                numerator=num,
                denominator=den,
                scale=scale,
                unit=_text(item.get("unit")),
            )
        )
    departments = [
        Department(
            code=_text(d.get("code")),
            name=_text(d.get("name")),
            kinds=tuple(_text(k) for k in d.get("kinds") or []),
            keywords=tuple(_text(k) for k in d.get("keywords") or []),
        )
        for d in data.get("departments") or []
        if isinstance(d, Mapping) and _text(d.get("code")) and _text(d.get("name"))
    ]
    if errors:
        raise CatalogueError(errors)
    return Catalogue(
        year=year,
        name=name,
        indicators=indicators,
        rules=rules,
        derived=derived,
        departments=departments,
    )


def catalogue_from_rows(year: int, name: str, rows: Iterable[list[str]]) -> dict[str, Any]:
    """Catalogue data from a spreadsheet: a header row then one indicator per row with
    the columns 代码, 名称, 类别, 单位, 类型, 合计于 (the total this row is a part of),
    不大于 (the indicator this row may not exceed), 预填来源.

    Each total's parts become a "sum" rule, each 不大于 a "le" rule. Errors are raised
    by :func:`parse_catalogue`.
    """
    it = iter(rows)
    header = next(it, None) or []
    col = {h.strip(): i for i, h in enumerate(header)}
    missing = [h for h in ("代码", "名称", "类别") if h not in col]
    if missing:
        raise CatalogueError([f"目录表缺少列: {'、'.join(missing)}。"])

    def get(row: list[str], name: str) -> str:
        i = col.get(name)
        return row[i].strip() if i is not None and i < len(row) and row[i] else ""

    indicators: list[dict[str, str]] = []
    parts: dict[str, list[str]] = {}
    rules: list[dict[str, Any]] = []
    for row in it:
        if not any(c.strip() for c in row):
            continue
        code = get(row, "代码")
        indicators.append(
            {
                "code": code,
                "name": get(row, "名称"),
                "category": get(row, "类别"),
                "unit": get(row, "单位"),
                "kind": get(row, "类型") or "流量",
                "prefill": get(row, "预填来源"),
            }
        )
        if total := get(row, "合计于"):
            parts.setdefault(total, []).append(code)
        if cap := get(row, "不大于"):
            rules.append({"kind": "le", "left": code, "right": cap})
    rules = [{"kind": "sum", "total": t, "parts": p} for t, p in parts.items()] + rules
    return {"year": year, "name": name, "indicators": indicators, "rules": rules}


# --- values -------------------------------------------------------------------------------
def parse_values(
    catalogue: Catalogue, raw: Mapping[str, Any]
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Cell values as integers and per-cell errors (Chinese). A blank cell is 0."""
    values: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    for ind in catalogue.indicators:
        cell = raw.get(ind.code)
        text = _text(cell).replace(",", "").replace("，", "")
        if isinstance(cell, float) and cell.is_integer():
            text = str(int(cell))
        if text == "":
            values[ind.code] = 0
            continue
        if not re.fullmatch(r"\d+", text):
            errors[ind.code] = [f"「{ind.name}」须填写非负整数 (当前为「{text[:20]}」)。"]
            continue
        number = int(text)
        if number > MAX_VALUE:
            errors[ind.code] = [f"「{ind.name}」数值过大。"]
            continue
        values[ind.code] = number
    return values, errors


def check_rules(catalogue: Catalogue, values: Mapping[str, int]) -> dict[str, list[str]]:
    """Rule violations per cell: a "le" rule marks its left cell, a "sum" its total."""
    names = {i.code: i.name for i in catalogue.indicators}
    errors: dict[str, list[str]] = {}
    for rule in catalogue.rules:
        if rule.kind == "le":
            if rule.left not in values or rule.right not in values:
                continue
            if values[rule.left] > values[rule.right]:
                errors.setdefault(rule.left, []).append(
                    f"「{names[rule.left]}」({values[rule.left]}) 不能大于"
                    f"「{names[rule.right]}」({values[rule.right]})。"
                )
        elif rule.kind == "sum":
            if rule.total not in values or any(p not in values for p in rule.parts):
                continue
            parts_sum = sum(values[p] for p in rule.parts)
            if parts_sum != values[rule.total]:
                listed = "、".join(names[p] for p in rule.parts)
                errors.setdefault(rule.total, []).append(
                    f"「{names[rule.total]}」({values[rule.total]}) 应等于 {listed} 之和 "
                    f"({parts_sum})。"
                )
    return errors


def validate(
    catalogue: Catalogue, raw: Mapping[str, Any]
) -> tuple[dict[str, int], dict[str, list[str]]]:
    """Parse the cells, then (when every cell is an integer) check the rules."""
    values, errors = parse_values(catalogue, raw)
    if errors:
        return values, errors
    return values, check_rules(catalogue, values)


@dataclass(frozen=True)
class Jump:
    code: str
    previous: int
    current: int
    change_pct: float  # signed; inf when the previous year was 0


def yoy_jumps(
    current: Mapping[str, int],
    previous: Mapping[str, int] | None,
    *,
    threshold_pct: float,
    min_value: int = 10,
) -> list[Jump]:
    """Cells whose change against last year exceeds ``threshold_pct`` percent.

    Small numbers are noise: a change is flagged only when the larger of the two
    values is at least ``min_value``. No previous report: nothing is flagged.
    """
    if not previous:
        return []
    out: list[Jump] = []
    for code, cur in current.items():
        prev = previous.get(code)
        if prev is None or max(prev, cur) < min_value:
            continue
        if prev == 0:
            pct = float("inf") if cur else 0.0
        else:
            pct = (cur - prev) * 100.0 / prev
        if abs(pct) > threshold_pct:
            out.append(Jump(code=code, previous=prev, current=cur, change_pct=pct))
    return out


def rollup(
    rows: Iterable[tuple[str, Mapping[str, int]]], codes: Iterable[str]
) -> dict[str, dict[str, int]]:
    """Sum each group's values: ``rows`` are ``(group key, values)``; every group has
    every code (0 when nobody reported it)."""
    codes = list(codes)
    totals: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    for key, values in rows:
        group = totals.get(key)
        if group is None:
            group = totals[key] = dict.fromkeys(codes, 0)
            counts[key] = 0
        counts[key] += 1
        for code, value in values.items():
            if code in group:
                group[code] += value
    for key, group in totals.items():
        group["_reports"] = counts[key]
    return totals


def total_of(groups: Mapping[str, Mapping[str, int]], codes: Iterable[str]) -> dict[str, int]:
    codes = list(codes)
    out = dict.fromkeys([*codes, "_reports"], 0)
    for group in groups.values():
        for code in out:
            out[code] += group.get(code, 0)
    return out


def derive(
    definitions: Iterable[Derived], values: Mapping[str, int], population: int | None
) -> dict[str, float | None]:
    """Derived indicators (e.g. per-capita funding); None when the denominator is 0/unknown."""
    out: dict[str, float | None] = {}
    for d in definitions:
        den = population if d.denominator == "population" else values.get(d.denominator)
        num = values.get(d.numerator)
        if not den or num is None:
            out[d.code] = None
        else:
            out[d.code] = round(num * d.scale / den, 2)
    return out


def region_group(path: str, base_path: str) -> str:
    """The group a region path rolls up to under ``base_path``: the next level down
    (``CN/53/5303/530302/530302001/`` under ``CN/53/5303/`` → ``CN/53/5303/530302/``),
    or ``base_path`` itself for rows at the base level."""
    if not path.startswith(base_path) or path == base_path:
        return base_path
    rest = path[len(base_path) :]
    return base_path + rest.split("/", 1)[0] + "/"


def department_for(kind: str, name: str, departments: Iterable[Department]) -> tuple[str, str]:
    """The department (code, name) an organisation reports under: by keyword in its name
    first, then by its kind; otherwise 其他."""
    departments = list(departments)
    for d in departments:
        if any(k and k in name for k in d.keywords):
            return d.code, d.name
    for d in departments:
        if kind in d.kinds:
            return d.code, d.name
    return OTHER_DEPARTMENT
