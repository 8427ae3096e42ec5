"""The ledger's filters: searched (not listed) plan/unit/region choices within the user's
scope, the region filter on the page and the export, and 404 for invalid export filters."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kepu.orgs.models import Organisation, OrgKind


def as_user(client, world, who):
    client.force_login(world.users[who])
    return client


def _export_contents(resp) -> set[str]:
    assert resp.status_code == 200
    contents: set[str] = set()
    for ws in load_workbook(io.BytesIO(resp.content)).worksheets:  # one sheet per plan
        header = next(r for r in range(1, 6) if ws.cell(r, 1).value == "序号")
        col = next(c for c in range(1, ws.max_column + 1) if ws.cell(header, c).value == "任务内容")
        contents |= {ws.cell(r, col).value for r in range(header + 1, ws.max_row + 1)}
    return contents


TASK_A = "开展中小学科学教育。培训科学教师300人以上。"
TASK_B = "昆明的任务。"


@pytest.mark.parametrize(
    "region,sees_a,sees_b",
    [("530000", True, True), ("530300", True, False), ("530100", False, True), ("", True, True)],
)
def test_region_filter_on_ledger_and_export(client, world, city_plans, region, sees_a, sees_b):
    c = as_user(client, world, "super")
    html = c.get(reverse("plans:ledger"), {"region": region}).content.decode()
    assert ("开展中小学科学教育" in html) == sees_a
    assert ("昆明的任务" in html) == sees_b
    contents = _export_contents(c.get(reverse("plans:ledger_export"), {"region": region}))
    assert (TASK_A in contents) == sees_a
    assert (TASK_B in contents) == sees_b


def test_region_filter_selects_the_subtree_by_path(client, world, city_plans):
    # a county below city A holds no plan: filtering by it shows nothing of city A
    html = (
        as_user(client, world, "admin_a")
        .get(reverse("plans:ledger"), {"region": "530302"})
        .content.decode()
    )
    assert "开展中小学科学教育" not in html and "共 0 项任务" in html


def test_export_title_names_the_region_and_plan(client, world, city_plans):
    plan_a, _ = city_plans
    resp = as_user(client, world, "admin_a").get(
        reverse("plans:ledger_export"), {"region": "530300", "plan": plan_a.pk}
    )
    ws = load_workbook(io.BytesIO(resp.content)).active
    assert ws.cell(1, 1).value == "曲靖市 曲靖要点 任务台账"


@pytest.mark.parametrize("params", [{"region": "530100"}, {"region": "999999"}])
def test_region_outside_scope_shows_nothing_and_export_is_404(client, world, city_plans, params):
    c = as_user(client, world, "admin_a")
    html = c.get(reverse("plans:ledger"), params).content.decode()
    assert "开展中小学科学教育" not in html and "不在您的范围内" in html
    assert c.get(reverse("plans:ledger_export"), params).status_code == 404


@pytest.mark.parametrize("bad", ["other", "abc", "999999", "-1", "1.5"])
def test_export_with_invalid_or_out_of_scope_plan_is_404(client, world, city_plans, bad):
    _, plan_b = city_plans
    value = str(plan_b.pk) if bad == "other" else bad
    c = as_user(client, world, "admin_a")
    assert c.get(reverse("plans:ledger_export"), {"plan": value}).status_code == 404
    html = c.get(reverse("plans:ledger"), {"plan": value}).content.decode()
    assert "开展中小学科学教育" not in html and "昆明的任务" not in html


def test_export_with_an_out_of_scope_unit_is_404(client, world, city_plans):
    resp = as_user(client, world, "admin_a").get(
        reverse("plans:ledger_export"), {"organisation": world.orgs["unit_b1"].pk}
    )
    assert resp.status_code == 404


def test_export_with_own_plan_filters_to_it(client, world, city_plans):
    plan_a, _ = city_plans
    contents = _export_contents(
        as_user(client, world, "super").get(reverse("plans:ledger_export"), {"plan": plan_a.pk})
    )
    assert TASK_A in contents and TASK_B not in contents


def test_ledger_lists_no_plans_or_organisations_as_options(client, world, city_plans):
    for k in range(30):
        Organisation.objects.create(
            name=f"曲靖市选项单位{k}", kind=OrgKind.DEPARTMENT, region=world.regions["city_a"]
        )
    html = as_user(client, world, "admin_a").get(reverse("plans:ledger")).content.decode()
    assert "曲靖市选项单位" not in html
    assert "曲靖要点" in html  # the task rows name their plan, but no <option> lists plans
    assert html.count("<option") <= 10  # role and key-group choices only
    assert 'data-autocomplete-url="/autocomplete/plans/"' in html
    assert 'data-autocomplete-url="/autocomplete/orgs/"' in html
    assert 'data-autocomplete-url="/autocomplete/regions/"' in html


def test_chosen_values_show_their_labels(client, world, city_plans):
    plan_a, _ = city_plans
    html = (
        as_user(client, world, "admin_a")
        .get(
            reverse("plans:ledger"),
            {"plan": plan_a.pk, "organisation": world.orgs["unit_a1"].pk, "region": "530300"},
        )
        .content.decode()
    )
    assert 'value="曲靖要点"' in html
    assert 'value="曲靖市教育体育局"' in html
    assert 'value="曲靖市"' in html
    # the plan's sections become a choice once a plan is chosen
    assert "一、青少年科学素质提升</option>" in html


def test_an_out_of_scope_choice_never_shows_its_name(client, world, city_plans):
    _, plan_b = city_plans
    html = (
        as_user(client, world, "admin_a")
        .get(reverse("plans:ledger"), {"plan": plan_b.pk, "organisation": world.orgs["unit_b1"].pk})
        .content.decode()
    )
    assert "昆明要点" not in html and "昆明市教育局" not in html


def test_chosen_label_is_escaped(client, world, city_plans):
    org = world.orgs["unit_a1"]
    org.name = '"><img src=x onerror=alert(1)>'
    org.save()
    html = (
        as_user(client, world, "admin_a")
        .get(reverse("plans:ledger"), {"organisation": org.pk})
        .content.decode()
    )
    assert "<img src=x" not in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in html


def test_keyword_filter(client, world, city_plans):
    html = (
        as_user(client, world, "admin_a")
        .get(reverse("plans:ledger"), {"q": "青少年科技"})
        .content.decode()
    )
    assert "举办青少年科技节" in html and "开展中小学科学教育" not in html
