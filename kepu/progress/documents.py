"""Word documents in the 公文 layout: supervision notices and progress reports.

A4; margins 37/35/28/26 mm; title 方正小标宋简体 22pt (黑体 where the font is missing:
Word substitutes by the ``w:altName`` we record); body 仿宋_GB2312 16pt (仿宋); page
numbers "— N —" in the footer; issuing office and date at the end, right-aligned.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from urllib.parse import quote

from django.http import HttpResponse
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

TITLE_FONT, TITLE_FALLBACK = "方正小标宋简体", "黑体"
BODY_FONT, BODY_FALLBACK = "仿宋_GB2312", "仿宋"
HEADING_FONT = "黑体"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _font(run, name: str, size: int, *, bold: bool = False) -> None:  # type: ignore[no-untyped-def]
    run.font.name = name
    run.font.size = Pt(size)
    run.font.bold = bold
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:eastAsia", "w:ascii", "w:hAnsi"):
        fonts.set(qn(attr), name)


def _alt_names(doc) -> None:  # type: ignore[no-untyped-def]
    """Record 黑体/仿宋 as the substitutes of the 公文 fonts in the font table."""
    part = doc.part
    fonts_part = next(
        (rel.target_part for rel in part.rels.values() if rel.reltype.endswith("/fontTable")),
        None,
    )
    if fonts_part is None:
        return
    root = fonts_part.element if hasattr(fonts_part, "element") else None
    if root is None:
        return
    for name, alt in ((TITLE_FONT, TITLE_FALLBACK), (BODY_FONT, BODY_FALLBACK)):
        font = OxmlElement("w:font")
        font.set(qn("w:name"), name)
        alt_el = OxmlElement("w:altName")
        alt_el.set(qn("w:val"), alt)
        font.append(alt_el)
        root.append(font)


def _page_number(section) -> None:  # type: ignore[no-untyped-def]
    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("— "), BODY_FALLBACK, 14)
    run = p.add_run()
    _font(run, BODY_FALLBACK, 14)
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = text
        run._element.append(el)
    _font(p.add_run(" —"), BODY_FALLBACK, 14)


class GongwenDocument:
    """A 公文-layout document built paragraph by paragraph."""

    def __init__(self, title: str, *, landscape: bool = False) -> None:
        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        normal = self.doc.styles["Normal"]
        normal.font.name = BODY_FONT
        normal.font.size = Pt(16)
        normal.element.get_or_add_rPr()
        _page_number(section)
        _alt_names(self.doc)
        p = self.doc.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(title), TITLE_FONT, 22)
        self.doc.add_paragraph()

    def heading(self, text: str) -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.first_line_indent = Pt(32)
        _font(p.add_run(text), HEADING_FONT, 16)

    def para(self, text: str, *, indent: bool = True, bold_lead: str = "") -> None:
        p = self.doc.add_paragraph()
        p.paragraph_format.line_spacing = Pt(28)
        if indent:
            p.paragraph_format.first_line_indent = Pt(32)
        if bold_lead:
            _font(p.add_run(bold_lead), BODY_FONT, 16, bold=True)
        _font(p.add_run(text), BODY_FONT, 16)

    def table(self, header: list[str], rows: Iterable[list[str]]) -> None:
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, header, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(text), HEADING_FONT, 12)
        for row in rows:
            cells = table.add_row().cells
            for cell, text in zip(cells, row, strict=True):
                cell.text = ""
                _font(cell.paragraphs[0].add_run(str(text)), BODY_FALLBACK, 12)

    def signature(self, office: str, date: dt.date) -> None:
        self.doc.add_paragraph()
        for text in (office, f"{date.year}年{date.month}月{date.day}日"):
            p = self.doc.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            p.paragraph_format.right_indent = Pt(64)
            _font(p.add_run(text), BODY_FONT, 16)

    def bytes(self) -> bytes:
        buf = io.BytesIO()
        self.doc.save(buf)
        return buf.getvalue()


def docx_response(data: bytes, filename: str) -> HttpResponse:
    resp = HttpResponse(data, content_type=DOCX_TYPE)
    resp["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(filename)}"
    return resp


def notice_document(notice) -> HttpResponse:  # type: ignore[no-untyped-def]
    doc = GongwenDocument(f"{notice.get_level_display()}通知单")
    doc.para(notice.number, indent=False)
    doc.para(f"{notice.organisation.name}:", indent=False)
    doc.para(notice.requirement)
    doc.para(notice.subject, bold_lead="督办事项: ")
    doc.para(f"{notice.task.title}({notice.task.plan.title})", bold_lead="涉及任务: ")
    if notice.task.deadline:
        doc.para(notice.task.deadline, bold_lead="完成时限: ")
    doc.para(
        f"请于 {notice.answer_by.year}年{notice.answer_by.month}月{notice.answer_by.day}日前"
        "书面反馈办理情况。",
        bold_lead="反馈要求: ",
    )
    doc.para(notice.get_status_display(), bold_lead="当前状态: ")
    if notice.answer:
        doc.para(notice.answer, bold_lead="办理情况: ")
    issued = (notice.issued_at or notice.created_at).date()
    doc.signature(notice.office.name, issued)
    return docx_response(doc.bytes(), f"{notice.number or '督办单'}.docx")
