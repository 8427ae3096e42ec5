"""Scoping matrix for every progress and notifications view: allowed cells succeed,
denied cells get 404 (out of sight) or 403 (visible, not allowed) and change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kepu.notifications.services import notify_users
from kepu.progress import services
from kepu.progress.models import Notice, Report, ReportingRound, ReportStatus, TaskTermination

pytestmark = pytest.mark.django_db

USERS = [
    "super",
    "admin_a",
    "admin_b",
    "viewer_a",
    "staff_a1",
    "staff_a2",
    "county_admin_a",
    "county_admin_a2",
    "nobody",
    "anon",
]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _client(client, pw, who):
    if who != "anon":
        client.force_login(pw.users[who])
    return client


def _check(resp, who, expected: dict[str, int], default: int = 404):
    if who == "anon":
        assert resp.status_code == 302 and reverse("login") in resp["Location"]
        return
    want = expected.get(who, default)
    assert resp.status_code == want, (who, resp.status_code, want)


def unit_report(round_, pw, org="unit_a1", number="1"):
    return Report.objects.get(round=round_, organisation=pw.orgs[org], task__number=number)


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize(
    "name",
    [
        "progress:rounds",
        "progress:reports",
        "progress:notices",
        "progress:dashboard",
        "notifications:inbox",
    ],
)
def test_lists_open_for_everyone_signed_in(client, pw, round_, who, name):
    resp = _client(client, pw, who).get(reverse(name))
    _check(resp, who, {}, default=200)


@pytest.mark.parametrize("who", [u for u in USERS if u != "anon"])
def test_round_list_and_dashboard_content_is_scoped(client, pw, round_, who):
    c = _client(client, pw, who)
    sees = who in {"super", "admin_a", "viewer_a"}
    assert (round_.title in c.get(reverse("progress:rounds")).content.decode()) == sees
    assert (round_.title in c.get(reverse("progress:dashboard")).content.decode()) == sees


@pytest.mark.parametrize("who", USERS)
def test_round_detail(client, pw, round_, who):
    resp = _client(client, pw, who).get(reverse("progress:round", args=[round_.pk]))
    _check(resp, who, {"super": 200, "admin_a": 200, "viewer_a": 200})


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["progress:round_docx", "progress:round_xlsx"])
def test_round_exports(client, pw, round_, who, name):
    resp = _client(client, pw, who).get(reverse(name, args=[round_.pk]))
    _check(resp, who, {"super": 200, "admin_a": 200, "viewer_a": 200})


@pytest.mark.parametrize("who", USERS)
def test_round_create(client, pw, who):
    c = _client(client, pw, who)
    get = c.get(reverse("progress:round_create"))
    post = c.post(
        reverse("progress:round_create"),
        {
            "office": pw.orgs["office_a"].pk,
            "title": "矩阵轮次",
            "plans": [pw.plan.pk],
            "opens_on": "2026-07-01",
            "closes_on": "2026-07-31",
        },
    )
    created = ReportingRound.objects.filter(title="矩阵轮次").exists()
    offices = {"super", "admin_a", "admin_b", "county_admin_a", "county_admin_a2"}
    _check(get, who, dict.fromkeys(offices, 200), default=403)
    if who in ("super", "admin_a"):
        assert post.status_code == 302 and created
    else:
        # other offices: office_a is not one of theirs (form re-shown), no round
        assert post.status_code in ({200} if who in offices else {302, 403}) and not created


@pytest.mark.parametrize("who", USERS)
def test_review_queue_and_close(client, pw, round_, who):
    c = _client(client, pw, who)
    _check(
        c.get(reverse("progress:review", args=[round_.pk])),
        who,
        {"super": 200, "admin_a": 200, "viewer_a": 403},
    )
    resp = c.post(reverse("progress:round_close", args=[round_.pk]))
    _check(resp, who, {"super": 302, "admin_a": 302, "viewer_a": 403})
    closed = ReportingRound.objects.get(pk=round_.pk).status == "closed"
    assert closed == (who in ("super", "admin_a"))


@pytest.mark.parametrize("who", USERS)
def test_unit_report_view(client, pw, round_, who):
    report = unit_report(round_, pw)
    resp = _client(client, pw, who).get(reverse("progress:report", args=[report.pk]))
    _check(resp, who, {"super": 200, "admin_a": 200, "viewer_a": 200, "staff_a1": 200})


@pytest.mark.parametrize("who", USERS)
def test_unit_report_write(client, pw, round_, who):
    report = unit_report(round_, pw)
    resp = _client(client, pw, who).post(
        reverse("progress:report", args=[report.pk]),
        {"state": "on_track", "narrative": "矩阵写入", "links": "", "version": report.version},
    )
    _check(resp, who, {"super": 302, "staff_a1": 302, "admin_a": 403, "viewer_a": 403})
    written = Report.objects.get(pk=report.pk).narrative == "矩阵写入"
    assert written == (who in ("super", "staff_a1"))


@pytest.mark.parametrize("who", USERS)
def test_county_assignment_is_seen_by_its_county_not_the_sibling(client, pw, round_, who):
    report = unit_report(round_, pw, org="county_office_a", number="2")
    c = _client(client, pw, who)
    _check(
        c.get(reverse("progress:report", args=[report.pk])),
        who,
        {"super": 200, "admin_a": 200, "viewer_a": 200, "county_admin_a": 200},
    )
    if who != "anon":
        html = c.get(reverse("progress:reports")).content.decode()
        url = reverse("progress:report", args=[report.pk])
        assert (url in html) == (who in ("super", "county_admin_a"))


def _submitted(pw, round_):
    report = unit_report(round_, pw)
    services.report_save(
        user=pw.users["staff_a1"],
        report=report,
        version=None,
        state="done",
        narrative="完成",
        files=[SimpleUploadedFile("现场.png", PNG)],
    )
    services.report_submit(user=pw.users["staff_a1"], report=report)
    return report


@pytest.mark.parametrize("who", USERS)
def test_report_review(client, pw, round_, who):
    report = _submitted(pw, round_)
    resp = _client(client, pw, who).post(
        reverse("progress:report_review", args=[report.pk]),
        {"decision": "accept", "comment": "", "version": ""},
    )
    _check(resp, who, {"super": 302, "admin_a": 302, "viewer_a": 403, "staff_a1": 403})
    accepted = Report.objects.get(pk=report.pk).status == ReportStatus.ACCEPTED
    assert accepted == (who in ("super", "admin_a"))


@pytest.mark.parametrize("who", USERS)
def test_bulk_accept(client, pw, round_, who):
    report = _submitted(pw, round_)
    resp = _client(client, pw, who).post(
        reverse("progress:review", args=[round_.pk]), {"report": [report.pk]}
    )
    _check(resp, who, {"super": 302, "admin_a": 302, "viewer_a": 403})
    accepted = Report.objects.get(pk=report.pk).status == ReportStatus.ACCEPTED
    assert accepted == (who in ("super", "admin_a"))


@pytest.mark.parametrize("who", USERS)
def test_evidence_download(client, pw, round_, who):
    report = _submitted(pw, round_)
    evidence = report.evidence.get()
    resp = _client(client, pw, who).get(reverse("progress:evidence", args=[evidence.pk]))
    _check(resp, who, {"super": 200, "admin_a": 200, "viewer_a": 200, "staff_a1": 200})


@pytest.mark.parametrize("who", USERS)
def test_notice_create(client, pw, round_, who):
    report = unit_report(round_, pw)
    c = _client(client, pw, who)
    url = reverse("progress:notice_create", args=[report.pk])
    get = c.get(url)
    post = c.post(
        url,
        {"level": "red", "subject": "矩阵督办", "requirement": "请加快", "answer_by": "2026-10-01"},
    )
    expected = {"super": 200, "admin_a": 200, "viewer_a": 403, "staff_a1": 403}
    _check(get, who, expected)
    _check(post, who, {**expected, "super": 302, "admin_a": 302})
    assert Notice.objects.filter(subject="矩阵督办").exists() == (who in ("super", "admin_a"))


@pytest.fixture
def notice(pw, round_):
    report = unit_report(round_, pw)
    return services.notice_create(
        user=pw.users["admin_a"],
        office=pw.orgs["office_a"],
        task=report.task,
        organisation=report.organisation,
        report=report,
        level="yellow",
        subject="请加快推进",
        requirement="请于期限前反馈。",
        answer_by=dt.date(2026, 10, 1),
    )


@pytest.mark.parametrize("who", USERS)
def test_notice_view_and_docx(client, pw, notice, who):
    c = _client(client, pw, who)
    allowed = {"super": 200, "admin_a": 200, "viewer_a": 200, "staff_a1": 200}
    _check(c.get(reverse("progress:notice", args=[notice.pk])), who, allowed)
    resp = c.get(reverse("progress:notice_docx", args=[notice.pk]))
    _check(resp, who, allowed)
    if resp.status_code == 200:
        assert resp.content.startswith(b"PK")


@pytest.mark.parametrize("who", USERS)
def test_notice_step_issue_is_the_offices(client, pw, notice, who):
    resp = _client(client, pw, who).post(
        reverse("progress:notice", args=[notice.pk]), {"comment": "", "version": notice.version}
    )
    issued = Notice.objects.get(pk=notice.pk).status == "issued"
    assert issued == (who in ("super", "admin_a"))
    if who in ("super", "admin_a"):
        assert resp.status_code == 302
    elif who in ("viewer_a", "staff_a1"):
        assert resp.status_code in (200, 403)  # form re-shown with the refusal
    else:
        _check(resp, who, {})


@pytest.mark.parametrize("who", USERS)
def test_office_settings(client, pw, who):
    c = _client(client, pw, who)
    _check(
        c.get(reverse("progress:settings")),
        who,
        {
            "super": 200,
            "admin_a": 200,
            "admin_b": 200,
            "county_admin_a": 200,
            "county_admin_a2": 200,
        },
        default=403,
    )


@pytest.mark.parametrize("who", USERS)
def test_task_terminate(client, pw, who):
    task = pw.tasks[0]
    resp = _client(client, pw, who).post(
        reverse("progress:task_terminate", args=[task.pk]), {"reason": "政策调整"}
    )
    _check(
        resp, who, {"super": 302, "admin_a": 302, "viewer_a": 403, "staff_a1": 403, "staff_a2": 403}
    )
    assert TaskTermination.objects.filter(task=task).exists() == (who in ("super", "admin_a"))


def test_inbox_shows_only_ones_own_notifications(client, pw):
    notify_users(users=[pw.users["staff_a1"]], key="k1", title="给教体局的通知")
    notify_users(users=[pw.users["staff_a2"]], key="k1", title="给卫健委的通知")
    html = _client(client, pw, "staff_a1").get(reverse("notifications:inbox")).content.decode()
    assert "给教体局的通知" in html and "给卫健委的通知" not in html
    client.post(reverse("notifications:mark_read"))
    from kepu.notifications.models import Notification

    assert Notification.objects.get(user=pw.users["staff_a1"]).read_at is not None
    assert Notification.objects.get(user=pw.users["staff_a2"]).read_at is None


@pytest.mark.parametrize("who", USERS)
def test_report_split(client, pw, round_, who):
    from kepu.orgs.models import Organisation, OrgKind

    dept = Organisation.objects.create(
        name="麒麟区教育体育局",
        kind=OrgKind.DEPARTMENT,
        region=pw.regions["county_a"],
        is_member_unit=True,
    )
    report = unit_report(round_, pw, org="county_office_a", number="2")
    resp = _client(client, pw, who).post(
        reverse("progress:report_split", args=[report.pk]), {"organisation": [dept.pk]}
    )
    _check(resp, who, {"super": 302, "county_admin_a": 302, "admin_a": 403, "viewer_a": 403})
    split = Report.objects.filter(parent=report, organisation=dept).exists()
    assert split == (who in ("super", "county_admin_a"))
