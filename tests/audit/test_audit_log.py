"""The audit log page: Chinese display, filters, scope and bounded queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kepu.audit.context import acting_as
from kepu.audit.models import AuditEntry
from kepu.audit.selectors import entry_rows
from kepu.audit.services import audit_rows
from kepu.orgs import services as orgs
from kepu.orgs.models import Organisation, OrgKind
from kepu.plans.models import TaskUnit, UnitRole
from kepu.plans.services import PlanFields, plan_create_from_parsed
from tests.plans.conftest import PARSED


def _rows(resp) -> list:
    return resp.context["rows"]


def _object_reprs(resp) -> set[str]:
    return {r.entry.object_repr for r in _rows(resp)}


@pytest.fixture
def named_admin(world):
    admin = world.users["admin_a"]
    admin.first_name = "王五"
    admin.save()
    return admin


def test_log_shows_labels_display_values_names_and_full_name(client, world, named_admin):
    org = world.orgs["unit_a2"]
    with acting_as(named_admin):
        orgs.organisation_update(
            user=named_admin,
            organisation=org,
            parent=world.orgs["office_a"],
            kind=OrgKind.SOCIETY,
            version=org.version,
        )
    client.force_login(named_admin)
    resp = client.get("/audit/", {"model": "orgs.organisation", "action": "update"})
    assert resp.status_code == 200
    row = next(r for r in _rows(resp) if r.entry.object_repr == org.name)
    assert row.actor == "王五"
    assert row.action == "修改"
    assert row.object_type == "组织"
    changes = {c.label: (c.before, c.after) for c in row.changes}
    assert changes["上级单位"] == ("∅", "曲靖市科学技术协会")
    assert changes["类型"] == ("政府部门(成员单位)", "学会/协会")
    html = resp.content.decode()
    assert "曲靖市科学技术协会" in html and "学会/协会" in html and "王五" in html
    assert "parent" not in html.split("<tbody>")[1]


def test_created_rows_show_region_role_and_related_names(client, world, named_admin, settings):
    settings.MEDIA_ROOT = "/tmp/kepu-audit-test-media"
    plan_create_from_parsed(
        user=named_admin,
        owner=world.orgs["office_a"],
        parsed=PARSED,
        fields=PlanFields(title="要点"),
    )
    client.force_login(named_admin)
    resp = client.get("/audit/", {"model": "plans.taskunit"})
    unit = TaskUnit.objects.filter(role=UnitRole.LEAD).select_related("task").first()
    row = next(r for r in _rows(resp) if r.entry.object_id == str(unit.pk))
    changes = {c.label: c.after for c in row.changes}
    assert changes["角色"] == "牵头"
    assert changes["任务"] == unit.task.title
    assert changes["对应组织"] == unit.organisation.name
    assert row.object_type == "任务单位"


def test_unknown_and_signin_actions_render(client, world):
    ct = ContentType.objects.get_for_model(Organisation)
    for action in ("login", "something"):  # the column holds 10 characters today
        AuditEntry.objects.create(
            action=action,
            content_type=ct,
            object_id="1",
            object_repr=f"条目-{action}",
            region_path=world.regions["city_a"].path,
            actor_name="陌生人",
        )
    client.force_login(world.users["admin_a"])
    resp = client.get("/audit/")
    assert resp.status_code == 200
    shown = {r.entry.object_repr: r.action for r in _rows(resp)}
    assert shown["条目-login"] == "登录"
    assert shown["条目-something"] == "something"
    assert {r.actor for r in _rows(resp) if r.entry.actor_id is None} >= {"陌生人"}
    # a failed sign-in, as the sign-in receiver may write it (not stored here: the
    # choice and its column width belong to that change)
    failed = AuditEntry(action="login_failed", content_type=ct, object_id="", actor_name="x")
    assert entry_rows([failed])[0].action == "登录失败"


# --- filters ------------------------------------------------------------------------------
@pytest.fixture
def entries(world, named_admin):
    """Entries in both cities by different people on different days."""
    with acting_as(named_admin):
        a = orgs.organisation_create(
            user=named_admin,
            name="曲靖市档案馆",
            kind=OrgKind.OTHER,
            region=world.regions["city_a"],
        )
    admin_b = world.users["admin_b"]
    with acting_as(admin_b):
        b = orgs.organisation_create(
            user=admin_b, name="昆明市档案馆", kind=OrgKind.OTHER, region=world.regions["city_b"]
        )
    old = timezone.now() - dt.timedelta(days=40)
    AuditEntry.objects.filter(object_repr="曲靖市教育体育局").update(at=old)
    return a, b


def test_filters_narrow_the_log(client, world, entries):
    client.force_login(world.users["admin_a"])
    everything = _object_reprs(client.get("/audit/", {"per_page": 200}))
    assert {"曲靖市档案馆", "曲靖市教育体育局"} <= everything
    assert _object_reprs(client.get("/audit/", {"user": "王五"})) == {"曲靖市档案馆"}
    assert _object_reprs(client.get("/audit/", {"user": "admin_a"})) == {"曲靖市档案馆"}
    by_org = _object_reprs(client.get("/audit/", {"organisation": "教育体育"}))
    # the unit, its alias and its member's membership; nothing of other organisations
    assert by_org == {"曲靖市教育体育局", "市教育局", "staff_a1 @ 曲靖市教育体育局 (单位填报员)"}
    by_model = client.get("/audit/", {"model": "orgs.organisationalias"})
    assert {r.object_type for r in _rows(by_model)} == {"组织别名"}
    assert {r.action for r in _rows(client.get("/audit/", {"action": "create"}))} == {"新建"}
    today = timezone.localdate()
    recent = _object_reprs(client.get("/audit/", {"date_from": today.isoformat()}))
    assert "曲靖市档案馆" in recent and "曲靖市教育体育局" not in recent
    past = (today - dt.timedelta(days=30)).isoformat()
    older = _object_reprs(client.get("/audit/", {"date_to": past}))
    assert older == {"曲靖市教育体育局"}


def test_bad_filter_values_are_reported_not_500(client, world, entries):
    client.force_login(world.users["admin_a"])
    resp = client.get(
        "/audit/", {"date_from": "2026-13-40", "model": "auth.nothing", "action": "x" * 20}
    )
    assert resp.status_code == 200
    assert resp.context["form"].errors.keys() == {"date_from", "model", "action"}
    resp = client.get("/audit/", {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert "截止日期不能早于起始日期" in resp.content.decode()


# --- scope --------------------------------------------------------------------------------
def test_filters_cannot_reveal_entries_out_of_scope(client, world, entries):
    client.force_login(world.users["admin_b"])
    mine = _object_reprs(client.get("/audit/", {"per_page": 200}))
    assert "昆明市档案馆" in mine and "曲靖市档案馆" not in mine
    for params in (
        {"organisation": "曲靖"},  # an organisation outside the scope: nothing
        {"user": "王五"},  # a person acting outside the scope: nothing
        {"organisation": "曲靖", "model": "orgs.organisation", "action": "create"},
    ):
        assert _object_reprs(client.get("/audit/", params)) == set(), params
    assert _object_reprs(client.get("/audit/", {"organisation": "昆明市档案馆"})) == {
        "昆明市档案馆"
    }


def test_county_admin_sees_only_the_county(client, world, entries):
    client.force_login(world.users["county_admin_a"])
    rows = _rows(client.get("/audit/", {"per_page": 200}))
    assert rows and all(
        r.entry.region_path.startswith(world.regions["county_a"].path) for r in rows
    )
    assert _object_reprs(client.get("/audit/", {"organisation": "曲靖市"})) == set()


@pytest.mark.parametrize("who", ["staff_a1", "viewer_a", "nobody"])
def test_non_admins_see_no_entries_whatever_the_filter(client, world, entries, who):
    client.force_login(world.users[who])
    for params in ({}, {"organisation": "曲靖"}, {"user": "王五"}):
        resp = client.get("/audit/", params)
        assert resp.status_code == 200 and _rows(resp) == []


def test_anonymous_is_sent_to_sign_in(client, world):
    resp = client.get("/audit/")
    assert resp.status_code == 302 and "next=/audit/" in resp["Location"]


# --- bounded ------------------------------------------------------------------------------
def _seed(world, n: int, start: int = 0) -> None:
    orgs_ = Organisation.objects.bulk_create(
        Organisation(
            name=f"单位{start + i:03d}",
            kind=OrgKind.DEPARTMENT,
            region=world.regions["city_a"],
            parent=world.orgs["office_a"],
        )
        for i in range(n)
    )
    audit_rows(action="create", rows=orgs_, actor=world.users["admin_a"])


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get("/audit/", {"model": "orgs.organisation"})
    assert resp.status_code == 200
    return len(ctx.captured_queries), len(_rows(resp))


def test_query_count_does_not_grow_with_entries(client, world):
    client.force_login(world.users["admin_a"])
    _seed(world, 3)
    few, shown_few = _queries(client)
    _seed(world, 27, start=3)
    many, shown_many = _queries(client)
    assert shown_many > shown_few >= 3
    assert few == many


def test_log_is_paginated(client, world):
    _seed(world, 60)
    client.force_login(world.users["admin_a"])
    resp = client.get("/audit/", {"model": "orgs.organisation"})
    assert len(_rows(resp)) == 50
    html = resp.content.decode()
    assert "下一页" in html and "model=orgs.organisation" in html
    total = (
        AuditEntry.objects.restrict(world.users["admin_a"], "view")
        .filter(content_type__model="organisation")
        .count()
    )
    assert total > 60
    second = client.get("/audit/", {"model": "orgs.organisation", "page": 2})
    assert len(_rows(second)) == total - 50
    assert {r.entry.pk for r in _rows(second)}.isdisjoint(r.entry.pk for r in _rows(resp))


def test_import_summary_is_shown_with_labels(client, world):
    from kepu.survey import services as survey
    from tests.survey.test_survey_services import csv_bytes, make_wave, sample_rows

    admin = world.users["admin_a"]
    wave = make_wave(world)
    survey.respondents_import(
        user=admin, wave=wave, name="样本.csv", data=csv_bytes(sample_rows(40))
    )
    client.force_login(admin)
    rows = _rows(client.get("/audit/", {"model": "survey.wave", "action": "update"}))
    summary = next(r for r in rows if "respondents" in r.entry.changes)
    assert [(c.label, c.after) for c in summary.changes] == [
        ("导入文件", "样本.csv"),  # not model fields: after them, by key
        ("受访者(行数)", "40"),
    ]
    assert summary.object_type == "监测调查"
