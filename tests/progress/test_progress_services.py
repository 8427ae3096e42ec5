"""Rounds, cascade, reports, review, optimistic locking, history and audit."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from kepu.audit.models import AuditEntry
from kepu.core.versioning import StaleEditError
from kepu.progress import services
from kepu.progress.models import Report, ReportEvent, ReportingRound, ReportStatus

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def slots(round_):
    return {
        (r.task.number, r.organisation.name, r.role, r.via)
        for r in Report.objects.filter(round=round_).select_related("task", "organisation")
    }


def test_opening_a_round_creates_one_slot_per_task_and_unit_with_cascade(pw, round_):
    assert slots(round_) == {
        ("1", "曲靖市教育体育局", "lead", ""),
        ("1", "曲靖市卫生健康委员会", "cooperate", ""),
        # 各县(市、区) → every county office of the city (not the other city's)
        ("2", "麒麟区科学技术协会", "lead", "各县(市、区)人民政府"),
        ("2", "沾益区科学技术协会", "lead", "各县(市、区)人民政府"),
        # 各乡镇(街道) → every township below the city
        ("2", "麒麟区南宁街道办事处", "cooperate", "各乡镇(街道)"),
        ("3", "曲靖市科学技术协会", "lead", ""),
        # 各成员单位 → the member units of the city itself
        ("3", "曲靖市教育体育局", "cooperate", "各成员单位"),
        ("3", "曲靖市卫生健康委员会", "cooperate", "各成员单位"),
    }
    assert round_.slot_count == 8
    assert all(r.status == ReportStatus.PENDING for r in Report.objects.filter(round=round_))


def test_every_bulk_slot_has_an_audit_entry(pw, round_):
    ids = {str(pk) for pk in Report.objects.filter(round=round_).values_list("pk", flat=True)}
    audited = set(
        AuditEntry.objects.filter(
            content_type__model="report", action="create", object_id__in=ids
        ).values_list("object_id", flat=True)
    )
    assert audited == ids
    entry = AuditEntry.objects.filter(content_type__model="report").first()
    assert entry.region_path.startswith(pw.regions["city_a"].path)


def test_only_an_office_in_scope_opens_rounds(pw):
    for who in ("staff_a1", "admin_b", "county_admin_a"):
        with pytest.raises((PermissionDenied, ValidationError)):
            services.round_open(
                user=pw.users[who],
                office=pw.orgs["office_a"],
                title="x",
                plans=[pw.plan],
                opens_on=dt.date(2026, 7, 1),
                closes_on=dt.date(2026, 7, 2),
            )
    assert not ReportingRound.objects.exists()


def _report(round_, org):
    return Report.objects.get(round=round_, organisation=org, task__number="1")


def test_draft_submit_return_resubmit_accept_with_history(pw, round_):
    report = _report(round_, pw.orgs["unit_a1"])
    staff, admin = pw.users["staff_a1"], pw.users["admin_a"]
    target = report.task.targets.get()
    services.report_save(
        user=staff,
        report=report,
        version=report.version,
        state="on_track",
        narrative="培训教师180人。",
        links="https://example.org/news/1",
        progress={target.pk: 180},
        files=[SimpleUploadedFile("现场.png", PNG, content_type="image/png")],
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.evidence.count() == 1
    assert report.progress.get().value == 180
    services.report_submit(user=staff, report=report)
    with pytest.raises(ValidationError):  # submitted reports are locked
        services.report_save(user=staff, report=report, version=None, state="done", narrative="改")
    with pytest.raises(ValidationError):  # returning needs a comment
        services.report_review(user=admin, report=report, accept=False, comment="")
    services.report_review(user=admin, report=report, accept=False, comment="请补充照片")
    assert report.status == ReportStatus.RETURNED
    services.report_save(
        user=staff, report=report, version=None, state="done", narrative="已培训300人。"
    )
    services.report_submit(user=staff, report=report)
    services.report_review(user=admin, report=report, accept=True)
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED and report.reviewed_by == admin
    events = [
        (e.from_status, e.to_status, e.actor.username)
        for e in ReportEvent.objects.filter(report=report)
    ]
    assert events == [
        ("pending", "draft", "staff_a1"),
        ("draft", "submitted", "staff_a1"),
        ("submitted", "returned", "admin_a"),
        ("returned", "submitted", "staff_a1"),
        ("submitted", "accepted", "admin_a"),
    ]
    updates = AuditEntry.objects.filter(
        content_type__model="report", object_id=str(report.pk), action="update"
    )
    assert updates.count() >= 5


def test_late_submission_is_accepted_and_marked(pw, round_, monkeypatch):
    report = _report(round_, pw.orgs["unit_a1"])
    staff = pw.users["staff_a1"]
    services.report_save(user=staff, report=report, version=None, state="on_track", narrative="x")
    round_.closes_on = dt.date(2020, 1, 1)
    round_.save()
    report.refresh_from_db()
    services.report_submit(user=staff, report=report)
    assert report.status == ReportStatus.SUBMITTED and report.is_late


def test_second_save_with_a_stale_version_is_refused(pw, round_):
    report = _report(round_, pw.orgs["unit_a1"])
    opened = report.version
    services.report_save(
        user=pw.users["staff_a1"], report=report, version=opened, state="on_track", narrative="甲"
    )
    other = Report.objects.get(pk=report.pk)
    other.version = opened  # the second person's form still carries the old version
    with pytest.raises(StaleEditError) as exc:
        services.report_save(
            user=pw.users["staff_a1"], report=other, version=opened, state="behind", narrative="乙"
        )
    assert ("本期进展情况", "乙", "甲") in exc.value.differences
    assert Report.objects.get(pk=report.pk).narrative == "甲"


def test_a_unit_cannot_write_another_units_report(pw, round_):
    report = _report(round_, pw.orgs["unit_a1"])
    for who in ("staff_a2", "admin_a", "county_admin_a"):
        with pytest.raises(PermissionDenied):
            services.report_save(
                user=pw.users[who], report=report, version=None, state="done", narrative="x"
            )
    assert Report.objects.get(pk=report.pk).status == ReportStatus.PENDING


def test_only_the_round_office_reviews(pw, round_):
    report = _report(round_, pw.orgs["unit_a1"])
    services.report_save(
        user=pw.users["staff_a1"], report=report, version=None, state="done", narrative="x"
    )
    services.report_submit(user=pw.users["staff_a1"], report=report)
    for who in ("staff_a1", "viewer_a", "admin_b", "county_admin_a"):
        with pytest.raises(PermissionDenied):
            services.report_review(user=pw.users[who], report=report, accept=True)
    assert Report.objects.get(pk=report.pk).status == ReportStatus.SUBMITTED


def test_bulk_accept_accepts_only_submitted_and_leaves_a_trail(pw, round_):
    reports = list(Report.objects.filter(round=round_, task__number="1"))
    for r in reports:
        staff = pw.users["staff_a1" if r.organisation == pw.orgs["unit_a1"] else "staff_a2"]
        services.report_save(user=staff, report=r, version=None, state="done", narrative="好")
    services.report_submit(user=pw.users["staff_a1"], report=reports[0])
    pending = Report.objects.filter(round=round_, task__number="2").first()
    n = services.reports_bulk_accept(
        user=pw.users["admin_a"], round_=round_, report_ids=[r.pk for r in reports] + [pending.pk]
    )
    assert n == 1
    assert Report.objects.get(pk=reports[0].pk).status == ReportStatus.ACCEPTED
    assert Report.objects.get(pk=reports[1].pk).status == ReportStatus.DRAFT
    assert ReportEvent.objects.filter(report=reports[0], to_status="accepted").exists()
    assert AuditEntry.objects.filter(
        content_type__model="report",
        object_id=str(reports[0].pk),
        action="update",
        changes__status=["submitted", "accepted"],
    ).exists()
    with pytest.raises(PermissionDenied):
        services.reports_bulk_accept(user=pw.users["admin_b"], round_=round_, report_ids=[1])


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("x.exe", b"MZ..."),
        ("fake.png", b"GIF89a......"),
        ("fake.pdf", b"not a pdf"),
        ("fake.docx", b"not a zip"),
        ("empty.jpg", b""),
    ],
)
def test_evidence_is_type_checked(pw, round_, name, data):
    report = _report(round_, pw.orgs["unit_a1"])
    with pytest.raises(ValidationError):
        services.report_save(
            user=pw.users["staff_a1"],
            report=report,
            version=None,
            state="on_track",
            narrative="x",
            files=[SimpleUploadedFile(name, data)],
        )
    assert not report.evidence.exists()


def test_evidence_size_is_checked_before_reading(pw, round_, settings):
    report = _report(round_, pw.orgs["unit_a1"])

    class Huge(SimpleUploadedFile):
        def read(self, *a):  # pragma: no cover - must not be reached
            raise AssertionError("read before the size check")

    big = Huge("big.png", PNG)
    big.size = 50 * 1024 * 1024
    with pytest.raises(ValidationError, match="过大"):
        services.report_save(
            user=pw.users["staff_a1"],
            report=report,
            version=None,
            state="",
            narrative="",
            files=[big],
        )


def test_links_must_be_web_addresses(pw, round_):
    report = _report(round_, pw.orgs["unit_a1"])
    with pytest.raises(ValidationError):
        services.report_save(
            user=pw.users["staff_a1"],
            report=report,
            version=None,
            state="on_track",
            narrative="x",
            links="javascript:alert(1)",
        )


def test_county_splits_its_assignment_to_its_own_units(pw, round_):
    from kepu.orgs.models import Organisation, OrgKind

    county = pw.orgs["county_office_a"]
    dept = Organisation.objects.create(
        name="麒麟区教育体育局",
        kind=OrgKind.DEPARTMENT,
        region=pw.regions["county_a"],
        is_member_unit=True,
    )
    report = Report.objects.get(round=round_, organisation=county)
    new = services.report_split(
        user=pw.users["county_admin_a"], report=report, organisations=[dept, pw.orgs["town_a"]]
    )
    assert {r.organisation for r in new} == {dept}  # the township already had its own slot
    child = new[0]
    assert child.parent == report and child.via == "麒麟区科学技术协会分解"
    with pytest.raises(PermissionDenied):  # not the sibling county, nor outside the county
        services.report_split(user=pw.users["county_admin_a2"], report=report, organisations=[dept])
    sibling = Report.objects.get(round=round_, organisation=pw.orgs["county_office_a2"])
    with pytest.raises(PermissionDenied):
        services.report_split(
            user=pw.users["county_admin_a2"], report=sibling, organisations=[dept]
        )
    assert AuditEntry.objects.filter(
        content_type__model="report", object_id=str(child.pk), action="create"
    ).exists()
