"""Excel task ledgers (任务台账) as offices keep them → plain data (no Django).

    {"title": str|None,
     "tasks": [{"number", "section", "title", "text", "lead", "cooperate",
                "responsible", "targets", "deadline"}]}

Handles what real ledgers contain: title rows above the header, merged section rows
("一、青少年科学素质提升行动" in one merged cell), units with brackets inside their names
("各县(市、区)人民政府"), extra columns (ignored), repeated header rows on every printed
page, and the platform's own exports (title row, 章节 column, 进展情况/状态 columns).
"""

from __future__ import annotations

import io
import re
from typing import Any

from kepu.core import filetypes

from .deadlines import Deadline, find_deadline, parse_deadline, plan_year
from .errors import ParseError
from .headings import match_heading
from .normalize import fold
from .structure import short_title
from .targets import extract_targets

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLS = 60
HEADER_SCAN = 12

_HEADERS: list[tuple[str, re.Pattern[str]]] = [
    ("number", re.compile(r"^(?:序号|编号|序|No\.?)$", re.I)),
    ("section", re.compile(r"^(?:章节|类别|领域|板块|专项|所属章节|项目类别|任务类别)$")),
    ("lead", re.compile(r"牵头")),
    ("cooperate", re.compile(r"配合|协办|参与单位|协同")),
    ("responsible", re.compile(r"责任单位|责任部门|负责单位|承办单位|责任主体|实施单位")),
    ("targets", re.compile(r"目标|完成标准|预期成果|指标")),
    ("deadline", re.compile(r"时限|完成时间|时间节点|完成期限")),
    ("ignore", re.compile(r"进展|状态|备注|完成情况")),
    ("content", re.compile(r"任务|内容|措施|举措|事项|工作")),
]
_SEP = "、,，;；/／\n"
_OPEN, _CLOSE = "(（[【〔", ")）]】〕"


def split_units(text: str) -> list[str]:
    """Split a unit list at 、,;/ and line breaks, never inside brackets:
    "各县(市、区)人民政府、市科协" → ["各县(市、区)人民政府", "市科协"]."""
    names: list[str] = []
    depth = 0
    buf: list[str] = []
    for ch in text or "":
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
        if ch in _SEP and depth == 0:
            names.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    names.append("".join(buf))
    out: list[str] = []
    for n in names:
        n = re.sub(r"\s+", "", n).strip("。.")
        n = re.sub(r"(?:牵头|配合|参与|负责)$", "", n)
        if n and n not in out and n not in ("无", "—", "-", "/"):
            out.append(n)
    return out


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if hasattr(value, "strftime"):
        return value.strftime("%Y年%m月%d日")
    return str(value).strip()


def _header(row: list[str]) -> dict[str, int] | None:
    cols: dict[str, int] = {}
    for i, cell in enumerate(row):
        key = re.sub(r"\s+", "", fold(cell))
        if not key or len(key) > 14:
            continue
        for name, rx in _HEADERS:
            if rx.search(key):
                if name == "content":
                    cols["content"] = i  # the last matching column is the task text
                elif name not in cols and name != "ignore":
                    cols[name] = i
                break
    if "content" in cols and {"lead", "cooperate", "responsible"} & set(cols):
        return cols
    return None


def read_rows(data: bytes) -> list[list[str]]:
    """The first worksheet's rows as text, capped in rows and columns (.xlsx or .xls,
    told apart by content)."""
    if not data:
        raise ParseError("文件为空。")
    if len(data) > MAX_BYTES:
        raise ParseError("文件过大 (超过 20 MB)。")
    found = filetypes.sniff(data)
    if found in ("xls", "ole"):
        try:
            raw = filetypes.xls_rows(data, max_rows=MAX_ROWS, max_cols=MAX_COLS)
        except filetypes.FileReadError as exc:
            raise ParseError(str(exc)) from exc
        return [[_cell(v) for v in row] for row in raw]
    if found not in ("xlsx", "zip"):
        raise ParseError(
            f"这不是有效的 Excel 表格 (看起来是{filetypes._sp(filetypes.label(found))})。"
            f"{filetypes.advice(found, '.xlsx')}"
        )
    try:
        from openpyxl import load_workbook

        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for damaged files
        raise ParseError(
            f"无法读取 Excel 文件: 文件已损坏 ({exc.__class__.__name__}); "
            "请在 Excel 中打开并重新保存后再上传。"
        ) from exc
    try:
        if not wb.worksheets:
            raise ParseError("Excel 文件中没有工作表。")
        rows: list[list[str]] = []
        for row in wb.worksheets[0].iter_rows(values_only=True, max_col=MAX_COLS):
            rows += [[_cell(v) for v in row]]
            if len(rows) > MAX_ROWS:
                raise ParseError(f"表格超过 {MAX_ROWS} 行, 请拆分后再导入。")
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"读取 Excel 文件时出错 ({exc.__class__.__name__})。") from exc
    finally:
        wb.close()
    return rows


