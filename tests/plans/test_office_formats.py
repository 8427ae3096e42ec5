"""The formats offices actually send (issue 12): text-layer PDF and old Excel .xls are read
by the plan and ledger importers and by ``kepu plan parse``/``kepu ledger parse``; .doc and
.wps get how to save as .docx; a scanned PDF says so; a renamed file is named for what it
is, once; corrupt files never crash a parser."""

from __future__ import annotations

import json
import random

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kepu.plans import services
from kepu.plans.ledger_import import ledger_draft_create
from kepu.plans.models import Plan, PlanDraft
from kepu.plans.parsing import ParseError, parse_bytes
from kepu.plans.parsing.cli import main as plan_cli
from kepu.plans.parsing.ledger import parse_ledger
from kepu.plans.parsing.ledger_cli import main as ledger_cli
from tests.office_files import (
    make_docx_bytes,
    make_pdf,
    make_scanned_pdf,
    make_xls,
    make_xlsx_bytes,
)

PDF_PAGES = [
    [
        "2025年测试市全民科学素质行动工作要点",
        "测试市全民科学素质纲要实施工作办公室",
        "一、重点任务",
        "1.开展中小学科学教育。培训科学教师300人以上,每所学校每学年开展科普活动不少于",
        "4次。(市教体局牵头,市卫健委配合)",
        "- 1 -",
    ],
    [
        "2.举办青少年科技节。(市教体局、市科协)",
        "二、保障措施",
        "(一)加大投入力度。将科普经费列入财政预算。(市财政局)",
        "- 2 -",
    ],
]
LEDGER_ROWS = [
    ["2026年测试市全民科学素质行动重点任务台账"],
    ["序号", "任务内容", "牵头单位", "配合单位", "目标任务", "完成时限"],
    ["一、青少年科学素质提升行动"],
    [1, "开展科学教育进校园。", "市教体局", "市卫健委", "不少于20场", "2026年10月8日前"],
    [2, "建设科普长廊。", "市教体局", "", "", "6月底"],
]


def test_text_layer_pdf_parses_like_a_document():
    plan = parse_bytes(make_pdf(PDF_PAGES), "要点.pdf")
    titles = [t.title for t in plan.tasks]
    assert titles == ["开展中小学科学教育", "举办青少年科技节", "加大投入力度"]
    first = plan.tasks[0]
    # the paragraph wrapped over two PDF lines is one task text; the page number is gone
    assert first.text.endswith("开展科普活动不少于4次。")
    assert (first.lead, first.cooperate) == (["市教体局"], ["市卫健委"])
    assert [t.value for t in first.targets] == [300, 4]
    assert "- 1 -" not in " ".join(t.text for t in plan.tasks)
    assert plan.tasks[2].path == ["保障措施"] and plan.tasks[2].responsible == ["市财政局"]


def test_scanned_pdf_gets_a_clear_message():
    with pytest.raises(ParseError, match="没有文字层 \\(可能是扫描件"):
        parse_bytes(make_scanned_pdf(), "扫描件.pdf")


@pytest.mark.parametrize("maker", [make_xls, make_xlsx_bytes], ids=["xls", "xlsx"])
def test_ledger_parser_reads_xls_and_xlsx_alike(maker):
    ledger = parse_ledger(maker(LEDGER_ROWS))
    assert ledger["title"] == "2026年测试市全民科学素质行动重点任务台账"
    assert [(t["section"], t["title"], t["lead"]) for t in ledger["tasks"]] == [
        ("青少年科学素质提升行动", "开展科学教育进校园", ["市教体局"]),
        ("青少年科学素质提升行动", "建设科普长廊", ["市教体局"]),
    ]
    assert ledger["tasks"][0]["deadline"]["due"] == "2026-10-08"
    assert ledger["tasks"][0]["targets"][0]["display"] == "不少于20场"


