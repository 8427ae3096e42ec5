"""Data-file uploads for the survey: CSV (UTF-8 / GBK) and XLSX, read into plain rows."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import ValidationError

from kepu.plans.uploads import MAX_UPLOAD_BYTES, Kind, check_upload

DATA = Kind((".csv", ".xlsx"), "csv 或 xlsx")
MAX_DATA_BYTES = MAX_UPLOAD_BYTES
BINARY_SIGNATURES = (b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0")


def decode_text(data: bytes) -> str:
    """Decode a CSV: UTF-8 (with or without BOM), then GB18030 (a superset of GBK)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise ValidationError("无法识别文件编码, 请保存为 UTF-8 或 GBK 编码的 CSV。") from exc


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_table(name: str, data: bytes, *, max_bytes: int = MAX_DATA_BYTES) -> list[list[str]]:
    """Check the upload and return its rows (the first is the header) as stripped strings."""
    ext = check_upload(name, data, DATA, max_bytes=max_bytes)
    if ext == ".csv":
        if data.startswith(BINARY_SIGNATURES):
            raise ValidationError(
                f"文件「{name}」的内容不是 CSV 文本 (可能是 Excel/PDF 文件改了扩展名)。"
            )
        text = decode_text(data)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
        except csv.Error:
            dialect = csv.excel
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), dialect)]
    else:
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for broken files
            raise ValidationError(f"无法读取 Excel 文件「{name}」。") from exc
        ws = wb.worksheets[0]
        rows = [[_cell(v) for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ValidationError("文件中没有数据。")
    return rows
