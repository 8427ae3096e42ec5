"""Optimistic locking: two people edit the same record; the second save is refused.

Each page test opens the edit page in two signed-in clients, submits different changes
from both, and checks that the second is refused with the other person's values shown,
that the first person's changes are intact and that the second person's input is still
in the form (and saves once resubmitted from the refreshed version).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

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


class _FormFields(HTMLParser):
    """The fields a browser would post back unchanged (inputs, textareas, selects)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[name] = a.get("value") or "on"
            elif a.get("type") != "submit":
                self.data[name] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += (
                data.removeprefix("\n") if not self.data[self._textarea] else data
            )


def _form_data(response) -> dict[str, str]:
    html = response.content.decode()
    form = next(f for f in html.split("<form")[1:] if 'name="version"' in f.split("</form>")[0])
    parser = _FormFields()
    parser.feed("<form" + form.split("</form>")[0])
    return parser.data


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
    # what the first person changed: the lead and cooperating units as seen and as saved
    assert _stale_table(html) == [
        ("牵头单位", "市教体局", "市教体局、市科协"),
        ("配合单位", "市卫健委", "(空)"),
    ]
    assert "<th>您看到的</th><th>对方保存的</th>" in html
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
    assert _stale_table(resp.content.decode()) == [("任务", "开展中小学科学教育", "甲改的标题")]
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
    assert _stale_table(resp.content.decode()) == [
        ("简称", "市教体局", "教体局"),
        ("别名", "市教育局", "市教育局、教育局"),
    ]
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
    assert _stale_table(resp.content.decode()) == [
        ("最少样本量", "30", "50"),
        ("说明", "(空)", "甲的说明"),
    ]
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


def test_a_post_without_seen_values_shows_submitted_beside_saved(world, task):
    """A client that does not send the hidden values it was shown (an old page, a
    script) still gets the refusal, with its submitted values beside the saved ones."""
    first, second = _clients(world)
    url = f"/plans/tasks/{task.pk}/edit/"
    a, b = _form_data(first.get(url)), _form_data(second.get(url))
    assert first.post(url, {**a, "title": "甲改的标题"}).status_code == 302
    bare = {k: v for k, v in b.items() if not k.startswith("initial-")}
    resp = second.post(url, {**bare, "title": "乙改的标题"})
    html = resp.content.decode()
    assert "<th>您提交的</th><th>对方保存的</th>" in html
    assert _stale_table(html) == [("任务", "乙改的标题", "甲改的标题")]
    assert Task.objects.get(pk=task.pk).title == "甲改的标题"


def test_a_second_refusal_compares_with_the_refreshed_values(world, task):
    """After a refusal the form has seen what is saved now: a third person's save is
    reported against that, not against the first page."""
    first, second = _clients(world)
    url = f"/plans/tasks/{task.pk}/edit/"
    a, b = _form_data(first.get(url)), _form_data(second.get(url))
    assert first.post(url, {**a, "title": "甲改的标题"}).status_code == 302
    refused = second.post(url, {**b, "responsible": "市科协"})
    again = _form_data(refused)
    assert again["initial-title"] == "甲改的标题" and again["version"] == "2"
    assert again["responsible"] == "市科协"
    a2 = _form_data(first.get(url))
    assert first.post(url, {**a2, "title": "甲又改的标题"}).status_code == 302
    resp = second.post(url, again)
    assert _stale_table(resp.content.decode()) == [("任务", "甲改的标题", "甲又改的标题")]


def test_a_forged_seen_value_reveals_no_name_out_of_sight(world):
    """The seen values come from the client: an id posted there is named only when the
    field's own scoped choices contain it."""
    org = world.orgs["unit_a1"]
    first, second = _clients(world)
    url = f"/orgs/{org.pk}/edit/"
    a, b = _form_data(first.get(url)), _form_data(second.get(url))
    assert first.post(url, {**a, "short_name": "教体局"}).status_code == 302
    forged = {**b, "initial-parent": str(world.orgs["office_b"].pk)}  # another city's office
    html = second.post(url, forged).content.decode()
    table = _stale_table(html)
    assert ("上级单位", f"#{world.orgs['office_b'].pk}", "(空)") in table
    assert "昆明市科学技术协会" not in html
