"""Chinese and Arabic numerals → numbers."""

from __future__ import annotations

import re

CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "○": 0,
    "Ｏ": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
    "壹": 1,
    "贰": 2,
    "叁": 3,
    "肆": 4,
    "伍": 5,
    "陆": 6,
    "柒": 7,
    "捌": 8,
    "玖": 9,
}
CN_SMALL = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
CN_BIG = {"万": 10**4, "萬": 10**4, "亿": 10**8}
CN_NUM_CHARS = "".join(CN_DIGITS) + "".join(CN_SMALL) + "".join(CN_BIG)
CIRCLED = {chr(0x2460 + i): i + 1 for i in range(20)}

_ARABIC = re.compile(r"\d+(?:\.\d+)?")


def cn_to_int(text: str) -> int | None:
    """``五千`` → 5000, ``两百`` → 200, ``十二`` → 12, ``二〇二三`` → 2023, ``一亿五千万``."""
    if not text or any(c not in CN_DIGITS and c not in CN_SMALL and c not in CN_BIG for c in text):
        return None
    if len(text) > 1 and all(c in CN_DIGITS for c in text):
        return int("".join(str(CN_DIGITS[c]) for c in text))
    total = 0
    section = 0
    number = 0
    for ch in text:
        if ch in CN_DIGITS:
            number = CN_DIGITS[ch]
        elif ch in CN_SMALL:
            section += (number or 1) * CN_SMALL[ch]
            number = 0
        else:
            big = CN_BIG[ch]
            if big == 10**8:
                total = (total + section + number) * big
            else:
                total += (section + number or (0 if total else 1)) * big
            section = 0
            number = 0
    return total + section + number


def parse_number(text: str) -> int | float | None:
    """A number as written in a target: ``1000万``, ``1.5亿``, ``五千``, ``12``, ``1,000``."""
    s = text.replace(",", "").replace(" ", "")
    if not s:
        return None
    m = _ARABIC.match(s)
    if m:
        value: float = float(m.group(0))
        for ch in s[m.end() :]:
            if ch in CN_SMALL:
                value *= CN_SMALL[ch]
            elif ch in CN_BIG:
                value *= CN_BIG[ch]
            else:
                return None
    else:
        iv = cn_to_int(s)
        if iv is None:
            return None
        value = float(iv)
    if value == int(value) and abs(value) < 1e15:
        return int(value)
    return round(value, 6)


def heading_number(text: str) -> int | None:
    """The integer of a heading number: ``十二`` → 12, ``3`` → 3, ``③`` → 3."""
    text = text.strip()
    if text in CIRCLED:
        return CIRCLED[text]
    if text.isascii() and text.isdigit():
        return int(text)
    return cn_to_int(text)
