"""Every row a service writes leaves an audit entry, bulk rows included.

Each test runs one service and checks, by content type and object id, that every row
it created, changed or deleted has an entry with that action (``bulk_create`` and
``QuerySet.update`` send no signals, so the services write these entries themselves).
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import models

from kepu.audit.models import AuditEntry
from kepu.plans import services
from kepu.plans.models import Plan, Section, Target, Task, TaskUnit
from kepu.plans.services import PlanFields
from kepu.survey import services as survey
from kepu.survey.models import EstimationRun, Margin, Wave, WaveTarget
from tests.plans.conftest import PARSED, PLAN_TEXT
from tests.plans.test_ledger_excel import xlsx
from tests.survey.test_survey_services import MARGINS, csv_bytes, make_wave, sample_rows


def logged(model: type[models.Model], action: str) -> set[str]:
    """Object ids of ``model`` that have an entry with ``action``."""
    ct = ContentType.objects.get_for_model(model)
    return set(
        AuditEntry.objects.filter(content_type=ct, action=action).values_list(
            "object_id", flat=True
        )
    )


def ids(rows: Iterable[models.Model] | set[str]) -> set[str]:
    """Object ids (take them before a delete: deleted instances lose their pk)."""
    return {r if isinstance(r, str) else str(r.pk) for r in rows}


def assert_all_logged(model, rows, action) -> None:
    rows = ids(rows)
    assert rows, f"no {model.__name__} rows to check"
    missing = rows - logged(model, action)
    assert not missing, f"{model.__name__} {action}: no entry for {sorted(missing)}"


@pytest.fixture
def plan(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    parsed = {**PARSED, "targets": [{"text": "比例达到13%", "comparator": ">=", "value": 13}]}
    return services.plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed=parsed,
        fields=PlanFields(title="曲靖要点"),
    )


def _plan_rows(plan: Plan) -> dict[type[models.Model], set[str]]:
    return {
        Plan: {str(plan.pk)},
        Section: ids(Section.objects.filter(plan=plan)),
        Task: ids(Task.objects.filter(plan=plan)),
        TaskUnit: ids(TaskUnit.objects.filter(task__plan=plan)),
        Target: ids(Target.objects.filter(plan=plan)),
    }


# --- plans --------------------------------------------------------------------------------
def test_plan_confirm_logs_every_row_it_creates(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    admin = world.users["admin_a"]
    draft = services.plan_draft_create(
        user=admin, owner=world.orgs["office_a"], name="plan.txt", data=PLAN_TEXT.encode()
    )
    plan = services.plan_draft_confirm(
        user=admin, draft=draft, fields=PlanFields(title="测试要点"), unit_choices={}
    )
    rows = _plan_rows(plan)
    assert len(rows[TaskUnit]) >= 5 and len(rows[Target]) >= 3
    for model, objs in rows.items():
        assert_all_logged(model, objs, "create")
    unit = TaskUnit.objects.get(pk=min(rows[TaskUnit]))
    entry = AuditEntry.objects.get(object_id=str(unit.pk), content_type__model="taskunit")
    assert entry.actor == admin and entry.changes["name"] == [None, unit.name]
    assert entry.region_path == world.regions["city_a"].path
    assert entry.organisation_id == world.orgs["office_a"].pk


def test_ledger_import_logs_every_row_it_creates(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    data = xlsx(
        [
            ["序号", "任务内容", "牵头单位", "配合单位", "目标任务", "完成时限"],
            [1, "开展科普讲座。全年不少于12场。", "市教体局", "市卫健委", "不少于12场", "2026年底"],
            [2, "建设科普站。", "市卫健委", "", "", ""],
        ]
    )
    plan = services.ledger_import(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="台账.xlsx",
        data=data,
        title="导入的台账",
    )
    rows = _plan_rows(plan)
    assert len(rows[Task]) == 2 and len(rows[TaskUnit]) == 3 and rows[Target]
    for model, objs in rows.items():
        if objs:
            assert_all_logged(model, objs, "create")


def test_task_edit_logs_created_changed_and_deleted_units(world, plan):
    task = plan.tasks.get(number="1")
    before = {u.name: u for u in task.units.all()}  # 市教体局 (lead), 市卫健委 (cooperate)
    gone = ids([before["市卫健委"]])
    services.task_update_units(
        user=world.users["admin_a"],
        task=task,
        title="新的标题",
        lead=["市科协", "市教体局"],  # 市教体局 moves to second place: a change
        cooperate=[],  # 市卫健委 goes: a deletion
        responsible=["市教育局"],  # a creation
        version=task.version,
    )
    after = {u.name: u for u in task.units.all()}
    created = [after["市科协"], after["市教育局"]]
    assert_all_logged(TaskUnit, created, "create")
    assert_all_logged(TaskUnit, gone, "delete")
    assert_all_logged(TaskUnit, [after["市教体局"]], "update")
    moved = AuditEntry.objects.get(
        action="update", object_id=str(after["市教体局"].pk), content_type__model="taskunit"
    )
    assert moved.changes == {"order": [0, 1]}
    assert after["市教体局"].pk == before["市教体局"].pk  # kept, not recreated
    title = AuditEntry.objects.get(
        action="update", object_id=str(task.pk), content_type__model="task"
    )
    assert title.changes == {"title": ["开展中小学科学教育", "新的标题"]}


def test_plan_delete_logs_every_row(world, plan):
    rows = _plan_rows(plan)
    services.plan_delete(user=world.users["admin_a"], plan=plan)
    for model, objs in rows.items():
        assert_all_logged(model, objs, "delete")


# --- survey -------------------------------------------------------------------------------
def test_wave_create_update_delete_are_logged(world):
    admin = world.users["admin_a"]
    wave = make_wave(world)
    assert_all_logged(Wave, [wave], "create")
    survey.wave_update(
        user=admin,
        wave=wave,
        fields=survey.WaveFields(title="改名", year=wave.year, kind=wave.kind),
        version=wave.version,
    )
    assert_all_logged(Wave, [wave], "update")
    target = survey.wave_target_add(user=admin, wave=wave, year=2030, rate=15)
    assert_all_logged(WaveTarget, [target], "create")
    target_id = ids([target])
    survey.wave_target_delete(user=admin, target=target)
    assert_all_logged(WaveTarget, target_id, "delete")
    wave_id = ids([wave])
    survey.wave_delete(user=admin, wave=wave)
    assert_all_logged(Wave, wave_id, "delete")


def test_margins_replace_and_clear_log_every_row(world):
    admin = world.users["admin_a"]
    wave = make_wave(world)
    rows = [(v, c, str(p)) for v, cats in MARGINS.items() for c, p in cats.items()]
    first = survey.margins_replace(user=admin, wave=wave, rows=rows)
    assert len(first) == 4
    assert_all_logged(Margin, first, "create")
    first_sex = ids(m for m in first if m.variable == "sex")
    second = survey.margins_set(
        user=admin, wave=wave, variable="sex", rows=[("男", "50000"), ("女", "50000")]
    )
    assert_all_logged(Margin, second, "create")
    assert_all_logged(Margin, first_sex, "delete")
    remaining = ids(wave.margins.all())
    survey.margins_clear(user=admin, wave=wave)
    assert_all_logged(Margin, remaining, "delete")


def test_respondent_import_writes_one_summary_entry(world):
    """Respondents are logged as one entry per import (row count and file), not per row."""
    admin = world.users["admin_a"]
    wave = make_wave(world)
    last = AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    survey.respondents_import(
        user=admin, wave=wave, name="样本.csv", data=csv_bytes(sample_rows(120))
    )
    new = list(AuditEntry.objects.filter(pk__gt=last))
    summary = [e for e in new if "respondents" in e.changes]
    assert len(summary) == 1
    assert summary[0].changes == {"respondents": [None, 120], "import_file": [None, "样本.csv"]}
    assert summary[0].object_id == str(wave.pk) and summary[0].actor == admin
    assert len(new) <= 2  # the summary and the wave's own update, not one per respondent


def test_estimation_run_is_logged(world):
    from tests.survey.test_survey_services import load_wave

    wave = load_wave(world, make_wave(world))
    run = survey.run_create(user=world.users["admin_a"], wave=wave)
    assert_all_logged(EstimationRun, [run], "create")


# --- organisations ------------------------------------------------------------------------
def test_organisation_edit_logs_alias_and_membership_rows(world):
    from kepu.orgs import services as orgs
    from kepu.orgs.models import Membership, Organisation, OrganisationAlias

    admin = world.users["admin_a"]
    org = world.orgs["unit_a1"]
    old_alias = ids(org.aliases.all())
    orgs.organisation_update(
        user=admin, organisation=org, aliases="教育局、教体局", short_name="教体", version=1
    )
    assert_all_logged(Organisation, [org], "update")
    assert_all_logged(OrganisationAlias, org.aliases.all(), "create")
    assert_all_logged(OrganisationAlias, old_alias, "delete")
    member = orgs.membership_add(
        user=admin, organisation=org, username="new_staff", role="unit_staff", password="x" * 12
    )
    assert_all_logged(Membership, [member], "create")
    member_id = ids([member])
    orgs.membership_remove(user=admin, membership=member)
    assert_all_logged(Membership, member_id, "delete")
