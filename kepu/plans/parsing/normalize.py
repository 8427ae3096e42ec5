"""Repair damaged text and prepare it for parsing.

Every line is kept twice: ``orig`` (repaired text for display) and ``norm`` (the same text
with full-width ASCII, full-width parentheses and ideographic spaces folded to half-width).
The fold is one character for one character, so positions found in ``norm`` slice ``orig``.

Repairs, in order: traditional → simplified (OpenCC ``t2s``), inline pinyin ruby, mojibake
fragments, web-page furniture and spam lines, page-number lines, page markers glued in by
document-sharing sites, hard-wrapped lines (PDF → text), headings glued into long lines.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .decode import Block, Table
from .headings import RANK, match_appendix, match_heading

# ------------------------------------------------------------------ one-for-one fold
_FOLD: dict[int, int] = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_FOLD.update(
    {
        0x3000: 0x20,
        0x00A0: 0x20,
        0x2002: 0x20,
        0x2003: 0x20,
        0x2009: 0x20,
        0xFE59: 0x28,
        0xFE5A: 0x29,
        0xFE30: 0x3A,
        0xFE55: 0x3A,
        0x2236: 0x3A,
        0x3014: 0x3014,
        0xFF5E: 0x7E,
    }
)


_FOLD_CHARS = {chr(k): chr(v) for k, v in _FOLD.items() if k != v}
_FOLD_RE = re.compile("[" + re.escape("".join(_FOLD_CHARS)) + "]")


def _fold_one(m: re.Match[str]) -> str:
    return _FOLD_CHARS[m.group(0)]


def fold(text: str) -> str:
    """Full-width → half-width for ASCII punctuation/digits/letters; length-preserving."""
    return _FOLD_RE.sub(_fold_one, text)


@dataclass
class Line:
    orig: str
    norm: str = field(default="")

    def __post_init__(self) -> None:
        if not self.norm:
            self.norm = fold(self.orig)


# ------------------------------------------------------------------ traditional → simplified
@lru_cache(maxsize=1)
def _converter():  # type: ignore[no-untyped-def]
    try:
        import opencc

        return opencc.OpenCC("t2s")
    except Exception:  # pragma: no cover - opencc is a declared dependency
        return None


def to_simplified(text: str) -> str:
    conv = _converter()
    if conv is None or not text:
        return text
    try:
        out = conv.convert(text)
    except Exception:  # pragma: no cover
        return text
    return out if isinstance(out, str) else text


# ------------------------------------------------------------------ line-level repairs
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
_PINYIN_SYL = r"[a-zA-Zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüêńňǹḿ]{1,6}[1-5]?"
_RUBY = re.compile(rf"(?<=[\u3400-\u9fff])\s?[(（]\s?({_PINYIN_SYL})\s?[)）]")
_TONE = re.compile(r"[āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ]|[a-z][1-5]$")
_QMARKS = re.compile(r"[?？]{2,}|\ufffd+|[\ue000-\uf8ff]+")
_STRAY_LATIN = re.compile(r"(?<=[\u3400-\u9fff)）])(?:[a-z]|I)(?=[、，。,;；(（])")
_EMPTY_PAREN = re.compile(r"[(（][\s　]*[)）]")
_SPACES = re.compile(r"[ \t\u3000\u00a0]{2,}")


def strip_ruby(line: str) -> str:
    """Drop pinyin printed after characters: ``科(kē)学(xué)`` → ``科学``."""
    matches = list(_RUBY.finditer(line))
    if not matches:
        return line
    toned = sum(1 for m in matches if _TONE.search(m.group(1)))
    if toned == 0 and len(matches) < 3:
        return line
    return _RUBY.sub("", line)


def clean_line(line: str) -> str:
    line = _ZERO_WIDTH.sub("", line)
    line = _CONTROL.sub("", line)
    if "(" in line or "（" in line:
        line = strip_ruby(line)
        line = _EMPTY_PAREN.sub("", line)
    line = _QMARKS.sub("", line)
    line = _STRAY_LATIN.sub("", line)
    line = _SPACES.sub(" ", line)
    return line.strip(" \t\u3000\u00a0")


# ------------------------------------------------------------------ junk lines
_SPAM = re.compile(
    r"由会员分享|可在线阅读|文库|豆丁|道客巴巴|原创力文档|人人文库|淘豆网|金锄头|"
    r"下载积分|下载券|当前位置\s*[:：]|您的位置|您现在的位置|首页\s*[>＞»]|关闭窗口|打印本页|"
    r"【\s*打印|【\s*关闭|分享到|扫一扫|字号\s*[:：]|【\s*大\s*中\s*小\s*】|浏览次数|阅读次数|"
    r"点击数|点击量|访问量|上一篇|下一篇|相关链接|网站地图|版权所有|ICP备|技术支持\s*[:：]|"
    r"^\s*(?:https?://|www\.)\S*\s*$|^\s*[【\[]?\s*(?:打印|关闭|收藏|返回顶部)\s*[】\]]?\s*$"
)
_META = re.compile(
    r"^(?:发布时间|发布日期|时间|日期|来源|作者|编辑|责任编辑|信息来源|文章来源|浏览|点击|"
    r"发文机关|发布机构|索引号|主题分类|成文日期)\s*[:：]"
)
_PAGE_NO = re.compile(
    r"^[\s\-—–－_]*\d{1,3}[\s\-—–－_]*$|^第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?$|"
    r"^\d{1,3}\s*/\s*\d{1,3}$|^[-—–－]\s*[一二三四五六七八九十]+\s*[-—–－]$"
)
_ISO_DATE = re.compile(r"(20\d{2}|19\d{2})[-/.年](\d{1,2})[-/.月](\d{1,2})")

_TERMINAL = set('。;!?)】」』”"》:')


@dataclass
class Normalized:
    blocks: list[Line | Table]
    published: str | None = None  # a date found in a page-furniture line
    title_hint: str | None = None  # a title found in a spam line (《X.docx》由会员分享…)
    page_mode: bool = False
    notes: list[str] = field(default_factory=list)


_DOC_TITLE_IN_SPAM = re.compile(r"《([^《》]{4,80}?)(?:\.(?:docx?|pdf|txt|wps))?》")


def _drop_junk(lines: list[str], out: Normalized) -> list[str]:
    kept: list[str] = []
    n = len(lines)
    for i, line in enumerate(lines):
        if not line:
            continue
        norm = fold(line)
        if _SPAM.search(norm):
            if out.title_hint is None and ("分享" in norm or "文库" in norm):
                m = _DOC_TITLE_IN_SPAM.search(line)
                if m:
                    out.title_hint = m.group(1).strip()
            if "发布时间" in norm or "时间" in norm:
                m = _ISO_DATE.search(norm)
                if m and out.published is None:
                    out.published = "-".join(m.groups())
            # a spam line may carry real text after the spam sentence (docs sharing sites)
            continue
        if _META.match(norm) or ("|" in norm and re.search(r"(时间|作者|编辑|来源)\s*:", norm)):
            if i < 40 or i >= n - 10 or len(norm) < 60:
                m = _ISO_DATE.search(norm)
                if m and out.published is None:
                    out.published = "-".join(m.groups())
                continue
        if _PAGE_NO.match(norm):
            continue
        kept.append(line)
    return kept


# ------------------------------------------------------------------ page markers
_MARKER_AT_START = re.compile(r"^(\d{1,3})\s*、")
_DOUBLE_MARK = re.compile(r"(?<=[\u3400-\u9fff])\d{1,3}、(?=、)")


def _repair_page_markers(lines: list[str], out: Normalized, sharing_site: bool) -> list[str]:
    lines = [_DOUBLE_MARK.sub("", ln) for ln in lines]
    expected = 1
    marks: list[int] = []
    for i, line in enumerate(lines):
        m = _MARKER_AT_START.match(line)
        if m and int(m.group(1)) == expected:
            marks.append(i)
            expected += 1
    if not marks:
        return lines
    cut = 0
    for idx in marks[1:]:
        prev = fold(lines[idx - 1]).rstrip()
        if prev and prev[-1] not in _TERMINAL:
            cut += 1
    long_lines = sum(1 for idx in marks if len(lines[idx]) >= 150)
    page_mode = (sharing_site and len(marks) >= 1) or (
        len(marks) >= 3 and cut * 2 >= len(marks) - 1 and long_lines * 2 >= len(marks)
    )
    if not page_mode:
        return lines
    out.page_mode = True
    mark_set = set(marks)
    merged: list[str] = []
    for i, line in enumerate(lines):
        if i in mark_set:
            body = _MARKER_AT_START.sub("", line, count=1)
            if merged and i != marks[0]:
                merged[-1] = merged[-1] + body
            else:
                merged.append(body)
        else:
            merged.append(line)
    # markers glued inside a line (the line break was lost)
    nxt = len(marks) + 1
    result: list[str] = []
    inline = re.compile(r"(?<=[\u3400-\u9fff])(\d{1,3})、(?=[\u3400-\u9fff、])")
    for line in merged:
        pos = 0
        pieces: list[str] = []
        last = -1000
        for m in inline.finditer(line):
            if int(m.group(1)) == nxt and m.start() - last > 200:
                pieces.append(line[pos : m.start()])
                pos = m.end()
                last = m.start()
                nxt += 1
        pieces.append(line[pos:])
        result.append("".join(pieces))
    return result


# ------------------------------------------------------------------ hard-wrapped text
def _unwrap(lines: list[str]) -> list[str]:
    lengths = sorted(len(x) for x in lines if len(x) >= 10)
    if len(lengths) < 10:
        return lines
    width = lengths[int(len(lengths) * 0.9)]
    if not 15 <= width <= 90:
        return lines
    near = sum(1 for x in lengths if width - 3 <= x <= width)
    if near < 0.4 * len(lengths):
        return lines
    out: list[str] = []
    joinable = False
    for line in lines:
        norm = fold(line)
        starts_heading = match_heading(norm) is not None or match_appendix(norm) is not None
        if joinable and out and not starts_heading:
            out[-1] += line
        else:
            out.append(line)
        tail = fold(out[-1]).rstrip()
        joinable = len(line) >= width - 4 and bool(tail) and tail[-1] not in "。;!?:"
    return out


# ------------------------------------------------------------------ headings glued into lines
_CN_SEQ = "一二三四五六七八九十"
_INLINE_CAND = re.compile(
    r"[(〔][一二三四五六七八九十]{1,3}[)〕]"  # (一)
    r"|(?<![一二三四五六七八九十第、])[一二三四五六七八九十]{1,3}、(?![一二三四五六七八九十\d])"  # 一、
    r"|(?<![\d.])\d{1,2}\s*[.、](?![\d%])(?=\s*[\u4e00-\u9fff“《])"  # 1.  1、
    r"|(?<![\d.])\d{1,2}\s?(?=[\u4e00-\u9fff])"  # 1学会 (damaged)
    r"|\(\d{1,2}\)(?=[\u4e00-\u9fff])"  # (1)
    r"|[\u2460-\u2473]"  # ①
    r"|——(?=[\u4e00-\u9fff])"
)
_SENT_END = set("。!?;)")


def _split_inline(lines: list[Line], min_len: int) -> list[Line]:
    """Split long lines before heading markers that continue the document's numbering."""
    last: dict[str, int] = {}
    out: list[Line] = []
    for line in lines:
        h = match_heading(line.norm)
        if h and h.value is not None:
            last[h.kind] = h.value
            for k in list(last):
                if RANK[k] > RANK[h.kind]:
                    del last[k]
        if len(line.norm) < min_len:
            out.append(line)
            continue
        cuts: list[int] = []
        start = h.end if h else 0
        for m in _INLINE_CAND.finditer(line.norm, start):
            p = m.start()
            if p == 0:
                continue
            prev = line.norm[p - 1]
            cand = match_heading(line.norm[p:])
            if cand is None:
                continue
            kind, val = cand.kind, cand.value
            after_sentence = prev in _SENT_END or prev in '”"'
            ok = False
            if kind == "pcn":
                ok = val == last.get("pcn", 0) + 1 or (val == 1 and after_sentence)
            elif kind == "cn":
                # "三、" continues the top-level numbering; a first "一、" needs a sentence end
                ok = val == last.get("cn", 0) + 1 and (after_sentence or "cn" in last)
            elif kind == "ar":
                seq = val is not None and (val == last.get("ar", 0) + 1 or val == 1)
                if cand.weak:
                    ok = after_sentence and seq
                else:
                    ok = after_sentence and (
                        seq or (val is not None and val <= 99 and prev == "。")
                    )
            elif kind in ("par", "circ"):
                ok = (
                    prev in "。!?"
                    and val is not None
                    and (val == last.get(kind, 0) + 1 or val == 1)
                )
            elif kind == "dash":
                ok = prev in "。!?)"
            if not ok:
                continue
            cuts.append(p)
            if val is not None:
                last[kind] = val
                for k in list(last):
                    if RANK[k] > RANK[kind]:
                        del last[k]
        if not cuts:
            out.append(line)
            continue
        bounds = [0, *cuts, len(line.orig)]
        for a, b in itertools.pairwise(bounds):
            piece_o = line.orig[a:b].strip()
            if piece_o:
                out.append(Line(piece_o))
    return out


