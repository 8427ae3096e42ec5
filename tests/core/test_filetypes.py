"""Content sniffing in one place (kepu.core.filetypes) and the upload check every importer
uses: a file is judged by what it holds, and the Chinese message says what it looks like
and what to do (issue 12, "Errors")."""

from __future__ import annotations

import random
import zipfile
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError

from kepu.core import filetypes
from kepu.core.files import DATA, DOCUMENT, SHEET, SPREADSHEET, check_upload, check_upload_file
from kepu.core.importing import DataImportError, SheetLimits, xlsx_rows
from tests.office_files import (
    make_docx_bytes,
    make_pdf,
    make_scanned_pdf,
    make_xls,
    make_xlsx_bytes,
)

OLE_DOC = filetypes.OLE_MAGIC + b"\x00" * 504 + "WordDocument".encode("utf-16-le") + b"\x00" * 40
OLE_XLS = filetypes.OLE_MAGIC + b"\x00" * 504 + "Workbook".encode("utf-16-le") + b"\x00" * 40
LIMITS = SheetLimits(rows=100, cells=1000, unpacked_bytes=10 * 1024 * 1024)
ROWS = [["序号", "任务内容", "牵头单位"], [1, "开展科普讲座", "市科协"]]


def _zip(members: dict[str, bytes]) -> bytes:
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"", "empty"),
        (make_docx_bytes(["你好"]), "docx"),
        (make_xlsx_bytes(ROWS), "xlsx"),
        (make_xls(ROWS), "xls"),
        (OLE_DOC, "doc"),
        (OLE_XLS, "xls"),
        (filetypes.OLE_MAGIC + b"\x00" * 100, "ole"),
        (make_pdf([["一、重点任务"]]), "pdf"),
        (b"PK\x03\x04 cut short", "zip"),
        (_zip({"mimetype": b"application/vnd.oasis.opendocument.text"}), "odt"),
        (_zip({"a.txt": b"x"}), "zip"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 20, "png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 20, "jpeg"),
        ("<!DOCTYPE html><html><body>通知</body></html>".encode(), "html"),
        ("\ufeff<html><p>一、任务</p></html>".encode(), "html"),
        ("一、重点任务\n1.开展讲座。".encode("gb18030"), "text"),
        ("一、重点任务\n1.开展讲座。\n".encode("utf-16-le"), "text"),
        ("一、重点任务\n1.开展讲座。\n".encode("utf-16"), "text"),
        ("序号,任务\n1,讲座\n".encode(), "text"),
        (bytes(range(256)) * 4, "binary"),
    ],
)
def test_sniff(data, kind):
    assert filetypes.sniff(data) == kind


def test_a_word_file_renamed_to_xlsx_is_named_as_such():
    with pytest.raises(ValidationError) as exc:
        check_upload("台账.xlsx", make_docx_bytes(["一、任务"]), SHEET)
    (message,) = exc.value.messages
    assert "不是有效的 xlsx 文件" in message and "这不是 Excel 表格" in message
    assert "看起来是 Word 文档" in message and "复制到 Excel" in message
    assert "OSError" not in message and "Error" not in message


@pytest.mark.parametrize(
    ("name", "data", "kind", "expected"),
    [
        ("方案.doc", OLE_DOC, DOCUMENT, ["旧版 Word 文档", "另存为", "*.docx"]),
        ("方案.wps", OLE_DOC, DOCUMENT, ["WPS", "另存为", "*.docx"]),
        ("方案.docx", OLE_DOC, DOCUMENT, ["看起来是旧版 Word 文档 (.doc)", "*.docx"]),
        ("方案.docx", make_xls(ROWS), DOCUMENT, ["看起来是旧版 Excel 表格"]),
        ("方案.txt", make_pdf([["一、任务"]]), DOCUMENT, ["不是有效的 txt", "看起来是 PDF"]),
        ("方案.pdf", "一、任务".encode(), DOCUMENT, ["不是有效的 pdf", "纯文本"]),
        (
            "台账.xls",
            b"<html><table><tr><td>1</td></tr></table></html>",
            SHEET,
            ["网页格式的表格", "*.xlsx"],
        ),
        ("台账.xlsx", make_pdf([["一、任务"]]), SHEET, ["看起来是 PDF", "原始的 Excel"]),
        ("台账.xls", make_xls(ROWS), SPREADSHEET, ["旧版 Excel", "*.xlsx"]),
        ("台账.et", OLE_XLS, SHEET, ["WPS 表格", "*.xlsx"]),
        ("data.csv", make_xlsx_bytes(ROWS), DATA, ["不是有效的 csv", "看起来是 Excel 表格"]),
        ("a.docx", _zip({"a.txt": b"x"}), DOCUMENT, []),  # damaged/odd zip: the reader says
    ],
)
def test_upload_messages_say_what_the_file_is_and_what_to_do(name, data, kind, expected):
    if not expected:
        assert check_upload(name, data, kind) == ".docx"
        return
    with pytest.raises(ValidationError) as exc:
        check_upload(name, data, kind)
    (message,) = exc.value.messages
    for part in expected:
        assert part in message, message


