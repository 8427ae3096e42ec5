"""Campaign fields from repaired text: dates by what the sentence around them says.

A date or date range is classified by the words of its own line's heading (``(一)登记填报``)
and of the clause that follows it (``…期间注册并登录…填报活动信息``): registration,
completion (``补充完善…图片视频``), summary (``总结…汇总表…报送``) or, failing all of these,
the event itself (``定于9月17-23日在全市各地集中开展``). Dates without a year take the
campaign's year (the title's, else the first year the text names).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from kepu.plans.parsing.decode import Block, Table
from kepu.plans.parsing.errors import ParseError
from kepu.plans.parsing.normalize import Line, fold, normalize
from kepu.plans.parsing.numbers import parse_number
from kepu.plans.parsing.units import split_names

from .model import ParsedCampaign, Quota

_CJK = re.compile(r"[\u3400-\u9fff]")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_SEP = r"\s*(?:[-—–~]+|至|到)\s*"
_DAY = r"(?P<{p}d>\d{{1,2}})\s*[日号]"
_RANGE = re.compile(
    r"(?:(?P<y1>(?:19|20)\d{2})\s*年\s*)?(?P<m1>\d{1,2})\s*月\s*(?P<d1>\d{1,2})\s*[日号]?"
    + _SEP
    + r"(?:(?P<y2>(?:19|20)\d{2})\s*年\s*)?(?:(?P<m2>\d{1,2})\s*月\s*)?(?P<d2>\d{1,2})\s*[日号]"
)
_DATE = re.compile(
    r"(?:(?P<y>(?:19|20)\d{2})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
)
_MONTH = re.compile(r"(?:(?P<y>(?:19|20)\d{2})\s*年\s*)?(?P<m>\d{1,2})\s*月\s*(?:份|全月|整月)")
_BEFORE = re.compile(r"^\s*(?:\d{1,2}\s*[时点]\s*)?(?:前|之前|以前|止|为止|截止)")

KINDS = ("registration", "completion", "summary")
_WORDS = {
    "registration": re.compile(r"注册|登记|填报活动|报名|申报|录入|上报活动|活动填报"),
    "completion": re.compile(r"完善|补充|上传|进展成果|结项|图片视频|完成情况"),
    "summary": re.compile(r"总结|汇总表|汇总"),
}
_EVENT = re.compile(r"集中开展|举办|举行|活动时间|定于|启动|为期|期间开展|主场")

_THEME = re.compile(
    r"(?<!副)主题\s*(?:为|是|:)\s*:?\s*[“\"「『]?(?P<t>[^。“”\"」』\n]{2,60}?)[”\"」』]?(?:。|$|\n)"
)
_THEME_YI = re.compile(r"以\s*[“\"「『](?P<t>[^”\"」』]{2,60})[”\"」』]\s*为(?:活动)?主题")
_ORG_LABEL = re.compile(r"(?:^|(?<=[、。)\s]))(主办单位|承办单位|组织单位)\s*:?\s*")
# Where an organiser list ends: a sentence end or the next heading glued on (三、相关事项).
_ORG_END = re.compile(
    r"[。;]|(?<!第)[一二三四五六七八九十]{1,3}、|\(\s*[一二三四五六七八九十]{1,3}\s*\)"
)
_QUOTA = re.compile(
    r"(?:至少|不少于|不低于|不得少于|最少|原则上不少于)\s*"
    r"(?:填报|开展|组织|举办|申报|上报|策划|完成)?\s*"
    r"(?P<n>\d+|[一二三四五六七八九十百千两〇零]+)\s*(?P<unit>场次|场|项|次|个|期)"
)
_WHO_STOP = set(",;。:!?\n()")
_WHO_TRIM_HEAD = re.compile(r"^(?:请|其中|要求|原则上|并|且|同时|对|由)+")
_WHO_TRIM_TAIL = re.compile(
    r"(?:每年|每月|每季度|全年|均|分别|应当|应|须|需|要|各自|活动期间|期间)+$"
)

# Column names summary tables use; glued headers (序号活动名称活动时间) are split with them.
COLUMN_WORDS = (
    "序号 活动名称 活动主题 活动时间 活动日期 起止时间 开始时间 结束时间 活动地点 活动地址 举办地点 "
    "活动形式 活动类型 活动方式 活动内容 活动简介 主要内容 内容简介 主办单位 承办单位 协办单位 组织单位 "
    "举办单位 填报单位 参与人数 参加人数 受众人数 受益人数 参与人次 覆盖人数 预计参与人数 受众对象 "
    "受众人群 面向对象 重点人群 联系人 联系电话 联系方式 负责人 备注 线上线下 网址 活动链接 链接 "
    "志愿者人数 专家人数 经费 投入经费 所在地区 所在乡镇 单位名称"
).split()
_COLUMN_RE = re.compile("|".join(sorted(COLUMN_WORDS, key=len, reverse=True)))


@dataclass
class _Found:
    kind: str  # registration | completion | summary | event
    start: dt.date
    end: dt.date | None  # None: a single date ("…前")
    deadline: bool
    eventish: bool = False  # event words around it (举办, 集中开展, 活动时间 …)


def _date(y: int | None, m: int, d: int, year: int | None) -> dt.date | None:
    y = y or year
    if y is None:
        return None
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def _lines(blocks: list[Block]) -> tuple[list[Line], list[Table]]:
    norm = normalize(blocks)
    lines = [b for b in norm.blocks if isinstance(b, Line)]
    tables = [b for b in norm.blocks if isinstance(b, Table)]
    return lines, tables


def _title(lines: list[Line], blocks: list[Block]) -> str | None:
    from kepu.plans.parsing.normalize import normalize as _n
    from kepu.plans.parsing.structure import build

    try:
        title = build(_n(blocks)).title
    except Exception:  # the plan builder is a best effort here
        title = None
    if title:
        return title
    for ln in lines[:5]:
        if _CJK.search(ln.orig) and len(ln.orig) <= 60:
            return ln.orig.strip()
    return None


def _year(title: str | None, text: str) -> int | None:
    for source in (title or "", text):
        m = _YEAR.search(source)
        if m:
            return int(m.group(1))
    return None


def _heading_words(norm: str) -> str:
    """A line's own heading (``(一)登记填报。``): the first sentence when it is short."""
    head = re.split(r"[。:]", norm, maxsplit=1)[0]
    return head if len(head) <= 16 else ""


