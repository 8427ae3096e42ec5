"""Score sheets: validation, thresholds, grades and the warning/revocation rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kepu.registry.scoring import (
    DEFAULT_SHEET,
    SheetError,
    evaluate,
    level_fraction,
    status_after,
    validate_sheet,
)

SHEET = validate_sheet(DEFAULT_SHEET)
REVIEWED = {"rules": 18, "content": 16, "safety": 9}


@pytest.mark.parametrize(
    ("area", "points"),
    [(5000, 10), (1000, 10), (999.9, 8), (500, 8), (499, 6), (150, 6), (149, 0), (0, 0)],
)
def test_graded_thresholds_of_the_exhibition_area(area, points):
    e = evaluate(
        SHEET,
        {
            "exhibition_area": area,
            "opening_days": 300,
            "annual_visitors": 30000,
            "campaign_activities": 12,
        },
        REVIEWED,
    )
    assert e.items[0].points == points and e.items[0].source == "computed"


def test_grades_from_the_share_of_the_maximum():
    full = {
        "exhibition_area": 2000,
        "opening_days": 320,
        "annual_visitors": 50000,
        "campaign_activities": 20,
    }
    e = evaluate(SHEET, full, {"rules": 20, "content": 20, "safety": 10})
    assert (e.total, e.max_total, e.grade, e.failed) == (100, 100, "优秀", False)
    e = evaluate(SHEET, full, {"rules": 10, "content": 10, "safety": 0})  # 70 of 100
    assert (e.total, e.grade) == (70, "优良")
    e = evaluate(SHEET, full, {"rules": 0, "content": 9, "safety": 0})  # 59 of 100
    assert (e.grade, e.failed) == ("不合格", True)
    e = evaluate(SHEET, full, {"rules": 0, "content": 10, "safety": 0})  # exactly 60%
    assert e.grade == "合格"


def test_missing_figures_or_scores_leave_it_incomplete():
    e = evaluate(SHEET, {"exhibition_area": 2000}, {"rules": 20})
    assert not e.complete and e.grade is None
    assert {i.code for i in e.items if i.source == "missing"} == {
        "days",
        "visitors",
        "activities",
        "content",
        "safety",
    }


def test_reviewer_points_out_of_range_are_refused():
    with pytest.raises(SheetError, match="管理制度与队伍"):
        evaluate(SHEET, {}, {"rules": 25})
    with pytest.raises(SheetError):
        evaluate(SHEET, {}, {"rules": -1})


@pytest.mark.parametrize(
    ("sheet", "message"),
    [
        ({"name": "x", "items": [], "grades": [{"label": "合格", "min": 0}]}, "至少需要一个评分项"),
        (
            {
                "name": "x",
                "items": [{"code": "a", "name": "A", "points": 0}],
                "grades": [{"label": "合格", "min": 0}],
            },
            "必须大于 0",
        ),
        (
            {
                "name": "x",
                "items": [
                    {"code": "a", "name": "A", "points": 5},
                    {"code": "a", "name": "B", "points": 5},
                ],
                "grades": [{"label": "合格", "min": 0}],
            },
            "重复",
        ),
        (
            {
                "name": "x",
                "items": [{"code": "a", "name": "A", "points": 5, "metric": "m"}],
                "grades": [{"label": "合格", "min": 0}],
            },
            "至少一个档次",
        ),
        (
            {
                "name": "x",
                "items": [
                    {
                        "code": "a",
                        "name": "A",
                        "points": 5,
                        "metric": "m",
                        "levels": [{"min": 10, "fraction": 0.5}, {"min": 5, "fraction": 1}],
                    }
                ],
                "grades": [{"label": "合格", "min": 0}],
            },
            "得分比例不能越低",
        ),
        (
            {
                "name": "x",
                "items": [{"code": "a", "name": "A", "points": 5}],
                "grades": [{"label": "合格", "min": 0.6}],
            },
            "最低等级的下限应为 0",
        ),
        (
            {
                "name": "x",
                "items": [{"code": "a", "name": "A", "points": 5}],
                "grades": [{"label": "合格", "min": 0}],
                "fail_grades": ["差"],
            },
            "不在等级中",
        ),
        ("not a sheet", "格式无效"),
    ],
)
def test_invalid_sheets_are_explained(sheet, message):
    with pytest.raises(SheetError) as exc:
        validate_sheet(sheet)
    assert message in str(exc.value)


def test_warning_and_revocation_rule():
    assert [status_after(n) for n in range(4)] == ["ok", "warning", "revoked", "revoked"]
    assert status_after(2, warn_after=2, revoke_after=3) == "warning"


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_more_never_scores_less(value):
    levels = SHEET["items"][2]["levels"]
    assert level_fraction(levels, value) <= level_fraction(levels, value * 1.5 + 1)
