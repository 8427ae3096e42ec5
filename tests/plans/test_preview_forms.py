"""The plan preview as forms: errors beside their fields, nothing saved on bad input,
the task's text shown, fuzzy suggestions neither preselected nor learnt as aliases, and
absurd suggestions not offered."""

from __future__ import annotations

import lxml.html
import pytest
from django.urls import reverse

from kepu.orgs.models import Organisation, OrganisationAlias, OrgKind
from kepu.orgs.selectors import organisation_match
from kepu.plans import services
from kepu.plans.models import Plan, PlanDraft, TaskUnit


def make_draft(world, data: bytes) -> PlanDraft:
    return services.plan_draft_create(
        user=world.users["admin_a"], owner=world.orgs["office_a"], name="p.txt", data=data
    )


def _post(draft: PlanDraft, **overrides: str) -> dict[str, str]:
    data = {"title": "测试要点", "kind": "annual", "period_start": "2026", "period_end": "2027"}
    for i, _ in enumerate(draft.parsed["tasks"]):
        data[f"t{i}-include"] = "on"
    data.update(overrides)
    return data


def _container(el):
    """The cell or field box a control sits in."""
    while el is not None:
        if el.tag == "td" or (el.tag == "div" and "field" in el.get("class", "").split()):
            return el
        el = el.getparent()
    raise AssertionError("control outside any cell or field box")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("period_start", "abc", "起始年应为 1949 到 2100 之间的年份"),
        ("period_end", "2020", "时期的起始年不能晚于截止年"),
        ("issued_on", "1800-01-01", "发文日期应在 1949 到 2100 年之间"),
        ("issued_on", "2026-13-45", "发文日期格式应为 YYYY-MM-DD"),
        ("kind", "bogus", "类型「bogus」无效"),
        ("title", "", "请填写规划标题"),
        ("t0-title", "长" * 501, "第1项任务的标题过长"),
        ("t1-lead", "长" * 201, "第2项任务的单位名称过长"),
        ("t2-deadline", "长" * 101, "第3项任务的完成时限过长"),
        ("u0-org", "drop table", "的对应组织无效"),
    ],
)
def test_a_bad_value_is_shown_beside_its_field_and_nothing_is_saved(
    client, world, plan_bytes, settings, tmp_path, name, value, message
):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    client.force_login(world.users["admin_a"])
    data = _post(draft, **{name: value})
    if name == "period_end":
        data["period_start"] = "2030"
    resp = client.post(reverse("plans:draft", args=[draft.pk]), data)
    assert resp.status_code == 200
    assert not Plan.objects.exists() and PlanDraft.objects.filter(pk=draft.pk).exists()

    doc = lxml.html.fromstring(resp.content.decode())
    control = doc.xpath(f'//*[@name="{name}"]')
    assert len(control) == 1, name
    error_id = f"id_{name}-error"
    assert control[0].get("aria-invalid") == "true"
    assert control[0].get("aria-describedby") == error_id
    error = doc.get_element_by_id(error_id)
    assert message in error.text_content()
    # beside its field: in the same cell / field box, not in the summary at the top
    assert error in _container(control[0]).iter()
    summary = doc.get_element_by_id("preview-errors")
    assert "1 处需要修改" in summary.text_content()
    assert message not in summary.text_content()
    # what was typed elsewhere is kept
    if name != "title":
        assert doc.xpath('//input[@name="title"]')[0].get("value") == "测试要点"


def test_a_new_organisation_of_a_bogus_kind_is_refused_beside_the_kind(
    client, world, plan_bytes, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("plans:draft", args=[draft.pk]), _post(draft, **{"u0-org": "new", "u0-kind": "x"})
    )
    doc = lxml.html.fromstring(resp.content.decode())
    kind = doc.xpath('//select[@name="u0-kind"]')[0]
    assert "新建组织类型无效" in doc.get_element_by_id("id_u0-kind-error").text_content()
    assert doc.get_element_by_id("id_u0-kind-error") in _container(kind).iter()
    # the choice "new" stays selected on the re-displayed page
    org = doc.xpath('//select[@name="u0-org"]')[0]
    assert [o.get("value") for o in org.xpath(".//option[@selected]")] == ["new"]
    assert not Plan.objects.exists() and not Organisation.objects.filter(name="市教体局").exists()


