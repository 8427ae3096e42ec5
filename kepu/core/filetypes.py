"""What an uploaded file really is, by its content, and how to tell the user (pure Python).

The one place that sniffs file contents (magic bytes, the members of a zip, the streams of
an old OLE2 Office file) and words the Chinese message for a file that is not what its
extension says, with what to do about it.  Used by :func:`kepu.core.files.check_upload`
(every importer's upload check) and by the pure plan and ledger parsers, so it imports
nothing from Django.

    >>> sniff(b"%PDF-1.7 ...")
    'pdf'
    >>> mismatch_message("台账.xlsx", "docx")
    '文件「台账.xlsx」不是有效的 xlsx 文件: 这不是 Excel 表格 (看起来是 Word 文档)。请上传 Excel 表格 (.xlsx 或 .xls); 如果表格在 Word 文档里, 请把表格复制到 Excel 或 WPS 表格中另存为 .xlsx。'
"""

from __future__ import annotations

import io
import re
import zipfile

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"

# Kind → how it is named to the user.
LABELS = {
    "docx": "Word 文档",
    "doc": "旧版 Word 文档 (.doc)",
    "wps": "WPS 文字文档 (.wps)",
    "xlsx": "Excel 表格",
    "xls": "旧版 Excel 表格 (.xls)",
    "et": "WPS 表格 (.et)",
    "pptx": "PowerPoint 演示文稿",
    "ppt": "PowerPoint 演示文稿 (.ppt)",
    "odt": "OpenDocument 文本 (.odt)",
    "ods": "OpenDocument 表格 (.ods)",
    "ole": "旧版 Office 文件",
    "zip": "zip 压缩包",
    "rar": "rar 压缩包",
    "7z": "7z 压缩包",
    "gzip": "gzip 压缩包",
    "pdf": "PDF 文件",
    "html": "网页 (HTML)",
    "text": "纯文本",
    "png": "图片 (PNG)",
    "jpeg": "图片 (JPG)",
    "gif": "图片 (GIF)",
    "webp": "图片 (WebP)",
    "bmp": "图片 (BMP)",
    "binary": "无法识别的二进制文件",
    "empty": "空文件",
}

# What each upload extension may contain (a renamed .xlsx in a .xls is read all the same).
EXTENSION_KINDS: dict[str, frozenset[str]] = {
    ".docx": frozenset({"docx"}),
    ".xlsx": frozenset({"xlsx"}),
    ".xls": frozenset({"xls", "xlsx"}),
    ".pdf": frozenset({"pdf"}),
    ".txt": frozenset({"text", "html"}),
    ".html": frozenset({"html", "text"}),
    ".htm": frozenset({"html", "text"}),
    ".csv": frozenset({"text"}),
    ".jpg": frozenset({"jpeg"}),
    ".jpeg": frozenset({"jpeg"}),
    ".png": frozenset({"png"}),
}
# The family an extension belongs to, named in "这不是 …".
EXTENSION_LABELS = {
    ".docx": "Word 文档",
    ".xlsx": "Excel 表格",
    ".xls": "Excel 表格",
    ".pdf": "PDF 文件",
    ".txt": "文本文件",
    ".html": "网页文件",
    ".htm": "网页文件",
    ".csv": "CSV 文本",
    ".jpg": "图片",
    ".jpeg": "图片",
    ".png": "图片",
}

SAVE_AS_DOCX = (
    "请用 Word 或 WPS 打开它, 点「文件 → 另存为」, 保存类型选「Word 文档 (*.docx)」, 再上传新文件。"
)
SAVE_AS_XLSX = (
    "请用 Excel 或 WPS 表格打开它, 点「文件 → 另存为」, 保存类型选「Excel 工作簿 (*.xlsx)」, "
    "再上传新文件。"
)
SCANNED_PDF = (
    "这个 PDF 没有文字层 (可能是扫描件或图片), 无法读取其中的文字。"
    "请上传原始的 Word (.docx) 文件; 如果只有扫描件, 请先用 WPS 或 OCR 软件转换为可复制文字的文档。"
)

