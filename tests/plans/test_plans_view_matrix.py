"""Scoping matrix for every plans view (see tests/test_view_matrix.py for the users)."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kepu.plans.models import Plan, PlanDraft, Task

USERS = ["super", "admin_a", "admin_b", "viewer_a", "staff_a1", "staff_a2", "nobody", "anon"]
DENIED = {403, 404}

# Who may read plan A (its office's region, or a unit it names) and who may change it.
READ_A = {"super", "admin_a", "viewer_a", "staff_a1", "staff_a2"}
WRITE_A = {"super", "admin_a"}
IMPORTERS = {"super", "admin_a", "admin_b"}


def as_user(client, world, who):
    if who != "anon":
        client.force_login(world.users[who])
    return client


def is_login_redirect(resp):
    return resp.status_code == 302 and resp["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["plans:ledger", "plans:list", "plans:my_tasks"])
def test_list_pages(client, world, city_plans, who, name):
    resp = as_user(client, world, who).get(reverse(name))
    if who == "anon":
        assert is_login_redirect(resp)
        return
    assert resp.status_code == 200
    html = resp.content.decode()
    if name == "plans:my_tasks":
        # my tasks: only tasks naming the user's own organisation
        expected = {
            "staff_a1": {"开展中小学科学教育", "举办青少年科技节"},
            "staff_a2": {"开展中小学科学教育"},
            "admin_a": {"开展银龄健康讲座"},  # the office itself leads task 3
            "viewer_a": {"开展银龄健康讲座"},
        }.get(who, set())
        for title in ("开展中小学科学教育", "举办青少年科技节", "开展银龄健康讲座", "昆明的任务"):
            assert (title in html) == (title in expected), (who, title)
        return
    marker_a = "曲靖要点" if name == "plans:list" else "开展中小学科学教育"
    marker_b = "昆明要点" if name == "plans:list" else "昆明的任务"
    assert (marker_a in html) == (who in READ_A), who
    assert (marker_b in html) == (who in {"super", "admin_b"}), who


def test_ledger_for_a_unit_shows_only_tasks_naming_it(client, world, city_plans):
    html = as_user(client, world, "staff_a2").get(reverse("plans:ledger")).content.decode()
    assert "开展中小学科学教育" in html
    assert "举办青少年科技节" not in html and "开展银龄健康讲座" not in html


@pytest.mark.parametrize("who", USERS)
def test_ledger_export_is_scoped(client, world, city_plans, who):
    resp = as_user(client, world, who).get(reverse("plans:ledger_export"))
    if who == "anon":
        assert is_login_redirect(resp)
        return
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))  # one sheet per plan
    contents = {ws.cell(r, 3).value for ws in wb.worksheets for r in range(4, ws.max_row + 1)}
    assert ("开展中小学科学教育。培训科学教师300人以上。" in contents) == (who in READ_A)
    assert ("昆明的任务。" in contents) == (who in {"super", "admin_b"})


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["plans:detail", "plans:source"])
def test_plan_detail_and_source(client, world, city_plans, who, name):
    plan_a, _ = city_plans
    resp = as_user(client, world, who).get(reverse(name, args=[plan_a.pk]))
    # the original file: the owner office and offices above it, not every unit named
    allowed = READ_A if name == "plans:detail" else READ_A - {"staff_a1", "staff_a2"}
    if who == "anon":
        assert is_login_redirect(resp)
    elif who in allowed:
        assert resp.status_code == 200
    elif who in READ_A:
        assert resp.status_code == 403
    else:
        assert resp.status_code == 404


@pytest.mark.parametrize("who", USERS)
def test_plan_delete(client, world, city_plans, who):
    plan_a, _ = city_plans
    resp = as_user(client, world, who).post(reverse("plans:delete", args=[plan_a.pk]))
    exists = Plan.objects.filter(pk=plan_a.pk).exists()
    if who == "anon":
        assert is_login_redirect(resp) and exists
    elif who in WRITE_A:
        assert resp.status_code == 302 and not exists
    else:
        assert resp.status_code in DENIED and exists


@pytest.mark.parametrize("who", USERS)
def test_task_detail(client, world, city_plans, who):
    plan_a, _ = city_plans
    task2 = plan_a.tasks.get(order=2)  # names only the education bureau
    resp = as_user(client, world, who).get(reverse("plans:task", args=[task2.pk]))
    if who == "anon":
        assert is_login_redirect(resp)
    elif who in {"super", "admin_a", "viewer_a", "staff_a1"}:
        assert resp.status_code == 200 and "举办青少年科技节" in resp.content.decode()
    else:
        assert resp.status_code in DENIED


@pytest.mark.parametrize("who", USERS)
def test_task_edit(client, world, city_plans, who):
    plan_a, _ = city_plans
    task = plan_a.tasks.get(order=1)
    c = as_user(client, world, who)
    get = c.get(reverse("plans:task_edit", args=[task.pk]))
    post = c.post(
        reverse("plans:task_edit", args=[task.pk]),
        {"title": "改过的任务", "lead": "市卫健委", "cooperate": "", "responsible": ""},
    )
    task.refresh_from_db()
    if who == "anon":
        assert is_login_redirect(get) and is_login_redirect(post)
        assert task.title == "开展中小学科学教育"
    elif who in WRITE_A:
        assert get.status_code == 200 and post.status_code == 302
        assert task.title == "改过的任务"
        assert [u.name for u in task.lead_units] == ["市卫健委"]
    else:
        assert get.status_code in DENIED and post.status_code in DENIED
        assert task.title == "开展中小学科学教育"


PLAN_TEXT = "测试要点\n一、工作\n1.开展讲座。每年不少于12场。(市教体局牵头,市卫健委配合)\n"


@pytest.mark.parametrize("who", USERS)
def test_document_upload(client, world, settings, tmp_path, who):
    settings.MEDIA_ROOT = tmp_path
    c = as_user(client, world, who)
    get = c.get(reverse("plans:upload"))
    owner = world.orgs["office_b" if who == "admin_b" else "office_a"].pk
    post = c.post(reverse("plans:upload"), {"owner": owner, "kind": "annual", "text": PLAN_TEXT})
    if who == "anon":
        assert is_login_redirect(get) and is_login_redirect(post)
        assert not PlanDraft.objects.exists()
    elif who in IMPORTERS:
        assert get.status_code == 200 and post.status_code == 302
        assert PlanDraft.objects.count() == 1
    else:
        assert get.status_code == 403 and post.status_code == 403
        assert not PlanDraft.objects.exists()


def test_cannot_upload_on_behalf_of_another_office(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = as_user(client, world, "admin_a")
    resp = c.post(
        reverse("plans:upload"),
        {"owner": world.orgs["office_b"].pk, "kind": "annual", "text": PLAN_TEXT},
    )
    assert resp.status_code == 200  # the form refuses the choice
    assert not PlanDraft.objects.exists()


@pytest.fixture
def draft(world, settings, tmp_path):
    from kepu.plans.services import plan_draft_create

    settings.MEDIA_ROOT = tmp_path
    return plan_draft_create(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="plan.txt",
        data=PLAN_TEXT.encode(),
    )


@pytest.mark.parametrize("who", USERS)
def test_draft_preview_and_confirm(client, world, draft, who):
    c = as_user(client, world, who)
    get = c.get(reverse("plans:draft", args=[draft.pk]))
    post = c.post(
        reverse("plans:draft", args=[draft.pk]),
        {"title": "确认的要点", "kind": "annual", "t0-include": "on"},
    )
    created = Plan.objects.filter(title="确认的要点").exists()
    if who == "anon":
        assert is_login_redirect(get) and is_login_redirect(post) and not created
    elif who in {"super", "admin_a"}:
        assert get.status_code == 200 and "市教体局" in get.content.decode()
        assert post.status_code == 302 and created
        assert not PlanDraft.objects.exists()
    else:
        assert get.status_code in DENIED and post.status_code in DENIED
        assert not created and PlanDraft.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize("who", USERS)
def test_draft_cancel(client, world, draft, who):
    resp = as_user(client, world, who).post(reverse("plans:draft_cancel", args=[draft.pk]))
    exists = PlanDraft.objects.filter(pk=draft.pk).exists()
    if who == "anon":
        assert is_login_redirect(resp) and exists
    elif who in {"super", "admin_a"}:
        assert resp.status_code == 302 and not exists
        assert not Plan.objects.exists() and not Task.objects.exists()
    else:
        assert resp.status_code in DENIED and exists


@pytest.mark.parametrize("who", USERS)
def test_ledger_import_page(client, world, who):
    resp = as_user(client, world, who).get(reverse("plans:ledger_import"))
    if who == "anon":
        assert is_login_redirect(resp)
    elif who in IMPORTERS:
        assert resp.status_code == 200
    else:
        assert resp.status_code == 403


def test_ledger_import_offers_unknown_units_in_the_preview(client, world, settings, tmp_path):
    from openpyxl import Workbook

    settings.MEDIA_ROOT = tmp_path
    wb = Workbook()
    wb.active.append(["序号", "任务内容", "牵头单位", "配合单位"])
    wb.active.append([1, "开展讲座。", "市不存在局", ""])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "台账.xlsx"
    c = as_user(client, world, "admin_a")
    resp = c.post(
        reverse("plans:ledger_import"),
        {
            "owner": world.orgs["office_a"].pk,
            "title": "台账",
            "kind": "annual",
            "workbook": buf,
        },
    )
    # An organisation not yet known is no failure: the preview offers to map or create it.
    assert resp.status_code == 302 and "/plans/drafts/" in resp["Location"]
    html = c.get(resp["Location"]).content.decode()
    assert "市不存在局" in html and "开展讲座" in html
    assert not Plan.objects.exists()


def test_ledger_filters(client, world, city_plans):
    plan_a, _ = city_plans
    c = as_user(client, world, "admin_a")
    url = reverse("plans:ledger")
    unit = world.orgs["unit_a2"].pk
    html = c.get(url, {"organisation": unit, "role": "cooperate"}).content.decode()
    assert "开展中小学科学教育" in html and "举办青少年科技节" not in html
    html = c.get(url, {"organisation": unit, "role": "lead"}).content.decode()
    assert "开展中小学科学教育" not in html
    html = c.get(url, {"has_target": "on"}).content.decode()
    assert "开展中小学科学教育" in html and "举办青少年科技节" not in html
    html = c.get(url, {"key_group": "elderly"}).content.decode()
    assert "开展银龄健康讲座" in html and "开展中小学科学教育" not in html
    section = plan_a.sections.get(title="二、老年人科学素质提升")
    html = c.get(url, {"plan": plan_a.pk, "section": section.pk}).content.decode()
    assert "开展银龄健康讲座" in html and "开展中小学科学教育" not in html
