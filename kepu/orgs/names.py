"""Organisation names: the distinctive part of a name and whether a fuzzy match is
plausible (pure Python, no Django).

A fuzzy score alone offers absurd suggestions: 民政部 → 曲靖市人民政府国有资产监督管理委员会
(the city's 国资委) scores 60 with rapidfuzz because 民政 occurs inside 人民政府. Two names are worth
suggesting only when the *distinctive* parts share characters — what is left after the
region prefix (长沙市, 湖南省, 市, 县委 …) and the generic suffixes (局, 委员会, 办公室,
中心, 管理 …) are taken off:

    民政部           → 民政
    曲靖市人民政府国有资产监督管理委员会 → 国有资产监督   (nothing shared → not offered)
    市教体局         → 教体
    教育体育局       → 教育体育      (教, 体 shared → offered)
    长沙市卫生健康委员会 → 卫生健康

Abbreviations keep their characters in order (卫健委 ← 卫生健康委员会, 人社局 ←
人力资源和社会保障局, 科协 ← 科学技术协会), so they pass; names that share one generic
character (教育 / 体育, 民政 / 财政) do not.
"""

from __future__ import annotations

import re

# Region names before a department's name: 湖南省, 长沙市, 宁乡县, 芙蓉区, 湘西…自治州,
# 锡林郭勒盟, 鄂托克旗 — at least two characters before the suffix, so 城市管理局 keeps 城市.
_REGION_PREFIX = re.compile(r"^[\u4e00-\u9fff]{2,8}?(?:自治区|自治州|自治县|省|市|县|区|州|盟|旗)")
# The abbreviated level (市科协, 县委组织部, 区政府办) and party committees (市委宣传部).
_LEVEL_PREFIX = re.compile(r"^(?:各)?(?:省|市|县|区|州|镇|乡)(?:委|人民政府|政府)?")
# The government a body belongs to (曲靖市人民政府国有资产监督管理委员会).
_GOVERNMENT_PREFIX = re.compile(r"^(?:人民政府|政府)")
# Words that begin with a level character but are not a level (市场监管局, 区域…, 县域…).
_NOT_A_LEVEL = ("市场", "市政", "区域", "县域", "州府")
# Generic endings, longest first; stripped repeatedly (应急管理局 → 应急管理 → 应急).
GENERIC_SUFFIXES = (
    "工作领导小组办公室",
    "领导小组办公室",
    "领导小组",
    "管理委员会",
    "委员会办公室",
    "委员会",
    "办公室",
    "管委会",
    "人民政府",
    "政府",
    "中心",
    "管理",
    "事务",
    "服务",
    "工作",
    "总局",
    "局",
    "委",
    "部",
    "厅",
    "办",
    "处",
    "科",
    "所",
    "站",
)
# Joining characters that say nothing about the organisation.
_FILLER = set("和与及、的()（） ")


def _strip_prefix(name: str) -> str:
    for _ in range(4):  # 湖南省长沙市宁乡县… at most a few levels
        if name.startswith(_NOT_A_LEVEL):
            return name
        m = (
            _REGION_PREFIX.match(name)
            or _LEVEL_PREFIX.match(name)
            or _GOVERNMENT_PREFIX.match(name)
        )
        if not m or m.end() >= len(name):
            return name
        name = name[m.end() :]
    return name


def _strip_suffixes(name: str) -> str:
    changed = True
    while changed and name:
        changed = False
        for suffix in GENERIC_SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                changed = True
                break
    return name


def distinctive_part(name: str) -> str:
    """The part of an organisation name that tells it from others of its kind.

    When the name is generic once its region is gone (高新区管委会 → 管委会), the region is
    what tells it apart (→ 高新区); a wholly generic name is kept as it is."""
    name = "".join(name.split())
    return _strip_suffixes(_strip_prefix(name)) or _strip_suffixes(name) or name


def shared_characters(a: str, b: str) -> set[str]:
    """The characters the distinctive parts of two names have in common."""
    return (set(distinctive_part(a)) & set(distinctive_part(b))) - _FILLER


def plausible_match(name: str, candidate: str) -> bool:
    """Whether ``candidate`` is worth suggesting for ``name``: their distinctive parts share
    at least two characters (one when either distinctive part is a single character)."""
    a = set(distinctive_part(name)) - _FILLER
    b = set(distinctive_part(candidate)) - _FILLER
    if not a or not b:
        return False
    return len(a & b) >= min(2, len(a), len(b))
