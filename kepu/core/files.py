"""Files in and out, shared by every area: upload checks (size, extension, content
signature), spreadsheet cell text, and the Excel download response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.http import HttpResponse

MAX_UPLOAD_BYTES = 10 * 1024 * 1024

ZIP_EXTENSIONS = (".docx", ".xlsx")
TEXT_EXTENSIONS = (".txt", ".html", ".htm", ".csv")
# Binary containers that show up renamed as text: zip (docx/xlsx), PDF, old OLE Office files.
BINARY_SIGNATURES = (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0")


@dataclass(frozen=True)
class Kind:
    extensions: tuple[str, ...]
    label: str
    # How a text upload that is really a binary file is described: "不是{text_name}
    # (可能是 {binary_hint} 文件改了扩展名)".
    text_name: str = "文本"
    binary_hint: str = "Word/PDF"


DOCUMENT = Kind((".txt", ".docx", ".html", ".htm"), "txt、docx 或 html")
SPREADSHEET = Kind((".xlsx",), "xlsx")
DATA = Kind((".csv", ".xlsx"), "csv 或 xlsx", text_name=" CSV 文本", binary_hint="Excel/PDF")


def check_upload(name: str, data: bytes, kind: Kind, *, max_bytes: int = MAX_UPLOAD_BYTES) -> str:
    """Validate an uploaded file; return its lower-case extension or raise ValidationError."""
    lower = (name or "").lower()
    ext = next((e for e in kind.extensions if lower.endswith(e)), None)
    if ext is None:
        raise ValidationError(f"不支持的文件类型「{name}」, 请上传 {kind.label} 文件。")
    if not data:
        raise ValidationError("上传的文件是空的。")
    if len(data) > max_bytes:
        raise ValidationError(
            f"文件过大 ({len(data) / 1024 / 1024:.1f} MB), 上限为 {max_bytes // 1024 // 1024} MB。"
        )
    if ext in ZIP_EXTENSIONS and not data.startswith(b"PK\x03\x04"):
        raise ValidationError(f"文件「{name}」不是有效的 {ext[1:]} 文件 (内容与扩展名不符)。")
    if ext in TEXT_EXTENSIONS and data.startswith(BINARY_SIGNATURES):
        raise ValidationError(
            f"文件「{name}」的内容不是{kind.text_name} (可能是 {kind.binary_hint} 文件改了扩展名)。"
        )
    return ext


def cell_text(value: Any) -> str:
    """A spreadsheet cell as stripped text (12.0 → '12', None → '')."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def xlsx_response(data: bytes, filename: str) -> HttpResponse:
    """An .xlsx download with a UTF-8 (Chinese) file name."""
    resp = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp


# --- Excel writing -----------------------------------------------------------------------
# Every workbook the platform produces is built with ``new_workbook`` and filled with
# ``write_cell``/``write_row``, so that text a user typed is always written as text.
#
# Decision (formula injection, issue 7): a string is stored with the explicit string type
# (``data_type = "s"``), never left to openpyxl's inference (which turns any string
# starting with "=" into a formula and "#N/A"-like strings into errors).  A string whose
# first character is one of ``FORMULA_PREFIXES`` additionally gets Excel's *quote prefix*
# style (what Excel records when someone types a leading apostrophe), so Excel, WPS and
# LibreOffice show it as text and keep it text when the cell is edited and re-entered.
# The text itself is kept exactly (no visible apostrophe is added), so what the user typed
# is what the file holds.  Numbers, dates and booleans keep their types: -3 stays a number.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def is_formula_like(text: str) -> bool:
    """True when a spreadsheet program could read ``text`` as a formula or command."""
    return text.startswith(FORMULA_PREFIXES)


def new_workbook(*, keep_default_sheet: bool = True) -> Any:
    """A fresh openpyxl workbook (the one place exports create workbooks)."""
    from openpyxl import Workbook

    wb = Workbook()
    if not keep_default_sheet:
        wb.remove(wb.active)
    return wb


def write_cell(ws: Any, row: int, column: int, value: Any) -> Any:
    """Write ``value`` at (row, column); strings as text, never as formulas. Returns the cell."""
    cell = ws.cell(row=row, column=column)
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        text = ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]  # Excel's cell limit
        cell._value = text
        cell.data_type = "s"
        if is_formula_like(text):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def write_row(ws: Any, row: int, values: Any, *, start_column: int = 1) -> list[Any]:
    """Write a row of values with ``write_cell``; returns the cells."""
    return [write_cell(ws, row, col, v) for col, v in enumerate(values, start=start_column)]


def append_row(ws: Any, values: Any) -> list[Any]:
    """Like ``Worksheet.append`` but through ``write_cell``."""
    return write_row(ws, ws._current_row + 1, values)


def workbook_bytes(wb: Any) -> bytes:
    import io

    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_safe(value: Any) -> str:
    """A CSV field that spreadsheet programs will not evaluate: formula-like text gets a
    leading apostrophe (CSV has no cell types, so the prefix is the only defence)."""
    text = "" if value is None else str(value)
    return "'" + text if is_formula_like(text) else text
