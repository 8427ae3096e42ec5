"""完成时限: a structured due date plus the original wording (pure Python, no Django).

    >>> parse_deadline("2026年12月底前").due
    '2026-12-31'
    >>> parse_deadline("10月8日前", year=2025).due
    '2025-10-08'
    >>> parse_deadline("每季度").recurring
    'quarterly'

``parse_deadline`` reads a deadline field (a ledger column, a form field);
``find_deadline`` looks for one inside a task's text ("完成时限：…" or a dated phrase
such as "2026年6月底前完成"). A date without a year takes ``year`` (the plan's year);
a range ("2023年9月17日—23日") is due at its end; "长期坚持"/"持续推进" are recurring
work with no single date (``recurring="ongoing"``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from .numbers import cn_to_int

RECURRING = ("monthly", "quarterly", "half_yearly", "yearly", "ongoing")
RECURRING_LABELS = {
    "monthly": "每月",
    "quarterly": "每季度",
    "half_yearly": "每半年",
    "yearly": "每年",
    "ongoing": "长期",
}


@dataclass
class Deadline:
    text: str
    due: str | None = None  # ISO date, YYYY-MM-DD
    recurring: str | None = None  # one of RECURRING

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "due": self.due, "recurring": self.recurring}


_NUM = r"[0-9０-９一二三四五六七八九十〇零两]{1,4}"
_DASH = r"[—\-–~～至到]+"
_RECURRING_WORDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"每(?:个)?月|按月"), "monthly"),
    (re.compile(r"每(?:个)?季度?|按季度?|季度(?:末|报送)"), "quarterly"),
    (re.compile(r"每半年|半年一次"), "half_yearly"),
    (re.compile(r"每年(?:度)?|年年|按年度?|逐年"), "yearly"),
    (
        re.compile(r"长期(?:坚持|推进|开展|实施)?|持续(?:推进|开展|实施|进行)|常态化|经常性|长效"),
        "ongoing",
    ),
]
# 2026年12月底前 · 2026年12月31日 · 10月8日前 · 6月底 · 2026年底 · 2023年9月17日—23日
_DATE = re.compile(
    rf"(?:(?P<y>(?:19|20)\d\d|二〇[一二三四五六七八九〇零]{{2}})\s*年)?\s*"
    rf"(?:(?P<m>{_NUM})\s*月(?:份)?)?\s*"
    rf"(?:(?P<d>{_NUM})\s*[日号])?"
    rf"(?:\s*{_DASH}\s*(?:(?P<m2>{_NUM})\s*月)?\s*(?P<d2>{_NUM})\s*[日号]?)?"
    rf"\s*(?P<part>底|末|上旬|中旬|下旬|初|中|上半年|下半年|第?[一二三四1-4]季度)?"
)
_YEAR_RANGE = re.compile(rf"((?:19|20)\d\d)\s*年?\s*{_DASH}\s*((?:19|20)\d\d)\s*年")
_HALF = {"上半年": (6, 30), "下半年": (12, 31)}
_LABEL = re.compile(r"(?:完成时限|时间节点|完成时间|时限要求|时限)\s*[：:]\s*([^\n；;）)。]{1,40})")
# In free text only phrases that clearly are a deadline: a date followed by 前/之前/完成.
_FREE = re.compile(
    r"((?:(?:19|20)\d\d\s*年\s*)?(?:\d{1,2}\s*月\s*(?:\d{1,2}\s*[日号])?)?\s*"
    r"(?:底|末|上旬|中旬|下旬|上半年|下半年)?)\s*(?:之?前|以前)(?:完成|全面完成|实现|建成)?"
)


def _num(value: str | None) -> int | None:
    if not value:
        return None
    value = value.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if value.isdigit():
        return int(value)
    if value.startswith("二〇"):
        digits = "〇一二三四五六七八九"
        return 2000 + int("".join(str(digits.index(c)) for c in value[2:] if c in digits) or 0)
    try:
        return cn_to_int(value)
    except Exception:
        return None


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _iso(year: int | None, month: int, day: int) -> str | None:
    if year is None or not (1 <= month <= 12) or not (1900 <= year <= 2200):
        return None
    day = min(day, _last_day(year, month))
    if day < 1:
        return None
    return dt.date(year, month, day).isoformat()


def _due_from(m: re.Match[str], year: int | None) -> str | None:
    y = _num(m.group("y")) or year
    month = _num(m.group("m"))
    day = _num(m.group("d"))
    part = m.group("part") or ""
    if m.group("d2"):  # a range: due at its end
        month = _num(m.group("m2")) or month
        day = _num(m.group("d2"))
    if part in _HALF and month is None:
        hm, hd = _HALF[part]
        return _iso(y, hm, hd)
    if "季度" in part and month is None:
        q = _num(part.strip("第季度")) or 4
        if not 1 <= q <= 4:
            return None
        return _iso(y, q * 3, 31)
    if month is None:
        if m.group("y") and day is None:  # 2026年 / 2026年底
            return _iso(y, 12, 31)
        return None
    if day is not None:
        return _iso(y, month, day)
    if part == "上旬":
        return _iso(y, month, 10)
    if part in ("中旬", "中"):
        return _iso(y, month, 20)
    if part == "初":
        return _iso(y, month, 5)
    return _iso(y, month, 31)  # 6月 · 6月底 · 6月末 · 6月下旬: the month's end


def parse_deadline(text: str | None, year: int | None = None) -> Deadline | None:
    """Read a deadline field; ``None`` for an empty value. Unreadable wording keeps its text."""
    if text is None:
        return None
    original = re.sub(r"\s+", " ", str(text)).strip()
    if not original:
        return None
    original = original[:100]
    for rx, kind in _RECURRING_WORDS:
        if rx.search(original):
            # "每年12月底前" is recurring yearly and due at the first such date.
            due = None
            for m in _DATE.finditer(original):
                if m.group(0).strip() and (m.group("m") or m.group("y")):
                    due = _due_from(m, year)
                    if due:
                        break
            return Deadline(original, due, kind)
    years = _YEAR_RANGE.search(original)
    if years:  # 2024—2026年: due at the end of the last year
        return Deadline(original, _iso(int(years.group(2)), 12, 31), None)
    due = None
    for m in _DATE.finditer(original):
        if not m.group(0).strip():
            continue
        if m.group("m") or m.group("y") or m.group("part"):
            due = _due_from(m, year)
            if due:
                break
    return Deadline(original, due, None)


def find_deadline(text: str | None, year: int | None = None) -> Deadline | None:
    """Find a deadline inside a task's text: a labelled one first, then a dated phrase
    ending in 前 ("2026年12月底前完成"), then recurring wording ("每季度", "长期坚持")."""
    if not text:
        return None
    m = _LABEL.search(text)
    if m:
        return parse_deadline(m.group(1), year)
    for m in _FREE.finditer(text):
        phrase = m.group(1).strip()
        if not re.search(r"\d", phrase) and not re.search(r"底|末|旬|半年", phrase):
            continue
        found = parse_deadline(m.group(0).strip(), year)
        if found is not None and (found.due or re.search(r"月|年", phrase)):
            return found  # a month without a known year keeps its wording
    for rx, kind in _RECURRING_WORDS:
        hit = rx.search(text)
        if hit:
            return Deadline(hit.group(0), None, kind)
    return None


def plan_year(
    period: tuple[int, int] | None, issued_on: str | None, title: str | None = None
) -> int | None:
    """The year a date without a year belongs to: a one-year plan's year (from its
    period or its title, "2025年科普工作要点"), else the issue date's year, else the
    first year of the plan period."""
    if period and period[0] == period[1]:
        return period[0]
    years = set(re.findall(r"((?:19|20)\d\d)\s*年", title or ""))
    if len(years) == 1:
        return int(years.pop())
    if issued_on and issued_on[:4].isdigit():
        return int(issued_on[:4])
    if period:
        return period[0]
    return None


def deadline_fields(
    parsed: dict[str, Any] | None = None, text: str | None = None, year: int | None = None
) -> dict[str, Any]:
    """The stored task fields (``deadline`` text, ``due_on`` date, ``deadline_recurring``)
    from the parser's ``deadline`` dict, or from a typed ``text`` when one is given."""
    if text is not None:
        found = parse_deadline(text, year)
        parsed = found.to_dict() if found else None
    parsed = parsed or {}
    due = parsed.get("due")
    try:
        due_on = dt.date.fromisoformat(due) if due else None
    except (TypeError, ValueError):
        due_on = None
    recurring = parsed.get("recurring")
    return {
        "deadline": str(parsed.get("text") or "")[:100],
        "due_on": due_on,
        "deadline_recurring": recurring if recurring in RECURRING else "",
    }
