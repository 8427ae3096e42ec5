"""Bytes → text blocks: encodings, ``.docx`` (with numbering and tables), saved web pages and
text-layer PDF.

The output is a list of blocks: a ``str`` is one line of text, a :class:`Table` is a grid of
cell texts.  Nothing here interprets the content.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any

from kepu.core import filetypes

from .errors import ParseError


@dataclass
class Table:
    rows: list[list[str]] = field(default_factory=list)


Block = str | Table

TEXT_EXTS = {"txt", "text", "md", "csv", "tsv", ""}
HTML_EXTS = {"html", "htm", "shtml", "xhtml", "mht", "jsp", "asp", "aspx", "php"}
DOCX_EXTS = {"docx", "docm", "dotx", "wps_docx"}
KNOWN_UNSUPPORTED = {
    "doc": f"旧版 Word (.doc) 文件暂不能直接读取。{filetypes.SAVE_AS_DOCX}",
    "wps": f"WPS 文字 (.wps) 文件暂不能直接读取。{filetypes.SAVE_AS_DOCX}",
    "rtf": f"RTF 文件暂不能直接读取。{filetypes.SAVE_AS_DOCX}",
    "odt": f"OpenDocument (.odt) 文件暂不能直接读取。{filetypes.SAVE_AS_DOCX}",
}
SUPPORTED = ".docx、.pdf、.txt 或 .html"

# Caps: a plan document is at most a few thousand paragraphs. Anything far beyond is refused
# with a clear message before it is parsed, so a small compressed file cannot unpack into
# millions of paragraphs and exhaust memory (a zip bomb).
MAX_CHARS = 1_000_000  # decoded text of a .txt / .html document
MAX_PARAGRAPHS = 20_000  # lines of text, paragraphs of a .docx, blocks of a web page
MAX_TABLE_CELLS = 200_000  # table cells of a .docx
MAX_HTML_ELEMENTS = 100_000  # tags of a web page
MAX_DOCX_XML_BYTES = 64 * 1024 * 1024  # word/document.xml unpacked
MAX_DOCX_UNPACKED_BYTES = 256 * 1024 * 1024  # every member of the .docx unpacked


def _too_many_paragraphs() -> ParseError:
    return ParseError(
        f"文档段落过多 (超过 {MAX_PARAGRAPHS:,} 段), 不像是一份规划文件; 请拆分后分别导入。"
    )


def check_text_size(text: str) -> None:
    """Refuse a decoded document over :data:`MAX_CHARS` characters."""
    if len(text) > MAX_CHARS:
        raise ParseError(f"文档过长 ({len(text):,} 字, 上限 {MAX_CHARS:,} 字); 请拆分后分别导入。")


def check_block_count(blocks: list[Block]) -> None:
    """Refuse more than :data:`MAX_PARAGRAPHS` non-empty lines."""
    count = 0
    for b in blocks:
        count += len(b.rows) if isinstance(b, Table) else bool(b.strip())
        if count > MAX_PARAGRAPHS:
            raise _too_many_paragraphs()


_DOCX_PARA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?p[\s>/]")
_DOCX_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?tc[\s>/]")


def check_docx_size(data: bytes) -> None:
    """Refuse a .docx that unpacks too large or holds too many paragraphs or cells.

    Sizes come from the zip directory (the zip reader never inflates a member beyond its
    declared size); paragraphs and cells are counted by streaming ``word/document.xml``
    and stopping at the first one over the cap, before any XML is parsed.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ParseError("无法读取 .docx 文件: 文件已损坏或不是 Word 文档。") from exc
    with zf:
        infos = zf.infolist()
        if sum(i.file_size for i in infos) > MAX_DOCX_UNPACKED_BYTES:
            raise ParseError("Word 文件解压后过大, 不像是一份规划文件; 请检查文件。")
        doc = next((i for i in infos if i.filename == "word/document.xml"), None)
        if doc is None:
            raise ParseError("无法读取 .docx 文件: 文件已损坏或不是 Word 文档。")
        if doc.file_size > MAX_DOCX_XML_BYTES:
            raise ParseError("Word 文件的正文过大, 不像是一份规划文件; 请拆分后分别导入。")
        paragraphs = cells = 0
        tail = b""
        try:
            with zf.open(doc) as fh:
                while True:
                    chunk = fh.read(1 << 20)
                    buf = tail + chunk
                    cut = len(buf) - 16 if chunk else len(buf)
                    head, tail = buf[:cut], buf[cut:]
                    paragraphs += len(_DOCX_PARA.findall(head))
                    cells += len(_DOCX_CELL.findall(head))
                    if paragraphs > MAX_PARAGRAPHS:
                        raise _too_many_paragraphs()
                    if cells > MAX_TABLE_CELLS:
                        raise ParseError(
                            f"文档中的表格单元格过多 (超过 {MAX_TABLE_CELLS:,} 个); "
                            "请拆分后分别导入。"
                        )
                    if not chunk:
                        break
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError) as exc:
            raise ParseError("无法读取 .docx 文件: 文件已损坏。") from exc


