"""``kepu ledger parse``: Excel ledgers as offices keep them, written here with openpyxl."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from openpyxl import Workbook

from kepu.plans.parsing import ParseError
from kepu.plans.parsing.ledger import parse_ledger, split_units
from kepu.plans.parsing.ledger_cli import main


def office_ledger() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(["附件1"])
    ws.append(["曲靖市2026年全民科学素质行动重点任务台账"])
    ws.merge_cells("A2:H2")
    ws.append(
        ["序号", "重点任务", "牵头单位", "配合单位", "目标任务", "完成时限", "备注", "联系人"]
    )
    ws.append(["一、青少年科学素质提升行动"])
    ws.merge_cells("A4:H4")
    ws.append(
        [
            1,
            "开展科学教育进校园。组织专家进校园讲座。",
            "市教体局",
            "市科协、各县(市、区)人民政府",
            "不少于20场",
            "10月8日前",
            "",
            "张三",
        ]
    )
    ws.append(
        [
            2,
            "建设乡村学校少年宫",
            "各县（市、区）人民政府",
            "市教体局；市财政局",
            "",
            "持续推进",
            "",
            "",
        ]
    )
    ws.append(
        ["序号", "重点任务", "牵头单位", "配合单位", "目标任务", "完成时限", "备注", "联系人"]
    )
    ws.append(["二、农民科学素质提升行动"])
    ws.merge_cells("A8:H8")
    ws.append(
        [
            3,
            "开展农民技能培训",
            "市农业农村局\n市人社局",
            "各乡镇(街道)",
            "培训农民5000人次以上",
            "2026年12月底前",
            "x",
            "",
        ]
    )
    ws.append([None] * 8)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_office_ledger():
    ledger = parse_ledger(office_ledger())
    assert ledger["title"] == "曲靖市2026年全民科学素质行动重点任务台账"
    tasks = ledger["tasks"]
    assert [t["number"] for t in tasks] == ["1", "2", "3"]
    assert [t["section"] for t in tasks] == [
        "青少年科学素质提升行动",
        "青少年科学素质提升行动",
        "农民科学素质提升行动",
    ]
    t1, t2, t3 = tasks
    assert t1["title"] == "开展科学教育进校园"
    assert t1["lead"] == ["市教体局"]
    assert t1["cooperate"] == ["市科协", "各县(市、区)人民政府"]
    assert t1["responsible"] == ["市教体局", "市科协", "各县(市、区)人民政府"]
    assert t1["targets"][0]["value"] == 20 and t1["targets"][0]["comparator"] == ">="
    assert t1["deadline"] == {"text": "10月8日前", "due": "2026-10-08", "recurring": None}
    assert t2["lead"] == ["各县（市、区）人民政府"]
    assert t2["cooperate"] == ["市教体局", "市财政局"]
    assert t2["deadline"]["recurring"] == "ongoing"
    assert t3["lead"] == ["市农业农村局", "市人社局"]
    assert t3["deadline"]["due"] == "2026-12-31"
    assert set(t1) == {
        "number",
        "section",
        "title",
        "text",
        "lead",
        "cooperate",
        "responsible",
        "targets",
        "deadline",
    }


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("各县(市、区)人民政府、市科协", ["各县(市、区)人民政府", "市科协"]),
        ("各县（市、区）人民政府，市科协", ["各县（市、区）人民政府", "市科协"]),
        ("市教育局牵头; 市科协", ["市教育局", "市科协"]),
        ("", []),
        ("无", []),
    ],
)
def test_split_units_respects_brackets(text, names):
    assert split_units(text) == names


def test_platform_export_reimports(world, tmp_path):
    """The ledger exported by the platform (title row, its own header) parses back."""
    from kepu.plans import excel
    from kepu.plans.services import PlanFields, plan_create_from_parsed

    plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed={
            "tasks": [
                {
                    "path": ["一、青少年"],
                    "number": "1",
                    "title": "开展讲座",
                    "text": "开展讲座。不少于12场。",
                    "lead": ["市教体局"],
                    "cooperate": ["市卫健委"],
                    "responsible": ["市教体局", "市卫健委"],
                    "targets": [],
                    "deadline": {"text": "6月底", "due": "2026-06-30", "recurring": None},
                }
            ]
        },
        fields=PlanFields(title="2026年要点", period_start=2026, period_end=2026),
    )
    data = excel.ledger_workbook(title="2026年要点 任务台账", tasks=plan.tasks.all())
    ledger = parse_ledger(data)
    assert ledger["title"] == "2026年要点"
    (task,) = ledger["tasks"]
    assert task["lead"] == ["市教体局"] and task["cooperate"] == ["市卫健委"]
    assert task["deadline"]["due"] == "2026-06-30"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "为空"),
        (b"not a spreadsheet", "不是有效"),
        (b"PK\x03\x04garbage", "无法读取"),
    ],
)
def test_unreadable_files_give_chinese_errors(data, message):
    with pytest.raises(ParseError, match=message):
        parse_ledger(data)


def test_missing_header():
    wb = Workbook()
    wb.active.append(["甲", "乙"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(ParseError, match="找不到表头"):
        parse_ledger(buf.getvalue())


def test_cli_json(tmp_path, capsysbinary):
    path = tmp_path / "台账.xlsx"
    path.write_bytes(office_ledger())
    assert main([str(path), "--json"]) == 0
    out = json.loads(capsysbinary.readouterr().out.decode("utf-8"))
    assert len(out["tasks"]) == 3 and out["tasks"][0]["deadline"]["due"] == "2026-10-08"


def test_cli_unreadable_file_exits_nonzero(tmp_path):
    bad = tmp_path / "坏.xlsx"
    bad.write_bytes(b"nonsense")
    proc = subprocess.run(
        [sys.executable, "-m", "kepu.cli", "ledger", "parse", str(bad), "--json"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0 and "解析失败" in proc.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "kepu.cli", "ledger", "parse", str(tmp_path / "无.xlsx")],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and "找不到文件" in missing.stderr
