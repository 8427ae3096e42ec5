"""Input formats: text encodings, .docx (numbering, ledger tables), saved web pages."""

from __future__ import annotations

import io

import pytest

from kepu.plans.parsing import ParseError, parse_bytes, parse_file
from kepu.plans.parsing.decode import decode_text_bytes

SMALL_PLAN = """2024年某区科普工作要点
一、重点任务
1.举办科技活动周。全区开展活动不少于50场。(区科协牵头,区教育局配合)
2.建设科普基地。(区科技局)
"""


def summary(plan):
    return [(t.title, t.lead, t.cooperate, t.responsible) for t in plan.tasks]


EXPECTED = [
    ("举办科技活动周", ["区科协"], ["区教育局"], ["区科协", "区教育局"]),
    ("建设科普基地", [], [], ["区科技局"]),
]


@pytest.mark.parametrize(
    "encode",
    [
        lambda s: s.encode("utf-8"),
        lambda s: s.encode("utf-8-sig"),
        lambda s: s.encode("gb18030"),
        lambda s: s.encode("gbk"),
        lambda s: s.encode("utf-16"),
        lambda s: s.encode("utf-16-le"),
        lambda s: s.encode("utf-16-be"),
        lambda s: s.replace("\n", "\r\n").encode("gb2312"),
    ],
    ids=["utf8", "utf8-bom", "gb18030", "gbk", "utf16-bom", "utf16le", "utf16be", "gb2312-crlf"],
)
def test_text_encodings(encode):
    plan = parse_bytes(encode(SMALL_PLAN), "plan.txt")
    assert plan.title == "2024年某区科普工作要点"
    assert summary(plan) == EXPECTED
    assert plan.tasks[0].targets[0].value == 50


def test_big5_traditional_text():
    traditional = (
        "2024年某區科普工作要點\n一、重點任務\n"
        "1.舉辦科技活動週。全區開展活動不少於50場。(區科協牽頭,區教育局配合)\n"
    )
    data = traditional.encode("big5")
    plan = parse_bytes(data, "plan.txt")
    assert plan.tasks[0].title.startswith("举办科技活动")
    assert plan.tasks[0].lead == ["区科协"]


def test_decode_prefers_a_plausible_chinese_decoding():
    text = "全民科学素质行动工作要点,各成员单位按职责分工负责落实。" * 5
    assert decode_text_bytes(text.encode("gb18030")) == text
    assert decode_text_bytes(text.encode("utf-8")) == text


# ------------------------------------------------------------------ docx
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def _add_numbering(document) -> tuple[str, str]:
    """Add an abstract list "一、" / "1." to the document; returns (numId, numId-restart)."""
    from docx.oxml import parse_xml

    numbering = document.part.numbering_part.element
    abstract = parse_xml(
        f'<w:abstractNum xmlns:w="{W_NS}" w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="chineseCounting"/>'
        '<w:lvlText w:val="%1、"/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:lvlText w:val="%2."/></w:lvl>'
        "</w:abstractNum>"
    )
    first_num = numbering.find(f"{{{W_NS}}}num")
    if first_num is not None:
        first_num.addprevious(abstract)
    else:
        numbering.append(abstract)
    numbering.append(
        parse_xml(f'<w:num xmlns:w="{W_NS}" w:numId="90"><w:abstractNumId w:val="90"/></w:num>')
    )
    return "90", "90"


def _numbered(document, text: str, num_id: str, level: int) -> None:
    from docx.oxml import parse_xml

    p = document.add_paragraph(text)
    ppr = p._p.get_or_add_pPr()
    ppr.append(
        parse_xml(
            f'<w:numPr xmlns:w="{W_NS}"><w:ilvl w:val="{level}"/>'
            f'<w:numId w:val="{num_id}"/></w:numPr>'
        )
    )


