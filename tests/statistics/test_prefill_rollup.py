"""Annual statistics: prefill from the museum and volunteer registries, the roll-up summed
in the database (checked against the pure sum), and the background jobs that open a
collection and import population figures."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from kepu.audit.models import AuditEntry
from kepu.core.importing import DataImportError
from kepu.core.models import Job, WorkStatus
from kepu.orgs.models import Organisation, OrgKind
from kepu.regions.models import Level, Region
from kepu.registry import services as registry_services
from kepu.statistics import core, selectors, services
from kepu.statistics.models import (
    Collection,
    CollectionTotal,
    Population,
    ReportStatus,
    StatReport,
)
from kepu.statistics.prefill import prefill_values
from tests.registry.conftest import id_number, registry_world
from tests.statistics.conftest import make_catalogue, make_collection, report_of, shipped_data

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


# --- prefill: museums and volunteers ----------------------------------------------------------
def _accept_museum_report(world, report, visitors):
    from tests.registry.test_museums import GOOD

    registry_services.museum_report_save(
        user=world.users["admin_a"],
        report=report,
        figures={**GOOD, "visitors": visitors},
        summary="全年免费开放三百天, 举办科普展览六个、教育活动三百二十场, 开展流动科技馆进校园活动。",
        subsidy_use="用于展品更新",
        version=report.version,
        submit=True,
    )
    registry_services.museum_report_review(user=world.users["admin_a"], report=report, accept=True)


def test_prefill_museums_and_volunteers_from_the_registry(client, world):
    reg = registry_world(world)  # unit_a1: a museum (16,000/9,000 m²), a hosted team
    _accept_museum_report(world, reg["report"], 250000)
    admin = world.users["admin_a"]
    # a second volunteer, and one no longer on the register (not counted)
    for n, active in ((2, True), (3, False)):
        v = registry_services.volunteer_save(
            user=admin,
            team=reg["team"],
            fields=registry_services.VolunteerFields(name=f"志愿者{n}", id_number=id_number(n)),
        )
        if not active:
            v.active = False
            v.save()
    registry_services.service_add(
        user=admin,
        volunteer=reg["volunteer"],
        served_on=dt.date(YEAR - 1, 12, 31),  # last year: not counted
        hours=Decimal("8"),
    )
    # the office's own team without a host counts for the office, not for unit_a1
    own = registry_services.team_save(
        user=admin,
        fields=registry_services.TeamFields(
            name="曲靖市科协科技志愿服务队", kind="general", region=world.regions["city_a"]
        ),
    )
    registry_services.volunteer_save(
        user=admin,
        team=own,
        fields=registry_services.VolunteerFields(name="李四", id_number=id_number(4)),
    )
    catalogue = make_catalogue(world, YEAR).parsed()
    values = prefill_values(
        user=world.users["staff_a1"],
        organisation=world.orgs["unit_a1"],
        year=YEAR,
        indicators=catalogue.indicators,
    )
    assert values["V01"] == 1  # registry.museums
    assert values["V02"] == 16000 and values["V03"] == 9000  # registry.museums:<area>
    assert values["V04"] == 250000  # registry.museum_reports:visitors (accepted)
    assert values["P08"] == 2  # registry.volunteers: active, in the team unit_a1 hosts
    assert values["P10"] == 4  # registry.volunteer_hours: 3.5 h this year, rounded
    office = prefill_values(
        user=admin, organisation=world.orgs["office_a"], year=YEAR, indicators=catalogue.indicators
    )
    assert office["P08"] == 1 and office["V01"] == 0 and office["P10"] == 0
    # another unit sees none of unit_a1's figures
    other = prefill_values(
        user=world.users["staff_a2"],
        organisation=world.orgs["unit_a2"],
        year=YEAR,
        indicators=catalogue.indicators,
    )
    assert other["V01"] == 0 and other["V02"] == 0 and other["P08"] == 0
    assert "V04" not in other  # no accepted museum report: left for the unit to fill
    # and the form shows them as prefilled
    collection = services.collection_create(
        user=admin,
        catalogue=Collection._meta.get_field("catalogue").related_model.objects.get(year=YEAR),
        fields=services.CollectionFields(title="t", year=YEAR),
    )
    client.force_login(world.users["staff_a1"])
    rep = report_of(collection, world)
    html = client.get(reverse("statistics:report", args=[rep.pk])).content.decode()
    assert 'name="v_V04" id="v_V04" value="250000"' in html
    assert 'name="v_P08" id="v_P08" value="2"' in html


def test_museum_visitors_only_from_accepted_reports(world):
    reg = registry_world(world)  # this year's report is a draft
    catalogue = make_catalogue(world, YEAR).parsed()
    values = prefill_values(
        user=world.users["staff_a1"],
        organisation=world.orgs["unit_a1"],
        year=YEAR,
        indicators=catalogue.indicators,
    )
    assert "V04" not in values and values["V01"] == 1
    assert reg["report"].status == "draft"


def test_catalogue_import_refuses_an_unknown_prefill_source(world):
    data = shipped_data(2030)
    data["indicators"][0]["prefill"] = "registry.nothing"
    with pytest.raises(DataImportError) as exc:
        services.catalogue_import(user=world.users["super"], data=data)
    assert "预填来源「registry.nothing」不存在" in "".join(exc.value.errors)


# --- the roll-up, summed in the database --------------------------------------------------
def _spread_reports(world, collection, n=40):
    """``n`` units across the city, its county and a township, with random values."""
    rng = random.Random(7)
    town2 = Region.objects.create(
        code="530302002",
        name="白石江街道",
        level=Level.TOWNSHIP,
        parent=world.regions["county_a"],
        path=world.regions["county_a"].path + "530302002/",
    )
    places = [world.regions["city_a"], world.regions["county_a"], world.regions["town_a"], town2]
    codes = collection.catalogue.parsed().codes()
    orgs = Organisation.objects.bulk_create(
        Organisation(name=f"单位{k}", kind=OrgKind.SCHOOL, region=places[k % 4]) for k in range(n)
    )
    rows = []
    for k, o in enumerate(orgs):
        values = {c: rng.randrange(0, 10**6) for c in codes}
        if k % 5 == 0:
            values = {}  # accepted without values: counted, adds nothing
        rows.append(
            StatReport(
                collection=collection,
                organisation=o,
                region=o.region,
                department=["03", "04", "99"][k % 3],
                department_name=["教育", "卫生健康", "其他"][k % 3],
                values=values,
                status=ReportStatus.ACCEPTED if k % 7 else ReportStatus.SUBMITTED,
            )
        )
    StatReport.objects.bulk_create(rows)
    return rows


@pytest.mark.parametrize("kept", [True, False], ids=["kept-totals", "from-reports"])
@pytest.mark.parametrize("by", ["region", "department"])
def test_rollup_in_the_database_matches_the_pure_sum(world, by, kept):
    collection = make_collection(world)
    rows = _spread_reports(world, collection)
    if kept:
        services.collection_totals_rebuild(collection=collection)
    else:  # a collection opened before totals were kept: summed from the reports
        CollectionTotal.objects.filter(collection=collection).delete()
    codes = collection.catalogue.parsed().codes()
    base = collection.region.path
    accepted = [r for r in rows if r.status == ReportStatus.ACCEPTED]
    expected = core.rollup(
        (
            (core.region_group(r.region.path, base) if by == "region" else r.department, r.values)
            for r in accepted
        ),
        codes,
    )
    result = selectors.rollup(user=world.users["admin_a"], collection=collection, by=by)
    got = {r.key: {**r.values, "_reports": r.reports} for r in result.rows}
    assert got == expected
    if by == "region":
        # township reports roll up into their county; the city's own units are 本级
        assert set(got) == {base, world.regions["county_a"].path}
        labels = {r.key: r.label for r in result.rows}
        assert labels[base] == "曲靖市(本级)" and labels[world.regions["county_a"].path] == "麒麟区"
    else:
        assert {r.label for r in result.rows} == {"教育", "卫生健康", "其他"}
    assert result.total.reports == len(accepted)


def test_kept_totals_follow_each_accept_and_match_a_rebuild(world):
    from tests.statistics.conftest import valid_values

    collection = make_collection(world)
    for key, over in (("unit_a1", {}), ("town_a", {"F03": 10, "F02": 30, "F01": 70})):
        rep = report_of(collection, world, key)
        services.report_save(
            user=world.users["super"], report=rep, raw=valid_values(**over), submit=True
        )
        services.report_review(user=world.users["admin_a"], report=rep, accept=True)
    kept = {
        (t.group, t.department): (t.reports, t.values)
        for t in CollectionTotal.objects.filter(collection=collection)
    }
    assert kept[("", "")][0] == 2 and kept[("", "")][1]["F03"] == 50
    services.collection_totals_rebuild(collection=collection)
    rebuilt = {
        (t.group, t.department): (t.reports, {k: v for k, v in t.values.items() if v})
        for t in CollectionTotal.objects.filter(collection=collection)
    }
    assert {k: (n, {c: x for c, x in v.items() if x}) for k, (n, v) in kept.items()} == rebuilt
    # the county office does not see the city's totals: rolled up from its own reports
    assert not CollectionTotal.objects.restrict(world.users["county_admin_a"]).exists()
    county = selectors.rollup(user=world.users["county_admin_a"], collection=collection)
    assert county.total.reports == 1 and county.total.values["F03"] == 10
    city = selectors.rollup(user=world.users["admin_a"], collection=collection)
    assert city.total.reports == 2 and city.total.values["F03"] == 50
    assert not CollectionTotal.objects.restrict(world.users["admin_b"]).exists()
    assert not CollectionTotal.objects.restrict(world.users["staff_a1"]).exists()


def test_series_sums_one_indicator_per_year_in_the_database(world):
    collection = make_collection(world)
    rows = _spread_reports(world, collection, n=14)
    services.collection_totals_rebuild(collection=collection)
    expected = sum(r.values.get("F03", 0) for r in rows if r.status == ReportStatus.ACCEPTED)
    assert selectors.series(user=world.users["admin_a"], collection=collection, code="F03") == [
        (collection.year, expected)
    ]
    CollectionTotal.objects.filter(collection=collection).delete()  # summed from the reports
    assert selectors.series(user=world.users["admin_a"], collection=collection, code="F03") == [
        (collection.year, expected)
    ]
    with pytest.raises(ValueError):
        selectors.series(user=world.users["admin_a"], collection=collection, code="F03' OR 1=1")


def test_recount_command_gives_an_old_collection_its_kept_totals(world):
    from io import StringIO

    from django.core.management import call_command
    from django.core.management.base import CommandError

    collection = make_collection(world)
    rows = _spread_reports(world, collection, n=10)
    CollectionTotal.objects.filter(collection=collection).delete()  # opened before the totals
    out = StringIO()
    call_command("statistics_recount", "--collection", str(collection.pk), stdout=out)
    assert "已重新汇总" in out.getvalue()
    whole = CollectionTotal.objects.get(collection=collection, group="", department="")
    accepted = [r for r in rows if r.status == ReportStatus.ACCEPTED]
    assert whole.reports == len(accepted)
    assert whole.values["F03"] == sum(r.values.get("F03", 0) for r in accepted)
    with pytest.raises(CommandError, match="不存在"):
        call_command("statistics_recount", "--collection", "999999", stdout=StringIO())


# --- background jobs ----------------------------------------------------------------------
def test_collection_is_created_by_a_job_with_audit(client, world):
    catalogue = make_catalogue(world)
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("statistics:collection_new"),
        {"title": "2026年度统计", "year": "2026", "jump_threshold": "50", "due_date": ""},
    )
    collection = Collection.objects.get(office=world.orgs["office_a"], year=2026)
    assert resp.status_code == 302 and resp.url == reverse(
        "statistics:collection", args=[collection.pk]
    )
    job = Job.objects.get(kind="statistics_collection")
    assert job.status == WorkStatus.DONE and job.params["collection"] == collection.pk
    assert job.organisation == world.orgs["office_a"]
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert f'href="{reverse("statistics:collection", args=[collection.pk])}">查看结果' in page
    n = collection.reports.count()
    assert n >= 4 and f"{n} 个单位" in job.message
    assert AuditEntry.objects.filter(content_type__model="statreport", action="create").count() == n
    # a second one of the same year is refused on the form, no job started
    resp = client.post(
        reverse("statistics:collection_new"),
        {"title": "again", "year": "2026", "jump_threshold": "50", "due_date": ""},
    )
    assert resp.status_code == 200 and "已组织2026年度" in resp.content.decode()
    assert Job.objects.filter(kind="statistics_collection").count() == 1
    assert catalogue.collections.count() == 1


def test_collection_job_is_all_or_nothing(world, monkeypatch):
    from kepu.core.jobs import job_start

    catalogue = make_catalogue(world)

    def broken(**kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "audit_rows", broken)
    job = services.collection_start(
        user=world.users["admin_a"],
        catalogue=catalogue,
        fields=services.CollectionFields(title="t", year=2026),
    )
    job.refresh_from_db()
    assert job.status == WorkStatus.FAILED and "disk full" in job.message
    assert not Collection.objects.exists() and not StatReport.objects.exists()
    assert job_start  # the job went through kepu.core.jobs


def test_collection_job_reports_progress(world):
    from kepu.core.jobs import Tracker

    catalogue = make_catalogue(world)
    steps = []
    services.collection_create(
        user=world.users["admin_a"],
        catalogue=catalogue,
        fields=services.CollectionFields(title="t", year=2026),
        progress=lambda f, m: steps.append((f, m)),
    )
    assert steps[0][0] < steps[-1][0] and "写入" in steps[-1][1]
    assert Tracker  # progress goes to the job row through JobContext.progress


def test_population_import_runs_as_a_job(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    client.force_login(world.users["admin_a"])
    good = "区划代码,年度,常住人口(人)\n530300,2026,1000000\n530302,2026,200000\n".encode()
    resp = client.post(
        reverse("statistics:population"), {"file": SimpleUploadedFile("p.csv", good)}
    )
    assert resp.status_code == 302
    job = Job.objects.get(kind="statistics_population")
    assert job.status == WorkStatus.DONE and "2 条" in job.message
    assert Population.objects.count() == 2
    assert AuditEntry.objects.filter(content_type__model="population").count() == 2
    assert not list((tmp_path / "job-uploads").iterdir())  # the upload is removed
    bad = "区划代码,年度,常住人口(人)\n530300,2026,abc\n530100,2026,5\n".encode()
    resp = client.post(reverse("statistics:population"), {"file": SimpleUploadedFile("p.csv", bad)})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "第2行: 常住人口「abc」" in html and "第3行: 区划代码「530100」" in html
    assert Population.objects.count() == 2  # nothing of the bad file
    assert Job.objects.filter(kind="statistics_population", status=WorkStatus.FAILED).count() == 1


def test_index_shows_the_users_running_statistics_jobs(client, world):
    Job.objects.create(
        kind="statistics_collection",
        title="生成2026年度科普统计报表",
        created_by=world.users["admin_a"],
        organisation=world.orgs["office_a"],
        func="kepu.statistics.jobs.collection_create_job",
        status=WorkStatus.RUNNING,
        progress=40,
        message="写入统计调查和 60001 份报表",
        heartbeat_at=timezone.now(),
        started_at=timezone.now(),
    )
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("statistics:index")).content.decode()
    assert "正在后台执行" in html and "写入统计调查和 60001 份报表" in html
    client.force_login(world.users["admin_b"])
    assert "正在后台执行" not in client.get(reverse("statistics:index")).content.decode()


def test_a_queued_collection_job_leads_to_its_progress_page(client, world, monkeypatch):
    from types import SimpleNamespace

    from kepu.core import jobs

    # the database backend: the job waits for a worker
    monkeypatch.setattr(
        jobs, "run_job", SimpleNamespace(enqueue=lambda pk: SimpleNamespace(id=f"t{pk}"))
    )
    make_catalogue(world)
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("statistics:collection_new"),
        {"title": "2026年度统计", "year": "2026", "jump_threshold": "50", "due_date": ""},
    )
    job = Job.objects.get(kind="statistics_collection")
    assert resp.status_code == 302 and resp.url == reverse("jobs:detail", args=[job.pk])
    assert job.status == WorkStatus.QUEUED and not Collection.objects.exists()
    html = client.get(reverse("statistics:index")).content.decode()
    assert "正在后台执行" in html and f"#{job.pk}" in html
    monkeypatch.undo()
    jobs.run_job.call(job.pk)  # the worker runs it later
    job.refresh_from_db()
    assert job.status == WorkStatus.DONE and Collection.objects.count() == 1