def test_several_errors_each_beside_its_own_field(client, world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    client.force_login(world.users["admin_a"])
    data = _post(
        draft, **{"period_start": "abc", "t1-title": "长" * 600, "t0-cooperate": "x" * 300}
    )
    resp = client.post(reverse("plans:draft", args=[draft.pk]), data)
    doc = lxml.html.fromstring(resp.content.decode())
    assert "3 处需要修改" in doc.get_element_by_id("preview-errors").text_content()
    rows = {r.get("data-index"): r for r in doc.xpath('//tr[contains(@class,"task-row")]')}
    assert "has-error" in rows["1"].get("class") and "has-error" not in rows["2"].get("class")
    assert "第2项任务的标题过长" in rows["1"].text_content()
    assert "第1项任务的单位名称过长" in rows["0"].text_content()
    assert not Plan.objects.exists()


UNITS_DOC = """2026年测试市科学素质工作要点

一、青少年科学素质提升
1.开展中小学科学教育。培训科学教师300人以上。
第二段: 组织教师赴外地学习。(市卫生健康委牵头,市民政部配合)
"""


@pytest.fixture
def units_draft(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    Organisation.objects.create(
        name="曲靖市人民政府国有资产监督管理委员会",
        short_name="市国资委",
        kind=OrgKind.DEPARTMENT,
        region=world.regions["city_a"],
    )
    return make_draft(world, UNITS_DOC.encode())


def test_the_preview_shows_the_task_text_and_a_wide_title_box(client, world, units_draft):
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("plans:draft", args=[units_draft.pk]))
    doc = lxml.html.fromstring(resp.content.decode())
    title = doc.xpath('//textarea[@name="t0-title"]')
    assert len(title) == 1 and title[0].text_content().strip() == "开展中小学科学教育"
    body = doc.xpath('//tr[@data-index="0"]//div[contains(@class,"task-body")]')[0]
    assert "培训科学教师300人以上" in body.text_content()
    assert "组织教师赴外地学习" in body.text_content()


def test_a_fuzzy_suggestion_is_offered_but_neither_chosen_nor_learnt(client, world, units_draft):
    unit = world.orgs["unit_a2"]  # 曲靖市卫生健康委员会 (short name 市卫健委)
    client.force_login(world.users["admin_a"])
    url = reverse("plans:draft", args=[units_draft.pk])
    doc = lxml.html.fromstring(client.get(url).content.decode())
    row = doc.xpath('//tr[@data-unit="市卫生健康委"]')[0]
    select = row.xpath('.//select[contains(@class,"org-select")]')[0]
    offered = select.xpath('.//option[@data-how="fuzzy"]/@value')
    assert offered == [str(unit.pk)]
    assert select.xpath(".//option[@selected]") == []  # "— 不关联 —"
    assert row.xpath('.//input[@type="checkbox"]')[0].get("checked") is None

    # confirming as shown: no link, no alias
    client.post(url, _post(units_draft))
    task_unit = TaskUnit.objects.get(name="市卫生健康委")
    assert task_unit.organisation_id is None
    assert not OrganisationAlias.objects.filter(name="市卫生健康委").exists()


@pytest.mark.parametrize("alias", [False, True])
def test_an_accepted_suggestion_becomes_an_alias_only_when_ticked(
    client, world, units_draft, alias
):
    unit = world.orgs["unit_a2"]
    client.force_login(world.users["admin_a"])
    url = reverse("plans:draft", args=[units_draft.pk])
    names = list(services_unit_names(units_draft))
    j = names.index("市卫生健康委")
    data = _post(units_draft, **{f"u{j}-org": str(unit.pk)})
    if alias:
        data[f"u{j}-alias"] = "on"
    assert client.post(url, data).status_code == 302
    assert TaskUnit.objects.get(name="市卫生健康委").organisation_id == unit.pk
    assert (
        OrganisationAlias.objects.filter(organisation=unit, name="市卫生健康委").exists() is alias
    )


def services_unit_names(draft):
    from kepu.plans.selectors import draft_unit_counts

    return draft_unit_counts(draft.parsed)


def test_an_absurd_suggestion_is_not_offered(client, world, units_draft):
    client.force_login(world.users["admin_a"])
    doc = lxml.html.fromstring(
        client.get(reverse("plans:draft", args=[units_draft.pk])).content.decode()
    )
    row = doc.xpath('//tr[@data-unit="市民政部"]')[0]
    assert row.xpath('.//option[@data-how="fuzzy"]') == []
    assert "未匹配" in row.text_content()


def test_the_matcher_drops_what_rapidfuzz_alone_would_offer(world, units_draft):
    from kepu.orgs.scoping import Action

    candidates = Organisation.objects.restrict(world.users["admin_a"], Action.VIEW)
    assert organisation_match(name="民政部", candidates=candidates) == []
    # and keeps what belongs together
    assert [
        m.organisation_id for m in organisation_match(name="教育体育局", candidates=candidates)
    ][:1] == [world.orgs["unit_a1"].pk]


def test_an_organisation_chosen_by_search_stays_chosen_after_an_error(client, world, units_draft):
    client.force_login(world.users["admin_a"])
    url = reverse("plans:draft", args=[units_draft.pk])
    j = list(services_unit_names(units_draft)).index("市民政部")
    pk = world.orgs["unit_a1"].pk  # not a suggestion for 市民政部
    resp = client.post(url, _post(units_draft, **{f"u{j}-org": str(pk), "title": ""}))
    doc = lxml.html.fromstring(resp.content.decode())
    select = doc.xpath(f'//select[@name="u{j}-org"]')[0]
    chosen = select.xpath(".//option[@selected]")
    assert [(o.get("value"), o.text_content()) for o in chosen] == [(str(pk), "曲靖市教育体育局")]
