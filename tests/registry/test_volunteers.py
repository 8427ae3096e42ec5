"""Volunteers and teams: personal data for the team's office only, identity numbers never
stored or shown in full, service hours against activities, totals, certificates, and the
all-or-nothing import (at once and as a background job)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from kepu.audit.models import AuditEntry
from kepu.core.files import new_workbook, workbook_bytes, write_row
from kepu.core.importing import DataImportError
from kepu.core.models import Job, WorkStatus
from kepu.registry import selectors, services, totals
from kepu.registry.models import ServiceRecord, Volunteer
from tests.campaigns.conftest import activity_fields, campaign  # noqa: F401
from tests.campaigns.conftest import fields as campaign_fields
from tests.registry.conftest import id_number

YEAR = timezone.localdate().year


def _xlsx(rows) -> bytes:
    wb = new_workbook()
    ws = wb.active
    write_row(ws, 1, services.VOLUNTEER_HEADER)
    for i, r in enumerate(rows, start=2):
        write_row(ws, i, r)
    return workbook_bytes(wb)


def test_the_identity_number_is_never_stored_in_full(world, reg):
    number = id_number(1)
    v = reg["volunteer"]
    assert v.id_masked == number[:3] + "*" * 11 + number[-4:]
    assert v.id_hash == services.id_number_hash(number) and number not in v.id_hash
    assert (v.gender, v.birth_year) == ("male", 1990)
    with connection.cursor() as cur:
        cur.execute("SELECT * FROM registry_volunteer")
        stored = " ".join(str(c) for row in cur.fetchall() for c in row)
    assert number not in stored
    changes = " ".join(
        str(e.changes) for e in AuditEntry.objects.filter(object_id=str(v.pk), object_repr="张**")
    )
    assert changes and number not in changes and v.id_hash not in changes


def test_the_audit_log_never_shows_volunteers_personal_data(client, world, reg):
    """Offices over the team's region read the log; names are masked, phone and identity
    number hidden, in the entry's name, its changes and related rows (service records)."""
    admin = world.users["admin_a"]
    v = reg["volunteer"]
    services.volunteer_save(
        user=admin,
        team=reg["team"],
        volunteer=v,
        version=v.version,
        fields=services.VolunteerFields(
            name="张晓明", phone="13900002222", skills="健康讲座", active=True
        ),
    )
    services.volunteers_import(
        user=admin,
        team=reg["team"],
        name="v.xlsx",
        data=_xlsx([["欧阳小红", id_number(41), "13900004444", "天文", ""]]),
    )
    stored = " ".join(f"{e.object_repr} {e.changes}" for e in AuditEntry.objects.all())
    secrets = ["张晓明", "13900001111", "13900002222", "欧阳小红", "13900004444"]
    secrets += [v.id_masked, id_number(1), id_number(41), id_number(41)[-4:]]
    for text in secrets:
        assert text not in stored, text
    assert "张**" in stored and "欧阳**" in stored
    for who in ("admin_a", "county_admin_a", "super"):
        client.force_login(world.users[who])
        html = client.get(reverse("audit"), {"per_page": 200}).content.decode()
        assert "志愿者" in html or who == "county_admin_a"
        for text in secrets:
            assert text not in html, (who, text)


def test_one_registration_a_person(world, reg):
    with pytest.raises(ValidationError, match="已登记"):
        services.volunteer_save(
            user=world.users["admin_a"],
            team=reg["team"],
            fields=services.VolunteerFields(name="张三", id_number=id_number(1).lower()),
        )


@pytest.mark.parametrize("who", ["staff_a1", "county_admin_a", "admin_b"])
def test_only_the_team_office_writes_personal_data(world, reg, who):
    with pytest.raises(PermissionDenied):
        services.volunteer_save(
            user=world.users[who],
            team=reg["team"],
            fields=services.VolunteerFields(name="李四", id_number=id_number(2)),
        )
    with pytest.raises(PermissionDenied):
        services.service_add(
            user=world.users[who],
            volunteer=reg["volunteer"],
            served_on=dt.date(YEAR, 1, 2),
            hours=Decimal(1),
        )


