"""Scoping matrix for every registry view, and the review cycle through the web."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kepu.registry import services
from kepu.registry.models import BaseReview, BaseStatus, EducationBase, Expert, ReviewStatus

USERS = [
    "super",
    "admin_a",
    "admin_b",
    "viewer_a",
    "staff_a1",
    "county_admin_a",
    "base_staff",
    "nobody",
    "anon",
]
# The base sits in county A: its staff, the county and city offices (and their viewer).
SEE_BASE = {"super", "admin_a", "viewer_a", "county_admin_a", "base_staff"}
CHANGE_BASE = {"super", "admin_a", "county_admin_a", "base_staff"}
OFFICES = {"super", "admin_a", "admin_b", "county_admin_a"}


def as_user(client, world, who):
    if who != "anon":
        client.force_login(world.users[who])
    return client


def login_redirect(resp):
    return resp.status_code == 302 and "/accounts/login/" in resp["Location"]


@pytest.fixture
def expert(world):
    return services.expert_save(
        user=world.users["admin_a"],
        fields=services.ExpertFields(
            name="王教授",
            region=world.regions["city_a"],
            fields=["健康", "营养"],
            phone="13700000000",
        ),
    )


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["registry:bases", "registry:sheets", "registry:experts"])
def test_lists(client, world, certified, sheet, expert, who, name):
    resp = as_user(client, world, who).get(reverse(name))
    if who == "anon":
        assert login_redirect(resp)
        return
    assert resp.status_code == 200
    html = resp.content.decode()
    if name == "registry:bases":
        assert (certified.name in html) == (who in SEE_BASE), who
    if name == "registry:experts":
        assert ("王教授" in html) == (who in {"super", "admin_a", "viewer_a"}), who
        assert "13700000000" not in html


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["registry:base", "registry:base_edit"])
def test_base_pages(client, world, certified, who, name):
    resp = as_user(client, world, who).get(reverse(name, args=[certified.pk]))
    if who == "anon":
        assert login_redirect(resp)
    elif who not in SEE_BASE:
        assert resp.status_code == 404, who
    elif name == "registry:base_edit" and who not in CHANGE_BASE:
        assert resp.status_code == 403, who
    else:
        assert resp.status_code == 200, who
        html = resp.content.decode()
        assert ("13900000000" in html) == (who in CHANGE_BASE), who


@pytest.mark.parametrize("who", USERS)
def test_apply_page(client, world, base_org, who):
    resp = as_user(client, world, who).get(reverse("registry:base_apply"))
    if who == "anon":
        assert login_redirect(resp)
    else:
        # Anyone who may add for a non-office organisation (its staff, offices over it).
        assert resp.status_code == (403 if who in {"viewer_a", "nobody"} else 200), who


@pytest.mark.parametrize("who", USERS)
def test_endorse_post_changes_nothing_for_others(client, world, base_org, who):
    from tests.registry.conftest import base_fields

    base = services.base_apply(
        user=world.users["base_staff"], organisation=base_org, fields=base_fields(world)
    )
    resp = as_user(client, world, who).post(reverse("registry:base_endorse", args=[base.pk]))
    base.refresh_from_db()
    assert (base.status == BaseStatus.ENDORSED) == (
        who in {"super", "admin_a", "county_admin_a"}
    ), who
    if who == "anon":
        assert login_redirect(resp)
    elif who not in SEE_BASE:
        assert resp.status_code == 404


@pytest.mark.parametrize("who", USERS)
def test_expert_edit(client, world, base_org, expert, who):
    resp = as_user(client, world, who).get(reverse("registry:expert_edit", args=[expert.pk]))
    if who == "anon":
        assert login_redirect(resp)
    elif who in {"super", "admin_a"}:
        assert resp.status_code == 200
    elif who == "viewer_a":
        assert resp.status_code == 403
    else:
        assert resp.status_code == 404, who


def test_review_cycle_through_the_web(client, world, certified, sheet):
    c = as_user(client, world, "base_staff")
    resp = c.post(reverse("registry:review_open", args=[certified.pk]), {"sheet": sheet.pk})
    review = BaseReview.objects.get()
    assert resp.status_code == 302
    resp = c.post(
        reverse("registry:review", args=[review.pk]),
        {"form": "self", "version": review.version, "m_exhibition_area": "abc", "summary": "x"},
    )
    assert "必须是数字" in resp.content.decode()
    c.post(
        reverse("registry:review", args=[review.pk]),
        {
            "form": "self",
            "version": review.version,
            "m_exhibition_area": "100",
            "m_opening_days": "150",
            "m_annual_visitors": "500",
            "summary": "全年",
            "submit": "1",
        },
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.SUBMITTED
    # The base cannot score itself; the county office scores and the base is warned.
    c.post(
        reverse("registry:review", args=[review.pk]),
        {"form": "score", "s_rules": "20", "s_content": "20", "s_safety": "10"},
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.SUBMITTED
    c = as_user(client, world, "county_admin_a")
    resp = c.post(
        reverse("registry:review", args=[review.pk]),
        {"form": "score", "s_rules": "5", "s_content": "5", "s_safety": "2"},
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.SCORED and review.grade == "不合格"
    assert EducationBase.objects.get(pk=certified.pk).status == BaseStatus.WARNING


def test_sheet_created_from_the_template(client, world):
    c = as_user(client, world, "admin_a")
    template = c.get(reverse("registry:sheet_template"))
    import io

    upload = io.BytesIO(template.content)
    upload.name = "评分表.xlsx"
    resp = c.post(
        reverse("registry:sheets"),
        {"year": "2026", "warn_after": "1", "revoke_after": "2", "file": upload},
    )
    assert resp.status_code == 302
    assert c.get(resp["Location"]).status_code == 200
    assert c.get(reverse("registry:sheets")).status_code == 200
    staff = as_user(client, world, "staff_a1")
    assert (
        staff.post(
            reverse("registry:sheets"), {"year": "2026", "warn_after": "1", "revoke_after": "2"}
        ).status_code
        == 403
    )
    assert Expert.objects.count() == 0
