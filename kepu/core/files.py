"""Files in and out, shared by every area: upload checks (size, extension, content
signature), spreadsheet cell text, and the Excel download response."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.core.exceptions import ValidationError
from django.http import HttpResponse

from kepu.core import filetypes

MB = 1024 * 1024

# How much of an upload the form-level check (``check_upload_file``) reads to sniff it.
HEAD_BYTES = 8192


@dataclass(frozen=True)
class Kind:
    extensions: tuple[str, ...]
    label: str
    # The largest file of this kind that is accepted (checked before the file is read).
    max_bytes: int = 10 * MB

    @property
    def max_mb(self) -> int:
        return self.max_bytes // MB


# Per-kind limits, set to what each kind really needs: a plan document is rarely over a
# few MB; a ledger of 200,000 tasks fits in 20 MB; national survey microdata (300,000+
# respondents with item answers) needs tens of MB.
DOCUMENT = Kind(
    (".docx", ".pdf", ".txt", ".html", ".htm"), "docx、pdf、txt 或 html", max_bytes=10 * MB
)
# Spreadsheets read with ``kepu.core.importing.xlsx_rows`` or the ledger parser, which
# read old .xls workbooks too; SPREADSHEET is for readers that only know .xlsx.
SHEET = Kind((".xlsx", ".xls"), "xlsx 或 xls", max_bytes=20 * MB)
SPREADSHEET = Kind((".xlsx",), "xlsx", max_bytes=20 * MB)
DATA = Kind(
    (".csv", ".xlsx", ".xls"),
    "csv、xlsx 或 xls",
    max_bytes=100 * MB,
)
KINDS = (DOCUMENT, SHEET, SPREADSHEET, DATA)
# The largest request body any upload may need (the request-body limit in
# kepu.core.limits): the largest kind plus room for the other form fields.
MAX_UPLOAD_BYTES = max(k.max_bytes for k in KINDS)
MAX_REQUEST_BYTES = MAX_UPLOAD_BYTES + 1 * MB


def _too_large(size: int, limit: int) -> ValidationError:
    return ValidationError(f"文件过大 ({size / MB:.1f} MB), 上限为 {limit // MB} MB。")


def check_upload(name: str, data: bytes, kind: Kind, *, max_bytes: int | None = None) -> str:
    """Validate an uploaded file; return its lower-case extension or raise ValidationError.

    The extension must be one of the kind's, the size within its limit, and the content
    (sniffed by :func:`kepu.core.filetypes.sniff`: zip members, OLE2 streams, PDF, HTML,
    text) what the extension says. Every message is Chinese and says what to do: a .doc
    or .wps is to be saved as .docx, a Word file renamed to .xlsx is named as such.
    """
    lower = (name or "").lower()
    ext = next((e for e in kind.extensions if lower.endswith(e)), None)
    if ext is None:
        given = "." + lower.rsplit(".", 1)[-1] if "." in lower else ""
        tip = filetypes.unsupported_message(name, given, kind.label) if given else None
        raise ValidationError(tip or f"不支持的文件类型「{name}」, 请上传 {kind.label} 文件。")
    if not data:
        raise ValidationError("上传的文件是空的。")
    limit = kind.max_bytes if max_bytes is None else max_bytes
    if len(data) > limit:
        raise _too_large(len(data), limit)
    found = filetypes.sniff(data)
    if not filetypes.content_matches(ext, found):
        raise ValidationError(filetypes.mismatch_message(name, found, ext))
    return ext


def check_upload_file(upload: Any, kind: Kind) -> str:
    """Check an uploaded file (Django ``UploadedFile``) by its size and first bytes only.

    For forms: a file over the kind's limit is refused without reading it into memory.
    Returns the extension; raises ValidationError.
    """
    size = getattr(upload, "size", None) or 0
    if size > kind.max_bytes:
        raise _too_large(size, kind.max_bytes)
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    if not head:
        raise ValidationError("上传的文件是空的。")
    return check_upload(upload.name, head, kind)


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
        active = wb.active
        if active is not None:
            wb.remove(active)
    return wb


def write_cell(ws: Any, row: int, column: int, value: Any, *, style: str | None = None) -> Any:
    """Write ``value`` at (row, column); strings as text, never as formulas. Returns the cell.

    ``style`` names a registered named style; it is applied before the quote prefix (a named
    style set afterwards would clear it)."""
    cell = ws.cell(row=row, column=column)
    if style is not None:
        cell.style = style
    if isinstance(value, str):
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        text = ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]  # Excel's cell limit
        cell._value = text  # type: ignore[attr-defined]  # bypasses openpyxl's formula guess
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


# --- office table styles -------------------------------------------------------------
#: Named styles every export shares (宋体, thin grey borders, a light-blue header row).
TITLE_STYLE = "kepu_title"
SUBTITLE_STYLE = "kepu_sub"
HEADER_STYLE = "kepu_header"
CELL_STYLE = "kepu_cell"
DECIMAL_STYLE = "kepu_decimal"
TOTAL_STYLE = "kepu_total"


def add_office_styles(wb: Any) -> None:
    """Register the shared named styles on a workbook (once; a second call does nothing).

    Named styles, not per-cell style objects: a cell then refers to its style by name, which
    keeps large exports fast and write-only workbooks small.  Use them through
    ``write_cell(..., style=CELL_STYLE)`` or ``append_streaming_row(..., CELL_STYLE)``."""
    from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side

    if CELL_STYLE in wb.named_styles:
        return
    thin = Side(style="thin", color="999999")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wb.add_named_style(
        NamedStyle(
            name=TITLE_STYLE,
            font=Font(name="宋体", size=14, bold=True),
            alignment=Alignment(horizontal="left", vertical="center"),
        )
    )
    wb.add_named_style(NamedStyle(name=SUBTITLE_STYLE, font=Font(name="宋体", size=10)))
    wb.add_named_style(
        NamedStyle(
            name=HEADER_STYLE,
            font=Font(name="宋体", size=11, bold=True),
            fill=PatternFill("solid", fgColor="DDE7F3"),
            alignment=Alignment(horizontal="center", vertical="center", wrap_text=True),
            border=border,
        )
    )
    wb.add_named_style(
        NamedStyle(
            name=CELL_STYLE,
            font=Font(name="宋体", size=11),
            alignment=Alignment(wrap_text=True, vertical="top"),
            border=border,
        )
    )
    wb.add_named_style(
        NamedStyle(
            name=TOTAL_STYLE,
            font=Font(name="宋体", size=11, bold=True),
            alignment=Alignment(wrap_text=True, vertical="top"),
            border=border,
        )
    )
    wb.add_named_style(
        NamedStyle(
            name=DECIMAL_STYLE,
            font=Font(name="宋体", size=11),
            alignment=Alignment(vertical="top"),
            border=border,
            number_format="0.00",
        )
    )


def office_page_setup(ws: Any, *, header_row: int, freeze_first_column: bool = False) -> None:
    """Print set-up offices expect of a table: landscape A4, fit to width, the header row
    repeated on every page and frozen above the rows (and the first column, if asked)."""
    from openpyxl.worksheet.page import PageMargins

    ws.freeze_panes = f"{'B' if freeze_first_column else 'A'}{header_row + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.6)
    ws.print_title_rows = f"{header_row}:{header_row}"


# --- streaming (write-only) workbooks: large exports that run as background jobs ----------
def new_streaming_workbook() -> Any:
    """A write-only openpyxl workbook: rows are written out as they are appended, so memory
    stays flat however many rows.  Style it with named styles (``add_office_styles``),
    never per-cell style objects."""
    from openpyxl import Workbook

    return Workbook(write_only=True)


def streaming_cell(ws: Any, value: Any, style: str | None = None) -> Any:
    """A write-only cell holding ``value`` as ``write_cell`` would (text as text, quote
    prefix when formula-like), with an optional named style."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    cell = WriteOnlyCell(ws)
    if style:
        cell.style = style
    if isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
        cell._value = text  # type: ignore[attr-defined]  # skips openpyxl's formula guess
        cell.data_type = "s"
        if is_formula_like(text):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def append_streaming_row(ws: Any, values: Any, style: str | None = None) -> None:
    """Append one row of ``streaming_cell``s to a write-only worksheet."""
    ws.append([streaming_cell(ws, v, style) for v in values])
