"""Registry services: base application → endorsement → certification, annual review with
system-filled figures, scoring, grade and the warning/revocation rule; score sheets in Excel."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kepu.core.importing import DataImportError
from kepu.core.versioning import StaleEditError
from kepu.registry import services
from kepu.registry.models import BaseReview, BaseStatus, EducationBase, ReviewStatus
from kepu.registry.scoring import DEFAULT_SHEET, validate_sheet
from tests.registry.conftest import base_fields

GOOD = {"rules": 18, "content": 18, "safety": 9}
POOR = {"rules": 5, "content": 5, "safety": 2}


def test_application_endorsement_and_certification(world, base_org):
    staff = world.users["base_staff"]
    base = services.base_apply(user=staff, organisation=base_org, fields=base_fields(world))
    assert base.status == BaseStatus.APPLYING
    with pytest.raises(PermissionDenied):
        services.base_endorse(user=staff, base=base)
    with pytest.raises(PermissionDenied):
        services.base_endorse(user=world.users["admin_b"], base=base)
    services.base_endorse(user=world.users["county_admin_a"], base=base)
    assert (
        base.status == BaseStatus.ENDORSED and base.recommended_by == world.orgs["county_office_a"]
    )
    with pytest.raises(ValidationError, match="有效期"):
        services.base_certify(user=world.users["admin_a"], base=base, approve=True)
    services.base_certify(
        user=world.users["admin_a"],
        base=base,
        approve=True,
        batch="第三批",
        valid_from=2026,
        valid_to=2030,
    )
    assert base.status == BaseStatus.CERTIFIED and base.certified_by == world.orgs["office_a"]


def test_application_is_validated_and_scoped(world, base_org):
    with pytest.raises(ValidationError) as exc:
        services.base_apply(
            user=world.users["base_staff"],
            organisation=base_org,
            fields=base_fields(
                world, region=world.regions["city_b"], opening_days=400, level="bogus"
            ),
        )
    assert {"region", "opening_days", "level"} <= set(exc.value.message_dict)
    with pytest.raises(PermissionDenied):
        services.base_apply(
            user=world.users["staff_a1"], organisation=base_org, fields=base_fields(world)
        )
    assert not EducationBase.objects.exists()


def test_review_prefills_system_figures_and_scores_to_a_grade(world, certified, sheet):
    staff = world.users["base_staff"]
    review = services.review_open(user=staff, base=certified, sheet=sheet, year=2026)
    assert review.figures["exhibition_area"] == 600 and review.figures["campaign_activities"] == 0
    review = services.review_save(
        user=staff,
        review=review,
        figures={"annual_visitors": 31000, "campaign_activities": 99},
        summary="全年开放",
        evidence_links="https://example.cn/report",
        version=review.version,
        submit=True,
    )
    assert review.status == ReviewStatus.SUBMITTED
    assert review.figures["campaign_activities"] == 0  # counted by the system, not typed in
    with pytest.raises(ValidationError, match="已提交"):
        services.review_save(
            user=staff,
            review=review,
            figures={"annual_visitors": 1},
            summary="",
            evidence_links="",
            version=review.version,
        )
    with pytest.raises(PermissionDenied):
        services.review_score(user=staff, review=review, reviewer_scores=GOOD)
    with pytest.raises(ValidationError, match="未评分"):
        services.review_score(
            user=world.users["admin_a"], review=review, reviewer_scores={"rules": 10}
        )
    services.review_score(user=world.users["county_admin_a"], review=review, reviewer_scores=GOOD)
    review.refresh_from_db()
    # area 600 → 8, days 260 → 8, visitors 31000 → 10, activities 0 → 0, reviewers 45
    assert float(review.total) == 71 and review.grade == "优良" and not review.failed
    certified.refresh_from_db()
    assert certified.status == BaseStatus.CERTIFIED


def test_two_failing_years_revoke_one_warns(world, certified, sheet):
    staff, reviewer = world.users["base_staff"], world.users["admin_a"]
    sheet_2027 = services.sheet_create(user=reviewer, year=2027, data=DEFAULT_SHEET)
    for year, sh, expect in (
        (2026, sheet, BaseStatus.WARNING),
        (2027, sheet_2027, BaseStatus.REVOKED),
    ):
        r = services.review_open(user=staff, base=certified, sheet=sh, year=year)
        r = services.review_save(
            user=staff,
            review=r,
            figures={"exhibition_area": 100},
            summary="",
            evidence_links="",
            version=r.version,
            submit=True,
        )
        services.review_score(user=reviewer, review=r, reviewer_scores=POOR)
        r.refresh_from_db()
        certified.refresh_from_db()
        assert r.failed and r.grade == "不合格"
        assert certified.status == expect, year


def test_a_passing_year_clears_the_warning(world, certified, sheet):
    staff, reviewer = world.users["base_staff"], world.users["admin_a"]
    r = services.review_open(user=staff, base=certified, sheet=sheet, year=2026)
    r = services.review_save(
        user=staff,
        review=r,
        figures={},
        summary="",
        evidence_links="",
        version=r.version,
        submit=True,
    )
    services.review_score(user=reviewer, review=r, reviewer_scores=POOR)
    certified.refresh_from_db()
    assert certified.status == BaseStatus.WARNING
    r2 = services.review_open(
        user=staff,
        base=certified,
        sheet=services.sheet_create(user=reviewer, year=2027, data=DEFAULT_SHEET),
        year=2027,
    )
    r2 = services.review_save(
        user=staff,
        review=r2,
        figures={"exhibition_area": 2000, "opening_days": 320, "annual_visitors": 40000},
        summary="",
        evidence_links="",
        version=r2.version,
        submit=True,
    )
    services.review_score(
        user=reviewer, review=r2, reviewer_scores={"rules": 20, "content": 20, "safety": 10}
    )
    certified.refresh_from_db()
    assert certified.status == BaseStatus.CERTIFIED


def test_stale_self_report_is_refused(world, certified, sheet):
    staff = world.users["base_staff"]
    r = services.review_open(user=staff, base=certified, sheet=sheet, year=2026)
    seen = r.version
    services.review_save(
        user=staff,
        review=BaseReview.objects.get(pk=r.pk),
        figures={},
        summary="第一份",
        evidence_links="",
        version=seen,
    )
    with pytest.raises(StaleEditError):
        services.review_save(
            user=staff,
            review=BaseReview.objects.get(pk=r.pk),
            figures={},
            summary="第二份",
            evidence_links="",
            version=seen,
        )
    assert BaseReview.objects.get(pk=r.pk).summary == "第一份"


def test_score_sheet_round_trips_through_excel():
    sheet = validate_sheet(DEFAULT_SHEET)
    again = services.sheet_from_xlsx("评分表.xlsx", services.sheet_xlsx(sheet))
    assert again == sheet


def test_bad_score_sheet_excel_names_rows(world):
    import io

    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["评分表"])
    ws.append(services.SHEET_HEADER)
    ws.append(["a", "面积", "十分", "exhibition_area", "", "100:1"])
    ws.append(["b", "天数", "10", "opening_days", "", "300-1"])
    ws.append([])
    ws.append(["等级", "得分率下限", "是否不合格"])
    ws.append(["合格", "0"])
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(DataImportError) as exc:
        services.sheet_from_xlsx("x.xlsx", buf.getvalue())
    text = "；".join(exc.value.errors)
    assert "第3行" in text and "第4行" in text


def test_sheets_are_validated_on_create(world):
    with pytest.raises(ValidationError):
        services.sheet_create(
            user=world.users["admin_a"], year=2026, data={"name": "空", "items": [], "grades": []}
        )
    with pytest.raises(PermissionDenied):
        services.sheet_create(user=world.users["staff_a1"], year=2026, data=DEFAULT_SHEET)