def test_cli_plan_parse_accepts_pdf_and_xls(tmp_path, capsysbinary):
    pdf = tmp_path / "要点.pdf"
    pdf.write_bytes(make_pdf(PDF_PAGES))
    assert plan_cli([str(pdf), "--json"]) == 0
    data = json.loads(capsysbinary.readouterr().out.decode("utf-8"))
    assert [t["title"] for t in data["tasks"]][:2] == ["开展中小学科学教育", "举办青少年科技节"]
    xls = tmp_path / "台账.xls"
    xls.write_bytes(make_xls(LEDGER_ROWS))
    assert plan_cli([str(xls), "--json"]) == 0
    data = json.loads(capsysbinary.readouterr().out.decode("utf-8"))
    assert data["title"] == "2026年测试市全民科学素质行动重点任务台账"
    assert [t["title"] for t in data["tasks"]] == ["开展科学教育进校园", "建设科普长廊"]
    assert data["tasks"][0]["path"] == ["青少年科学素质提升行动"]
    assert ledger_cli([str(xls), "--json"]) == 0
    data = json.loads(capsysbinary.readouterr().out.decode("utf-8"))
    assert len(data["tasks"]) == 2


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("方案.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "另存为"),
        ("方案.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "WPS"),
        ("方案.pdf", make_scanned_pdf(), "扫描件"),
        ("台账.xls", "<html><table><tr><td>一、任务</td></tr></table></html>".encode(), "这不是"),
    ],
)
def test_cli_errors_say_what_to_do(tmp_path, capsys, name, data, message):
    path = tmp_path / name
    path.write_bytes(data)
    assert plan_cli([str(path), "--json"]) == 1
    assert message in capsys.readouterr().err


def test_plan_upload_of_a_pdf_makes_a_draft(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = services.plan_draft_create(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="要点.pdf",
        data=make_pdf(PDF_PAGES),
    )
    assert draft.parsed["tasks"][0]["title"] == "开展中小学科学教育"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("要点.pdf", make_scanned_pdf(), "扫描件"),
        ("要点.wps", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "*.docx"),
        ("要点.docx", make_xls(LEDGER_ROWS), "看起来是旧版 Excel 表格"),
    ],
)
def test_plan_upload_errors(world, settings, tmp_path, name, data, message):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as exc:
        services.plan_draft_create(
            user=world.users["admin_a"], owner=world.orgs["office_a"], name=name, data=data
        )
    assert message in " ".join(exc.value.messages)
    assert not PlanDraft.objects.exists()


def test_ledger_import_reads_xls_in_both_importers(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = make_xls(LEDGER_ROWS)
    draft, _ = ledger_draft_create(
        user=world.users["admin_a"], owner=world.orgs["office_a"], name="台账.xls", data=data
    )
    assert [t["title"] for t in draft.parsed["tasks"]] == ["开展科学教育进校园", "建设科普长廊"]
    plan = services.ledger_import(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="台账.xls",
        data=make_xls(
            [[c for c in r if c != "市卫健委"] for r in LEDGER_ROWS[1:2]]
            + [[1, "开展科学教育进校园。", "市教体局", "", "不少于20场", "2026年10月8日前"]]
        ),
        title="xls 台账",
    )
    assert plan.tasks.count() == 1


def test_renamed_file_error_is_shown_once_on_the_ledger_page(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["admin_a"])
    upload = SimpleUploadedFile("台账.xlsx", make_docx_bytes(["一、重点任务"]))
    resp = client.post(
        reverse("plans:ledger_import"),
        {"owner": world.orgs["office_a"].pk, "workbook": upload, "kind": "annual", "title": ""},
    )
    page = resp.content.decode()
    assert resp.status_code == 200
    assert page.count("看起来是 Word 文档") == 1
    assert "OSError" not in page and not Plan.objects.exists()


def _corruptions(data: bytes, rng: random.Random) -> list[bytes]:
    out = [data[: len(data) * k // 6] for k in range(1, 6)]
    for _ in range(10):
        b = bytearray(data)
        for _ in range(rng.randint(1, 25)):
            b[rng.randrange(len(b))] = rng.randrange(256)
        out.append(bytes(b))
    return out


def test_parsers_never_crash_on_corrupt_office_files():
    rng = random.Random(7)
    goods = {
        "a.pdf": make_pdf(PDF_PAGES),
        "a.xls": make_xls(LEDGER_ROWS),
        "a.xlsx": make_xlsx_bytes(LEDGER_ROWS),
        "a.docx": make_docx_bytes(["一、重点任务", "1.开展讲座。(市科协)"]),
    }
    for name, good in goods.items():
        for bad in _corruptions(good, rng):
            for as_name in (name, "a.txt", "a.doc"):
                try:
                    parse_bytes(bad, as_name)
                except ParseError as exc:
                    assert str(exc) and "Traceback" not in str(exc)
            try:
                parse_ledger(bad)
            except ParseError as exc:
                assert str(exc)


def test_doc_upload_error_is_shown_once_with_what_to_do(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["admin_a"])
    upload = SimpleUploadedFile("方案.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    resp = client.post(
        reverse("plans:upload"),
        {"owner": world.orgs["office_a"].pk, "document": upload, "kind": "annual"},
    )
    page = resp.content.decode()
    assert resp.status_code == 200
    assert page.count("是旧版 Word 文档 (.doc)") == 1 and "保存类型选「Word 文档 (*.docx)」" in page
    assert not PlanDraft.objects.exists()
