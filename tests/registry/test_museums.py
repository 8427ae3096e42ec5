"""Science museums: the venue record, the annual report (validation, submit, review) and
the per-region summary and export."""

from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from kepu.orgs.models import Organisation, OrgKind
from kepu.registry import selectors, services
from kepu.registry.models import MuseumReport, ReportStatus
from kepu.registry.museums import report_errors
from tests.registry.conftest import museum_fields

YEAR = timezone.localdate().year
GOOD = {
    "opening_days": 300,
    "visitors": 250000,
    "staff": 80,
    "staff_full_time": 50,
    "operating_funds": Decimal("1200.50"),
    "exhibits": 400,
    "temp_exhibitions": 6,
    "education_activities": 320,
    "education_participants": 45000,
    "outreach_events": 40,
    "research_projects": 3,
    "papers": 5,
    "exhibits_developed": 12,
    "satisfaction": 96,
    "complaints": 1,
    "media_reports": 30,
    "subsidy_received": Decimal("500"),
    "subsidy_used": Decimal("480"),
}
SUMMARY = "全年免费开放三百天, 举办科普展览六个、教育活动三百二十场, 开展流动科技馆进校园活动。"


@pytest.fixture
def museum(world):
    return services.museum_save(
        user=world.users["staff_a1"],
        organisation=world.orgs["unit_a1"],
        fields=museum_fields(world),
    )


def _save(
    world, report, figures, *, submit=False, who="staff_a1", summary=SUMMARY, use="用于展品更新"
):
    return services.museum_report_save(
        user=world.users[who],
        report=report,
        figures=figures,
        summary=summary,
        subsidy_use=use,
        version=report.version,
        submit=submit,
    )


def test_scale_follows_the_building_area(world, museum):
    assert museum.scale == "large"
    small = services.museum_save(
        user=world.users["admin_a"],
        museum=museum,
        fields=museum_fields(world, building_area=5000, exhibition_area=3000),
        version=museum.version,
    )
    assert small.scale == "small"


def test_exhibition_area_cannot_exceed_the_building(world):
    with pytest.raises(ValidationError) as exc:
        services.museum_save(
            user=world.users["staff_a1"],
            organisation=world.orgs["unit_a1"],
            fields=museum_fields(world, building_area=100, exhibition_area=200),
        )
    assert "展厅面积不能大于建筑面积" in str(exc.value)


def test_a_unit_cannot_register_a_museum_for_another_unit(world):
    with pytest.raises(PermissionDenied):
        services.museum_save(
            user=world.users["staff_a1"],
            organisation=world.orgs["unit_a2"],
            fields=museum_fields(world),
        )


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"staff_full_time": 90}, "staff_full_time", "不能多于从业人员"),
        ({"subsidy_used": Decimal("600")}, "subsidy_used", "不能超过到位资金"),
        ({"opening_days": 367}, "opening_days", "只有"),
        ({"satisfaction": 120}, "satisfaction", "不能超过 100"),
        ({"education_participants": 0}, "education_participants", "参与人次"),
        ({"opening_days": 0}, "opening_days", "不能为 0"),
        ({"visitors": 300 * 100_001}, "visitors", "请核实"),
    ],
)
def test_report_validation(change, field, words):
    errors = report_errors({**GOOD, **change}, year=2026, current_year=2026)
    assert field in errors and words in errors[field]
    assert report_errors(GOOD, year=2026, current_year=2026) == {}


def test_submitting_needs_the_summary_and_the_subsidy_text():
    errors = report_errors(GOOD, year=2026, current_year=2026, summary="短", submit=True)
    assert "summary" in errors and "subsidy_use" in errors
    assert not report_errors(
        GOOD, year=2026, current_year=2026, summary=SUMMARY, subsidy_use="展品", submit=True
    )
    assert "year" in report_errors(GOOD, year=2027, current_year=2026)


def test_report_cycle_submit_return_resubmit_accept(world, museum):
    report = services.museum_report_open(user=world.users["staff_a1"], museum=museum, year=YEAR)
    with pytest.raises(ValidationError) as exc:
        _save(world, report, {**GOOD, "staff_full_time": 99})
    assert "科普专职人员不能多于从业人员" in str(exc.value)
    report.refresh_from_db()
    assert report.staff_full_time == 0  # nothing saved
    _save(world, report, GOOD, submit=True)
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.visitors == 250000
    with pytest.raises(ValidationError, match="已提交"):
        _save(world, report, GOOD)
    # the unit may not review its own report; the city office may
    with pytest.raises(PermissionDenied):
        services.museum_report_review(user=world.users["staff_a1"], report=report, accept=True)
    with pytest.raises(ValidationError, match="退回时请填写意见"):
        services.museum_report_review(user=world.users["admin_a"], report=report, accept=False)
    services.museum_report_review(
        user=world.users["admin_a"], report=report, accept=False, comment="请核实接待人次"
    )
    report.refresh_from_db()
    assert report.status == ReportStatus.RETURNED
    _save(world, report, {**GOOD, "visitors": 240000}, submit=True)
    services.museum_report_review(user=world.users["admin_a"], report=report, accept=True)
    report.refresh_from_db()
    assert report.status == ReportStatus.ACCEPTED and report.visitors == 240000