def make_docx() -> bytes:
    import docx

    document = docx.Document()
    document.add_paragraph("2024年某县科普工作方案")
    document.add_paragraph("某县科学技术协会")
    document.add_paragraph("2024年1月5日")
    num, _ = _add_numbering(document)
    _numbered(document, "主要任务", num, 0)
    _numbered(document, "开展科普讲座。每年不少于12场。(县科协牵头,县卫健委配合)", num, 1)
    _numbered(document, "建设科普长廊。(县住建局)", num, 1)
    _numbered(document, "保障措施", num, 0)
    document.add_paragraph("附件")
    document.add_paragraph("重点任务台账")
    table = document.add_table(rows=1, cols=6)
    header = ["序号", "任务内容", "牵头单位", "配合单位", "目标任务", "完成时限"]
    for cell, text in zip(table.rows[0].cells, header, strict=True):
        cell.text = text
    rows = [
        [
            "1",
            "举办科普日主场活动",
            "县科协",
            "县教育局、县文旅局",
            "参与群众不少于3000人次",
            "9月",
        ],
        ["2", "开展农技培训", "县农业农村局", "", "培训农民500人以上", "12月底"],
    ]
    for values in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def test_docx_numbering_and_ledger_table():
    plan = parse_bytes(make_docx(), "方案.docx")
    assert plan.title == "2024年某县科普工作方案"
    assert plan.issuer == "某县科学技术协会" and plan.issued_on == "2024-01-05"
    titles = [(t.number, t.title, t.path) for t in plan.tasks]
    assert titles[:2] == [
        ("1", "开展科普讲座", ["主要任务"]),
        ("2", "建设科普长廊", ["主要任务"]),
    ]
    ledger = plan.tasks[2:]
    assert [(t.number, t.title) for t in ledger] == [
        ("1", "举办科普日主场活动"),
        ("2", "开展农技培训"),
    ]
    assert ledger[0].path == ["附件 重点任务台账"]
    assert ledger[0].lead == ["县科协"] and ledger[0].cooperate == ["县教育局", "县文旅局"]
    assert ledger[0].responsible == ["县科协", "县教育局", "县文旅局"]
    assert [(x.comparator, x.value, x.unit) for x in ledger[0].targets] == [(">=", 3000, "人次")]
    assert ledger[1].lead == ["县农业农村局"] and ledger[1].cooperate == []
    assert plan.sections[0].number == "一"  # rendered from Word's automatic numbering


def test_damaged_docx_raises_parse_error():
    with pytest.raises(ParseError, match="docx"):
        parse_bytes(b"PK\x03\x04 this is not really a zip", "x.docx")


# ------------------------------------------------------------------ html
HTML = """<!DOCTYPE html><html><head><meta charset="gbk"><title>某市科协</title>
<style>.x{color:red}</style><script>var a = "一、脚本里的标题";</script></head>
<body><div class="nav"><a href="/">首页</a> &gt; <a>通知公告</a></div>
<div id="header">某市科学技术协会门户网站</div>
<div class="article-content">
<h1>2024年某市科普日活动方案</h1>
<p>一、主要活动</p>
<p>（一）举办主场活动。参与群众不少于1万人次。（责任单位：市科协、各区县科协）</p>
<p>（二）开展科普进校园。<br/>覆盖学校30所以上。（市教育局牵头，市科协配合）</p>
<table><tr><td>序号</td><td>任务内容</td><td>责任单位</td></tr>
<tr><td>1</td><td>发布科普资源包</td><td>市科协</td></tr></table>
</div>
<div class="footer">版权所有 某市科协 ICP备12345号</div>
</body></html>"""


def test_saved_web_page():
    plan = parse_bytes(HTML.encode("gbk"), "page.html")
    assert plan.title == "2024年某市科普日活动方案"
    assert [(t.title, t.responsible) for t in plan.tasks] == [
        ("举办主场活动", ["市科协", "各区县科协"]),
        ("开展科普进校园", ["市教育局", "市科协"]),
        ("发布科普资源包", ["市科协"]),
    ]
    assert plan.tasks[1].text == "开展科普进校园。\n覆盖学校30所以上。"
    everything = str(plan.to_dict())
    assert "脚本" not in everything and "版权" not in everything and "门户" not in everything


def test_html_saved_as_txt_is_sniffed():
    plan = parse_bytes(HTML.encode("utf-8").replace(b'charset="gbk"', b""), "page.txt")
    assert len(plan.tasks) == 3


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "a.txt", "空"),
        (b"   \n\n ", "a.txt", "空"),
        (b"\x00\x01\x02garbage!!", "a.txt", "中文"),
        (b"%PDF-1.7 ...", "a.pdf", "PDF"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "old.doc", ".doc"),
        ("一、任务".encode(), "sheet.xlsx", "不是有效的 xlsx"),
        ("一、任务".encode(), "image.png", "不支持"),
    ],
)
def test_unreadable_input_raises_parse_error(data, name, message):
    with pytest.raises(ParseError, match=message):
        parse_bytes(data, name)


def test_parse_file_missing(tmp_path):
    with pytest.raises(ParseError, match="找不到文件"):
        parse_file(tmp_path / "none.txt")
    path = tmp_path / "plan.txt"
    path.write_bytes(SMALL_PLAN.encode("gb18030"))
    assert summary(parse_file(path)) == EXPECTED