def parse_rows(rows: list[list[str]]) -> dict[str, Any]:
    """Rows of a ledger sheet → the ledger JSON (see module doc)."""
    header_at, cols = -1, {}
    for i, row in enumerate(rows[:HEADER_SCAN]):
        found = _header(row)
        if found is not None:
            header_at, cols = i, found
            break
    if header_at < 0:
        raise ParseError(
            "找不到表头: 前几行中需要有「任务内容」(或工作任务、重点任务) 和「牵头单位」"
            "(或责任单位、配合单位) 列。"
        )
    title = None
    for row in rows[:header_at]:
        texts = [c for c in row if c]
        if (
            len(texts) == 1
            and len(texts[0]) >= 4
            and not re.match(r"^(?:附件|附表)\s*\d*$", texts[0])
        ):
            title = texts[0]
            break
    if title:
        title = re.sub(r"\s+(?:任务台账|工作台账|进展台账)$", "", title).strip() or title
    year = plan_year(None, None, title)
    section: str | None = None
    tasks: list[dict[str, Any]] = []

    def get(row: list[str], key: str) -> str:
        i = cols.get(key)
        return row[i].strip() if i is not None and i < len(row) else ""

    for row in rows[header_at + 1 :]:
        texts = [c for c in row if c]
        if not texts:
            continue
        if _header(row) is not None:
            continue  # the header repeated on a printed page
        content = get(row, "content")
        if len(set(texts)) == 1 and not (content and get(row, "lead")):
            # a merged section row: one value across the row
            h = match_heading(fold(texts[0]))
            section = (texts[0][h.end :].strip() if h else texts[0]) or texts[0]
            continue
        if not content:
            continue
        explicit_section = get(row, "section")
        if explicit_section:
            h = match_heading(fold(explicit_section))
            section = explicit_section[h.end :].strip() if h else explicit_section
        number = get(row, "number") or None
        h = match_heading(fold(content))
        if h is not None and h.kind != "dash":
            number = number or h.number
            content = content[h.end :].strip()
        lead = split_units(get(row, "lead"))
        cooperate = [u for u in split_units(get(row, "cooperate")) if u not in lead]
        responsible = list(lead)
        for u in [*cooperate, *split_units(get(row, "responsible"))]:
            if u not in responsible:
                responsible.append(u)
        targets_text = get(row, "targets")
        targets = extract_targets(fold(targets_text), targets_text) if targets_text else []
        if not targets:
            targets = extract_targets(fold(content), content)
        deadline_text = get(row, "deadline")
        deadline: Deadline | None = (
            parse_deadline(deadline_text, year) if deadline_text else find_deadline(content, year)
        )
        text = content.replace("\r", "")
        tasks.append(
            {
                "number": number.strip() if number else None,
                "section": section,
                "title": short_title(text.split("\n", 1)[0]) or text[:100],
                "text": text,
                "lead": lead,
                "cooperate": cooperate,
                "responsible": responsible,
                "targets": [t.to_dict() for t in targets],
                "deadline": (deadline or Deadline("")).to_dict(),
            }
        )
    return {"title": title, "tasks": tasks}


def parse_ledger(data: bytes) -> dict[str, Any]:
    """Parse an .xlsx or .xls ledger. Raises :class:`ParseError` with a Chinese message."""
    rows = read_rows(data)
    try:
        return parse_rows(rows)
    except ParseError:
        raise
    except Exception as exc:  # a bug must not crash the caller
        raise ParseError(f"解析台账时出错 ({exc.__class__.__name__})。") from exc
