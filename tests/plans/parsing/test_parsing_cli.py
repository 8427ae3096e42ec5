"""``kepu plan parse FILE [--json]``."""

from __future__ import annotations

import json

from kepu.plans.parsing.cli import main

PLAN = """2025年某镇科普工作要点
一、重点任务
1.开展科普讲座。每年不少于12场。(镇科协牵头,镇卫生院配合)
"""


def test_json_output(tmp_path, capsysbinary):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="utf-8")
    assert main([str(path), "--json"]) == 0
    out = capsysbinary.readouterr().out.decode("utf-8")
    data = json.loads(out)
    assert "开展科普讲座" in out  # not escaped: ensure_ascii=False
    assert data["title"] == "2025年某镇科普工作要点"
    task = data["tasks"][0]
    assert task["lead"] == ["镇科协"] and task["cooperate"] == ["镇卫生院"]
    assert task["targets"] == [
        {
            "text": "不少于12场",
            "comparator": ">=",
            "value": 12,
            "unit": "场",
            "year": None,
            "display": "不少于12场",
        }
    ]


def test_outline_output(tmp_path, capsys):
    path = tmp_path / "plan.txt"
    path.write_text(PLAN, encoding="gb18030")
    assert main([str(path)]) == 0
    out = capsys.readouterr().out
    assert "标题: 2025年某镇科普工作要点" in out
    assert "牵头: 镇科协" in out and "配合: 镇卫生院" in out and "目标: ≥ 12 场" in out


def test_errors_exit_non_zero_with_chinese_message(tmp_path, capsys):
    assert main([str(tmp_path / "missing.txt")]) == 1
    assert "找不到文件" in capsys.readouterr().err
    bad = tmp_path / "table.xlsx"
    bad.write_bytes(b"PK\x03\x04whatever")
    assert main([str(bad), "--json"]) == 1
    assert "不支持" in capsys.readouterr().err
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert main([str(empty)]) == 1
    assert "为空" in capsys.readouterr().err
    assert main([]) == 2
    assert "用法" in capsys.readouterr().err