@pytest.mark.parametrize(
    ("who", "sees"),
    [("admin_a", True), ("viewer_a", True), ("staff_a1", False), ("county_admin_a", False)],
)
def test_team_page_masks_personal_data_outside_the_office(client, world, reg, who, sees):
    client.force_login(world.users[who])
    html = client.get(reverse("registry:team", args=[reg["team"].pk])).content.decode()
    assert ("张晓明" in html) is sees
    assert ("13900001111" in html) is sees
    assert ("张**" in html) is not sees
    assert id_number(1) not in html
    search = client.get(reverse("registry:volunteers"), {"q": "张"}).content.decode()
    assert ("张晓明" in search) is sees


def test_volunteer_page_denies_the_host_unit_and_other_offices(client, world, reg):
    url = reverse("registry:volunteer", args=[reg["volunteer"].pk])
    for who, status in (("staff_a1", 403), ("county_admin_a", 403), ("admin_b", 404)):
        client.force_login(world.users[who])
        assert client.get(url).status_code == status, who
    client.force_login(world.users["admin_a"])
    html = client.get(url).content.decode()
    assert reg["volunteer"].id_masked in html and id_number(1) not in html


def test_service_hours_against_an_activity_and_totals(world, reg, campaign):  # noqa: F811
    from kepu.campaigns import services as campaign_services

    activity = campaign_services.activity_register(
        user=world.users["staff_a1"],
        campaign=campaign,
        organiser=world.orgs["unit_a1"],
        fields=activity_fields(world),
    )
    admin, v = world.users["admin_a"], reg["volunteer"]
    day = timezone.localtime(activity.starts_at).date()
    with pytest.raises(ValidationError, match="举办时间内"):
        services.service_add(
            user=admin,
            volunteer=v,
            served_on=day - dt.timedelta(days=3),
            hours=Decimal(2),
            activity_id=activity.pk,
        )
    with pytest.raises(ValidationError, match="0—24"):
        services.service_add(user=admin, volunteer=v, served_on=day, hours=Decimal(25))
    record = services.service_add(
        user=admin, volunteer=v, served_on=day, hours=Decimal("2.5"), activity_id=activity.pk
    )
    assert record.activity == activity and record.description == activity.title
    # an activity out of sight (another city's) cannot be named
    other = campaign_services.activity_register(
        user=world.users["admin_b"],
        campaign=campaign_services.campaign_create(
            user=world.users["admin_b"], fields=campaign_fields(), quotas=[]
        ),
        organiser=world.orgs["unit_b1"],
        fields=activity_fields(world, region_key="city_b"),
    )
    with pytest.raises(ValidationError, match="不在您的范围内"):
        services.service_add(
            user=admin, volunteer=v, served_on=day, hours=Decimal(1), activity_id=other.pk
        )
    totals = selectors.team_year_totals(user=admin, year=day.year, teams=[reg["team"]])
    expected = Decimal("2.5") + (Decimal("3.5") if day.year == YEAR else 0)
    assert totals[reg["team"].pk]["hours"] == expected
    by_region = selectors.volunteer_totals_by_region(user=admin, year=day.year)
    assert by_region["530302"]["hours"] == expected
    assert by_region["530302"]["volunteers"] == 1 and by_region["530302"]["teams"] == 1
    # the county office sees aggregates of its county, the other city nothing
    county = selectors.volunteer_region_totals(user=world.users["county_admin_a"], year=day.year)
    assert county["total"]["hours"] == expected
    assert (
        selectors.volunteer_region_totals(user=world.users["admin_b"], year=day.year)["total"][
            "hours"
        ]
        == 0
    )


def test_certificate_shows_hours_and_only_the_masked_number(client, world, reg):
    client.force_login(world.users["admin_a"])
    resp = client.get(
        reverse("registry:volunteer_certificate", args=[reg["volunteer"].pk]), {"year": YEAR}
    )
    assert resp.status_code == 200
    xml = zipfile.ZipFile(io.BytesIO(resp.content)).read("word/document.xml").decode()
    assert "科技志愿服务时长证明" in xml and "3.5" in xml and "社区健康讲座" in xml
    assert reg["volunteer"].id_masked in xml and id_number(1) not in xml
    assert "曲靖市科学技术协会" in xml


