"""View matrix for the bulk onboarding pages (users as in tests/test_view_matrix.py):
office administrators (and superusers) import; everybody else signed in gets 403 (the
pages exist for them but are not allowed), anonymous users go to the login page."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from openpyxl import load_workbook

from kepu.orgs.models import Membership, Organisation
from tests.orgs.test_bulk import org_file, user_file

USERS = [
    "super",
    "admin_a",
    "admin_b",
    "county_admin_a",
    "viewer_a",
    "staff_a1",
    "staff_a2",
    "nobody",
    "anon",
]
IMPORTERS = {"super", "admin_a", "admin_b", "county_admin_a"}
PAGES = [
    "orgs:import",
    "orgs:import_template",
    "orgs:user_import",
    "orgs:user_import_template",
]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def as_user(client, world, who):
    if who != "anon":
        client.force_login(world.users[who])
    return client


def is_login_redirect(resp):
    return resp.status_code == 302 and resp["Location"].startswith(reverse("login"))


def upload(c, name, data, url="orgs:import"):
    f = io.BytesIO(data)
    f.name = name
    return c.post(reverse(url), {"file": f})


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", PAGES)
def test_import_pages(client, world, who, name):
    resp = as_user(client, world, who).get(reverse(name))
    if who == "anon":
        assert is_login_redirect(resp)
    elif who in IMPORTERS:
        assert resp.status_code == 200
        if name.endswith("template"):
            assert load_workbook(io.BytesIO(resp.content)).active["A1"].value in ("名称", "用户名")
    else:
        assert resp.status_code == 403


ROW_IN_CITY_A = ["网页导入单位", "", "其他", "530300", "曲靖市科学技术协会", "", "否"]


@pytest.mark.parametrize("who", USERS)
def test_org_import_upload_and_confirm(client, world, who):
    c = as_user(client, world, who)
    resp = upload(c, "orgs.xlsx", org_file(ROW_IN_CITY_A))
    confirm = c.post(reverse("orgs:import_confirm"))
    created = Organisation.objects.filter(name="网页导入单位").exists()
    if who == "anon":
        assert is_login_redirect(resp) and is_login_redirect(confirm) and not created
    elif who in {"super", "admin_a"}:
        html = resp.content.decode()
        assert resp.status_code == 200 and "校验通过" in html and "组织 1 个" in html
        assert confirm.status_code == 302 and confirm["Location"] == reverse("orgs:list")
        assert created
    elif who in IMPORTERS:  # an office, but city A is outside its region
        html = resp.content.decode()
        assert resp.status_code == 200 and "不在您的管理范围内" in html and "确认导入" not in html
        assert confirm.status_code == 302 and not created
    else:
        assert resp.status_code == 403 and confirm.status_code == 403 and not created


def test_org_import_preview_saves_nothing_and_confirm_runs_once(client, world):
    c = as_user(client, world, "admin_a")
    resp = upload(c, "orgs.xlsx", org_file(ROW_IN_CITY_A))
    assert "确认导入" in resp.content.decode()
    assert not Organisation.objects.filter(name="网页导入单位").exists()
    c.post(reverse("orgs:import_confirm"))
    second = c.post(reverse("orgs:import_confirm"), follow=True)
    assert "没有待确认的导入" in second.content.decode()
    assert Organisation.objects.filter(name="网页导入单位").count() == 1


def test_org_import_shows_errors_escaped(client, world):
    c = as_user(client, world, "admin_a")
    resp = upload(c, "orgs.xlsx", org_file(["单位", "", "<img src=x onerror=alert(1)>", "530300"]))
    html = resp.content.decode()
    assert "第2行" in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html


def test_confirm_requires_post(client, world):
    c = as_user(client, world, "admin_a")
    assert c.get(reverse("orgs:import_confirm")).status_code == 405
    assert c.get(reverse("orgs:user_import_confirm")).status_code == 405


@pytest.mark.parametrize("who", USERS)
def test_user_import_upload_and_confirm(client, world, who):
    c = as_user(client, world, who)
    resp = upload(
        c,
        "users.xlsx",
        user_file(["web_user", "网页用户", "曲靖市教育体育局", "单位填报员", ""]),
        url="orgs:user_import",
    )
    confirm = c.post(reverse("orgs:user_import_confirm"))
    created = get_user_model().objects.filter(username="web_user").exists()
    if who == "anon":
        assert is_login_redirect(resp) and is_login_redirect(confirm) and not created
    elif who in {"super", "admin_a"}:
        assert resp.status_code == 200 and "用户 1 个" in resp.content.decode()
        assert confirm.status_code == 200 and confirm["Cache-Control"] == "no-store"
        rows = list(load_workbook(io.BytesIO(confirm.content)).active.iter_rows(values_only=True))
        assert rows[1][0] == "web_user" and "/orgs/invite/" in rows[1][5]
        assert Membership.objects.get(user__username="web_user").role == "unit_staff"
    elif who in IMPORTERS:
        assert resp.status_code == 200 and "不在您的管理范围内" in resp.content.decode()
        assert confirm.status_code == 302 and not created
    else:
        assert resp.status_code == 403 and confirm.status_code == 403 and not created


@pytest.mark.parametrize("who", USERS)
def test_invitation_page_is_public_but_needs_a_valid_token(client, world, who):
    resp = as_user(client, world, who).get(
        reverse("orgs:invite", args=["MQ", "bad-token"]), follow=True
    )
    assert resp.status_code == 200 and "激活链接无效" in resp.content.decode()
