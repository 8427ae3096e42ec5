"""Upload checks shared by every import: size, extension and content signature."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Kind:
    extensions: tuple[str, ...]
    label: str


DOCUMENT = Kind((".txt", ".docx", ".html", ".htm"), "txt、docx 或 html")
SPREADSHEET = Kind((".xlsx",), "xlsx")


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
    if ext in (".docx", ".xlsx") and not data.startswith(b"PK\x03\x04"):
        raise ValidationError(f"文件「{name}」不是有效的 {ext[1:]} 文件 (内容与扩展名不符)。")
    if ext in (".txt", ".html", ".htm") and data.startswith(
        (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0")
    ):
        raise ValidationError(f"文件「{name}」的内容不是文本 (可能是 Word/PDF 文件改了扩展名)。")
    return ext
