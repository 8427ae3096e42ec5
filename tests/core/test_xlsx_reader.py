"""The fast sheet reader of ``kepu.core.importing`` gives exactly what openpyxl's
read-only mode gives (the values every import relied on before)."""

from __future__ import annotations

import datetime as dt
import io
import random
import zipfile

import openpyxl
import pytest
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont

from kepu.core.files import append_streaming_row, new_streaming_workbook
from kepu.core.importing import SheetLimits, _fast_sheet_rows, xlsx_rows

LIMITS = SheetLimits(rows=10_000, cells=100_000, unpacked_bytes=50 * 1024 * 1024)


def _openpyxl(data: bytes) -> list[tuple]:
    wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        return list(wb.worksheets[0].iter_rows(values_only=True))
    finally:
        wb.close()


def _same(data: bytes) -> list[tuple]:
    fast = _fast_sheet_rows(data)
    assert fast is not None
    got = list(fast)
    assert got == _openpyxl(data)
    return got


def _bytes(wb) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_values_of_every_kind():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["姓名", "数", "小数", "日期", "时间", "真假", "公式"])
    ws.append(["张三", 12, 1.5, dt.date(2026, 3, 1), dt.datetime(2026, 3, 1, 8, 30), True, "=1+1"])
    ws.append([" 前后空格 ", 1e20, -0.25, dt.date(1900, 3, 1), None, False, None])
    ws["B5"] = "跳过一行"
    ws["H6"] = "右边"
    ws["A7"] = CellRichText(["富", TextBlock(InlineFont(b=True), "文本")])
    ws["C8"] = dt.timedelta(hours=30)
    ws["C8"].number_format = "[h]:mm:ss"
    ws["D9"] = 45000
    ws["D9"].number_format = "yyyy-mm-dd"
    ws["E9"] = "x005F_x0041_"
    _same(_bytes(wb))


def test_streaming_writer_and_date1904():
    wb = new_streaming_workbook()
    ws = wb.create_sheet("表")
    rng = random.Random(3)
    for i in range(300):
        append_streaming_row(ws, [f"行{i}", rng.random(), i, "=SUM(A1)" if i % 7 == 0 else ""])
    _same(_bytes(wb))
    wb2 = openpyxl.Workbook()
    wb2.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    wb2.active.append([dt.date(2026, 1, 2), 3])
    _same(_bytes(wb2))


def test_no_dimension_and_missing_coordinates():
    wb = openpyxl.Workbook()
    wb.active.append(["a", "b"])
    wb.active.append([None, None, "c"])
    data = _bytes(wb)
    zin = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            body = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                import re

                body = re.sub(rb"<dimension[^>]*/>", b"", body)
                body = re.sub(rb' r="[A-Z]+\d+"', b"", body, count=2)
            zout.writestr(item, body)
    rows = _same(out.getvalue())
    assert rows[0][:2] == ("a", "b")


def test_empty_sheet_and_xlsx_rows_text():
    wb = openpyxl.Workbook()
    _same(_bytes(wb))
    wb.active.append(["甲", 12.0, None, True])
    assert list(xlsx_rows(_bytes(wb), LIMITS)) == [["甲", "12", "", "True"]]


def test_row_cap_while_reading():
    from kepu.core.importing import DataImportError

    wb = openpyxl.Workbook()
    for i in range(12):
        wb.active.append([i])
    with pytest.raises(DataImportError, match="行数超过上限"):
        list(xlsx_rows(_bytes(wb), SheetLimits(rows=5, cells=1000, unpacked_bytes=10**7)))
