"""The page and load benchmarks' helpers, and one tiny run of each against a live server
with the seeder's demo-scale data."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import bench_load
import bench_pages

from tests.bench.test_seed import regions  # noqa: F401


def test_percentile():
    assert bench_pages.percentile([5.0], 95) == 5.0
    assert bench_pages.percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert bench_pages.percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)


def test_form_parser_takes_the_edit_form_not_the_logout_button():
    html = """<form method="post" action="/accounts/logout/"><input type="hidden" name="csrfmiddlewaretoken" value="t"></form>
    <form method="post"><input type="hidden" name="csrfmiddlewaretoken" value="t">
    <input name="name" value="A &amp; B"><input type="checkbox" name="flag" checked>
    <input type="checkbox" name="off"><select name="kind"><option value="a">A</option><option value="b" selected>B</option></select>
    <select name="parent"><option value="">-</option><option value="3">x</option></select>
    <textarea name="aliases">
x、y</textarea><button type="submit">save</button></form>""".encode()
    assert bench_load.form_fields(html) == {
        "csrfmiddlewaretoken": "t",
        "name": "A & B",
        "flag": "on",
        "kind": "b",
        "parent": "",
        "aliases": "x、y",
    }


def test_a_page_is_one_line():
    page = bench_pages.Page("规划详情", "/plans/{plan}/")
    cache = {("plan", 7): 42}

    class U:
        pk = 7

    assert bench_pages.resolve(page, U(), cache) == "/plans/42/"
    cache[("plan", 7)] = None
    assert bench_pages.resolve(page, U(), cache) is None


@pytest.fixture
def seeded(regions, transactional_db):  # noqa: F811
    call_command("kepu_bench_seed", "--scale", "demo", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_bench_pages_and_load_against_a_live_server(seeded, live_server, monkeypatch):
    monkeypatch.setattr(bench_pages, "BEHIND_HTTPS", False)
    rows = bench_pages.run(
        live_server.url,
        repeat=2,
        roles=["national", "unit"],
        pages=bench_pages.PAGES,
        password=bench_pages.PASSWORD,
        inprocess_limit=10,
        timeout=30,
        log=lambda line: None,
    )
    by = {(r.role, r.page): r for r in rows}
    ledger = by[("national", "任务台账")]
    assert ledger.status == "200" and ledger.n == 2 and ledger.queries and ledger.kb > 0
    assert by[("unit", "监测调查详情(结果)")].status == "无可见对象"
    assert by[("national", "监测调查详情(结果)")].status == "200"
    assert all(r.status in {"200", "无可见对象", "404"} for r in rows), [
        (r.role, r.page, r.status) for r in rows
    ]
    args = argparse.Namespace(
        users=1, writers=1, duration=2.0, think=0.05, roles="city,unit",
        password=bench_pages.PASSWORD, timeout=30.0,
    )  # fmt: skip
    result = bench_load.run(live_server.url, args)
    ops = {o["op"]: o for o in result["ops"]}
    assert ops["读 (全部)"]["requests"] > 0 and ops["读 (全部)"]["errors"] == 0
    assert ops["写 保存组织"]["requests"] > 0 and ops["写 保存组织"]["errors"] == 0
    assert result["stuck_threads"] == 0
