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
