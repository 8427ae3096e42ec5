"""Responsibility parentheses and labelled unit lines."""

from __future__ import annotations

import pytest

from kepu.plans.parsing.normalize import fold
from kepu.plans.parsing.units import (
    extract_trailing_units,
    is_unit_name,
    parse_units,
    split_names,
)


def roles(text: str) -> tuple[list[str], list[str], list[str]]:
    units = parse_units(fold(text))
    assert units is not None, text
    return units.lead, units.cooperate, units.responsible


@pytest.mark.parametrize(
    ("spec", "lead", "coop", "resp"),
    [
        (
            "区卫健委牵头,区科协、区民政局配合",
            ["区卫健委"],
            ["区科协", "区民政局"],
            ["区卫健委", "区科协", "区民政局"],
        ),
        (
            "县农业农村局、县科协牵头，各乡镇人民政府配合",
            ["县农业农村局", "县科协"],
            ["各乡镇人民政府"],
            ["县农业农村局", "县科协", "各乡镇人民政府"],
        ),
        ("县委组织部牵头", ["县委组织部"], [], ["县委组织部"]),
        ("县教育局、县科协", [], [], ["县教育局", "县科协"]),
        ("县科协牵头,各成员单位参与", ["县科协"], ["各成员单位"], ["县科协", "各成员单位"]),
        ("责任单位:各镇", [], [], ["各镇"]),
        ("责任单位：市科协、市教育局", [], [], ["市科协", "市教育局"]),
        (
            "牵头单位:市科协;配合单位:市教育局、市文旅局",
            ["市科协"],
            ["市教育局", "市文旅局"],
            ["市科协", "市教育局", "市文旅局"],
        ),
        (
            "市科协和市教育局牵头,市卫健委及市民政局配合",
            ["市科协", "市教育局"],
            ["市卫健委", "市民政局"],
            ["市科协", "市教育局", "市卫健委", "市民政局"],
        ),
        (
            "市文化和旅游局、人力资源和社会保障局",
            [],
            [],
            ["市文化和旅游局", "人力资源和社会保障局"],
        ),
        ("科协、经信局(科技局)、各镇等相关单位", [], [], ["科协", "经信局(科技局)", "各镇"]),
        ("各县(市、区)人民政府牵头", ["各县(市、区)人民政府"], [], ["各县(市、区)人民政府"]),
    ],
)
def test_role_variants(spec, lead, coop, resp):
    assert roles(spec) == (lead, coop, resp)


@pytest.mark.parametrize("spec", ["所、站", "市、区", "2021-2025年", "试行", "含线上活动", ""])
def test_ordinary_parentheses_are_not_units(spec):
    assert parse_units(fold(spec)) is None


def test_unit_names():
    assert is_unit_name("团市委") and is_unit_name("共青团中央") and is_unit_name("各乡镇")
    assert not is_unit_name("市") and not is_unit_name("科普活动周")
    assert split_names(fold("中央宣传部、中国科协，科技部;中科院")) == [
        "中央宣传部",
        "中国科协",
        "科技部",
        "中科院",
    ]


def test_trailing_parenthesis_only_at_the_end():
    text = fold("在中央党校(国家行政学院)开展培训。")
    assert extract_trailing_units(text) is None
    text = fold("开展培训,每年不少于12场。(区卫健委牵头,区科协配合)")
    start, _end, units = extract_trailing_units(text)
    assert text[:start] == "开展培训,每年不少于12场。"
    assert units.lead == ["区卫健委"] and units.cooperate == ["区科协"]


def test_trailing_parenthesis_followed_by_full_stop():
    text = fold("带动辖区掀起科普热潮（责任单位：各镇）。")
    start, _end, units = extract_trailing_units(text)
    assert text[:start] == "带动辖区掀起科普热潮"
    assert units.responsible == ["各镇"] and units.lead == []


def test_issuer_is_responsible_when_no_unit_is_named_anywhere():
    from kepu.plans.parsing import parse_text

    text = (
        "某市科学技术协会关于推进社区科普工作的实施意见\n"
        "某科协发〔2024〕3号\n"
        "一、主要任务\n"
        "1.建设社区科普站。每个街道不少于2个。\n"
        "2.培训科普志愿者。全年培训500人以上。\n"
        "某市科学技术协会\n2024年5月6日\n"
    )
    plan = parse_text(text)
    assert plan.issuer == "某市科学技术协会"
    assert [t.responsible for t in plan.tasks] == [["某市科学技术协会"], ["某市科学技术协会"]]
    assert all(t.lead == [] and t.cooperate == [] for t in plan.tasks)


def test_issuer_is_not_added_when_some_tasks_name_units():
    from kepu.plans.parsing import parse_text

    text = (
        "某市科学技术协会关于推进社区科普工作的实施意见\n"
        "一、主要任务\n"
        "1.建设社区科普站。(市民政局牵头)\n"
        "2.培训科普志愿者。\n"
        "某市科学技术协会\n2024年5月6日\n"
    )
    plan = parse_text(text)
    assert plan.tasks[0].lead == ["市民政局"]
    assert plan.tasks[1].responsible == []
