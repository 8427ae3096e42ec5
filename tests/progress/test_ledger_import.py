"""Excel ledger import through the preview: sections, deadlines, unknown units offered,
the platform's own export re-imported, duplicates warned."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import Workbook

from kepu.plans import excel
from kepu.plans.ledger_import import ledger_draft_create
from kepu.plans.models import Plan, PlanDraft

pytestmark = pytest.mark.django_db


def workbook(rows, merges=()) -> bytes:
    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    for m in merges:
        wb.active.merge_cells(m)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


OFFICE = [
    ["2026年曲靖市科普工作任务台账"],
    ["序号", "工作任务", "牵头单位", "配合单位", "完成时限", "备注"],
    ["一、青少年科学素质提升行动"],
    [1, "开展科学教育进校园", "市教体局", "市卫健委、市财政局", "10月8日前", ""],
    [2, "建设乡村学校少年宫", "各县(市、区)人民政府", "", "长期坚持", ""],
]


def post_ledger(client, world, data, title=""):
    upload = io.BytesIO(data)
    upload.name = "台账.xlsx"
    return client.post(
        reverse("plans:ledger_import"),
        {"owner": world.orgs["office_a"].pk, "title": title, "kind": "annual", "workbook": upload},
    )


def test_import_goes_through_the_preview_and_confirms(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["admin_a"])
    resp = post_ledger(client, world, workbook(OFFICE, ["A1:F1", "A3:F3"]))
    assert resp.status_code == 302
    draft = PlanDraft.objects.get()
    assert draft.parsed["title"] == "2026年曲靖市科普工作任务台账"
    t1, t2 = draft.parsed["tasks"]
    assert t1["path"] == ["青少年科学素质提升行动"]
    assert t1["cooperate"] == ["市卫健委", "市财政局"]  # 市财政局 unknown: offered, not failing
    assert t2["lead"] == ["各县(市、区)人民政府"]
    html = client.get(resp["Location"]).content.decode()
    assert "市财政局" in html and "10月8日前" in html
    resp = client.post(
        resp["Location"],
        {
            "title": "2026年曲靖市科普工作任务台账",
            "kind": "annual",
            "t0-include": "on",
            "t1-include": "on",
            "t0-deadline": "10月8日前",
            "t1-deadline": "长期坚持",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    plan = Plan.objects.get()
    tasks = list(plan.tasks.order_by("order"))
    assert str(tasks[0].due_on) == "2026-10-08" and tasks[1].deadline_recurring == "ongoing"
    assert tasks[0].section.title == "青少年科学素质提升行动"


def test_own_export_reimports_unchanged(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft, _ = ledger_draft_create(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="a.xlsx",
        data=workbook(OFFICE),
    )
    from kepu.plans.services import PlanFields, plan_create_from_parsed

    plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed=draft.parsed,
        fields=PlanFields(title="2026年曲靖市科普工作要点", period_start=2026, period_end=2026),
    )
    data = excel.ledger_workbook(title=f"{plan.title} 任务台账", tasks=plan.tasks.all())
    again, warnings = ledger_draft_create(
        user=world.users["admin_a"], owner=world.orgs["office_a"], name="b.xlsx", data=data
    )
    before = [(t["title"], t["lead"], t["cooperate"]) for t in draft.parsed["tasks"]]
    after = [(t["title"], t["lead"], t["cooperate"]) for t in again.parsed["tasks"]]
    assert after == before
    assert again.parsed["title"] == plan.title
    assert any("重复导入" in w for w in warnings)


def test_duplicate_document_upload_is_warned(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["admin_a"])
    data = workbook(OFFICE)
    first = post_ledger(client, world, data, title="重复台账")
    client.post(
        first["Location"],
        {"title": "重复台账", "kind": "annual", "t0-include": "on", "t1-include": "on"},
    )
    assert Plan.objects.filter(title="重复台账").exists()
    second = post_ledger(client, world, data, title="重复台账")
    page = client.get(second["Location"]).content.decode()
    assert "已有同名规划「重复台账」" in page
