"""Targets read like the document (issue 12): the parser keeps the original wording and
number formatting next to the structured value, and the preview, plan page, task page,
ledger and Excel export show that wording, not "等于100000人次"."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from kepu.plans import services
from kepu.plans.models import Target
from kepu.plans.parsing import parse_text
from kepu.plans.parsing.targets import format_value, target_display
from kepu.plans.services import PlanFields

PLAN = """2025年测试市科普工作要点
到2025年,全市公民具备科学素质的比例超过15%。
一、重点任务
1.建设社区科普站。新建社区科普站不少于20个。(市科协牵头)
2.开展科普大篷车进基层。全年覆盖10万人次。(市科协)
3.培训科学教师。培训教师300人以上。(市教育局)
"""


def test_parser_keeps_the_wording_and_the_structured_value():
    plan = parse_text(PLAN)
    (doc,) = plan.to_dict()["targets"]
    assert doc["display"] == "超过15% (2025年)"
    assert (doc["comparator"], doc["value"], doc["unit"], doc["year"]) == (">", 15, "%", 2025)
    shown = [t["display"] for task in plan.to_dict()["tasks"] for t in task["targets"]]
    assert shown == ["不少于20个", "覆盖10万人次", "培训教师300人以上"]
    cover = plan.tasks[1].targets[0]
    assert (cover.comparator, cover.value, cover.unit) == ("=", 100000, "人次")


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("不少于20个", ">=", 20, "个", None), "不少于20个"),
        (("超过15%", ">", 15, "%", 2025), "超过15% (2025年)"),
        (("到2025年达到15%", ">=", 15, "%", 2025), "到2025年达到15%"),  # year already there
        (("", ">=", 100000, "人次", None), "不少于10万人次"),  # typed without wording
        (("", "=", 150000000, "元", None), "1.5亿元"),
        (("  覆盖\n10万人次 ", "=", 100000, "人次", None), "覆盖 10万人次"),
    ],
)
def test_target_display(args, expected):
    assert target_display(*args) == expected


def test_format_value():
    assert [format_value(v) for v in (12, 12.5, 100000, 12345, 150000000, 30000.0)] == [
        "12",
        "12.5",
        "10万",
        "12345",
        "1.5亿",
        "3万",
    ]


@pytest.fixture
def plan(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = world.users["admin_a"]
    draft = services.plan_draft_create(
        user=admin, owner=world.orgs["office_a"], name="plan.txt", data=PLAN.encode()
    )
    return services.plan_draft_confirm(
        user=admin,
        draft=draft,
        fields=PlanFields(title="2025年测试市科普工作要点", kind="annual"),
        unit_choices={},
    )


def test_model_label_is_the_document_wording(plan):
    labels = sorted(t.label for t in Target.objects.filter(plan=plan))
    assert labels == sorted(["超过15% (2025年)", "不少于20个", "覆盖10万人次", "培训教师300人以上"])
    cover = Target.objects.get(plan=plan, unit="人次")
    assert cover.structured_label == "= 10万 人次"


def test_pages_and_export_show_the_wording(client, world, plan, settings, tmp_path):
    client.force_login(world.users["admin_a"])
    page = client.get(reverse("plans:detail", args=[plan.pk])).content.decode()
    assert "覆盖10万人次" in page and "超过15% (2025年)" in page
    assert "等于100000" not in page and "100000人次" not in page
    task = plan.tasks.get(order=2)
    page = client.get(reverse("plans:task", args=[task.pk])).content.decode()
    assert "覆盖10万人次" in page and "等于" not in page
    ledger = client.get(reverse("plans:ledger")).content.decode()
    assert "不少于20个" in ledger and "覆盖10万人次" in ledger and "等于100000" not in ledger
    resp = client.get(reverse("plans:ledger_export"))
    from openpyxl import load_workbook

    data = b"".join(resp.streaming_content) if resp.streaming else resp.content
    if resp.status_code == 302:  # exported as a background job
        pytest.skip("ledger export runs as a job here")
    ws = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    cells = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c]
    assert "覆盖10万人次" in cells and "不少于20个" in cells


def test_preview_shows_the_wording(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = world.users["admin_a"]
    draft = services.plan_draft_create(
        user=admin, owner=world.orgs["office_a"], name="plan.txt", data=PLAN.encode()
    )
    client.force_login(admin)
    page = client.get(reverse("plans:draft", args=[draft.pk])).content.decode()
    assert "覆盖10万人次" in page and "超过15% (2025年)" in page and "培训教师300人以上" in page
    assert "=100000人次" not in page
