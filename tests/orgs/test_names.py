"""The organisation-name matcher: distinctive parts and plausible fuzzy matches (pure)."""

from __future__ import annotations

import pytest
from rapidfuzz import fuzz

from kepu.orgs.names import distinctive_part, plausible_match, shared_characters


@pytest.mark.parametrize(
    ("name", "part"),
    [
        ("民政部", "民政"),
        ("国资委", "国资"),
        ("市教体局", "教体"),
        ("曲靖市教育体育局", "教育体育"),
        ("云南省曲靖市麒麟区教育体育局", "教育体育"),
        ("长沙市卫生健康委员会", "卫生健康"),
        ("市委宣传部", "宣传"),
        ("县委组织部", "组织"),
        ("应急管理局", "应急"),
        ("机关事务管理局", "机关"),
        ("市市场监督管理局", "市场监督"),  # 市场 is not the city
        ("市场监管局", "市场监管"),
        ("城市管理局", "城市"),  # one character before 市 is no region
        ("市科学技术协会", "科学技术协会"),
        ("高新区管委会", "高新区"),  # nothing left without the region: the region tells
        ("县人民政府办公室", "县"),
        ("妇联", "妇联"),
    ],
)
def test_distinctive_part(name, part):
    assert distinctive_part(name) == part


@pytest.mark.parametrize(
    ("name", "candidate"),
    [
        ("教育体育局", "曲靖市教育体育局"),
        ("卫健委", "长沙市卫生健康委员会"),
        ("人社局", "人力资源和社会保障局"),
        ("科协", "市科学技术协会"),
        ("发改委", "发展和改革委员会"),
        ("住建局", "住房和城乡建设局"),
        ("市场监管局", "市市场监督管理局"),
        ("教育部", "市教育局"),
        ("市教体局", "曲靖市教育体育局"),
    ],
)
def test_abbreviations_and_spellings_of_the_same_body_are_plausible(name, candidate):
    assert plausible_match(name, candidate)
    assert plausible_match(candidate, name)


@pytest.mark.parametrize(
    ("name", "candidate"),
    [
        ("民政部", "国资委"),
        ("市民政局", "市财政局"),  # 75 points with rapidfuzz
        ("教育部", "市体育局"),  # one shared generic character (育) is not enough
        ("民政局", "市财政局"),
        ("应急管理局", "城市管理局"),  # 管理 is generic
        ("高新区管委会", "经开区管委会"),
        ("市委宣传部", "县委组织部"),
        ("统计局", "审计局"),
    ],
)
def test_names_that_share_only_generic_parts_are_not(name, candidate):
    assert not plausible_match(name, candidate)
    assert not plausible_match(candidate, name)


SASAC = "曲靖市人民政府国有资产监督管理委员会"  # the city's 国资委


def test_the_reported_pair_scores_as_a_suggestion_without_the_rule():
    # the rule is what stops it: rapidfuzz alone offers the 国资委 for 民政部 at 60 points
    # (民政 occurs inside 人民政府)
    assert fuzz.WRatio("民政部", SASAC) >= 60
    assert distinctive_part(SASAC) == "国有资产监督"
    assert shared_characters("民政部", SASAC) == set()
    assert not plausible_match("民政部", SASAC)


def test_joining_characters_do_not_count():
    assert shared_characters("文化广电和旅游局", "住房和城乡建设局") == set()
    assert not plausible_match("文化和旅游局", "自然资源和规划局")


@pytest.mark.parametrize("name", ["", " ", "局", "委员会", "市", "()", "a" * 300, "各县(市、区)"])
def test_odd_names_never_crash(name):
    distinctive_part(name)
    plausible_match(name, "市科协")
