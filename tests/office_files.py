"""Office files the tests write themselves: a text-layer PDF (hand-written, CJK through a
ToUnicode map), a scanned-like PDF without text, an old Excel .xls (xlwt) and renamed
or damaged files for the sniffing and fuzz tests. Nothing is copied from outside."""

from __future__ import annotations

import io
import zlib


def _pdf(objects: list[bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for off in offsets:
        out.write(f"{off:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def _stream(data: bytes, extra: str = "") -> bytes:
    packed = zlib.compress(data)
    return (
        f"<< /Length {len(packed)} /Filter /FlateDecode {extra}>>\nstream\n".encode()
        + packed
        + b"\nendstream"
    )


def make_pdf(pages: list[list[str]]) -> bytes:
    """A PDF whose pages hold ``pages`` (lines of text) in a text layer.

    The font is a non-embedded CID font with Identity-H encoding where each glyph id is
    the character's Unicode code point, and a ToUnicode map says so, so text extraction
    gives back exactly the lines written.
    """
    chars = sorted({ord(c) for page in pages for line in page for c in line if ord(c) < 0x10000})
    cmap_lines = []
    for start in range(0, len(chars), 100):
        chunk = chars[start : start + 100]
        cmap_lines.append(f"{len(chunk)} beginbfchar")
        cmap_lines += [f"<{c:04X}> <{c:04X}>" for c in chunk]
        cmap_lines.append("endbfchar")
    cmap = (
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n"
        "1 begincodespacerange <0000> <FFFF> endcodespacerange\n"
        + "\n".join(cmap_lines)
        + "\nendcmap CMapName currentdict /CMap defineresource pop end end\n"
    ).encode()
    n_pages = len(pages)
    # objects: 1 catalog, 2 pages, 3 font, 4 descendant, 5 descriptor, 6 tounicode,
    # then per page: page object, content stream
    kids = " ".join(f"{7 + 2 * i} 0 R" for i in range(n_pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type0 /BaseFont /SimSun /Encoding /Identity-H "
        b"/DescendantFonts [4 0 R] /ToUnicode 6 0 R >>",
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /SimSun "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> "
        b"/FontDescriptor 5 0 R /DW 1000 /CIDToGIDMap /Identity >>",
        b"<< /Type /FontDescriptor /FontName /SimSun /Flags 6 /FontBBox [0 -140 1000 860] "
        b"/ItalicAngle 0 /Ascent 860 /Descent -140 /CapHeight 700 /StemV 80 >>",
        _stream(cmap),
    ]
    for i, lines in enumerate(pages):
        ops = ["BT", "/F1 10 Tf"]
        y = 800
        for line in lines:
            hexes = "".join(f"{ord(c):04X}" for c in line if ord(c) < 0x10000)
            ops.append(f"1 0 0 1 40 {y} Tm <{hexes}> Tj")
            y -= 14
        ops.append("ET")
        content = "\n".join(ops).encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {8 + 2 * i} 0 R >>".encode()
        )
        objects.append(_stream(content))
    return _pdf(objects)


def make_scanned_pdf(n_pages: int = 2) -> bytes:
    """A PDF with drawings but no text layer (what a scanner produces, minus the image)."""
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(n_pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode(),
    ]
    for i in range(n_pages):
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            f"/Contents {4 + 2 * i} 0 R >>".encode()
        )
        objects.append(_stream(b"0.5 g 40 40 500 760 re f 0 g 60 700 m 500 700 l S"))
    return _pdf(objects)


def make_xls(rows: list[list[object]], sheet: str = "台账") -> bytes:
    """An Excel 97-2003 (.xls, BIFF8) workbook with ``rows`` on its first sheet."""
    import xlwt

    book = xlwt.Workbook(encoding="utf-8")
    ws = book.add_sheet(sheet)
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value not in (None, ""):
                ws.write(r, c, value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def make_docx_bytes(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_xlsx_bytes(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