# The most frequent characters of Chinese policy prose: a decoding that yields many of them is
# almost certainly right.
_COMMON = set(
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子"
    "说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机当使"
    "点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心反你明看"
    "原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程展五果料象员"
    "革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期根论运农指几九区"
    "强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世金增争济阶油思术极"
    "交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每目至达走积示议声报斗完类"
    "八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律叫且究观越织装影算低持音众书"
    "布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般史感劳便团往酸历市克何除消构府称太准"
    "精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置派层片始却专状育厂京识适属圆包火住调满县局"
    "照参红细引听该铁价严普协站馆乡镇村街道培训活动推进加强开展组织实施宣传健全完善落实责任牵头配合单位"
    "國學會發與為這個們時來動產說後過對點當從業應還進務開關義現實將與體"
)
_CJK = re.compile(r"[\u3400-\u9fff]")


def _score(text: str) -> float:
    """Share of CJK characters that are common Chinese characters (higher is better)."""
    sample = text[:20000]
    cjk = _CJK.findall(sample)
    if not cjk:
        return 0.0
    common = sum(1 for c in cjk if c in _COMMON)
    bad = sample.count("\ufffd") + sum(1 for c in sample if "\ue000" <= c <= "\uf8ff")
    return (common - 3 * bad) / len(cjk)


