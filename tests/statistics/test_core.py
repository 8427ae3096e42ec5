"""The pure statistics core, alone (no database)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kepu.statistics import core

SHIPPED = Path(__file__).resolve().parents[2] / "kepu/statistics/catalogues/kepu-2026.json"


def small() -> core.Catalogue:
    return core.parse_catalogue(
        {
            "year": 2026,
            "indicators": [
                {
                    "code": "P01",
                    "name": "科普人员合计",
                    "category": "科普人员",
                    "unit": "人",
                    "kind": "存量",
                },
                {
                    "code": "P02",
                    "name": "科普专职人员",
                    "category": "personnel",
                    "unit": "人",
                    "kind": "stock",
                },
                {"code": "P03", "name": "科普兼职人员", "category": "personnel", "unit": "人"},
                {"code": "F03", "name": "科普专项经费", "category": "科普经费", "unit": "万元"},
            ],
            "rules": [
                {"kind": "sum", "total": "P01", "parts": ["P02", "P03"]},
                {"kind": "le", "left": "P02", "right": "P01"},
            ],
            "derived": [
                {
                    "code": "D01",
                    "name": "人均科普专项经费",
                    "numerator": "F03",
                    "denominator": "population",
                    "scale": 10000,
                    "unit": "元/人",
                }
            ],
            "departments": [
                {"code": "02", "name": "科协", "kinds": ["association"], "keywords": ["科协"]},
                {"code": "03", "name": "教育", "kinds": ["school"], "keywords": ["教育"]},
            ],
        }
    )


def test_shipped_catalogue_parses_with_six_categories():
    cat = core.parse_catalogue(json.loads(SHIPPED.read_text(encoding="utf-8")))
    assert 40 <= len(cat.indicators) <= 60
    assert {i.category for i in cat.indicators} == set(core.CATEGORIES)
    assert any(r.kind == "sum" for r in cat.rules) and any(r.kind == "le" for r in cat.rules)
    assert [d.code for d in cat.derived][:1] == ["D01"]


def test_catalogue_errors_are_listed_in_chinese():
    with pytest.raises(core.CatalogueError) as exc:
        core.parse_catalogue(
            {
                "year": 2026,
                "indicators": [
                    {"code": "P01", "name": "甲", "category": "科普人员"},
                    {"code": "P01", "name": "乙", "category": "科普人员"},
                    {"code": "1X", "name": "丙", "category": "科普人员"},
                    {"code": "Q1", "name": "丁", "category": "不存在的类"},
                ],
                "rules": [{"kind": "le", "left": "P01", "right": "ZZ"}, {"kind": "gt"}],
            }
        )
    text = "；".join(exc.value.errors)
    assert "代码重复" in text and "字母开头" in text and "类别须为" in text
    assert "不存在的指标: ZZ" in text and "类型须为 le" in text


def test_integers_only_and_blank_is_zero():
    cat = small()
    values, errors = core.parse_values(cat, {"P01": "12", "P02": "3.5", "P03": "-1", "F03": ""})
    assert values == {"P01": 12, "F03": 0}
    assert "非负整数" in errors["P02"][0] and "「-1」" in errors["P03"][0]


def test_rules_mark_the_cells_they_concern():
    cat = small()
    _, errors = core.validate(cat, {"P01": "10", "P02": "12", "P03": "3"})
    assert "应等于" in errors["P01"][0] and "(15)" in errors["P01"][0]
    assert "不能大于" in errors["P02"][0]
    _, ok = core.validate(cat, {"P01": "15", "P02": "12", "P03": "3"})
    assert ok == {}


def test_rules_wait_for_type_errors():
    _, errors = core.validate(small(), {"P01": "x", "P02": "12", "P03": "3"})
    assert list(errors) == ["P01"]


def test_yoy_jumps_threshold_and_small_numbers():
    prev = {"A": 100, "B": 100, "C": 0, "D": 2, "E": 0}
    cur = {"A": 151, "B": 149, "C": 50, "D": 8, "E": 0}
    jumps = {j.code: j for j in core.yoy_jumps(cur, prev, threshold_pct=50)}
    assert set(jumps) == {"A", "C"}
    assert jumps["A"].change_pct == pytest.approx(51.0)
    assert core.yoy_jumps(cur, None, threshold_pct=50) == []
    falls = core.yoy_jumps({"A": 40}, {"A": 100}, threshold_pct=50)
    assert [j.change_pct for j in falls] == [-60.0]


def test_rollup_groups_and_total():
    rows = [("x", {"A": 1, "B": 2}), ("y", {"A": 5}), ("x", {"A": 10, "Z": 99})]
    groups = core.rollup(rows, ["A", "B"])
    assert groups["x"] == {"A": 11, "B": 2, "_reports": 2}
    assert groups["y"] == {"A": 5, "B": 0, "_reports": 1}
    assert core.total_of(groups, ["A", "B"]) == {"A": 16, "B": 2, "_reports": 3}


def test_derived_per_capita_funding():
    cat = small()
    assert core.derive(cat.derived, {"F03": 250}, 1_000_000) == {"D01": 2.5}
    assert core.derive(cat.derived, {"F03": 250}, None) == {"D01": None}
    assert core.derive(cat.derived, {"F03": 250}, 0) == {"D01": None}


def test_region_group_is_next_level_down():
    base = "CN/53/5303/"
    assert core.region_group("CN/53/5303/530302/530302001/", base) == "CN/53/5303/530302/"
    assert core.region_group("CN/53/5303/530302/", base) == "CN/53/5303/530302/"
    assert core.region_group(base, base) == base


def test_department_by_keyword_then_kind():
    deps = small().departments
    assert core.department_for("department", "曲靖市教育体育局", deps) == ("03", "教育")
    assert core.department_for("association", "某某学会", deps) == ("02", "科协")
    assert core.department_for("enterprise", "某公司", deps) == core.OTHER_DEPARTMENT


def test_catalogue_from_spreadsheet_rows_builds_rules():
    rows = [
        ["代码", "名称", "类别", "单位", "类型", "合计于", "不大于", "预填来源"],
        ["P01", "科普人员合计", "科普人员", "人", "存量", "", "", ""],
        ["P02", "专职", "科普人员", "人", "存量", "P01", "", ""],
        ["P03", "兼职", "科普人员", "人", "存量", "P01", "", ""],
        ["P04", "专职中女性", "科普人员", "人", "存量", "", "P02", ""],
        ["", "", "", "", "", "", "", ""],
    ]
    cat = core.parse_catalogue(core.catalogue_from_rows(2027, "目录", rows))
    assert cat.year == 2027 and len(cat.indicators) == 4
    assert core.Rule(kind="sum", total="P01", parts=("P02", "P03")) in cat.rules
    assert core.Rule(kind="le", left="P04", right="P02") in cat.rules
    with pytest.raises(core.CatalogueError):
        core.catalogue_from_rows(2027, "目录", [["名称"]])


@pytest.mark.parametrize("seed", range(7))
def test_demo_values_satisfy_the_shipped_rules_and_stay_under_the_jump_threshold(seed):
    from kepu.statistics.demo import demo_values

    cat = core.parse_catalogue(json.loads(SHIPPED.read_text(encoding="utf-8")))
    last, errors = core.validate(cat, demo_values(seed, 10))
    assert errors == {}
    now, errors = core.validate(cat, demo_values(seed, 11))
    assert errors == {} and now["P01"] > last["P01"]
    assert core.yoy_jumps(now, last, threshold_pct=50) == []
