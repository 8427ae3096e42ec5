"""Quantitative targets: ``不少于12场``, ``达到12%``, ``培训教师300人以上``, ``突破500万人次``.

A number with a unit is a target only when a comparator cue (不少于, 至少, 以上, 超过 …) or a
goal verb (培训, 举办, 建成 …) stands next to it in the same clause; dates, years, list numbers,
ordinals (第十三次) and quoted slogans (“13个强国”) are not targets.

Comparators: ``>=`` 不少于/不低于/至少/达到/提高到/…以上; ``>`` 超过/高于/突破/…余/多;
``<=`` 不超过/不高于/控制在/…以内/…以下; ``<`` 低于/少于/不足; ``=`` a goal verb with a
plain number (培训教师300人, 新建站点20个) or …左右.  ``达到`` is read as ``>=`` (a floor
to reach), following how plans use it ("比例达到12%" is met by 13%).
"""

from __future__ import annotations

import re

from .model import Target
from .numbers import parse_number

_CN = "零〇一二两三四五六七八九十百千万亿"
_NUM = (
    rf"(?P<num>(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?)(?:\s*[十百千万亿]{{1,2}})?"
    rf"|[{_CN}]{{1,8}})"
)
UNITS = [
    "个百分点",
    "百分点",
    "人次",
    "场次",
    "户次",
    "课时",
    "学时",
    "小时",
    "平方米",
    "公里",
    "千米",
    "万册",
    "%",
    "‰",
    "人",
    "名",
    "场",
    "个",
    "所",
    "家",
    "期",
    "次",
    "篇",
    "部",
    "件",
    "支",
    "项",
    "批",
    "处",
    "座",
    "套",
    "册",
    "种",
    "本",
    "条",
    "门",
    "节",
    "户",
    "位",
    "队",
    "团",
    "班",
    "站",
    "馆",
    "园",
    "校",
    "台",
    "辆",
    "份",
    "组",
    "倍",
    "天",
    "周",
    "元",
    "集",
    "幅",
    "款",
    "所",
]
_UNIT = "|".join(re.escape(u) for u in sorted(set(UNITS), key=len, reverse=True))
_CANDIDATE = re.compile(
    rf"(?P<pct>百分之)?{_NUM}\s*(?P<approx>余|多)?\s*(?P<unit>{_UNIT})?"
    r"(?P<suf>(?:及|或)?以上|以下|以内|左右)?"
)
_CUES = [
    ("不少于", ">="),
    ("不低于", ">="),
    ("不小于", ">="),
    ("不下于", ">="),
    ("至少", ">="),
    ("最少", ">="),
    ("达到", ">="),
    ("提高到", ">="),
    ("提升到", ">="),
    ("增加到", ">="),
    ("增长到", ">="),
    ("增至", ">="),
    ("提高至", ">="),
    ("提升至", ">="),
    ("增加至", ">="),
    ("扩大到", ">="),
    ("扩大至", ">="),
    ("保持在", ">="),
    ("稳定在", ">="),
    ("达", ">="),
    ("不超过", "<="),
    ("不高于", "<="),
    ("不多于", "<="),
    ("不大于", "<="),
    ("最多", "<="),
    ("控制在", "<="),
    ("超过", ">"),
    ("高于", ">"),
    ("突破", ">"),
    ("大于", ">"),
    ("多于", ">"),
    ("逾", ">"),
    ("超", ">"),
    ("低于", "<"),
    ("少于", "<"),
    ("不足", "<"),
    ("小于", "<"),
    ("未满", "<"),
]
_GOALS = (
    "培训",
    "开展",
    "举办",
    "建成",
    "建设",
    "新建",
    "培育",
    "组织",
    "覆盖",
    "发展",
    "创建",
    "打造",
    "评选",
    "遴选",
    "推出",
    "认定",
    "命名",
    "招募",
    "征集",
    "完成",
    "实现",
    "接待",
    "发放",
    "制作",
    "出版",
    "创作",
    "开发",
    "播出",
    "发布",
    "吸引",
    "服务",
    "惠及",
    "参与",
    "参加",
    "选派",
    "表彰",
    "资助",
    "新增",
    "增加",
    "提高",
    "提升",
    "填报",
    "报送",
    "建立",
    "设立",
    "组建",
    "招收",
    "引进",
    "举行",
    "放映",
    "展出",
    "派出",
    "达成",
    "扶持",
    "奖励",
    "认证",
    "创作",
    "推广",
    "宣讲",
    "巡展",
)
_CUE_RE = re.compile("|".join(sorted((re.escape(c) for c, _ in _CUES), key=len, reverse=True)))
_CUE_OF = dict(_CUES)
_GOAL_RE = re.compile("|".join(_GOALS))
_CLAUSE_BREAK = re.compile(r"[,;。:!?、“”\"《》()\[\]【】\n]")
_FILLER_BAD = re.compile(r"[\d%]|每")
_SENTENCE = re.compile(r"[。;!?\n]")
_YEAR = re.compile(r"(?<![\d\-—~])((?:19|20)\d{2})\s*年(?!\s*[-—~至])")
_YEAR_RANGE_END = re.compile(r"((?:19|20)\d{2})\s*年?\s*[-—–~至到]+\s*((?:19|20)\d{2})\s*年")