# ------------------------------------------------------------------ glued title
_GLUED_TITLE = re.compile(
    r"^(.{4,60}?(?:实施方案|工作方案|活动方案|工作要点|行动方案|实施意见|行动计划|工作计划|规划|通知))"
    r"(?=为|根据|按照|近日|现将|经|依据|贯彻|\d{4}年)"
)


def normalize(blocks: list[Block]) -> Normalized:
    out = Normalized(blocks=[])
    # traditional → simplified in one call for all lines
    raw_lines = [b for b in blocks if isinstance(b, str)]
    joined = to_simplified("\n".join(raw_lines))
    simp = joined.split("\n")
    if len(simp) != len(raw_lines):  # conversion never changes line breaks, but be safe
        simp = raw_lines
    it = iter(simp)
    segments: list[list[str] | Table] = []
    current: list[str] = []
    for b in blocks:
        if isinstance(b, str):
            current.append(clean_line(next(it)))
        else:
            segments.append(current)
            current = []
            rows = [[clean_line(to_simplified(c)) for c in row] for row in b.rows]
            segments.append(Table(rows=[r for r in rows if any(r)]))
    segments.append(current)
    all_text = [ln for seg in segments if isinstance(seg, list) for ln in seg]
    sharing = any(_SPAM.search(x) and ("分享" in x or "文库" in x) for x in all_text[:30])

    first_text = True
    for seg in segments:
        if isinstance(seg, Table):
            if seg.rows:
                out.blocks.append(seg)
            continue
        lines = _drop_junk(seg, out)
        lines = _repair_page_markers(lines, out, sharing)
        lines = _unwrap(lines)
        objs = [Line(x) for x in lines if x.strip()]
        if first_text and objs:
            first_text = False
            objs = _split_glued_title(objs, out)
        objs = _split_inline(objs, 120 if out.page_mode else 200)
        out.blocks.extend(objs)
    return out


def _split_glued_title(objs: list[Line], out: Normalized) -> list[Line]:
    for i, line in enumerate(objs[:5]):
        if len(line.orig) < 80:
            continue
        hint = out.title_hint
        if hint and line.orig.startswith(hint) and len(line.orig) > len(hint) + 5:
            return [*objs[:i], Line(hint), Line(line.orig[len(hint) :]), *objs[i + 1 :]]
        m = _GLUED_TITLE.match(line.orig)
        if m:
            t = m.group(1)
            return [*objs[:i], Line(t), Line(line.orig[len(t) :]), *objs[i + 1 :]]
    return objs
