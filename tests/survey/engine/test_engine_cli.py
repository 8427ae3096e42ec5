"""``kepu survey synth`` / ``kepu survey estimate``: the contract and the error messages."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from kepu.survey.engine.cli import main
from kepu.survey.engine.tableio import load_table


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    assert main(["synth", "--n", "2000", "--out", str(out), "--seed", "3"]) == 0
    return out


def _args(d, *extra):
    return [
        "estimate",
        str(d / "sample.csv"),
        "--y",
        "literate",
        "--weight",
        "weight",
        "--strata",
        "stratum",
        "--psu",
        "psu",
        *extra,
    ]


def _rake_args(d):
    out = []
    for v in ("sex", "age_band", "education", "urban"):
        out += ["--rake", f"{v}={d / 'margins' / (v + '.csv')}"]
    return out


def test_synth_writes_a_plausible_sample(synth_dir):
    t = load_table(synth_dir / "sample.csv")
    assert {"id", "province", "urban", "stratum", "psu", "weight", "sex", "age_band",
            "education", "group", "score", "literate"} <= set(t)  # fmt: skip
    assert len(np.unique(t["province"])) == 31 and 11 in t["province"] and 65 in t["province"]
    lit = np.dot(t["literate"], t["weight"]) / t["weight"].sum()
    assert 0.08 < lit < 0.2
    assert (t["literate"] == (t["score"] >= 70)).all()
    m = load_table(synth_dir / "margins" / "sex.csv")
    assert list(m) == ["sex", "Freq"]


def test_estimate_json_contract(synth_dir, capsys):
    rc = main(
        _args(
            synth_dir,
            *_rake_args(synth_dir),
            "--by",
            "province",
            "--by",
            "province,group",
            "--json",
        )
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    rows = out["estimates"]
    assert rows[0]["by"] == "national" and rows[0]["domain"] == {}
    prov = [r for r in rows if r["by"] == "province"]
    assert len(prov) == 31 and isinstance(prov[0]["domain"]["province"], int)
    cross = [r for r in rows if r["by"] == "province+group"]
    assert cross and set(cross[0]["domain"]) == {"province", "group"}
    for r in rows:
        assert {"estimate", "se", "ci_low", "ci_high", "deff", "n"} <= set(r)
    assert rows[0]["ci_low"] < rows[0]["estimate"] < rows[0]["ci_high"]
    assert sum(r["n"] for r in prov) == rows[0]["n"] == 2000
    rk = out["raking"]
    assert rk["converged"] is True and rk["iterations"] >= 1 and rk["max_error"] < 1e-9


def test_estimate_table_and_csv(synth_dir, capsys):
    assert main(_args(synth_dir, "--by", "urban")) == 0
    table = capsys.readouterr().out
    assert "全国" in table and "估计值" in table and "urban=1(城镇)" in table
    assert main(_args(synth_dir, "--by", "urban", "--csv")) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("by,urban,estimate,se")
    assert len(lines) == 4


def test_parquet_and_xlsx_inputs_give_the_same_numbers(synth_dir, tmp_path, capsys):
    from openpyxl import Workbook

    t = load_table(synth_dir / "sample.csv")
    pq.write_table(pa.table(t), tmp_path / "s.parquet")
    wb = Workbook()
    ws = wb.active
    cols = ["stratum", "psu", "weight", "literate", "urban"]
    ws.append(cols)
    for i in range(len(t["psu"])):
        ws.append([t[c][i].item() for c in cols])
    wb.save(tmp_path / "s.xlsx")
    results = []
    for path in (synth_dir / "sample.csv", tmp_path / "s.parquet", tmp_path / "s.xlsx"):
        args = _args(synth_dir, "--by", "urban", "--json")
        args[1] = str(path)
        assert main(args) == 0
        results.append(json.loads(capsys.readouterr().out)["estimates"])
    for other in results[1:]:
        for a, b in zip(results[0], other, strict=True):
            assert a["estimate"] == pytest.approx(b["estimate"], abs=1e-12)
            assert a["se"] == pytest.approx(b["se"], rel=1e-10)


def _write(tmp_path, cols, name="bad.csv"):
    path = tmp_path / name
    pacsv.write_csv(pa.table(cols), path)
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        ("missing_column", "找不到列"),
        ("zero_weight", "权重必须"),
        ("psu_two_strata", "同时出现在多个层"),
        ("non_numeric_y", "不是数值型"),
        ("margin_absent", "在数据中不存在"),
        ("not_converged", "未收敛"),
        ("lonely", "只有一个 PSU"),
    ],
)
def test_bad_input_exits_nonzero_with_chinese_message(synth_dir, tmp_path, capsys, mutate, message):
    t = {k: v.copy() for k, v in load_table(synth_dir / "sample.csv").items()}
    extra: list[str] = []
    y = "literate"
    if mutate == "missing_column":
        y = "nope"
    elif mutate == "zero_weight":
        t["weight"][5] = 0
    elif mutate == "psu_two_strata":
        t["psu"][0] = t["psu"][-1]
    elif mutate == "non_numeric_y":
        t["literate"] = np.array(["是" if v else "否" for v in t["literate"]], dtype=object)
    elif mutate == "margin_absent":
        m = tmp_path / "sex.csv"
        m.write_text("sex,Freq\n1,500\n2,500\n3,10\n", encoding="utf-8")
        extra = ["--rake", f"sex={m}"]
    elif mutate == "not_converged":
        extra = [*_rake_args(synth_dir), "--maxit", "1"]
    elif mutate == "lonely":
        keep = ~((t["stratum"] == t["stratum"][0]) & (t["psu"] != t["psu"][0]))
        t = {k: v[keep] for k, v in t.items()}
    path = _write(tmp_path, t)
    args = _args(synth_dir, *extra)
    args[1] = str(path)
    args[3] = y
    rc = main(args)
    err = capsys.readouterr().err
    assert rc != 0
    assert message in err
    assert "Traceback" not in err


def test_bad_arguments(capsys):
    assert main(["estimate", "x.csv"]) == 2
    err = capsys.readouterr().err
    assert "参数错误: 缺少必需的参数: --y, --weight" in err
    assert "required" not in err
    assert main(["estimate", "x.csv", "--y", "a", "--weight", "w", "--json", "--csv"]) == 2
    assert "参数 --csv 不能与 --json 同时使用" in capsys.readouterr().err
    assert main(["estimate", "/no/such.csv", "--y", "a", "--weight", "w"]) == 1
    assert "找不到数据文件" in capsys.readouterr().err
