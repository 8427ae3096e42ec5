"""Data-file uploads for the survey: CSV (UTF-8 / GBK) and XLSX, read into plain rows."""

from __future__ import annotations

import csv
import io

from django.core.exceptions import ValidationError

from kepu.core.files import DATA, MAX_UPLOAD_BYTES, cell_text, check_upload


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


def read_table(name: str, data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> list[list[str]]:
    """Check the upload and return its rows (the first is the header) as stripped strings."""
    ext = check_upload(name, data, DATA, max_bytes=max_bytes)
    if ext == ".csv":
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
        rows = [[cell_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise ValidationError("文件中没有数据。")
    return rows
