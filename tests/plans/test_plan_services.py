"""Upload → draft → confirm/cancel, and the all-or-nothing guarantees."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kepu.orgs.models import Organisation, OrganisationAlias
from kepu.plans import services
from kepu.plans.models import Plan, PlanDraft, Target, Task, TaskUnit, UnitRole
from kepu.plans.services import PlanFields, UnitChoice


def make_draft(world, plan_bytes, name="plan.txt"):
    admin = world.users["admin_a"]
    return services.plan_draft_create(
        user=admin, owner=world.orgs["office_a"], name=name, data=plan_bytes
    )


def test_draft_holds_the_parse_and_the_file(world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    assert [t["title"] for t in draft.parsed["tasks"]] == [
        "开展中小学科学教育",
        "举办青少年科技节",
        "开展银龄健康讲座",
    ]
    assert draft.source_file.read() == plan_bytes
    assert not Plan.objects.exists()


def test_confirm_saves_plan_tasks_units_targets_and_file(
    world, plan_bytes, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    draft_path = draft.source_file.path
    with django_capture_on_commit_callbacks(execute=True):
        plan = services.plan_draft_confirm(
            user=world.users["admin_a"],
            draft=draft,
            fields=PlanFields(title="测试要点", kind="annual"),
            unit_choices={},
        )
    assert plan.tasks.count() == 3 and plan.region == world.regions["city_a"]
    first = plan.tasks.get(order=1)
    assert [(u.name, u.role, u.organisation) for u in first.units.all()] == [
        ("市教体局", UnitRole.LEAD, world.orgs["unit_a1"]),
        ("市卫健委", UnitRole.COOPERATE, world.orgs["unit_a2"]),
    ]
    second = plan.tasks.get(order=2)
    # no roles written → all responsible; "市教育局" is an alias of the education bureau
    assert {(u.name, u.role) for u in second.units.all()} == {
        ("市教育局", UnitRole.RESPONSIBLE),
        ("市科协", UnitRole.RESPONSIBLE),
    }
    assert second.units.get(name="市教育局").organisation == world.orgs["unit_a1"]
    target = first.targets.get()
    assert (target.comparator, target.value, target.unit) == (">=", 300, "人")
    assert plan.targets.filter(task__isnull=True, unit="%").exists()
    assert "youth" in first.key_groups
    assert plan.source_file.read() == plan_bytes
    assert not PlanDraft.objects.exists()
    import os

    assert not os.path.exists(draft_path)


def test_cancel_saves_nothing_and_removes_the_upload(world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    path = draft.source_file.path
    services.plan_draft_cancel(user=world.users["admin_a"], draft=draft)
    import os

    assert not os.path.exists(path)
    assert not PlanDraft.objects.exists() and not Plan.objects.exists()
    assert not Task.objects.exists()


def test_unit_choices_create_org_and_add_alias(world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    plan = services.plan_draft_confirm(
        user=world.users["admin_a"],
        draft=draft,
        fields=PlanFields(title="测试"),
        unit_choices={
            "市某某局": UnitChoice(create_kind="department"),
            "市科协": UnitChoice(organisation_id=world.orgs["office_a"].pk, add_alias=True),
        },
    )
    created = Organisation.objects.get(name="市某某局")
    assert created.region == world.regions["city_a"]
    assert TaskUnit.objects.get(task__plan=plan, name="市某某局").organisation == created
    assert (
        OrganisationAlias.objects.filter(
            organisation=world.orgs["office_a"], name="市科协"
        ).exists()
        is False
    )
    # "市科协" is the office's short name already, so no alias is needed; the link is made
    assert TaskUnit.objects.filter(
        task__plan=plan, name="市科协", organisation=world.orgs["office_a"]
    ).exists()


def test_alias_is_added_for_a_new_spelling(world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(
        world, plan_bytes.replace("市卫健委牵头".encode(), "市卫生健康委牵头".encode())
    )
    services.plan_draft_confirm(
        user=world.users["admin_a"],
        draft=draft,
        fields=PlanFields(title="测试"),
        unit_choices={
            "市卫生健康委": UnitChoice(organisation_id=world.orgs["unit_a2"].pk, add_alias=True)
        },
    )
    assert OrganisationAlias.objects.filter(
        organisation=world.orgs["unit_a2"], name="市卫生健康委"
    ).exists()


def test_error_during_confirm_rolls_everything_back(world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    with pytest.raises(PermissionDenied):
        services.plan_draft_confirm(
            user=world.users["admin_a"],
            draft=draft,
            fields=PlanFields(title="测试"),
            # an organisation of the sibling city cannot be linked by this office
            unit_choices={"市某某局": UnitChoice(organisation_id=world.orgs["unit_b1"].pk)},
        )
    assert not Plan.objects.exists() and not Task.objects.exists() and not Target.objects.exists()
    assert PlanDraft.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("plan.pdf", b"%PDF-1.4 ...", "无法读取 PDF 文件"),
        ("plan.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1...", "另存为"),
        ("plan.docx", b"not a zip at all", "不是有效的 docx"),
        ("plan.docx", b"PK\x03\x04broken zip", "无法解析"),
        ("plan.txt", b"", "空的"),
        ("plan.txt", "这只是一句话。".encode(), "没有识别出任务"),
    ],
)
def test_bad_uploads_give_chinese_errors_and_save_nothing(
    world, name, data, message, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as exc:
        services.plan_draft_create(
            user=world.users["admin_a"], owner=world.orgs["office_a"], name=name, data=data
        )
    assert message in " ".join(exc.value.messages)
    assert not PlanDraft.objects.exists()
    assert not any(tmp_path.rglob("*.*"))


def test_oversized_upload_is_refused(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError, match="文件过大"):
        services.plan_draft_create(
            user=world.users["admin_a"],
            owner=world.orgs["office_a"],
            name="big.txt",
            data=b"a" * (10 * 1024 * 1024 + 1),
        )


def test_unit_staff_cannot_import(world, plan_bytes):
    with pytest.raises(PermissionDenied):
        services.office_for_upload(world.users["staff_a1"])


def test_task_units_can_be_corrected(world, plan_bytes, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    plan = services.plan_draft_confirm(
        user=world.users["admin_a"],
        draft=make_draft(world, plan_bytes),
        fields=PlanFields(title="测试"),
        unit_choices={},
    )
    task = plan.tasks.get(order=3)
    services.task_update_units(
        user=world.users["admin_a"],
        task=task,
        lead=["市卫健委"],
        cooperate=["市教体局"],
        responsible=[],
    )
    assert {(u.name, u.role, u.organisation_id) for u in task.units.all()} == {
        ("市卫健委", "lead", world.orgs["unit_a2"].pk),
        ("市教体局", "cooperate", world.orgs["unit_a1"].pk),
    }
    with pytest.raises(PermissionDenied):
        services.task_update_units(
            user=world.users["staff_a1"], task=task, lead=["x"], cooperate=[], responsible=[]
        )


def test_plan_visible_to_units_it_names(world, plan_bytes, settings, tmp_path):
    from kepu.orgs.scoping import Action

    settings.MEDIA_ROOT = tmp_path
    services.plan_draft_confirm(
        user=world.users["admin_a"],
        draft=make_draft(world, plan_bytes),
        fields=PlanFields(title="测试"),
        unit_choices={},
    )
    assert Plan.objects.restrict(world.users["staff_a1"], Action.VIEW).count() == 1
    assert Plan.objects.restrict(world.users["admin_b"], Action.VIEW).count() == 0
    assert Task.objects.restrict(world.users["staff_a1"], Action.VIEW).count() == 2
    assert Task.objects.restrict(world.users["staff_a2"], Action.VIEW).count() == 2


def test_preview_tree_counts_tasks_per_section_and_units_per_name(
    world, plan_bytes, settings, tmp_path
):
    from kepu.plans.selectors import draft_preview, draft_unit_counts

    settings.MEDIA_ROOT = tmp_path
    draft = make_draft(world, plan_bytes)
    preview = draft_preview(user=world.users["admin_a"], draft=draft)
    assert [(s["title"], s["depth"], s["count"]) for s in preview["tree"]] == [
        ("青少年科学素质提升", 0, 2),
        ("老年人科学素质提升", 0, 1),
    ]
    assert draft_unit_counts(draft.parsed) == {
        "市教体局": 1,
        "市卫健委": 2,
        "市教育局": 1,
        "市科协": 1,
        "市某某局": 1,
    }
    assert [u.name for u in preview["units"]] == list(draft_unit_counts(draft.parsed))
