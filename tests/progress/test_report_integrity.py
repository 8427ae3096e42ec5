"""Report slots carry no database FK constraint (see docs/progress.md: measured cost at
round opening); every ORM delete path still removes them, so no slot outlives its task,
organisation or round."""

from __future__ import annotations

import pytest
from django.db import connection

from kepu.orgs.services import organisation_delete
from kepu.plans.services import plan_delete
from kepu.progress import services
from kepu.progress.models import Report

pytestmark = pytest.mark.django_db


def _orphans() -> int:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT COUNT(*) FROM progress_report r "
            "WHERE NOT EXISTS (SELECT 1 FROM plans_task t WHERE t.id = r.task_id) "
            "OR NOT EXISTS (SELECT 1 FROM orgs_organisation o WHERE o.id = r.organisation_id) "
            "OR NOT EXISTS (SELECT 1 FROM progress_reportinground g WHERE g.id = r.round_id) "
            "OR (r.parent_id IS NOT NULL AND NOT EXISTS "
            "    (SELECT 1 FROM progress_report p WHERE p.id = r.parent_id))"
        )
        return cur.fetchone()[0]


def test_deleting_a_plan_removes_its_slots(pw, round_):
    assert Report.objects.filter(round=round_).exists()
    plan_delete(user=pw.users["admin_a"], plan=pw.plan)
    assert not Report.objects.exists()  # unscoped: test
    assert _orphans() == 0


def test_deleting_an_organisation_or_a_round_removes_its_slots(pw, round_):
    unit = pw.orgs["unit_a2"]
    before = Report.objects.filter(round=round_).count()  # unscoped: test
    mine = Report.objects.filter(organisation=unit).count()  # unscoped: test
    assert mine > 0
    organisation_delete(user=pw.users["admin_a"], organisation=unit)
    assert Report.objects.filter(round=round_).count() == before - mine  # unscoped: test
    assert _orphans() == 0
    round_.delete()
    assert not Report.objects.exists()  # unscoped: test
    assert _orphans() == 0


def test_split_children_go_with_their_parent_slot(pw, round_):
    from kepu.orgs.models import Organisation, OrgKind
    from kepu.progress.models import Report as R

    dept = Organisation.objects.create(
        name="麒麟区教育体育局", kind=OrgKind.DEPARTMENT, region=pw.regions["county_a"]
    )
    county = R.objects.get(round=round_, organisation=pw.orgs["county_office_a"])
    services.report_split(user=pw.users["county_admin_a"], report=county, organisations=[dept])
    assert R.objects.filter(parent=county).count() == 1  # unscoped: test
    R.objects.filter(pk=county.pk).delete()  # unscoped: test
    assert not R.objects.filter(organisation=dept).exists()  # unscoped: test
    assert _orphans() == 0


def test_opening_locks_what_slots_reference_and_deletes_wait_for_it(pw):
    """No FK constraint on the slot keys: a round being opened holds key-share locks on
    its plans and the organisations of its region (PostgreSQL; SQLite serialises
    writers), and the plan and organisation deletes take their row for update first, so
    a delete waits for the opening and then removes the new slots with the rest."""
    import datetime as dt

    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        round_ = services.round_open(
            user=pw.users["admin_a"],
            office=pw.orgs["office_a"],
            title="锁",
            plans=[pw.plan],
            opens_on=dt.date(2026, 7, 1),
            closes_on=dt.date(2026, 7, 31),
        )
    locks = [q["sql"] for q in ctx.captured_queries if "FOR KEY SHARE" in q["sql"]]
    assert len(locks) == (2 if connection.vendor == "postgresql" else 0)
    insert = next(i for i, q in enumerate(ctx.captured_queries) if "INSERT" in q["sql"])
    if locks:  # taken before anything is written
        first_lock = next(
            i for i, q in enumerate(ctx.captured_queries) if "FOR KEY SHARE" in q["sql"]
        )
        assert first_lock < insert
    unit = pw.orgs["unit_a2"]
    with CaptureQueriesContext(connection) as ctx:
        organisation_delete(user=pw.users["admin_a"], organisation=unit)
        plan_delete(user=pw.users["admin_a"], plan=pw.plan)
    if connection.features.has_select_for_update:
        sqls = [q["sql"] for q in ctx.captured_queries]
        assert sum("FOR UPDATE" in s for s in sqls) == 2
    assert not Report.objects.filter(round=round_).exists()  # unscoped: test
    assert _orphans() == 0
