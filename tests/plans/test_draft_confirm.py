"""Confirming a draft: concurrent confirms end in one plan and clear messages (never a
500), and every field of the preview form is validated."""

from __future__ import annotations

import threading

import pytest
from django.db import close_old_connections, connection
from django.test import Client
from django.urls import reverse

from kepu.plans import services
from kepu.plans.models import Plan, PlanDraft
from kepu.plans.services import PlanFields


def make_draft(world, plan_bytes) -> PlanDraft:
    return services.plan_draft_create(
        user=world.users["admin_a"], owner=world.orgs["office_a"], name="p.txt", data=plan_bytes
    )


def _post(draft: PlanDraft, **overrides: str) -> dict[str, str]:
    data = {"title": "测试要点", "kind": "annual", "period_start": "2026", "period_end": "2027"}
    for i, _ in enumerate(draft.parsed["tasks"]):
        data[f"t{i}-include"] = "on"
    data.update(overrides)
    return data


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirms_make_one_plan_and_clear_messages(
    world, plan_bytes, settings, tmp_path
):
    """Six requests confirm the same draft at once: one plan, the file read before it is
    deleted, the others redirected with a message — no 500, no FileNotFoundError."""
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(
        ("file:memorydb", ":memory:")
    ):
        # the test database is a shared-cache in-memory SQLite, whose table locks fail at
        # once instead of waiting (the file database in use has WAL and a busy timeout)
        pytest.skip("threads need PostgreSQL or a file SQLite database")
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    url = reverse("plans:draft", args=[draft.pk])
    data = _post(draft)
    barrier = threading.Barrier(6)
    results: list[tuple[int, str]] = []
    lock = threading.Lock()

    def confirm() -> None:
        try:
            client = Client(raise_request_exception=False)
            client.force_login(world.users["admin_a"])
            barrier.wait()
            resp = client.post(url, data, follow=True)
            with lock:
                results.append((resp.status_code, resp.content.decode()))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [code for code, _ in results] == [200] * 6
    assert Plan.objects.count() == 1 and not PlanDraft.objects.exists()
    saved = sum("已保存「测试要点」" in html for _, html in results)
    gone = sum("该导入草稿已被确认或取消" in html for _, html in results)
    assert (saved, gone) == (1, 5)
    plan = Plan.objects.get()
    assert plan.source_file.read() == plan_bytes


def test_confirm_after_the_draft_is_gone_is_a_message(world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    stale = PlanDraft.objects.get(pk=draft.pk)
    services.plan_draft_confirm(
        user=world.users["admin_a"], draft=draft, fields=PlanFields(title="一"), unit_choices={}
    )
    with pytest.raises(services.DraftGone):
        services.plan_draft_confirm(
            user=world.users["admin_a"], draft=stale, fields=PlanFields(title="二"), unit_choices={}
        )
    with pytest.raises(services.DraftGone):
        services.plan_draft_cancel(user=world.users["admin_a"], draft=stale)
    assert list(Plan.objects.values_list("title", flat=True)) == ["一"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "bogus"}, "类型「bogus」无效"),
        ({"period_start": "999999"}, "起始年应为 1949 到 2100 之间的年份"),
        ({"period_end": "１２"}, "截止年应为 1949 到 2100 之间的年份"),
        ({"period_start": "abc"}, "起始年应为 1949 到 2100 之间的年份"),
        ({"period_start": "2030", "period_end": "2025"}, "起始年不能晚于截止年"),
        ({"issued_on": "2026-13-45"}, "发文日期格式应为 YYYY-MM-DD"),
        ({"issued_on": "1800-01-01"}, "发文日期应在 1949 到 2100 年之间"),
        ({"title": ""}, "请填写规划标题"),
        ({"title": "长" * 301}, "标题最多 300 个字"),
        ({"u0-org": "drop table"}, "的对应组织无效"),
        ({"u0-org": "new", "u0-kind": "galaxy"}, "的新建组织类型无效"),
        ({"t0-title": "长" * 501}, "第1项任务的标题过长"),
    ],
)
def test_every_preview_field_is_validated(
    client, world, plan_bytes, settings, tmp_path, overrides, message
):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    client.force_login(world.users["admin_a"])
    resp = client.post(reverse("plans:draft", args=[draft.pk]), _post(draft, **overrides))
    assert resp.status_code == 200
    assert message in resp.content.decode()
    assert not Plan.objects.exists() and PlanDraft.objects.filter(pk=draft.pk).exists()


def test_the_service_refuses_impossible_fields_too(world, plan_bytes, settings, tmp_path):
    from django.core.exceptions import ValidationError

    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    for fields in (
        PlanFields(title="t", kind="bogus"),
        PlanFields(title="t", period_start=999999),
        PlanFields(title="t", period_start=2030, period_end=2020),
    ):
        with pytest.raises(ValidationError):
            services.plan_draft_confirm(
                user=world.users["admin_a"], draft=draft, fields=fields, unit_choices={}
            )
    assert not Plan.objects.exists()


def test_a_valid_preview_saves(client, world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    client.force_login(world.users["admin_a"])
    resp = client.post(reverse("plans:draft", args=[draft.pk]), _post(draft))
    assert resp.status_code == 302
    plan = Plan.objects.get()
    assert (plan.kind, plan.period_start, plan.period_end) == ("annual", 2026, 2027)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"kind": "bogus"}, "选择一个有效的选项"),
        ({"owner": "abc"}, "选择一个有效的选项"),
    ],
)
def test_upload_form_fields_are_validated(client, world, settings, tmp_path, overrides, message):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["admin_a"])
    data = {"owner": world.orgs["office_a"].pk, "kind": "annual", "text": "一、任务\n1.讲座。"}
    data.update(overrides)
    resp = client.post(reverse("plans:upload"), data)
    assert resp.status_code == 200 and message in resp.content.decode()
    assert not PlanDraft.objects.exists()