def test_import_is_all_or_nothing_with_row_errors(world, reg):
    rows = [
        ["王一", id_number(11), "13900000011", "天文", "2026-01-05"],
        ["王二", id_number(12)[:-1] + ("0" if id_number(12)[-1] != "0" else "1"), "", "", ""],
        ["王三", id_number(11), "", "", ""],
        ["王四", id_number(1), "", "", ""],
        ["", id_number(14), "", "", ""],
        ["王五", id_number(15), "12345", "", "明天"],
    ]
    with pytest.raises(DataImportError) as exc:
        services.volunteers_import(
            user=world.users["admin_a"], team=reg["team"], name="v.xlsx", data=_xlsx(rows)
        )
    text = "\n".join(exc.value.errors)
    assert "第3行: 身份证号校验位不正确" in text
    assert "第4行: 身份证号与第 2 行重复" in text
    assert "第5行: 该身份证号已登记" in text
    assert "第6行: 请填写姓名" in text
    assert "第7行: 加入日期应写成" in text and "第7行: 手机号应为 11 位数字" in text
    assert Volunteer.objects.count() == 1  # nothing imported


def test_good_import_creates_volunteers_with_audit_rows(world, reg):
    rows = [[f"志愿者{i}", id_number(100 + i), "", "科普", ""] for i in range(30)]
    n = services.volunteers_import(
        user=world.users["admin_a"], team=reg["team"], name="v.xlsx", data=_xlsx(rows)
    )
    assert n == 30 and Volunteer.objects.filter(team=reg["team"]).count() == 31
    created = AuditEntry.objects.filter(action="create", object_repr__startswith="志愿")
    assert created.count() == 30
    entry = created.get(object_id=str(Volunteer.objects.get(name="志愿者7").pk))
    assert entry.changes["team"] == [None, reg["team"].pk]
    assert entry.changes["skills"] == [None, "科普"] and "id_hash" not in entry.changes
    assert entry.region_path == reg["team"].region.path
    assert entry.organisation_id == reg["team"].office_id
    assert entry.actor == world.users["admin_a"]
    assert totals.differences() == 0
    assert (
        selectors.team_year_totals(user=world.users["admin_a"], year=YEAR, teams=[reg["team"]])[
            reg["team"].pk
        ]["volunteers"]
        == 31
    )


def test_import_by_a_host_unit_is_refused(world, reg):
    with pytest.raises(PermissionDenied):
        services.volunteers_import(
            user=world.users["staff_a1"],
            team=reg["team"],
            name="v.xlsx",
            data=_xlsx([["王一", id_number(11), "", "", ""]]),
        )