# Streams (UTF-16LE names in the OLE2 directory) that tell the old Office formats apart.
_OLE_STREAMS = (
    ("doc", "WordDocument"),
    ("xls", "Workbook"),
    ("xls", "Book"),
    ("ppt", "PowerPoint Document"),
)
_HTML_START = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*"
    rb"(?:<!doctype\s+html|<html|<head|<meta|<body|<div|<table|<p[\s>])",
    re.I | re.S,
)


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
            mimetype = b""
            if "mimetype" in names:
                info = zf.getinfo("mimetype")
                if info.file_size < 200:
                    mimetype = zf.read("mimetype")
    except Exception:
        return "zip"  # damaged or cut short: the reader will say what is wrong
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    if any(n.startswith("ppt/") for n in names):
        return "pptx"
    if b"opendocument.text" in mimetype:
        return "odt"
    if b"opendocument.spreadsheet" in mimetype:
        return "ods"
    return "zip"


def _ole_kind(data: bytes) -> str:
    for kind, stream in _OLE_STREAMS:
        # a directory entry: the name in UTF-16LE followed by its terminating NUL
        if (stream.encode("utf-16-le") + b"\x00\x00") in data:
            return kind
    return "ole"


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        return True
    if b"\x00" not in head:
        controls = sum(1 for b in head if b < 9 or 13 < b < 32)
        return controls <= len(head) // 50
    # UTF-16 without a byte-order mark (Chinese text has few NULs, its ASCII many)
    even = head[: len(head) // 2 * 2]
    for enc in ("utf-16-le", "utf-16-be"):
        text = even.decode(enc, "replace")
        good = sum(1 for ch in text if ch.isprintable() or ch in "\r\n\t\u3000")
        if text and good >= len(text) * 0.95:
            return True
    return False


def sniff(data: bytes) -> str:
    """The kind of file ``data`` holds (a key of :data:`LABELS`), judged by content only.

    Works on a file's first bytes too: a zip that cannot be opened is reported as
    ``"zip"`` and an OLE file whose directory is not in ``data`` as ``"ole"``.
    """
    if not data:
        return "empty"
    if data.startswith(ZIP_MAGIC):
        return _zip_kind(data)
    if data.startswith(OLE_MAGIC):
        return _ole_kind(data)
    if data.startswith(b"%PDF"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"BM") and len(data) > 14 and b"\x00" in data[2:14]:
        return "bmp"
    if data.startswith(b"Rar!\x1a\x07"):
        return "rar"
    if data.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
    if data.startswith(b"\x1f\x8b"):
        return "gzip"
    head = data[:4096]
    if not _looks_like_text(head):
        return "binary"
    probe = head
    if head.startswith(b"\xef\xbb\xbf"):
        probe = head[3:]
    elif b"\x00" in head:
        probe = head[: len(head) // 2 * 2].decode("utf-16", "ignore").encode("utf-8")
    if _HTML_START.match(probe[:2048]):
        return "html"
    return "text"


def _sp(text: str) -> str:
    """A leading space before a Latin word after Chinese text ("是 Word 文档")."""
    return f" {text}" if text[:1].isascii() else text


def label(kind: str) -> str:
    return LABELS.get(kind, LABELS["binary"])


def advice(found: str, ext: str) -> str:
    """What the user should do when a file of kind ``found`` was given as ``ext``."""
    spreadsheet = ext in (".xlsx", ".xls", ".csv")
    if found in ("doc", "wps", "odt"):
        return SAVE_AS_DOCX
    if found in ("et", "ods"):
        return SAVE_AS_XLSX
    if found == "ole":
        return SAVE_AS_XLSX if spreadsheet else SAVE_AS_DOCX
    if found == "xls" and ext == ".csv":
        return "请上传 .xlsx 或 .xls 文件本身 (不要改扩展名), 或在 Excel 中另存为「CSV UTF-8」。"
    if found in ("xlsx", "xls") and not spreadsheet:
        return "请把表格的扩展名改回 .xlsx/.xls 并从「导入台账」上传, 或上传规划的 Word 文档。"
    if found == "docx" and spreadsheet:
        return (
            "请上传 Excel 表格 (.xlsx 或 .xls); 如果表格在 Word 文档里, "
            "请把表格复制到 Excel 或 WPS 表格中另存为 .xlsx。"
        )
    if found == "html" and spreadsheet:
        return f"这是网页格式的表格 (常见于从网站或业务系统导出的「xls」)。{SAVE_AS_XLSX}"
    if found in ("zip", "rar", "7z", "gzip"):
        return "请先解压, 再分别上传其中的文件。"
    if found == "pdf" and spreadsheet:
        return "请上传原始的 Excel 表格, PDF 中的表格无法可靠读取。"
    return "请确认选择了正确的文件; 不要只修改扩展名, 请在原程序中「另存为」所需的格式。"


def mismatch_message(name: str, found: str, ext: str | None = None) -> str:
    """The Chinese message for ``name`` whose content is ``found`` but whose extension
    promises something else: "文件「x.xlsx」不是有效的 xlsx 文件: 这不是 Excel 表格
    (看起来是 Word 文档)。" followed by what to do."""
    if ext is None:
        lower = (name or "").lower()
        ext = "." + lower.rsplit(".", 1)[-1] if "." in lower else ""
    family = EXTENSION_LABELS.get(ext, f"{ext[1:]} 文件")
    looks = f" (看起来是{_sp(label(found))})" if found not in ("binary", "text") else ""
    if found == "text" and ext in (".docx", ".xlsx", ".xls", ".pdf"):
        looks = " (内容是纯文本或已损坏)"
    return (
        f"文件「{name}」不是有效的 {ext[1:]} 文件: 这不是{_sp(family)}{looks}。{advice(found, ext)}"
    )


def unsupported_message(name: str, ext: str, accepted_label: str) -> str | None:
    """A specific message for a known office format that is not accepted here (.doc, .wps,
    an .xls where only .xlsx is read …), or None when the extension is simply unknown."""
    tips = {
        ".doc": f"这是旧版 Word 文档 (.doc), 暂不能直接读取。{SAVE_AS_DOCX}",
        ".wps": f"这是 WPS 文字文档 (.wps), 暂不能直接读取。{SAVE_AS_DOCX}",
        ".rtf": f"这是 RTF 文档, 暂不能直接读取。{SAVE_AS_DOCX}",
        ".odt": f"这是 OpenDocument 文档, 暂不能直接读取。{SAVE_AS_DOCX}",
        ".et": f"这是 WPS 表格 (.et), 暂不能直接读取。{SAVE_AS_XLSX}",
        ".ods": f"这是 OpenDocument 表格, 暂不能直接读取。{SAVE_AS_XLSX}",
        ".xls": f"这是旧版 Excel 表格 (.xls), 此处暂不能直接读取。{SAVE_AS_XLSX}",
    }
    prefix = f"不支持的文件类型「{name}」: "
    if ext in tips:
        return prefix + tips[ext]
    if ext in EXTENSION_LABELS:
        return f"{prefix}此处不接受{_sp(EXTENSION_LABELS[ext])}, 请上传 {accepted_label} 文件。"
    return None


def content_matches(ext: str, found: str) -> bool:
    """True when a file with extension ``ext`` may hold content of kind ``found``.

    A zip that could not be opened (``"zip"``) is let through for .docx/.xlsx so that
    the reader reports the damage; an OLE file whose streams were not seen (``"ole"``)
    likewise for .xls.
    """
    allowed = EXTENSION_KINDS.get(ext)
    if allowed is None:
        return True
    if found in allowed:
        return True
    if found == "zip" and allowed & {"docx", "xlsx"}:
        return True
    return found == "ole" and "xls" in allowed


# --- readers for the formats offices still send: .xls and text-layer PDF -----------------
class FileReadError(Exception):
    """A file could not be read; the message is Chinese and says what to do."""


MAX_PDF_PAGES = 500


def xls_rows(data: bytes, *, max_rows: int, max_cols: int = 200) -> list[list[object]]:
    """The first sheet of an old Excel (.xls, BIFF) workbook as rows of cell values
    (text, numbers, dates as ``datetime``; empty cells as ``""``). Raises
    :class:`FileReadError` for a damaged or protected file or one over ``max_rows``."""
    try:
        import xlrd  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise FileReadError(f"无法读取 .xls 文件 (缺少 xlrd)。{SAVE_AS_XLSX}") from exc
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, logfile=io.StringIO())
    except Exception as exc:  # xlrd raises many kinds for damaged or encrypted files
        text = str(exc).lower()
        if "encrypt" in text or "password" in text:
            raise FileReadError("这个 .xls 文件有密码保护, 请取消密码后再上传。") from exc
        raise FileReadError(
            f"无法读取 .xls 文件: 文件已损坏或格式不支持 ({exc.__class__.__name__})。{SAVE_AS_XLSX}"
        ) from exc
    try:
        if book.nsheets < 1:
            raise FileReadError("Excel 文件中没有工作表。")
        sheet = book.sheet_by_index(0)
        if sheet.nrows > max_rows + 1:
            raise FileReadError(f"表格行数超过上限 ({max_rows:,} 行); 请拆分后分批导入。")
        cols = min(sheet.ncols, max_cols)
        rows: list[list[object]] = []
        for r in range(sheet.nrows):
            values: list[object] = []
            for c in range(min(cols, sheet.row_len(r))):
                cell = sheet.cell(r, c)
                value: object = cell.value
                if cell.ctype == xlrd.XL_CELL_DATE:
                    try:
                        value = xlrd.xldate_as_datetime(cell.value, book.datemode)
                    except Exception:
                        value = cell.value
                elif cell.ctype in (xlrd.XL_CELL_ERROR, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_EMPTY):
                    value = ""
                elif cell.ctype == xlrd.XL_CELL_BOOLEAN:
                    value = "是" if cell.value else "否"
                values.append(value)
            rows.append(values)
        return rows
    except FileReadError:
        raise
    except Exception as exc:
        raise FileReadError(
            f"读取 .xls 文件时出错 ({exc.__class__.__name__})。{SAVE_AS_XLSX}"
        ) from exc
    finally:
        try:
            book.release_resources()
        except Exception:  # pragma: no cover
            pass


def pdf_pages(data: bytes, *, max_pages: int = MAX_PDF_PAGES) -> list[list[str]]:
    """The text layer of a PDF: per page, its lines (as laid out; wrapped lines are not
    joined here). Raises :class:`FileReadError` for a damaged, encrypted or scanned PDF."""
    try:
        import pypdfium2 as pdfium  # type: ignore[import-untyped]
    except ImportError as exc:  # pragma: no cover - a runtime dependency
        raise FileReadError("无法读取 PDF 文件 (缺少 pypdfium2), 请上传 .docx 版本。") from exc
    try:
        pdf = pdfium.PdfDocument(data)
    except Exception as exc:
        text = str(exc).lower()
        if "password" in text:
            raise FileReadError(
                "这个 PDF 有密码保护, 请取消密码后再上传 (或上传 .docx 版本)。"
            ) from exc
        raise FileReadError(
            "无法读取 PDF 文件: 文件已损坏或格式不支持。请上传原始的 Word (.docx) 文件。"
        ) from exc
    pages: list[list[str]] = []
    try:
        count = len(pdf)
        if count > max_pages:
            raise FileReadError(
                f"PDF 页数过多 ({count} 页, 上限 {max_pages} 页); 请拆分后分别导入。"
            )
        for i in range(count):
            page = pdf[i]
            try:
                textpage = page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
            finally:
                page.close()
            text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
            pages.append([ln.strip() for ln in text.split("\n")])
    except FileReadError:
        raise
    except Exception as exc:
        raise FileReadError(
            f"读取 PDF 文件时出错 ({exc.__class__.__name__})。请上传原始的 Word (.docx) 文件。"
        ) from exc
    finally:
        pdf.close()
    letters = sum(1 for page in pages for ln in page for ch in ln if ch.isalnum())
    if letters < 10:
        raise FileReadError(SCANNED_PDF)
    return pages
