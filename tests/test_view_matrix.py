"""Scoping matrix: every view × users of two sibling regions, two organisations,
a viewer, a user with no membership, a superuser and anonymous.

Allowed cells succeed; denied cells get 403/404 (or the login redirect for
anonymous users) and change nothing.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from kepu.audit.models import AuditEntry
from kepu.orgs.models import Membership, Organisation

USERS = ["super", "admin_a", "admin_b", "viewer_a", "staff_a1", "staff_a2", "nobody", "anon"]
DENIED = {403, 404}


def _client(client, world, who):
    if who != "anon":
        client.force_login(world.users[who])
    return client


def _assert_login_redirect(resp):
    assert resp.status_code == 302
    assert resp["Location"].startswith(reverse("login"))


# --- pages every signed-in user may open (exact statuses through the matrix helper) -------
@pytest.mark.parametrize("name", ["home", "my_permissions", "orgs:list", "audit"])
def test_signed_in_pages(client, world, name):
    from tests.matrix import MATRIX, MatrixData, check_row

    assert check_row(client, world, MatrixData(world), name, MATRIX[name]) == []


def test_home_shows_the_users_organisation_and_region(client, world):
    html = _client(client, world, "admin_a").get(reverse("home")).content.decode()
    assert "曲靖市科学技术协会" in html and "曲靖市" in html and "办公室管理员" in html


def test_permissions_page_names_the_source_of_each_permission(client, world):
    html = _client(client, world, "staff_a1").get(reverse("my_permissions")).content.decode()
    assert "曲靖市教育体育局" in html and "单位填报员" in html and "本单位" in html


# --- organisation list: content is scoped ---------------------------------------------
LIST_VISIBLE = {
    "super": {"曲靖市教育体育局", "昆明市教育局"},
    "admin_a": {"曲靖市教育体育局"},
    "viewer_a": {"曲靖市教育体育局"},
    "staff_a1": {"曲靖市教育体育局"},
    "admin_b": {"昆明市教育局"},
    "staff_a2": set(),
    "nobody": set(),
}


@pytest.mark.parametrize("who", [u for u in USERS if u != "anon"])
def test_org_list_content_is_scoped(client, world, who):
    html = _client(client, world, who).get(reverse("orgs:list")).content.decode()
    for name in ("曲靖市教育体育局", "昆明市教育局"):
        assert (name in html) == (name in LIST_VISIBLE[who]), (who, name)


# --- detail / edit / delete of unit_a1 -----------------------------------------------------
CAN_VIEW = {"super", "admin_a", "viewer_a", "staff_a1"}
CAN_CHANGE = {"super", "admin_a", "staff_a1"}
CAN_DELETE = {"super", "admin_a"}
CAN_MANAGE = {"super", "admin_a"}


@pytest.mark.parametrize("who", USERS)
def test_org_detail(client, world, who):
    org = world.orgs["unit_a1"]
    resp = _client(client, world, who).get(reverse("orgs:detail", args=[org.pk]))
    if who == "anon":
        _assert_login_redirect(resp)
    elif who in CAN_VIEW:
        assert resp.status_code == 200 and org.name in resp.content.decode()
    else:
        assert resp.status_code in DENIED


@pytest.mark.parametrize("who", USERS)
def test_org_edit(client, world, who):
    org = world.orgs["unit_a1"]
    c = _client(client, world, who)
    url = reverse("orgs:edit", args=[org.pk])
    get = c.get(url)
    post = c.post(
        url,
        {
            "name": "改名后的教体局",
            "kind": "department",
            "region": "530300",
            "short_name": "市教体局",
            "aliases": "市教育局",
        },
    )
    org.refresh_from_db()
    if who == "anon":
        _assert_login_redirect(get)
        _assert_login_redirect(post)
        assert org.name == "曲靖市教育体育局"
    elif who in CAN_CHANGE:
        assert get.status_code == 200
        assert post.status_code == 302
        assert org.name == "改名后的教体局"
    else:
        assert get.status_code in DENIED and post.status_code in DENIED
        assert org.name == "曲靖市教育体育局"


@pytest.mark.parametrize("who", USERS)
def test_org_delete(client, world, who):
    org = world.orgs["unit_a2"]
    resp = _client(client, world, who).post(reverse("orgs:delete", args=[org.pk]))
    exists = Organisation.objects.filter(pk=org.pk).exists()
    if who == "anon":
        _assert_login_redirect(resp)
        assert exists
    elif who in CAN_DELETE:
        assert resp.status_code == 302 and not exists
    else:
        assert resp.status_code in DENIED and exists


def test_org_delete_requires_post(client, world):
    resp = _client(client, world, "admin_a").get(
        reverse("orgs:delete", args=[world.orgs["unit_a2"].pk])
    )
    assert resp.status_code == 405
    assert Organisation.objects.filter(pk=world.orgs["unit_a2"].pk).exists()


# --- create: allowed only inside the user's scope -------------------------------------
@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("region", ["530300", "530100"])
def test_org_create(client, world, who, region):
    c = _client(client, world, who)
    resp = c.post(
        reverse("orgs:create"), {"name": "新建测试单位", "kind": "department", "region": region}
    )
    created = Organisation.objects.filter(name="新建测试单位").exists()
    allowed = (
        who == "super"
        or (who == "admin_a" and region == "530300")
        or (who == "admin_b" and region == "530100")
    )
    if who == "anon":
        _assert_login_redirect(resp)
    elif allowed:
        assert resp.status_code == 302 and created
    else:
        assert resp.status_code in DENIED and not created


@pytest.mark.parametrize("who", USERS)
def test_org_edit_cannot_move_out_of_scope(client, world, who):
    org = world.orgs["unit_a1"]
    resp = _client(client, world, who).post(
        reverse("orgs:edit", args=[org.pk]),
        {"name": org.name, "kind": "department", "region": "530100"},
    )
    org.refresh_from_db()
    if who == "super":
        assert resp.status_code == 302 and org.region.code == "530100"
    elif who == "anon":
        _assert_login_redirect(resp)
        assert org.region.code == "530300"
    else:
        assert resp.status_code in DENIED and org.region.code == "530300"


# --- members -----------------------------------------------------------------------
@pytest.mark.parametrize("who", USERS)
def test_member_add(client, world, who):
    org = world.orgs["unit_a1"]
    resp = _client(client, world, who).post(
        reverse("orgs:member_add", args=[org.pk]),
        {"username": "fresh_user", "role": "viewer", "password": "Fresh-pass-123"},
    )
    added = Membership.objects.filter(user__username="fresh_user", organisation=org).exists()
    if who == "anon":
        _assert_login_redirect(resp)
        assert not added
    elif who in CAN_MANAGE:
        assert resp.status_code == 302 and added
    else:
        assert resp.status_code in DENIED and not added


@pytest.mark.parametrize("who", USERS)
def test_member_remove(client, world, who):
    m = Membership.objects.get(user=world.users["staff_a1"])
    resp = _client(client, world, who).post(reverse("orgs:member_remove", args=[m.pk]))
    exists = Membership.objects.filter(pk=m.pk).exists()
    if who == "anon":
        _assert_login_redirect(resp)
        assert exists
    elif who in CAN_MANAGE:
        assert resp.status_code == 302 and not exists
    else:
        assert resp.status_code in DENIED and exists


# --- audit log content ------------------------------------------------------------------
AUDIT_SEES = {
    "super": {"曲靖市教育体育局", "昆明市教育局"},
    "admin_a": {"曲靖市教育体育局"},
    "admin_b": {"昆明市教育局"},
    "viewer_a": set(),
    "staff_a1": set(),
    "staff_a2": set(),
    "nobody": set(),
}


@pytest.mark.parametrize("who", [u for u in USERS if u != "anon"])
def test_audit_log_is_scoped_to_office_admins(client, world, who):
    assert AuditEntry.objects.filter(object_repr="昆明市教育局").exists()
    html = _client(client, world, who).get(reverse("audit")).content.decode()
    for name in ("曲靖市教育体育局", "昆明市教育局"):
        assert (f"<td>{name}</td>" in html) == (name in AUDIT_SEES[who]), (who, name)


# --- Django admin: superusers only ------------------------------------------------------
@pytest.mark.parametrize("who", USERS)
def test_admin_site_is_for_superusers(client, world, who):
    resp = _client(client, world, who).get("/admin/orgs/organisation/")
    if who == "super":
        assert resp.status_code == 200
    else:
        assert resp.status_code == 302 and "/admin/login/" in resp["Location"]


def test_error_pages_are_chinese(client, world):
    c = _client(client, world, "admin_a")
    resp = c.get("/no-such-page/")
    assert resp.status_code == 404 and "页面不存在" in resp.content.decode()


def test_forbidden_page_is_chinese(client, world):
    resp = _client(client, world, "staff_a1").get(reverse("plans:upload"))
    assert resp.status_code == 403
    assert "无权访问" in resp.content.decode()


def test_server_error_page_is_chinese_and_standalone(rf):
    from kepu.core.views import error_500

    resp = error_500(rf.get("/"))
    assert resp.status_code == 500 and "服务器内部错误" in resp.content.decode()


# --- autocomplete sources: scoped like the lists they replace ---------------------------
AUTOCOMPLETE_SEES = {
    # source: {name: users who get it}
    "orgs": {
        "曲靖市教育体育局": {"super", "admin_a", "viewer_a", "staff_a1"},
        "昆明市教育局": {"super", "admin_b"},
    },
    "plans": {
        "曲靖的计划": {"super", "admin_a", "viewer_a", "staff_a1"},
        "昆明的计划": {"super", "admin_b"},
    },
    "regions": {
        "曲靖市": {"super", "admin_a", "viewer_a", "staff_a1", "staff_a2"},
        "麒麟区": {"super", "admin_a", "viewer_a"},
        "昆明市": {"super", "admin_b"},
    },
}


@pytest.fixture
def named_plans(world):
    from kepu.plans.services import PlanFields, plan_create_from_parsed

    for key, title, unit in (("a", "曲靖的计划", "市教体局"), ("b", "昆明的计划", "市教育局")):
        plan_create_from_parsed(
            user=world.users[f"admin_{key}"],
            owner=world.orgs[f"office_{key}"],
            parsed={
                "tasks": [
                    {
                        "path": [],
                        "title": "任务",
                        "text": "任务。",
                        "lead": [unit],
                        "cooperate": [],
                        "responsible": [unit],
                        "targets": [],
                    }
                ]
            },
            fields=PlanFields(title=title),
        )


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("source", sorted(AUTOCOMPLETE_SEES))
@pytest.mark.parametrize("query", ["", "市", "曲靖", "昆明", "5301", "5303"])
def test_autocomplete_is_scoped(client, world, named_plans, who, source, query):
    resp = _client(client, world, who).get(reverse("autocomplete", args=[source]), {"q": query})
    if who == "anon":
        _assert_login_redirect(resp)
        return
    assert resp.status_code == 200
    labels = {r["label"] for r in resp.json()["results"]}
    for name, allowed in AUTOCOMPLETE_SEES[source].items():
        if name in labels:
            assert who in allowed, (who, source, query, name)
    if query == "":
        for name, allowed in AUTOCOMPLETE_SEES[source].items():
            assert (name in labels) == (who in allowed), (who, source, name)


def test_autocomplete_unknown_source_is_404(client, world):
    assert _client(client, world, "admin_a").get("/autocomplete/users/").status_code == 404


def test_autocomplete_results_are_limited(client, world):
    from kepu.core.autocomplete import LIMIT

    Organisation.objects.bulk_create(
        [
            Organisation(
                name=f"曲靖市限量单位{k}", kind="department", region=world.regions["city_a"]
            )
            for k in range(LIMIT + 5)
        ]
    )
    data = _client(client, world, "admin_a").get("/autocomplete/orgs/", {"q": "限量"}).json()
    assert len(data["results"]) == LIMIT and data["more"] is True


def test_autocomplete_finds_regions_by_code_and_name(client, world):
    c = _client(client, world, "admin_a")
    by_code = c.get("/autocomplete/regions/", {"q": "530302"}).json()["results"]
    assert [r["label"] for r in by_code] == ["麒麟区", "南宁街道"]
    assert by_code[0]["id"] == "530302"
    by_name = c.get("/autocomplete/regions/", {"q": "南宁"}).json()["results"]
    assert [r["id"] for r in by_name] == ["530302001"]


def test_org_form_parent_is_searched_not_listed(client, world):
    org = world.orgs["unit_a1"]
    org.parent = world.orgs["office_a"]
    org.save()
    html = _client(client, world, "admin_a").get(reverse("orgs:edit", args=[org.pk]))
    html = html.content.decode()
    assert 'data-autocomplete-url="/autocomplete/orgs/"' in html
    assert 'value="曲靖市科学技术协会"' in html
    assert "曲靖市卫生健康委员会" not in html  # other organisations are not listed
    assert '<select name="parent"' not in html