@pytest.mark.parametrize(
    ("name", "data", "kind", "ext"),
    [
        ("方案.pdf", make_pdf([["一、任务"]]), DOCUMENT, ".pdf"),
        ("方案.docx", make_docx_bytes(["一、任务"]), DOCUMENT, ".docx"),
        ("台账.xls", make_xls(ROWS), SHEET, ".xls"),
        ("台账.xls", make_xlsx_bytes(ROWS), SHEET, ".xls"),  # a renamed .xlsx is read alike
        ("台账.XLSX", make_xlsx_bytes(ROWS), SHEET, ".xlsx"),
        ("数据.xls", make_xls(ROWS), DATA, ".xls"),
        ("数据.csv", "a,b\n1,2\n".encode("gb18030"), DATA, ".csv"),
    ],
)
def test_accepted_files(name, data, kind, ext):
    assert check_upload(name, data, kind) == ext


def test_the_form_check_sniffs_the_head_without_reading_the_file():
    class Upload(BytesIO):
        name = "方案.docx"
        size = len(OLE_DOC)

    upload = Upload(OLE_DOC)
    with pytest.raises(ValidationError, match="另存为"):
        check_upload_file(upload, DOCUMENT)
    assert upload.tell() == 0


def test_xlsx_rows_reads_old_excel_and_refuses_what_is_not_a_sheet():
    rows = list(xlsx_rows(make_xls([*ROWS, [2, "建设科普站", "市住建局"]]), LIMITS))
    assert rows == [
        ["序号", "任务内容", "牵头单位"],
        ["1", "开展科普讲座", "市科协"],
        ["2", "建设科普站", "市住建局"],
    ]
    with pytest.raises(DataImportError, match="行数超过上限"):
        list(xlsx_rows(make_xls([[i, "x"] for i in range(150)]), LIMITS))
    with pytest.raises(DataImportError, match="看起来是 Word 文档"):
        list(xlsx_rows(make_docx_bytes(["x"]), LIMITS))


def test_pdf_reader_and_scans():
    pages = filetypes.pdf_pages(make_pdf([["一、重点任务", "1.开展讲座。"], ["第二页"]]))
    assert [[ln for ln in p if ln] for p in pages] == [["一、重点任务", "1.开展讲座。"], ["第二页"]]
    with pytest.raises(filetypes.FileReadError, match="没有文字层"):
        filetypes.pdf_pages(make_scanned_pdf())


def _corruptions(data: bytes, rng: random.Random) -> list[bytes]:
    out = [data[: len(data) * k // 8] for k in range(1, 8)]
    for _ in range(12):
        b = bytearray(data)
        for _ in range(rng.randint(1, 30)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    out.append(data[:8] + bytes(rng.randrange(256) for _ in range(400)))
    return out


def test_readers_never_crash_on_corrupt_files():
    """Truncated and bit-flipped PDF/XLS/XLSX: a Chinese error or a result, never a crash."""
    rng = random.Random(12)
    for good in (
        make_pdf([["一、重点任务", "1.开展讲座。(市科协)"]]),
        make_xls(ROWS),
        make_xlsx_bytes(ROWS),
    ):
        for bad in _corruptions(good, rng):
            kind = filetypes.sniff(bad)  # never raises
            assert kind in filetypes.LABELS
            try:
                filetypes.pdf_pages(bad)
            except filetypes.FileReadError as exc:
                assert str(exc)
            try:
                filetypes.xls_rows(bad, max_rows=100)
            except filetypes.FileReadError as exc:
                assert str(exc)
            try:
                list(xlsx_rows(bad, LIMITS))
            except DataImportError as exc:
                assert exc.errors and all(e for e in exc.errors)
