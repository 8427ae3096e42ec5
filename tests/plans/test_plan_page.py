"""The plan page: section headings among the tasks, each appendix ledger in its own
table, and units without a role under 责任单位 (not 牵头单位)."""

from __future__ import annotations

from types import SimpleNamespace

import lxml.html
from django.urls import reverse

from kepu.plans import services
from kepu.plans.selectors import plan_task_groups
from kepu.plans.services import PlanFields


def _t(path, n):
    return SimpleNamespace(path=path, number=n)


def test_groups_split_the_body_from_appendices_and_open_only_changed_headings():
    tasks = [
        _t(["青少年", "学校"], "1"),
        _t(["青少年", "学校"], "2"),
        _t(["青少年", "校外"], "3"),
        _t(["老年人"], "4"),
        _t([], "5"),
        _t(["附件1 重点任务台账", "青少年"], "1"),
        _t(["附件1 重点任务台账", "青少年"], "2"),
        _t(["附件2 分工表"], "1"),
    ]
    groups = plan_task_groups(tasks)
    assert [g.appendix for g in groups] == [None, "附件1 重点任务台账", "附件2 分工表"]
    body, ledger, second = groups
    assert [(r.task.number, r.headings) for r in body.rows] == [
        ("1", [(0, "青少年"), (1, "学校")]),
        ("2", []),
        ("3", [(1, "校外")]),
        ("4", [(0, "老年人")]),
        ("5", []),
    ]
    assert [(r.task.number, r.headings) for r in ledger.rows] == [
        ("1", [(0, "青少年")]),
        ("2", []),
    ]
    assert [(r.task.number, r.headings) for r in second.rows] == [("1", [])]
    assert plan_task_groups([]) == []


PARSED = {
    "title": "2026年测试市科学素质工作要点",
    "tasks": [
        {
            "path": ["青少年科学素质提升"],
            "number": "1",
            "title": "开展中小学科学教育",
            "text": "开展中小学科学教育。",
            "lead": ["市教体局"],
            "cooperate": ["市卫健委"],
            "responsible": ["市教体局", "市卫健委"],
            "targets": [],
        },
        {
            "path": ["青少年科学素质提升"],
            "number": "2",
            "title": "举办青少年科技节",
            "text": "举办青少年科技节。",
            "lead": [],
            "cooperate": [],
            "responsible": ["市教育局", "市科协"],
            "targets": [],
        },
        {
            "path": ["附件 2026年重点工作任务台账", "老年人科学素质提升"],
            "number": "1",
            "title": "开展银龄健康讲座",
            "text": "开展银龄健康讲座。",
            "lead": ["市卫健委"],
            "cooperate": [],
            "responsible": ["市卫健委"],
            "targets": [],
        },
    ],
}


def test_the_plan_page_shows_headings_the_appendix_table_and_unroled_units(
    client, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    plan = services.plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed=PARSED,
        fields=PlanFields(title=PARSED["title"]),
    )
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("plans:detail", args=[plan.pk]))
    assert resp.status_code == 200
    doc = lxml.html.fromstring(resp.content.decode())
    tables = doc.xpath('//table[contains(@class,"plan-tasks")]')
    assert len(tables) == 2
    body, appendix = tables
    assert "appendix" in appendix.get("class")
    heading = appendix.getprevious()
    assert heading.tag == "h3" and heading.text_content() == "附件 2026年重点工作任务台账"
    assert [h.text_content() for h in body.xpath('.//tr[contains(@class,"section-row")]')] == [
        "青少年科学素质提升"
    ]
    assert [h.text_content() for h in appendix.xpath('.//tr[contains(@class,"section-row")]')] == [
        "老年人科学素质提升"
    ]
    assert [
        r.xpath("./td[1]")[0].text_content() for r in body.xpath('.//tr[@class="task-row"]')
    ] == [
        "1",
        "2",
    ]

    def cell(row, label):
        return row.xpath(f'./td[@data-label="{label}"]')[0].text_content()

    first, second = body.xpath('.//tr[@class="task-row"]')
    assert "市教体局" in cell(first, "牵头单位") and "市卫健委" in cell(first, "配合单位")
    assert cell(first, "责任单位").strip() == ""
    # no role named: responsible units, not leads
    assert cell(second, "牵头单位").strip() == ""
    assert "市教育局" in cell(second, "责任单位") and "市科协" in cell(second, "责任单位")


def test_the_ledger_marks_units_without_a_role_as_responsible_not_lead(
    client, world, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    services.plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed=PARSED,
        fields=PlanFields(title=PARSED["title"]),
    )
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("plans:ledger"))
    assert resp.status_code == 200
    doc = lxml.html.fromstring(resp.content.decode())
    rows = {
        r.xpath("./td[2]")[0].text_content().strip(): r
        for r in doc.xpath("//table//tbody/tr")
        if len(r.xpath("./td")) > 2
    }
    unroled = next(r for title, r in rows.items() if "举办青少年科技节" in title)
    lead_cell = unroled.xpath("./td[3]")[0]
    assert [t.text_content() for t in lead_cell.xpath('.//span[contains(@class,"role-note")]')] == [
        "责任单位"
    ]
    assert "市教育局" in lead_cell.text_content()
    led = next(r for title, r in rows.items() if "开展银龄健康讲座" in title)
    assert "责任单位" not in led.xpath("./td[3]")[0].text_content()