def test_large_import_runs_as_a_job(client, world, reg, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KEPU_VOLUNTEER_IMPORT_JOB_BYTES = 100
    client.force_login(world.users["admin_a"])
    data = _xlsx([[f"队员{i}", id_number(200 + i), "", "", ""] for i in range(20)])
    resp = client.post(
        reverse("registry:team_import", args=[reg["team"].pk]),
        {"file": SimpleUploadedFile("名单.xlsx", data)},
    )
    job = Job.objects.get()
    assert resp["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.status == WorkStatus.DONE, job.message
    assert "导入 20 名" in job.message
    assert Volunteer.objects.filter(name__startswith="队员").count() == 20
    folder = tmp_path / "job-uploads"
    assert not folder.exists() or not list(folder.iterdir())


def test_a_failed_job_imports_nothing(client, world, reg, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.KEPU_VOLUNTEER_IMPORT_JOB_BYTES = 100
    client.force_login(world.users["admin_a"])
    data = _xlsx([["队员", id_number(300), "", "", ""], ["队员2", "123", "", "", ""]])
    client.post(
        reverse("registry:team_import", args=[reg["team"].pk]),
        {"file": SimpleUploadedFile("名单.xlsx", data)},
    )
    job = Job.objects.get()
    assert job.status == WorkStatus.FAILED and "第3行" in job.message
    assert not Volunteer.objects.filter(name__startswith="队员").exists()


def test_template_imports_back(world, reg):
    wb = openpyxl.load_workbook(io.BytesIO(services.volunteer_template_xlsx()))
    header = [c.value for c in wb.active[1]]
    assert header == services.VOLUNTEER_HEADER
    n = services.volunteers_import(
        user=world.users["admin_a"],
        team=reg["team"],
        name="模板.xlsx",
        data=services.volunteer_template_xlsx(),
    )
    assert n == 1


def test_volunteer_form_through_the_web(client, world, reg):
    client.force_login(world.users["admin_a"])
    url = reverse("registry:volunteer_new", args=[reg["team"].pk])
    resp = client.post(url, {"name": "孙六", "id_number": "110105194912310021", "active": "on"})
    assert resp.status_code == 200 and "校验位不正确" in resp.content.decode()
    resp = client.post(url, {"name": "孙六", "id_number": id_number(7), "active": "on"})
    v = Volunteer.objects.get(name="孙六")
    assert resp["Location"] == reverse("registry:volunteer", args=[v.pk])
    resp = client.post(
        reverse("registry:service_add", args=[v.pk]),
        {"served_on": f"{YEAR}-01-03", "hours": "4", "description": "科普大篷车"},
    )
    assert ServiceRecord.objects.get(volunteer=v).hours == Decimal(4)


def test_team_form_searches_hosts_within_scope(client, world):
    from kepu.registry.models import VolunteerTeam

    client.force_login(world.users["admin_a"])
    data = {"name": "曲靖市应急科普志愿服务队", "kind": "emergency", "region": "530300"}
    resp = client.post(reverse("registry:team_new"), {**data, "host": world.orgs["unit_b1"].pk})
    assert resp.status_code == 200 and not VolunteerTeam.objects.exists()  # out of scope
    assert 'data-autocomplete-url="/autocomplete/orgs/"' in resp.content.decode()
    resp = client.post(reverse("registry:team_new"), {**data, "host": world.orgs["unit_a2"].pk})
    team = VolunteerTeam.objects.get()
    assert resp["Location"] == reverse("registry:team", args=[team.pk])
    assert team.host == world.orgs["unit_a2"] and team.office == world.orgs["office_a"]


def _record(reg):
    return ServiceRecord.objects.get(volunteer=reg["volunteer"])


def _team_totals(world, reg, year=YEAR):
    return selectors.team_year_totals(user=world.users["admin_a"], year=year, teams=[reg["team"]])[
        reg["team"].pk
    ]


def test_the_team_office_corrects_a_service_record(world, reg):
    admin = world.users["admin_a"]
    r = _record(reg)
    assert _team_totals(world, reg)["hours"] == Decimal("3.5")
    services.service_update(
        user=admin,
        record=r,
        served_on=r.served_on,
        hours=Decimal("5"),
        description="社区健康讲座 (更正)",
        version=r.version,
    )
    t = _team_totals(world, reg)
    assert (t["records"], t["served"], t["hours"]) == (1, 1, Decimal("5"))
    # moved to last year: this year's totals empty, last year's hold it
    last = r.served_on.replace(year=YEAR - 1)
    services.service_update(
        user=admin, record=r, served_on=last, hours=Decimal("2"), version=r.version
    )
    assert _team_totals(world, reg)["records"] == 0
    t = _team_totals(world, reg, YEAR - 1)
    assert (t["records"], t["served"], t["hours"]) == (1, 1, Decimal("2"))
    assert totals.differences() == 0
    entry = AuditEntry.objects.filter(object_id=str(r.pk), action="update").latest("pk")
    assert entry.changes["hours"] == ["5.0", "2"] or entry.changes["hours"][1] in ("2", "2.0")


def test_a_stale_service_edit_is_refused(world, reg):
    from kepu.core.versioning import StaleEditError

    admin = world.users["admin_a"]
    r = _record(reg)
    seen = r.version
    services.service_update(
        user=admin, record=r, served_on=r.served_on, hours=Decimal("4"), version=seen
    )
    stale = _record(reg)
    stale.version = seen
    with pytest.raises(StaleEditError):
        services.service_update(
            user=admin, record=stale, served_on=r.served_on, hours=Decimal("1"), version=seen
        )
    assert _record(reg).hours == Decimal("4") and _team_totals(world, reg)["hours"] == 4


def test_delete_needs_a_reason_and_keeps_it_in_the_log(world, reg):
    admin = world.users["admin_a"]
    r = _record(reg)
    with pytest.raises(ValidationError, match="删除原因"):
        services.service_delete(user=admin, record=r, reason=" ", version=r.version)
    pk = r.pk
    services.service_delete(user=admin, record=r, reason="重复录入", version=r.version)
    assert not ServiceRecord.objects.exists()
    t = _team_totals(world, reg)
    assert (t["records"], t["served"], t["hours"]) == (0, 0, 0)
    assert totals.differences() == 0
    entry = AuditEntry.objects.get(object_id=str(pk), action="delete")
    assert entry.changes["reason"] == [None, "重复录入"]
    assert entry.changes["hours"][0] == "3.5"


@pytest.mark.parametrize("who", ["county_admin_a", "staff_a1", "viewer_a"])
def test_only_the_team_office_edits_service_records(world, reg, who):
    r = _record(reg)
    with pytest.raises(PermissionDenied):
        services.service_update(
            user=world.users[who],
            record=r,
            served_on=r.served_on,
            hours=Decimal("1"),
            version=r.version,
        )
    with pytest.raises(PermissionDenied):
        services.service_delete(user=world.users[who], record=r, reason="x", version=r.version)
    assert _record(reg).hours == Decimal("3.5")


def test_service_edit_and_delete_through_the_web(client, world, reg):
    r = _record(reg)
    client.force_login(world.users["admin_a"])
    page = client.get(reverse("registry:volunteer", args=[reg["volunteer"].pk]))
    assert reverse("registry:service_edit", args=[r.pk]) in page.content.decode()
    url = reverse("registry:service_edit", args=[r.pk])
    assert "删除原因" in client.get(url).content.decode()
    resp = client.post(
        url,
        {
            "served_on": r.served_on.isoformat(),
            "hours": "6",
            "description": "更正",
            "version": r.version,
        },
    )
    assert resp.status_code == 302 and _record(reg).hours == Decimal("6")
    # a second save from the old page is refused, showing the saved value
    resp = client.post(
        url,
        {
            "served_on": r.served_on.isoformat(),
            "hours": "7",
            "description": "更正",
            "version": r.version,
        },
    )
    assert resp.status_code == 200 and "保存冲突" in resp.content.decode()
    resp = client.post(
        reverse("registry:service_delete", args=[r.pk]),
        {"reason": "录入错误", "version": r.version + 1},
    )
    assert resp.status_code == 302 and not ServiceRecord.objects.exists()


def test_old_audit_entries_are_scrubbed(world, reg):
    """The migration masks entries written before the audit masked personal data."""
    import importlib

    from django.apps import apps
    from django.contrib.contenttypes.models import ContentType

    scrub = importlib.import_module("kepu.registry.migrations.0006_scrub_volunteer_audit").scrub
    v = reg["volunteer"]
    old = AuditEntry.objects.create(
        action="update",
        content_type=ContentType.objects.get_for_model(Volunteer),
        object_id=str(v.pk),
        object_repr=f"张晓明 ({v.id_masked})",
        changes={"phone": ["13900001111", "13900003333"], "name": ["张晓", "张晓明"]},
    )
    if connection.vendor == "postgresql":  # the set-based UPDATE
        with connection.schema_editor(atomic=False) as editor:
            scrub(apps, editor)
    else:  # the ORM batches (SQLite's schema editor cannot open inside a test transaction)
        scrub(apps, None)
    old.refresh_from_db()
    assert old.object_repr == "张**"
    assert old.changes == {
        "phone": ["******", "****** (已修改)"],
        "name": ["张*", "张**"],
    }


def test_region_totals_follow_team_moves_and_volunteer_changes(world, reg):
    from kepu.registry import totals as maintained

    admin = world.users["admin_a"]
    team, v = reg["team"], reg["volunteer"]
    county, city = world.regions["county_a"], world.regions["city_a"]

    def by_region(user="admin_a"):
        return selectors.volunteer_totals_by_region(user=world.users[user], year=YEAR)

    assert by_region()[county.code]["volunteers"] == 1
    assert by_region("county_admin_a")[county.code]["volunteers"] == 1
    services.volunteer_save(
        user=admin,
        team=team,
        volunteer=v,
        version=v.version,
        fields=services.VolunteerFields(name="张晓明", active=False),
    )
    assert by_region()[county.code]["volunteers"] == 0
    services.team_save(
        user=admin,
        team=team,
        version=team.version,
        fields=services.TeamFields(name=team.name, kind=team.kind, region=city),
    )
    rows = by_region()
    assert city.code in rows and rows[city.code]["teams"] == 1
    assert rows[city.code]["hours"] == Decimal("3.5") and rows[city.code]["served"] == 1
    assert county.code not in rows or rows[county.code]["hours"] == 0
    assert maintained.differences() == 0
    # the rebuild gives the same rows
    maintained.rebuild()
    assert by_region() == rows and maintained.differences() == 0


def test_recount_check_command(world, reg):
    from django.core.management import CommandError, call_command

    from kepu.registry.models import TeamTotals

    call_command("registry_recount", "--check")
    TeamTotals.objects.update(volunteers=7)
    with pytest.raises(CommandError, match="不一致"):
        call_command("registry_recount", "--check")
    call_command("registry_recount")
    call_command("registry_recount", "--check")