def _window(norm: str, start: int) -> tuple[int, str]:
    lo = max(0, start - 24)
    seg = norm[lo:start]
    cut = 0
    for m in _CLAUSE_BREAK.finditer(seg):
        cut = m.end()
    return lo + cut, seg[cut:]


def _year_before(norm: str, pos: int) -> int | None:
    sent_start = 0
    for m in _SENTENCE.finditer(norm, 0, pos):
        sent_start = m.end()
    seg = norm[sent_start:pos]
    year = None
    for m in _YEAR_RANGE_END.finditer(seg):
        year = int(m.group(2))
    for m in _YEAR.finditer(seg):
        y = int(m.group(1))
        if year is None or m.start() > seg.rfind(str(year)):
            year = y
    return year


def extract_targets(norm: str, orig: str | None = None) -> list[Target]:
    """All quantitative targets in ``norm`` (normalised text); ``orig`` supplies display text."""
    orig = norm if orig is None else orig
    found: list[Target] = []
    for m in _CANDIDATE.finditer(norm):
        unit = m.group("unit")
        pct = bool(m.group("pct"))
        if pct:
            unit = "%"
        if not unit:
            continue
        num = m.group("num")
        start = m.start()
        if start > 0 and (norm[start - 1] in "第〔[.-—~/" or norm[start - 1].isdigit()):
            continue
        if m.end() < len(norm) and norm[m.end()] in "年月日号届":
            continue
        is_cn = not num[0].isdigit()
        value = parse_number(num)
        if value is None or value == 0:
            continue
        if is_cn and len(num) == 1 and not pct:
            # "一批", "两个维护", "进万家": too ambiguous without a strong cue
            strong_only = True
        else:
            strong_only = False
        if unit == "%" and not pct and num and not num[0].isdigit():
            continue
        wstart, window = _window(norm, start)
        comparator = None
        phrase_start = start
        cue = None
        for c in _CUE_RE.finditer(window):
            cue = c
        if cue is not None:
            filler = window[cue.end() :]
            word = cue.group(0)
            if (len(word) == 1 and filler.strip()) or len(filler) > 8 or _FILLER_BAD.search(filler):
                cue = None
            else:
                comparator = _CUE_OF[word]
                phrase_start = wstart + cue.start()
        if cue is None and not strong_only:
            goal = None
            for g in _GOAL_RE.finditer(window):
                goal = g
            if goal is not None:
                filler = window[goal.end() :]
                if len(filler) <= 8 and not _FILLER_BAD.search(filler):
                    comparator = "="
                    phrase_start = wstart + goal.start()
        suf = m.group("suf") or ""
        if suf in ("以下", "以内"):
            comparator = "<=" if comparator not in ("<",) else comparator
        elif suf.endswith("以上"):
            if comparator in (None, "="):
                comparator = ">="
        elif suf == "左右" and comparator is None:
            comparator = "="
        if comparator in (None, "=") and m.group("approx") and not strong_only:
            comparator = ">"
        if comparator is None:
            continue
        if strong_only and cue is None and not suf:
            continue
        text = orig[phrase_start : m.end()].strip()
        found.append(
            Target(
                text=text,
                comparator=comparator,
                value=value,
                unit=unit,
                year=_year_before(norm, phrase_start),
            )
        )
    return found


# --- display: targets read like the document -----------------------------------------------
COMPARATOR_WORDS = {">=": "不少于", ">": "超过", "=": "", "<=": "不超过", "<": "少于"}
_SPACES = re.compile(r"\s+")


def format_value(value: float | int) -> str:
    """A target value as an office writes it: 100000 → "10万", 150000000 → "1.5亿", 12.5 → "12.5"."""
    v = float(value)
    for size, word in ((10**8, "亿"), (10**4, "万")):
        if abs(v) >= size and (v / size) * 100 == int((v / size) * 100):
            q = v / size
            return f"{int(q) if q.is_integer() else f'{q:g}'}{word}"
    return str(int(v)) if v.is_integer() else f"{v:g}"


def target_display(
    text: str | None, comparator: str, value: float | int, unit: str, year: int | None
) -> str:
    """How a target is shown: the document's own wording ("不少于20个", "覆盖10万人次",
    "培训教师300人以上") with its year when the wording does not carry it
    ("超过15% (2025年)"). A target without wording (typed in a form) is worded from
    its structured value: ">=" 100000 "人次" → "不少于10万人次"."""
    base = _SPACES.sub(" ", text or "").strip()
    if not base:
        base = f"{COMPARATOR_WORDS.get(comparator, '')}{format_value(value)}{unit or ''}"
    if year and str(year) not in base:
        base = f"{base} ({year}年)"
    return base
