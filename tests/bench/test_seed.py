"""The national-scale generator at a tiny scale: it runs through the bulk services, gives
the bench accounts their reach, and leaves an audit trail and an estimated survey."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from kepu.audit.models import AuditEntry
from kepu.core.management.commands import kepu_bench_seed as seeder
from kepu.orgs.models import Membership, Organisation
from kepu.orgs.scoping import Action
from kepu.plans.models import Plan, Task, TaskUnit
from kepu.regions.models import Level
from kepu.survey.models import EstimationRun, Respondent
from tests.conftest import make_region


@pytest.fixture
def regions(db):
    root = make_region("000000", "全国", Level.NATIONAL, None)
    prov = make_region("530000", "云南省", Level.PROVINCE, root)
    city = make_region("530300", "曲靖市", Level.PREFECTURE, prov)
    make_region("530302", "麒麟区", Level.COUNTY, city)
    make_region("530303", "沾益区", Level.COUNTY, city)
    city2 = make_region("530100", "昆明市", Level.PREFECTURE, prov)
    make_region("530102", "五华区", Level.COUNTY, city2)
    other = make_region("110000", "北京市", Level.PROVINCE, root)
    make_region("110100", "市辖区", Level.PREFECTURE, other)
    return root


def test_office_names_skip_placeholders(regions):
    from kepu.regions.models import Region

    by_id = {r.pk: r for r in Region.objects.all()}
    bj = Region.objects.get(code="110100")
    assert seeder.office_name(bj, by_id) == "北京市"
    assert seeder.office_name(Region.objects.get(code="530302"), by_id) == "云南省曲靖市麒麟区"


def test_demo_seed(regions, django_user_model):
    out = io.StringIO()
    call_command("kepu_bench_seed", "--scale", "demo", stdout=out)
    scale = seeder.SCALES["demo"]
    # one office per region of the province (plus the national one), member units under them
    offices = Organisation.objects.filter(kind="association")
    assert offices.count() == 1 + 1 + 2 + 3
    assert Organisation.objects.filter(kind="department").count() == 7 * scale.units_per_office
    county = Organisation.objects.get(name="云南省曲靖市麒麟区科学技术协会")
    assert county.parent.name == "云南省曲靖市科学技术协会"
    assert Plan.objects.count() == scale.plans and Task.objects.count() == scale.tasks
    assert TaskUnit.objects.count() == scale.links
    assert Respondent.objects.count() == 600
    assert EstimationRun.objects.get().status == "done"
    # the bench accounts sign in and see what their office sees
    national = django_user_model.objects.get(username="bench_national")
    unit = django_user_model.objects.get(username="bench_unit")
    assert national.check_password(seeder.BENCH_PASSWORD)
    assert Task.objects.restrict(national, Action.VIEW).count() == scale.tasks
    unit_tasks = Task.objects.restrict(unit, Action.VIEW)
    assert 0 < unit_tasks.count() < scale.tasks
    assert Membership.objects.filter(user__username="bench_viewer", role="viewer").exists()
    assert django_user_model.objects.count() == scale.users
    # every organisation, task and task unit left an audit entry
    assert AuditEntry.objects.filter(object_repr=county.name, action="create").exists()
    assert AuditEntry.objects.filter(content_type__model="taskunit").count() == scale.links
    assert "完成" in out.getvalue()
    # a second run refuses to mix into existing data
    with pytest.raises(CommandError, match="已有组织数据"):
        call_command("kepu_bench_seed", "--scale", "demo", stdout=io.StringIO())