def _classify(norm: str, start: int, end: int) -> str:
    head = _heading_words(norm)
    after = norm[end : end + 40]
    after = re.split(r"[。;]", after, maxsplit=1)[0]
    before = norm[max(0, start - 20) : start]
    before = re.split(r"[。;]", before)[-1]
    for kind in KINDS:
        if head and _WORDS[kind].search(head):
            return kind
    for kind in KINDS:
        if _WORDS[kind].search(after):
            return kind
    for kind in KINDS:
        if _WORDS[kind].search(before):
            return kind
    return "event"


def _eventish(norm: str, start: int, end: int) -> bool:
    window = _heading_words(norm) + "|" + norm[max(0, start - 20) : end + 40]
    return bool(_EVENT.search(window))


def _dates(lines: list[Line], year: int | None) -> list[_Found]:
    found: list[_Found] = []
    for ln in lines:
        norm = ln.norm
        taken: list[tuple[int, int]] = []
        for m in _RANGE.finditer(norm):
            y1 = int(m["y1"]) if m["y1"] else None
            y2 = int(m["y2"]) if m["y2"] else None
            m1, d1, d2 = int(m["m1"]), int(m["d1"]), int(m["d2"])
            m2 = int(m["m2"]) if m["m2"] else m1
            start = _date(y1, m1, d1, year)
            end = _date(y2 or y1, m2, d2, year)
            if start is None or end is None or end < start:
                continue
            taken.append(m.span())
            span = m.span()
            found.append(_Found(_classify(norm, *span), start, end, False, _eventish(norm, *span)))
        for m in _DATE.finditer(norm):
            if any(a <= m.start() < b for a, b in taken):
                continue
            day = _date(int(m["y"]) if m["y"] else None, int(m["m"]), int(m["d"]), year)
            if day is None:
                continue
            deadline = bool(_BEFORE.match(norm[m.end() :]))
            span = m.span()
            found.append(
                _Found(_classify(norm, *span), day, None, deadline, _eventish(norm, *span))
            )
        for m in _MONTH.finditer(norm):
            y = int(m["y"]) if m["y"] else year
            month = int(m["m"])
            if y is None or not 1 <= month <= 12:
                continue
            first = dt.date(y, month, 1)
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(1)
            kind = _classify(norm, *m.span())
            if kind == "event":
                found.append(_Found(kind, first, last, False, _eventish(norm, *m.span())))
    return found


def _iso(d: dt.date | None) -> str | None:
    return d.isoformat() if d else None


