"""Document metadata: title, issuing body, document number, issue date, period."""

from __future__ import annotations

import datetime as dt
import re

from .numbers import cn_to_int

DOC_KIND = re.compile(
    r"(?:方案|要点|意见|计划|规划|纲要|办法|细则|通知|决定|安排|台账|清单|任务|措施|举措|指南|"
    r"条例|规定|报告|总结|通报|函|批复|公告)(?:\s*[(（][^()（）]{1,20}[)）])?$"
)
_NOTICE_TITLE = re.compile(
    r"^(?P<pre>.*?)(?:关于)?(?:印发|转发|下发|发布)《(?P<inner>[^《》]{4,80})》(?:的)?通知$"
)
DOC_NUMBER = re.compile(
    r"[\u4e00-\u9fff]{1,14}[〔\[［(（【]\s*(?:19|20)\d{2}\s*[〕\]］)）】]\s*第?\s*\d{1,4}\s*号"
)
DATE_LINE = re.compile(
    r"^[(]?\s*(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日\s*(?:印发|发布)?\s*[)]?$"
)
_CN_DATE_LINE = re.compile(
    r"^(?P<y>[二〇零一三四五六七八九○]{4})\s*年\s*(?P<m>[一二三四五六七八九十]{1,2})\s*月\s*"
    r"(?P<d>[一二三四五六七八九十]{1,3})\s*日\s*(?:印发)?$"
)
PERIOD = re.compile(
    r"(?P<a>(?:19|20)\d{2})\s*年?\s*(?:[-—–~―─]+|至|到)\s*(?P<b>(?:19|20)\d{2})\s*年"
)
ORG_SUFFIX = re.compile(
    r"(?:部|委|局|厅|办|院|会|协|中心|政府|办公室|委员会|科协|协会|学会|集团|公司|小组|工作室|"
    r"党组|团|联|社|馆)$"
)


def parse_date_line(norm: str) -> str | None:
    """``2023年3月22日`` (or ``二〇二三年三月二十二日``) on its own line → ``2023-03-22``."""
    s = norm.strip()
    m = DATE_LINE.match(s)
    if m:
        y, mo, d = int(m["y"]), int(m["m"]), int(m["d"])
    else:
        m = _CN_DATE_LINE.match(s)
        if not m:
            return None
        y = cn_to_int(m["y"].replace("○", "〇")) or 0
        mo = cn_to_int(m["m"]) or 0
        d = cn_to_int(m["d"]) or 0
    try:
        return dt.date(y, mo, d).isoformat()
    except ValueError:
        return None


def looks_like_org(norm: str) -> bool:
    s = norm.strip()
    return (
        2 <= len(s) <= 40
        and not re.search(r"[。;,:!?]", s)
        and bool(ORG_SUFFIX.search(s))
        and not DOC_KIND.search(s)
    )


def is_title_line(norm: str) -> bool:
    s = norm.strip()
    return 4 <= len(s) <= 80 and not re.search(r"[。;!?]$", s) and bool(DOC_KIND.search(s))


def find_period(text: str) -> tuple[int, int] | None:
    m = PERIOD.search(text)
    if not m:
        return None
    a, b = int(m["a"]), int(m["b"])
    if a <= b <= a + 30:
        return a, b
    return None


def find_doc_number(lines: list[str]) -> str | None:
    for ln in lines:
        s = ln.strip()
        m = DOC_NUMBER.search(s)
        if m and len(s) <= len(m.group(0)) + 4:
            return m.group(0)
    for ln in lines[:40]:
        m = DOC_NUMBER.search(ln)
        if m and "《" not in ln[: m.start()]:
            return m.group(0)
    return None


def notice_inner_title(norm: str) -> tuple[str, str] | None:
    """``X关于印发《Y》的通知`` → (X, Y)."""
    m = _NOTICE_TITLE.match(norm.strip())
    if not m:
        return None
    return m["pre"].strip(), m["inner"].strip()
