"""Optimistic locking: two people edit the same record; the second save is refused.

Each page test opens the edit page in two signed-in clients, submits different changes
from both, and checks that the second is refused with the other person's values shown,
that the first person's changes are intact and that the second person's input is still
in the form (and saves once resubmitted from the refreshed version).
"""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction
from django.test import Client

from kepu.core.versioning import StaleEditError, version_check
from kepu.orgs.models import Membership, Organisation
from kepu.orgs.scoping import Role
from kepu.plans.models import Task, UnitRole
from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.survey.models import Wave
from tests.plans.conftest import PARSED
from tests.survey.test_survey_services import make_wave


def _second_admin(world):
    user = get_user_model().objects.create_user(username="admin_a_2", first_name="李四")
    Membership.objects.create(
        user=user, organisation=world.orgs["office_a"], role=Role.OFFICE_ADMIN
    )
    return user


def _clients(world) -> tuple[Client, Client]:
    first, second = Client(), Client()
    first.force_login(world.users["admin_a"])
    second.force_login(_second_admin(world))
    return first, second


def _form_data(response) -> dict[str, str]:
    """What a browser would post back unchanged: every field's rendered value."""
    form = response.context["form"]
    data = {}
    for name, field in form.fields.items():
        value = field.prepare_value(form[name].value())
        if value is None or value is False:
            continue
        data[name] = "on" if value is True else str(value)
    return data


def _stale_table(html: str) -> list[tuple[str, str, str]]:
    block = html.split('aria-label="保存冲突"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td><td>(.*?)</td>', block)


# --- the primitive ------------------------------------------------------------------------
def test_version_check_bumps_and_refuses_a_stale_version(world):
    org = world.orgs["unit_a1"]
    with transaction.atomic():
        version_check(org, expected=1)
        assert org.version == 2
        org.save()
    mine = Organisation.objects.get(pk=org.pk)
    mine.short_name = "我的简称"
    with pytest.raises(StaleEditError) as exc, transaction.atomic():
        version_check(mine, expected=1, fields=["name", "short_name"])
    assert exc.value.differences == [("简称", "我的简称", "市教体局")]
    assert exc.value.current.version == 2
    assert "其他人已修改" in exc.value.messages[0]
    with transaction.atomic():  # no expected version: not compared, still bumped
        version_check(mine, expected=None)
    assert mine.version == 3


@pytest.mark.django_db(transaction=True)
def test_version_check_needs_a_transaction():
    with pytest.raises(RuntimeError):
        version_check(Organisation(pk=1, name="x"), expected=1)


def test_version_check_refuses_a_deleted_row(world):
    gone = Organisation(pk=10**9, name="x", kind="other", region=world.regions["city_a"])
    with pytest.raises(Exception, match="已被删除"), transaction.atomic():
        version_check(gone, expected=1)


# --- task edit ----------------------------------------------------------------------------
@pytest.fixture
def task(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    plan = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed=PARSED,
        fields=PlanFields(title="曲靖要点"),
    )
    return plan.tasks.get(number="1")


def _units(task: Task) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {r: [] for r in UnitRole.values}
    for u in task.units.order_by("order"):
        out[u.role].append(u.name)
    return out


