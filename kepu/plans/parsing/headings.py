"""Heading markers at the start of a (normalised) line.

Kinds and their canonical rank, outermost first::

    appendix 0  附件 / 附件1
    part     1  第一部分 / 第一章
    cn       2  一、
    pcn      3  (一)
    ar       4  1. / 1、 / 1．
    par      5  (1)
    circ     6  ①
    dash     7  ——
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .numbers import heading_number

RANK = {
    "appendix": 0,
    "part": 1,
    "cn": 2,
    "pcn": 3,
    "ar": 4,
    "par": 5,
    "circ": 6,
    "dash": 7,
    "row": 8,
}

_CNN = "一二三四五六七八九十"
# characters that, right after a bare Arabic number, make it a quantity and not a heading
_QTY_AFTER = set(
    "年月日号个万亿千百十元人名场次家所项件篇部支期周天时分秒批类种条位倍岁米度届级户村"
    "余多座套册本门课节台辆份组处站馆队团班"
)

APPENDIX_RE = re.compile(
    r"^附\s*件\s*(?P<num>\d{1,2}|[一二三四五六七八九十]{1,2})?\s*(?:[:.、]\s*(?P<rest>.*))?$"
)
_HEADING_RES: list[tuple[str, re.Pattern[str]]] = [
    ("part", re.compile(rf"^\s*第\s*(?P<num>[{_CNN}\d]{{1,3}})\s*(?:部分|章|篇|节)\s*[、.:]?\s*")),
    ("cn", re.compile(rf"^\s*(?P<num>[{_CNN}]{{1,3}})\s*[、.](?![{_CNN}\d])\s*")),
    ("pcn", re.compile(rf"^\s*[(〔]\s*(?P<num>[{_CNN}]{{1,3}})\s*[)〕]\s*[、.]?\s*")),
    ("ar", re.compile(r"^\s*(?P<num>\d{1,3})\s*(?:[.、](?![\d%])|(?=[\u4e00-\u9fff\u201c《]))\s*")),
    ("par", re.compile(r"^\s*\(\s*(?P<num>\d{1,2})\s*\)\s*[、.]?\s*")),
    ("circ", re.compile(r"^\s*(?P<num>[\u2460-\u2473])\s*[、.]?\s*")),
    ("dash", re.compile(r"^\s*(?:——|--|──|—|–|─)\s*(?=[\u4e00-\u9fff\u201c《(\"])")),
]


@dataclass
class Heading:
    kind: str
    number: str | None  # as written in the original text, e.g. "（一）", "1"
    value: int | None
    end: int  # where the heading's own text starts
    weak: bool = False  # a bare number glued to text ("1学会"): accept only in sequence


def match_heading(norm: str, orig: str | None = None) -> Heading | None:
    """The heading marker at the start of ``norm`` (normalised line), if any."""
    orig = norm if orig is None else orig
    for kind, rx in _HEADING_RES:
        m = rx.match(norm)
        if not m:
            continue
        rest = norm[m.end() :]
        if not rest.strip():
            # a bare marker with no text is not a heading ("1." alone)
            if kind != "cn":
                return None
        if kind == "dash":
            return Heading("dash", None, None, m.end())
        num = m.group("num")
        value = heading_number(num)
        weak = False
        if kind == "ar":
            marker = norm[m.start("num") : m.end()]
            sep = marker[len(num) :].strip()
            if not sep:  # bare number glued to text
                nxt = rest[:1]
                if not nxt or nxt in _QTY_AFTER or len(num) > 2:
                    return None
                weak = True
            if value is None or value == 0:
                return None
        if kind == "cn" and rest[:1] in _CNN:
            return None
        number = orig[m.start("num") : m.end("num")] if kind in ("ar", "cn", "circ") else None
        if kind in ("pcn", "par"):
            number = orig[m.start() : m.end()].strip().rstrip("、.．")
        if kind == "part":
            number = orig[m.start() : m.end()].strip()
        return Heading(kind, number, value, m.end(), weak)
    return None


def match_appendix(norm: str) -> re.Match[str] | None:
    return APPENDIX_RE.match(norm.strip())
