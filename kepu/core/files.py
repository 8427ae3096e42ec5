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