def test_second_task_edit_is_refused_and_first_changes_stay(world, task):
    first, second = _clients(world)
    url = f"/plans/tasks/{task.pk}/edit/"
    seen_first, seen_second = _form_data(first.get(url)), _form_data(second.get(url))
    assert seen_first["version"] == seen_second["version"] == "1"
    assert seen_first["lead"] == "市教体局" and seen_first["cooperate"] == "市卫健委"

    resp = first.post(url, {**seen_first, "lead": "市教体局、市科协", "cooperate": ""})
    assert resp.status_code == 302
    resp = second.post(url, {**seen_second, "cooperate": "市卫健委、市教育局"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "保存失败" in html and "其他人已修改" in html
    assert ("牵头单位", "市教体局", "市教体局、市科协") in _stale_table(html)
    assert ("配合单位", "市卫健委、市教育局", "(空)") in _stale_table(html)
    # nothing lost: the first person's units are saved, the second's input is in the form
    task.refresh_from_db()
    assert _units(task)["lead"] == ["市教体局", "市科协"] and _units(task)["cooperate"] == []
    assert task.version == 2
    assert resp.context["form"]["cooperate"].value() == "市卫健委、市教育局"
    assert 'name="version" value="2"' in html

    # resubmitting from the refreshed form is a deliberate save and goes through
    resp = second.post(url, _form_data(resp))
    assert resp.status_code == 302
    task.refresh_from_db()
    assert _units(task)["cooperate"] == ["市卫健委", "市教育局"] and task.version == 3


def test_task_title_conflict_is_shown(world, task):
    first, second = _clients(world)
    url = f"/plans/tasks/{task.pk}/edit/"
    a, b = _form_data(first.get(url)), _form_data(second.get(url))
    assert first.post(url, {**a, "title": "甲改的标题"}).status_code == 302
    resp = second.post(url, {**b, "title": "乙改的标题"})
    assert ("任务", "乙改的标题", "甲改的标题") in _stale_table(resp.content.decode())
    assert Task.objects.get(pk=task.pk).title == "甲改的标题"


# --- organisation edit --------------------------------------------------------------------
def test_second_organisation_edit_is_refused(world):
    org = world.orgs["unit_a1"]
    first, second = _clients(world)
    url = f"/orgs/{org.pk}/edit/"
    a, b = _form_data(first.get(url)), _form_data(second.get(url))
    assert a["version"] == "1"
    assert (
        first.post(url, {**a, "short_name": "教体局", "aliases": "市教育局、教育局"}).status_code
        == 302
    )
    resp = second.post(url, {**b, "name": "曲靖市教育局"})
    assert resp.status_code == 200
    table = _stale_table(resp.content.decode())
    assert ("简称", "市教体局", "教体局") in table
    assert ("名称", "曲靖市教育局", "曲靖市教育体育局") in table
    assert ("别名", "市教育局", "市教育局、教育局") in table
    org.refresh_from_db()
    assert (org.name, org.short_name, org.version) == ("曲靖市教育体育局", "教体局", 2)
    assert resp.context["form"]["name"].value() == "曲靖市教育局"


# --- survey wave edit ---------------------------------------------------------------------
def test_second_wave_edit_is_refused(world):
    wave = make_wave(world)
    first, second = _clients(world)
    url = f"/survey/{wave.pk}/edit/"
    a, b = _form_data(first.get(url)), _form_data(second.get(url))
    assert a["version"] == "1"
    assert first.post(url, {**a, "notes": "甲的说明", "min_n": "50"}).status_code == 302
    resp = second.post(url, {**b, "title": "乙改的名称"})
    assert resp.status_code == 200
    table = _stale_table(resp.content.decode())
    assert ("说明", "(空)", "甲的说明") in table
    assert ("最少样本量", "30", "50") in table
    assert ("名称", "乙改的名称", wave.title) in table
    assert not any(label in ("问卷", "计分规则") for label, *_ in table)
    saved = Wave.objects.get(pk=wave.pk)
    assert (saved.title, saved.notes, saved.min_n, saved.version) == (wave.title, "甲的说明", 50, 2)
    assert resp.context["form"]["title"].value() == "乙改的名称"


def test_stale_values_are_escaped(world):
    org = world.orgs["unit_a1"]
    first, second = _clients(world)
    url = f"/orgs/{org.pk}/edit/"
    a, b = _form_data(first.get(url)), _form_data(second.get(url))
    assert first.post(url, {**a, "short_name": "<img src=x onerror=alert(1)>"}).status_code == 302
    html = second.post(url, {**b, "name": "新名称"}).content.decode()
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