def test_per_region_summary_and_prefill(world, museum):
    county_org = Organisation.objects.create(
        name="麒麟区科技馆", kind=OrgKind.EDUCATION_BASE, region=world.regions["county_a"]
    )
    county_museum = services.museum_save(
        user=world.users["admin_a"],
        organisation=county_org,
        fields=museum_fields(world, name="麒麟区科技馆", region=world.regions["county_a"]),
    )
    for m, visitors, accept in ((museum, 250000, True), (county_museum, 30000, False)):
        r = services.museum_report_open(user=world.users["admin_a"], museum=m, year=YEAR)
        _save(world, r, {**GOOD, "visitors": visitors}, submit=True, who="admin_a")
        if accept:
            services.museum_report_review(user=world.users["admin_a"], report=r, accept=True)
    summary = selectors.museum_summary(user=world.users["admin_a"], year=YEAR)
    rows = {r["code"]: r for r in summary["rows"]}
    assert summary["region"].code == "530300"
    assert rows["530300"]["visitors"] == 250000 and rows["530302"]["visitors"] == 30000
    assert summary["total"]["visitors"] == 280000 and summary["total"]["museums"] == 2
    assert summary["total"]["satisfaction"] == 96
    # the prefill reads accepted reports only
    prefill = selectors.museum_figures_by_region(user=world.users["admin_a"], year=YEAR)
    assert prefill["530300"]["visitors"] == 250000
    assert prefill.get("530302", {}).get("visitors", 0) == 0
    # another city's office sees none of it
    assert selectors.museum_summary(user=world.users["admin_b"], year=YEAR)["rows"] == []


def test_summary_page_and_export(client, world, museum):
    r = services.museum_report_open(user=world.users["staff_a1"], museum=museum, year=YEAR)
    _save(world, r, GOOD, submit=True)
    client.force_login(world.users["admin_a"])
    page = client.get(reverse("registry:museum_summary"), {"year": YEAR}).content.decode()
    assert "曲靖市 (本级)" in page and "250000" in page
    resp = client.get(reverse("registry:museum_export"), {"year": YEAR})
    ws = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    values = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "曲靖市科技馆" in values and 250000 in values
    assert "0874-1234567" not in values and "王馆长" not in values  # contacts stay private
    client.force_login(world.users["admin_b"])
    ws = openpyxl.load_workbook(
        io.BytesIO(client.get(reverse("registry:museum_export"), {"year": YEAR}).content)
    ).active
    assert ws.max_row == 2  # title and header only


def test_report_form_through_the_web(client, world, museum):
    client.force_login(world.users["staff_a1"])
    resp = client.post(reverse("registry:museum_report_open", args=[museum.pk]), {"year": YEAR})
    report = MuseumReport.objects.get()
    assert resp["Location"] == reverse("registry:museum_report", args=[report.pk])
    data = {"form": "report", "version": report.version, "summary": SUMMARY, "subsidy_use": "展品"}
    data.update({k: str(v) for k, v in GOOD.items()})
    data["subsidy_used"] = "900"
    resp = client.post(reverse("registry:museum_report", args=[report.pk]), {**data, "submit": "1"})
    assert resp.status_code == 200
    assert "补助资金使用不能超过到位资金" in resp.content.decode()
    data["subsidy_used"] = "480"
    resp = client.post(reverse("registry:museum_report", args=[report.pk]), {**data, "submit": "1"})
    assert resp.status_code == 302
    report.refresh_from_db()
    assert report.status == ReportStatus.SUBMITTED and report.subsidy_used == Decimal("480")


def test_export_writes_user_text_as_text(client, world):
    payload = '=HYPERLINK("http://x","y")'
    museum = services.museum_save(
        user=world.users["admin_a"],
        organisation=world.orgs["unit_a1"],
        fields=museum_fields(world, name=payload),
    )
    r = services.museum_report_open(user=world.users["admin_a"], museum=museum, year=YEAR)
    _save(world, r, GOOD, submit=True, who="admin_a")
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("registry:museum_export"), {"year": YEAR})
    ws = openpyxl.load_workbook(io.BytesIO(resp.content)).active
    cell = ws.cell(row=3, column=1)
    assert cell.data_type != "f" and cell.value == payload and cell.quotePrefix
