from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from kepu.core.importing import DataImportError
from kepu.plans import excel, services
from kepu.plans.models import Plan, Task
from kepu.plans.selectors import LedgerFilters, task_ledger
from kepu.plans.services import PlanFields


@pytest.fixture
def plan(world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = services.plan_draft_create(
        user=world.users["admin_a"], owner=world.orgs["office_a"], name="plan.txt", data=plan_bytes
    )
    return services.plan_draft_confirm(
        user=world.users["admin_a"],
        draft=draft,
        fields=PlanFields(title="测试要点"),
        unit_choices={},
    )


def xlsx(rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_export_has_the_customary_layout(world, plan):
    tasks = task_ledger(user=world.users["admin_a"], filters=LedgerFilters(plan=plan.pk))
    wb = load_workbook(io.BytesIO(excel.ledger_workbook(title="测试要点 任务台账", tasks=tasks)))
    ws = wb.active
    assert ws.cell(1, 1).value == "测试要点 任务台账"
    assert "导出日期" in ws.cell(2, 1).value
    assert [c.value for c in ws[3]] == [
        "序号",
        "章节",
        "任务内容",
        "牵头单位",
        "配合单位",
        "目标任务",
        "完成时限",
        "进展情况",
        "状态",
    ]
    first = [c.value for c in ws[4]]
    assert first[0] == 1 and first[2].startswith("开展中小学科学教育")
    assert first[3] == "市教体局" and first[4] == "市卫健委"
    assert "300人以上" in first[5]
    assert first[8] == "未开始"
    assert ws.max_row == 6
    assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$3:$3"
    assert ws.cell(4, 3).font.name == "宋体"


def test_round_trip_export_then_import(world, plan, settings, tmp_path):
    tasks = task_ledger(user=world.users["admin_a"], filters=LedgerFilters(plan=plan.pk))
    data = excel.ledger_workbook(title="台账", tasks=tasks)
    # the unknown unit in task 3 must exist for an import: give it an organisation first
    from kepu.orgs.models import Organisation

    Organisation.objects.create(name="市某某局", kind="department", region=world.regions["city_a"])
    imported = services.ledger_import(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="台账.xlsx",
        data=data,
        title="导入的台账",
    )
    got = [
        (t.title, [u.name for u in t.lead_units], [u.name for u in t.cooperating_units])
        for t in imported.tasks.order_by("order")
    ]
    assert got[0] == ("开展中小学科学教育", ["市教体局"], ["市卫健委"])
    assert got[2] == ("开展银龄健康讲座", ["市卫健委"], ["市某某局"])
    t1 = imported.tasks.get(order=1)
    assert t1.units.get(name="市教体局").organisation == world.orgs["unit_a1"]
    assert [(g.comparator, g.value, g.unit) for g in t1.targets.all()] == [(">=", 300.0, "人")]


def test_import_with_row_errors_saves_nothing(world):
    data = xlsx(
        [
            ["2026年任务台账"],
            ["序号", "任务内容", "牵头单位", "配合单位", "目标任务", "完成时限"],
            [
                1,
                "开展科普讲座。每年不少于12场。",
                "市教体局",
                "市卫健委",
                "不少于12场",
                "2026年12月",
            ],
            [2, "", "市教体局", "", "", ""],
            [3, "建设科普长廊。", "市不存在局", "市教育局", "", ""],
            [4, "开展调研。", "", "", "", ""],
        ]
    )
    before = (Plan.objects.count(), Task.objects.count())
    with pytest.raises(DataImportError) as exc:
        services.ledger_import(
            user=world.users["admin_a"],
            owner=world.orgs["office_a"],
            name="台账.xlsx",
            data=data,
            title="台账",
        )
    assert exc.value.errors == [
        "第4行: 「任务内容」为空。",
        "第5行: 牵头单位「市不存在局」在组织库中找不到对应组织 (请先新建该组织或为其添加别名)。",
        "第6行: 没有填写牵头单位。",
    ]
    assert (Plan.objects.count(), Task.objects.count()) == before


def test_import_valid_ledger(world):
    data = xlsx(
        [
            ["序号", "重点任务", "责任单位", "配合单位", "目标", "完成时间"],
            [
                1,
                "开展科普讲座。每年不少于12场。",
                "市教体局",
                "市卫健委、市教育局",
                "",
                "2026年12月",
            ],
        ]
    )
    plan = services.ledger_import(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="x.xlsx",
        data=data,
        title="台账",
    )
    task = plan.tasks.get()
    assert task.deadline == "2026年12月"
    assert [u.name for u in task.cooperating_units] == ["市卫健委", "市教育局"]
    assert [(g.comparator, g.value, g.unit) for g in task.targets.all()] == [(">=", 12.0, "场")]


def test_import_rejects_missing_header_and_bad_files(world):
    with pytest.raises(DataImportError, match="找不到表头"):
        services.ledger_import(
            user=world.users["admin_a"],
            owner=world.orgs["office_a"],
            name="x.xlsx",
            data=xlsx([["a", "b"], [1, 2]]),
            title="t",
        )
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="不是有效的 xlsx"):
        services.ledger_import(
            user=world.users["admin_a"],
            owner=world.orgs["office_a"],
            name="x.xlsx",
            data=b"plain text",
            title="t",
        )
    with pytest.raises(DataImportError, match="无法读取"):
        services.ledger_import(
            user=world.users["admin_a"],
            owner=world.orgs["office_a"],
            name="x.xlsx",
            data=b"PK\x03\x04garbage",
            title="t",
        )
    assert not Plan.objects.exists()