def decode_text_bytes(data: bytes) -> str:
    """Decode a plain-text file of unknown encoding (BOM → UTF-8 → GB18030/Big5 → detection)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return data.decode("utf-32", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    head = data[:4000]
    if len(head) >= 4:
        even_nul = head[0::2].count(0) / max(1, len(head[0::2]))
        odd_nul = head[1::2].count(0) / max(1, len(head[1::2]))
        if odd_nul > 0.2 and even_nul < 0.05:
            return data.decode("utf-16-le", errors="replace")
        if even_nul > 0.2 and odd_nul < 0.05:
            return data.decode("utf-16-be", errors="replace")
    candidates: list[tuple[float, str]] = []
    for enc in ("gb18030", "big5"):
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        candidates.append((_score(text), text))
    if not candidates or max(c[0] for c in candidates) < 0.5:
        try:
            from charset_normalizer import from_bytes

            best = from_bytes(data).best()
            if best is not None:
                text = str(best)
                candidates.append((_score(text) + 0.01, text))
        except Exception:  # detection is best effort
            pass
    if candidates:
        return max(candidates, key=lambda c: c[0])[1]
    return data.decode("gb18030", errors="replace")


# ---------------------------------------------------------------------------------- text
_TAB_SPLIT = re.compile(r"\t+")


def text_blocks(text: str) -> list[Block]:
    """Lines of a text file; runs of tab-separated lines become tables (copied from Word)."""
    check_text_size(text)
    lines = re.split(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]", text)
    if len(lines) > MAX_PARAGRAPHS and sum(1 for x in lines if x.strip()) > MAX_PARAGRAPHS:
        raise _too_many_paragraphs()
    blocks: list[Block] = []
    table: Table | None = None
    for line in lines:
        if "\t" in line.strip() and line.count("\t") >= 1:
            cells = [c.strip() for c in _TAB_SPLIT.split(line.strip())]
            if len(cells) >= 2:
                if table is None:
                    table = Table()
                    blocks.append(table)
                table.rows.append(cells)
                continue
        table = None
        blocks.append(line)
    # a "table" of a single row is just a line with tabs
    out: list[Block] = []
    for b in blocks:
        if isinstance(b, Table) and len(b.rows) < 2:
            out.append("  ".join(b.rows[0]))
        else:
            out.append(b)
    return out


# ---------------------------------------------------------------------------------- docx
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 20 → 二十, 105 → 一百零五 (for 1 ≤ n < 10000)."""
    if n <= 0:
        return str(n)
    if n < 10:
        return _CN_DIGITS[n]
    if n < 20:
        return "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 100:
        return _CN_DIGITS[n // 10] + "十" + (_CN_DIGITS[n % 10] if n % 10 else "")
    if n < 1000:
        rest = n % 100
        head = _CN_DIGITS[n // 100] + "百"
        if not rest:
            return head
        return (
            head
            + ("零" if rest < 10 else "")
            + (
                cn_number(rest)
                if rest >= 20
                else ("一" + cn_number(rest) if rest >= 10 else cn_number(rest))
            )
        )
    if n < 10000:
        rest = n % 1000
        head = _CN_DIGITS[n // 1000] + "千"
        return head + (("零" if rest < 100 else "") + cn_number(rest) if rest else "")
    return str(n)


def _roman(n: int) -> str:
    vals = [
        (1000, "m"),
        (900, "cm"),
        (500, "d"),
        (400, "cd"),
        (100, "c"),
        (90, "xc"),
        (50, "l"),
        (40, "xl"),
        (10, "x"),
        (9, "ix"),
        (5, "v"),
        (4, "iv"),
        (1, "i"),
    ]
    out = ""
    for v, s in vals:
        while n >= v:
            out += s
            n -= v
    return out


def _letters(n: int) -> str:
    return chr(ord("a") + (n - 1) % 26) * ((n - 1) // 26 + 1)


def format_counter(n: int, fmt: str) -> str:
    if fmt in (
        "chineseCounting",
        "chineseCountingThousand",
        "chineseLegalSimplified",
        "ideographLegalTraditional",
        "taiwaneseCounting",
        "taiwaneseCountingThousand",
    ):
        return cn_number(n)
    if fmt in ("decimalEnclosedCircle", "decimalEnclosedCircleChinese") and 1 <= n <= 20:
        return chr(0x2460 + n - 1)
    if fmt == "decimalEnclosedParen" and 1 <= n <= 20:
        return f"({n})"
    if fmt == "decimalFullWidth":
        return str(n).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789"})
    if fmt == "ideographTraditional" and 1 <= n <= 10:
        return "甲乙丙丁戊己庚辛壬癸"[n - 1]
    if fmt == "lowerLetter":
        return _letters(n)
    if fmt == "upperLetter":
        return _letters(n).upper()
    if fmt == "lowerRoman":
        return _roman(n)
    if fmt == "upperRoman":
        return _roman(n).upper()
    if fmt in ("bullet", "none"):
        return ""
    return str(n)


class _Numbering:
    """Renders Word automatic numbering (``w:numPr``) as the text Word would show."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}
        self.num_abstract: dict[str, str] = {}
        self.start_override: dict[str, dict[int, int]] = {}
        self.counters: dict[str, dict[int, int]] = {}
        self.seen_nums: set[str] = set()
        try:
            root = document.part.numbering_part.element
        except Exception:  # no numbering part
            return
        for absn in root.iter(f"{_W}abstractNum"):
            aid = absn.get(f"{_W}abstractNumId")
            lv: dict[int, tuple[int, str, str]] = {}
            for lvl in absn.iter(f"{_W}lvl"):
                ilvl = int(lvl.get(f"{_W}ilvl", "0"))
                start = lvl.find(f"{_W}start")
                fmt = lvl.find(f"{_W}numFmt")
                text = lvl.find(f"{_W}lvlText")
                lv[ilvl] = (
                    int(start.get(f"{_W}val", "1")) if start is not None else 1,
                    fmt.get(f"{_W}val", "decimal") if fmt is not None else "decimal",
                    text.get(f"{_W}val", "") if text is not None else "",
                )
            if aid is not None:
                self.levels[aid] = lv
        for num in root.iter(f"{_W}num"):
            nid = num.get(f"{_W}numId")
            ab = num.find(f"{_W}abstractNumId")
            if nid is None or ab is None:
                continue
            self.num_abstract[nid] = ab.get(f"{_W}val", "")
            for ov in num.iter(f"{_W}lvlOverride"):
                so = ov.find(f"{_W}startOverride")
                if so is not None:
                    self.start_override.setdefault(nid, {})[int(ov.get(f"{_W}ilvl", "0"))] = int(
                        so.get(f"{_W}val", "1")
                    )

    def label(self, num_id: str, ilvl: int) -> str:
        aid = self.num_abstract.get(num_id)
        if aid is None or aid not in self.levels:
            return ""
        levels = self.levels[aid]
        counters = self.counters.setdefault(aid, {})
        if num_id not in self.seen_nums:
            self.seen_nums.add(num_id)
            for lvl, start in self.start_override.get(num_id, {}).items():
                counters[lvl] = start - 1
        start, fmt, text = levels.get(ilvl, (1, "decimal", f"%{ilvl + 1}."))
        counters[ilvl] = counters.get(ilvl, start - 1) + 1
        for deeper in [k for k in counters if k > ilvl]:
            del counters[deeper]
        if fmt in ("bullet", "none"):
            return ""

        def repl(m: re.Match[str]) -> str:
            lvl = int(m.group(1)) - 1
            lstart, lfmt, _ = levels.get(lvl, (1, "decimal", ""))
            return format_counter(counters.get(lvl, lstart), lfmt)

        return re.sub(r"%([1-9])", repl, text)


def _paragraph_num(p: Any, styles_num: dict[str, tuple[str, int]]) -> tuple[str, int] | None:
    ppr = p.find(f"{_W}pPr")
    if ppr is not None:
        numpr = ppr.find(f"{_W}numPr")
        if numpr is not None:
            nid = numpr.find(f"{_W}numId")
            ilvl = numpr.find(f"{_W}ilvl")
            if nid is not None:
                val = nid.get(f"{_W}val", "0")
                if val == "0":
                    return None
                return val, int(ilvl.get(f"{_W}val", "0")) if ilvl is not None else 0
        style = ppr.find(f"{_W}pStyle")
        if style is not None:
            return styles_num.get(style.get(f"{_W}val", ""))
    return None


def _para_text(p: Any) -> str:
    parts: list[str] = []
    for el in p.iter():
        tag = el.tag
        if tag == f"{_W}t" and el.text:
            parts.append(el.text)
        elif tag == f"{_W}tab":
            parts.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            parts.append("\n")
    return "".join(parts)


def docx_blocks(data: bytes) -> list[Block]:
    try:
        import docx
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise ParseError("缺少 python-docx, 无法读取 .docx 文件。") from exc
    check_docx_size(data)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise ParseError("无法读取 .docx 文件: 文件已损坏或不是 Word 文档。") from exc
    numbering = _Numbering(document)
    styles_num: dict[str, tuple[str, int]] = {}
    try:
        for st in document.styles.element.iter(f"{_W}style"):
            ppr = st.find(f"{_W}pPr")
            numpr = ppr.find(f"{_W}numPr") if ppr is not None else None
            if numpr is not None and numpr.find(f"{_W}numId") is not None:
                ilvl = numpr.find(f"{_W}ilvl")
                styles_num[st.get(f"{_W}styleId", "")] = (
                    numpr.find(f"{_W}numId").get(f"{_W}val", "0"),
                    int(ilvl.get(f"{_W}val", "0")) if ilvl is not None else 0,
                )
    except Exception:
        styles_num = {}

    blocks: list[Block] = []

    def paragraph(p: Any) -> list[str]:
        text = _para_text(p)
        num = _paragraph_num(p, styles_num)
        if num is not None and text.strip():
            label = numbering.label(*num)
            if label:
                text = label + text.lstrip()
        return text.split("\n")

    def cell_text(tc: Any) -> str:
        lines: list[str] = []
        for p in tc.iter(f"{_W}p"):
            lines.extend(paragraph(p))
        return "\n".join(x for x in lines if x.strip())

    def table(tbl: Any) -> Table:
        out = Table()
        above: dict[int, str] = {}
        for tr in tbl.findall(f"{_W}tr"):
            row: list[str] = []
            col = 0
            for tc in tr.findall(f"{_W}tc"):
                tcpr = tc.find(f"{_W}tcPr")
                span = 1
                vmerge_continue = False
                if tcpr is not None:
                    gs = tcpr.find(f"{_W}gridSpan")
                    if gs is not None:
                        try:
                            span = max(1, int(gs.get(f"{_W}val", "1")))
                        except ValueError:
                            span = 1
                    vm = tcpr.find(f"{_W}vMerge")
                    if vm is not None and vm.get(f"{_W}val", "continue") == "continue":
                        vmerge_continue = True
                text = above.get(col, "") if vmerge_continue else cell_text(tc)
                for i in range(span):
                    above[col + i] = text
                    row.append(text)
                col += span
            out.rows.append(row)
        return out

    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag
        if tag == f"{_W}p":
            blocks.extend(paragraph(child))
        elif tag == f"{_W}tbl":
            blocks.append(table(child))
        elif tag == f"{_W}sdt":
            for p in child.iter(f"{_W}p"):
                blocks.extend(paragraph(p))
    return blocks


# ---------------------------------------------------------------------------------- html
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "nav",
    "header",
    "footer",
    "iframe",
    "form",
    "button",
    "select",
    "input",
    "textarea",
    "svg",
    "object",
    "embed",
    "aside",
    "head",
)
_BODY_HINT = re.compile(
    r"(^|[\s_-])(article|content|zoom|trs_editor|custom_unionstyle|pages_content|detail|"
    r"main-?text|txt|text|con|wzzw|zw|view|contentbox|art_con|article-content|bt_content)"
    r"($|[\s_-]|\d)",
    re.I,
)
_NOISE_HINT = re.compile(
    r"nav|menu|footer|header|breadcrumb|share|sidebar|related|copyright|"
    r"print|comment|toolbar|position|location",
    re.I,
)
_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "section",
    "article",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "ul",
    "ol",
    "center",
    "td",
    "th",
    "font",
    "span",
}


def _html_text(node: Any) -> int:
    return len(node.get_text("", strip=True)) if hasattr(node, "get_text") else 0


_HTML_TAG = re.compile(r"<[A-Za-z]")


def html_blocks(data: bytes | str) -> list[Block]:
    try:
        from bs4 import BeautifulSoup, NavigableString, Tag
    except ImportError as exc:  # pragma: no cover
        raise ParseError("缺少 beautifulsoup4, 无法读取网页文件。") from exc
    if isinstance(data, bytes):
        text = _decode_html(data)
    else:
        text = data
    if len(_HTML_TAG.findall(text)) > MAX_HTML_ELEMENTS:
        raise ParseError(
            f"网页元素过多 (超过 {MAX_HTML_ELEMENTS:,} 个), 不像是一份规划文件; 请检查文件。"
        )
    try:
        soup = BeautifulSoup(text, "lxml")
    except Exception:
        try:
            soup = BeautifulSoup(text, "html.parser")
        except Exception as exc:
            raise ParseError("无法解析网页文件。") from exc
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    for tag in list(soup.find_all(True)):
        if getattr(tag, "attrs", None) is None:
            continue
        attrs = " ".join([str(tag.get("id") or ""), " ".join(tag.get("class") or [])])
        if attrs.strip() and _NOISE_HINT.search(attrs) and not _BODY_HINT.search(attrs):
            if _html_text(tag) < 400:
                tag.decompose()
    root = soup.body or soup
    total = max(1, _html_text(root))
    best = None
    best_len = 0
    for tag in root.find_all(True):
        attrs = " ".join([str(tag.get("id") or ""), " ".join(tag.get("class") or [])])
        if attrs and _BODY_HINT.search(attrs):
            n = _html_text(tag)
            if n > best_len:
                best, best_len = tag, n
    if best is None or best_len < 0.3 * total:
        best = root
    blocks: list[Block] = []
    # a visible title outside the chosen body (h1 / .title) is kept as the first line
    if best is not root:
        heads = root.find_all(["h1", "h2"])
        for h in heads[:2]:
            if best not in h.parents and h not in best.descendants:
                t = h.get_text("", strip=True)
                if t:
                    blocks.append(t)
                break

    buf: list[str] = []

    def flush() -> None:
        line = "".join(buf)
        buf.clear()
        for part in line.split("\n"):
            blocks.append(part)

    def walk(node: Any) -> None:
        for child in node.children:
            if isinstance(child, NavigableString):
                if type(child).__name__ in (
                    "Comment",
                    "Doctype",
                    "Declaration",
                    "ProcessingInstruction",
                    "CData",
                ):
                    continue
                buf.append(re.sub(r"[ \t\r\n]+", " ", str(child)))
            elif isinstance(child, Tag):
                name = child.name
                if name == "table":
                    flush()
                    tbl = Table()
                    for tr in child.find_all("tr"):
                        cells = [c.get_text("\n", strip=True) for c in tr.find_all(["td", "th"])]
                        if any(cells):
                            tbl.rows.append(cells)
                    if tbl.rows:
                        blocks.append(tbl)
                    continue
                if name == "br":
                    flush()
                    continue
                block = name in _BLOCK_TAGS and name not in ("span", "font", "td", "th")
                if block:
                    flush()
                walk(child)
                if block:
                    flush()

    walk(best)
    flush()
    return blocks


def _decode_html(data: bytes) -> str:
    m = re.search(rb"<meta[^>]+charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", data[:4000], re.I)
    if m and not data.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        enc = m.group(1).decode("ascii", "ignore").lower()
        if enc in ("gb2312", "gbk", "gb_2312-80"):
            enc = "gb18030"
        try:
            return data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            pass
    return decode_text_bytes(data)


# ---------------------------------------------------------------------------------- PDF
_PAGE_NUMBER = re.compile(r"^[-—–－\s]*(?:第\s*)?\d{1,4}(?:\s*页)?(?:\s*/\s*\d{1,4})?[-—–－\s]*$")
_SENTENCE_END = "。;；:：!！?？」』)）"


def pdf_blocks(data: bytes) -> list[Block]:
    """The text layer of a PDF as lines, with the lines a paragraph wraps over joined.

    PDF text comes out line by line as laid out on the page; a line that fills the width
    and does not end a sentence continues on the next line unless that line starts a
    heading. Page numbers ("- 3 -") at the top or bottom of a page are dropped. A PDF
    without a text layer (a scan) is refused with a message saying so.
    """
    from .headings import match_heading
    from .normalize import fold

    try:
        pages = filetypes.pdf_pages(data)
    except filetypes.FileReadError as exc:
        raise ParseError(str(exc)) from exc
    lines: list[str] = []
    for page in pages:
        body = [ln for ln in page if ln]
        while body and _PAGE_NUMBER.match(body[-1]):
            body.pop()
        while body and _PAGE_NUMBER.match(body[0]):
            body.pop(0)
        lines.extend(body)
        if len(lines) > MAX_PARAGRAPHS * 4:
            raise _too_many_paragraphs()
    if not lines:
        raise ParseError(filetypes.SCANNED_PDF)
    lengths = sorted(len(ln) for ln in lines)
    full = lengths[int(len(lengths) * 0.9)] if len(lengths) >= 5 else max(lengths)
    blocks: list[Block] = []
    buf = last = ""
    for ln in lines:
        wrapped = len(last) >= full * 0.85 and not last.endswith(tuple(_SENTENCE_END))
        if buf and wrapped and match_heading(fold(ln)) is None:
            buf += ln
        else:
            if buf:
                blocks.append(buf)
            buf = ln
        last = ln
    if buf:
        blocks.append(buf)
    return blocks


# ---------------------------------------------------------------------------------- sheets
def sheet_blocks(data: bytes) -> list[Block]:
    """A spreadsheet (.xlsx/.xls task ledger) as a document: the rows above the ledger's
    header become lines (the title), the header and everything below one table."""
    from .ledger import HEADER_SCAN, _header, read_rows

    rows = read_rows(data)
    header_at = next((i for i, r in enumerate(rows[:HEADER_SCAN]) if _header(r)), None)
    blocks: list[Block] = []
    start = header_at if header_at is not None else len(rows)
    for row in rows[:start]:
        text = " ".join(c for c in row if c)
        if text:
            blocks.append(text)
    if header_at is not None:
        blocks.append(Table(rows=[list(r) for r in rows[header_at:]]))
    return blocks


# ---------------------------------------------------------------------------------- dispatch
def file_kind(data: bytes, filename: str) -> str:
    """``"docx"``, ``"pdf"``, ``"sheet"`` (.xlsx/.xls), ``"html"`` or ``"text"``, judged by content first
    (:func:`kepu.core.filetypes.sniff`), then by extension; raises :class:`ParseError`
    with what to do for other types (.doc/.wps: how to save as .docx)."""
    name = (filename or "").strip().lower()
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    found = filetypes.sniff(data)
    if found == "docx" or (found == "zip" and ext in DOCX_EXTS):
        return "docx"
    if found == "pdf":
        return "pdf"
    if ext == "wps" and found in ("doc", "ole", "xls"):
        raise ParseError(KNOWN_UNSUPPORTED["wps"])
    if found in ("xlsx", "xls") or (found == "ole" and ext == "xls"):
        return "sheet"
    if found in ("doc", "ole"):
        raise ParseError(KNOWN_UNSUPPORTED["doc"])
    if found == "binary" and (ext in TEXT_EXTS or ext in HTML_EXTS):
        found = "text"  # let the text decoder judge (it reports text without Chinese)
    if found not in ("text", "html"):
        raise ParseError(_not_a_document(found, ext))
    if ext in KNOWN_UNSUPPORTED:
        raise ParseError(KNOWN_UNSUPPORTED[ext])
    if ext in DOCX_EXTS or ext in ("pdf", "xlsx", "xls"):
        raise ParseError(filetypes.mismatch_message(filename, found, "." + ext))
    if ext in HTML_EXTS:
        return "html"
    if found == "html":
        return "html"
    if ext in TEXT_EXTS or ext.isdigit() or len(ext) > 6:
        return "text"
    raise ParseError(f"不支持的文件类型「.{ext}」: 请上传 {SUPPORTED} 文件。")


def _not_a_document(found: str, ext: str) -> str:
    what = filetypes.label(found)
    if found in ("xlsx", "xls", "et", "ods"):
        return (
            f"这是{filetypes._sp(what)}, 不是规划文件。任务台账请从「导入台账」上传; "
            f"规划文件请上传 {SUPPORTED} 文件。"
        )
    return f"不支持的文件类型 ({what}): 请上传 {SUPPORTED} 文件。{filetypes.advice(found, '.docx')}"


def decode_bytes(data: bytes, filename: str) -> list[Block]:
    kind = file_kind(data, filename)
    if kind == "docx":
        blocks = docx_blocks(data)
    elif kind == "pdf":
        blocks = pdf_blocks(data)
    elif kind == "sheet":
        blocks = sheet_blocks(data)
    elif kind == "html":
        blocks = html_blocks(data)
    else:
        blocks = text_blocks(decode_text_bytes(data))
    check_block_count(blocks)
    return blocks