def _apply_dates(c: ParsedCampaign, found: list[_Found]) -> None:
    reg = [f for f in found if f.kind == "registration"]
    ranges = [f for f in reg if f.end is not None]
    if ranges:
        c.registration_start, c.registration_end = _iso(ranges[0].start), _iso(ranges[0].end)
    else:
        ends = [f for f in reg if f.deadline]
        if ends:
            c.registration_end = _iso(ends[0].start)
    for kind, attr in (("completion", "completion_deadline"), ("summary", "summary_deadline")):
        days = [f for f in found if f.kind == kind and (f.deadline or f.end is not None)]
        if days:
            f = days[0]
            setattr(c, attr, _iso(f.end or f.start))
    # The event: a range with event words, else any unclassified range, else one day
    # with event words ("9月20日举办主场活动"); a lone date (the issue date) is not one.
    ranges = [f for f in found if f.kind == "event" and f.end is not None]
    events = [f for f in ranges if f.eventish] or ranges
    if events:
        c.event_start, c.event_end = _iso(events[0].start), _iso(events[0].end)
    else:
        singles = [f for f in found if f.kind == "event" and not f.deadline and f.eventish]
        if singles:
            c.event_start = c.event_end = _iso(singles[0].start)


def _theme(text: str) -> str | None:
    for rx in (_THEME_YI, _THEME):
        m = rx.search(text)
        if m:
            theme = m["t"].strip(' “”"「」『』:,')
            if theme:
                return theme
    return None


def _organizers(lines: list[Line]) -> list[str]:
    found: dict[str, list[str]] = {}
    for i, ln in enumerate(lines):
        m = _ORG_LABEL.search(ln.norm)
        if not m:
            continue
        rest = _ORG_END.split(fold(ln.orig[m.end() :]), maxsplit=1)[0]
        if not rest.strip() and i + 1 < len(lines):
            rest = _ORG_END.split(lines[i + 1].norm, maxsplit=1)[0]
        names = [n for n in split_names(rest) if _CJK.search(n)]
        if names:
            found.setdefault(m.group(1), names)
    for label in ("主办单位", "承办单位", "组织单位"):
        if label in found:
            return found[label]
    return []


def _who(norm: str, at: int) -> str:
    depth = 0
    i = at - 1
    while i >= 0:
        ch = norm[i]
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and ch in _WHO_STOP:
            break
        i -= 1
    who = norm[i + 1 : at].strip()
    who = _WHO_TRIM_HEAD.sub("", who)
    who = _WHO_TRIM_TAIL.sub("", who).strip()
    return who


def _quotas(lines: list[Line]) -> list[Quota]:
    quotas: list[Quota] = []
    for ln in lines:
        for m in _QUOTA.finditer(ln.norm):
            n = parse_number(m["n"])
            if not isinstance(n, int) or n <= 0:
                continue
            who = _who(ln.norm, m.start())
            if not who or not _CJK.search(who):
                continue
            q = Quota(who=who, min=n, unit=m["unit"], text=ln.orig)
            if not any(x.who == q.who and x.min == q.min for x in quotas):
                quotas.append(q)
    return quotas


def _split_header(text: str) -> list[str]:
    text = text.strip()
    parts = [p for p in re.split(r"[\s|、,;/]+", text) if p]
    if len(parts) > 1:
        return parts
    columns: list[str] = []
    pending = ""
    pos = 0
    while pos < len(text):
        m = _COLUMN_RE.match(text, pos)
        if m:
            if pending:
                columns.append(pending)
                pending = ""
            columns.append(m.group(0))
            pos = m.end()
        else:
            if text[pos].isdigit() and columns:
                break  # the first data row starts
            pending += text[pos]
            pos += 1
    if pending and _CJK.search(pending):
        columns.append(pending)
    return columns


def _summary_columns(lines: list[Line], tables: list[Table]) -> list[str]:
    for table in tables:
        for row in table.rows[:3]:
            cells = [fold(c).strip() for c in row if c and c.strip()]
            if len(cells) >= 2 and sum(bool(_COLUMN_RE.fullmatch(c)) for c in cells) >= 2:
                return cells
    texts = [ln.norm for ln in lines]
    summary_at = max((i for i, t in enumerate(texts) if "汇总表" in t), default=-1)
    candidates = texts[summary_at:] if summary_at >= 0 else texts
    for t in candidates:
        at = t.rfind("序号")
        if at < 0:
            continue
        cols = _split_header(t[at:])
        if len(cols) >= 2:
            return cols
    return []


def extract(blocks: list[Block]) -> ParsedCampaign:
    lines, tables = _lines(blocks)
    if not lines and not tables:
        raise ParseError("文档内容为空。")
    text = "\n".join(ln.norm for ln in lines)
    if not _CJK.search(text) and not tables:
        raise ParseError("文档中没有可识别的中文内容 (可能是乱码或编码无法识别)。")
    c = ParsedCampaign()
    c.title = _title(lines, blocks)
    c.year = _year(c.title, text)
    c.theme = _theme(text)
    _apply_dates(c, _dates(lines, c.year))
    if c.year is None and c.event_start:
        c.year = int(c.event_start[:4])
    c.organizers = _organizers(lines)
    c.quotas = _quotas(lines)
    c.summary_columns = _summary_columns(lines, tables)
    return c
