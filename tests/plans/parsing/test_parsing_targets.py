"""Quantitative targets: comparator, value, unit, year, quoted text."""

from __future__ import annotations

import pytest

from kepu.plans.parsing.normalize import fold
from kepu.plans.parsing.targets import extract_targets


def one(text: str) -> tuple[str, str, float, str, int | None]:
    found = extract_targets(fold(text), text)
    assert len(found) == 1, (text, found)
    t = found[0]
    return t.text, t.comparator, t.value, t.unit, t.year


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("每年不少于12场。", ("不少于12场", ">=", 12, "场", None)),
        ("培训教师300人以上", ("培训教师300人以上", ">=", 300, "人", None)),
        ("到2025年,比例达到12%", ("达到12%", ">=", 12, "%", 2025)),
        ("确保2025年比例超过15%", ("超过15%", ">", 15, "%", 2025)),
        ("各乡镇至少填报20场次", ("至少填报20场次", ">=", 20, "场次", None)),
        ("年浏览量突破500万人次", ("突破500万人次", ">", 5000000, "人次", None)),
        ("全年组织讲座五千场", ("组织讲座五千场", "=", 5000, "场", None)),
        ("招募志愿者两百名", ("招募志愿者两百名", "=", 200, "名", None)),
        ("投诉率控制在5%以内", ("控制在5%以内", "<=", 5, "%", None)),
        ("不合格率低于3%", ("低于3%", "<", 3, "%", None)),
        ("不超过10个", ("不超过10个", "<=", 10, "个", None)),
        ("参与人数不足100人", ("不足100人", "<", 100, "人", None)),
        ("开展科普活动 2000 场以上", ("开展科普活动 2000 场以上", ">=", 2000, "场", None)),
        ("覆盖群众1000万人次", ("覆盖群众1000万人次", "=", 10000000, "人次", None)),
        ("服务时长不少于１２小时", ("不少于１２小时", ">=", 12, "小时", None)),
        ("接待观众3000余人", ("接待观众3000余人", ">", 3000, "人", None)),
    ],
)
def test_target_phrases(text, expected):
    assert one(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2023年3月22日",
        "围绕建设教育强国等“13个强国”战略目标",
        "开展第十三次公民科学素质抽样调查",
        "测科发〔2022〕21号",
        "推动建设一批科学家精神教育基地",
        "全市有12个区县",
        "科普文化进万家",
        "(2021-2025年)",
    ],
)
def test_incidental_numbers_are_not_targets(text):
    assert extract_targets(fold(text), text) == []


def test_several_targets_in_one_sentence():
    text = "培训科学教师300人以上,每所学校每学年开展科普活动不少于4次。"
    found = extract_targets(fold(text), text)
    assert [(t.comparator, t.value, t.unit) for t in found] == [(">=", 300, "人"), (">=", 4, "次")]
