"""Statistics services: catalogue import, collections, validation, review, roll-ups,
imports with bad cells, scoping."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kepu.audit.models import AuditEntry
from kepu.core.files import new_workbook, workbook_bytes, write_row
from kepu.core.importing import DataImportError
from kepu.orgs.scoping import Action
from kepu.regions.models import Region
from kepu.statistics import exports, selectors, services
from kepu.statistics.models import Catalogue, Population, ReportStatus, StatReport
from tests.statistics.conftest import (
    make_catalogue,
    make_collection,
    report_of,
    shipped_data,
    valid_values,
)

pytestmark = pytest.mark.django_db


def _xlsx(rows):
    wb = new_workbook()
    for n, row in enumerate(rows, start=1):
        write_row(wb.active, n, row)
    return workbook_bytes(wb)


def test_catalogue_import_superuser_only_and_frozen_once_used(world):
    with pytest.raises(PermissionDenied):
        services.catalogue_import(user=world.users["admin_a"], data=shipped_data())
    cat = make_catalogue(world)
    again = make_catalogue(world)  # not yet used: replaced in place
    assert again.pk == cat.pk and again.version == cat.version + 1
    make_collection(world)
    with pytest.raises(DataImportError, match="不能替换"):
        make_catalogue(world)


def test_catalogue_import_refuses_bad_file(world):
    data = shipped_data()
    data["indicators"].append({"code": "P01", "name": "重复", "category": "科普人员"})
    with pytest.raises(DataImportError, match="代码重复"):
        services.catalogue_import(user=world.users["super"], data=data)
    assert not Catalogue.objects.exists()


def test_catalogue_from_excel(world):
    rows = [
        ["代码", "名称", "类别", "单位", "类型", "合计于", "不大于"],
        ["P01", "科普人员合计", "科普人员", "人", "存量", "", ""],
        ["P02", "专职", "科普人员", "人", "存量", "P01", ""],
        ["P03", "兼职", "科普人员", "人", "存量", "P01", ""],
    ]
    data = services.catalogue_data_from_file(name="目录.xlsx", data=_xlsx(rows), year=2027)
    cat = services.catalogue_import(user=world.users["super"], data=data)
    assert cat.year == 2027 and len(cat.parsed().rules) == 1


def test_collection_creates_a_report_per_unit_with_departments_and_audit(world):
    collection = make_collection(world)
    reports = {r.organisation_id: r for r in collection.reports.all()}
    # every active organisation in the city's region, none from the other city
    expected = {
        world.orgs[k].pk for k in ("office_a", "unit_a1", "unit_a2", "county_office_a", "town_a")
    }
    assert set(reports) == expected
    assert reports[world.orgs["unit_a1"].pk].department_name == "教育"
    assert reports[world.orgs["unit_a2"].pk].department_name == "卫生健康"
    assert reports[world.orgs["office_a"].pk].department_name == "科协"
    assert reports[world.orgs["town_a"].pk].department_name == "乡镇街道"
    n = AuditEntry.objects.filter(
        content_type__model="statreport",
        action="create",
        object_id__in=[str(r.pk) for r in reports.values()],
    ).count()
    assert n == len(reports)


def test_only_offices_create_collections(world):
    cat = make_catalogue(world)
    with pytest.raises(PermissionDenied):
        services.collection_create(
            user=world.users["staff_a1"],
            catalogue=cat,
            fields=services.CollectionFields(title="x", year=2026),
        )


def test_save_refuses_invalid_cells_and_keeps_nothing(world):
    collection = make_collection(world)
    rep = report_of(collection, world)
    with pytest.raises(ValidationError) as exc:
        services.report_save(
            user=world.users["staff_a1"], report=rep, raw=valid_values(P02="abc", P01="31")
        )
    assert "非负整数" in exc.value.message_dict["P02"][0]
    rep.refresh_from_db()
    assert rep.values == {}
    with pytest.raises(ValidationError) as exc:
        services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values(P01="31"))
    assert "应等于" in exc.value.message_dict["P01"][0]
    services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values(), submit=True)
    rep.refresh_from_db()
    assert rep.status == ReportStatus.SUBMITTED and rep.values["P01"] == 30


def test_stale_save_is_refused(world):
    rep = report_of(make_collection(world), world)
    services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values(), version=1)
    stale = StatReport.objects.get(pk=rep.pk)
    stale.version = 1
    with pytest.raises(ValidationError, match="其他人已修改"):
        services.report_save(
            user=world.users["staff_a1"], report=stale, raw=valid_values(), version=1
        )


def test_unit_cannot_write_another_units_report(world):
    rep = report_of(make_collection(world), world, "unit_a2")
    with pytest.raises(PermissionDenied):
        services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values())


def test_review_return_needs_comment_and_only_office_reviews(world):
    rep = report_of(make_collection(world), world)
    services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values(), submit=True)
    with pytest.raises(PermissionDenied):
        services.report_review(user=world.users["staff_a1"], report=rep, accept=True)
    with pytest.raises(PermissionDenied):
        services.report_review(user=world.users["viewer_a"], report=rep, accept=True)
    with pytest.raises(ValidationError, match="审核意见"):
        services.report_review(user=world.users["admin_a"], report=rep, accept=False)
    services.report_review(
        user=world.users["admin_a"], report=rep, accept=False, comment="经费数核对"
    )
    rep.refresh_from_db()
    assert rep.status == ReportStatus.RETURNED and rep.editable
    services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values(), submit=True)
    services.report_review(user=world.users["admin_a"], report=rep, accept=True)
    rep.refresh_from_db()
    assert rep.status == ReportStatus.ACCEPTED and not rep.editable
    with pytest.raises(ValidationError):
        services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values())


def test_year_over_year_jump_needs_explanation(world):
    last = report_of(make_collection(world, 2025), world)
    services.report_save(user=world.users["staff_a1"], report=last, raw=valid_values(), submit=True)
    services.report_review(user=world.users["admin_a"], report=last, accept=True)
    rep = report_of(make_collection(world, 2026), world)
    raw = valid_values(A02=4000)  # 1500 → 4000: +167%
    with pytest.raises(ValidationError) as exc:
        services.report_save(user=world.users["staff_a1"], report=rep, raw=raw, submit=True)
    assert list(exc.value.message_dict) == ["explain:A02"]
    assert "变动说明" in exc.value.message_dict["explain:A02"][0]
    # saving a draft does not ask yet; submitting with the explanation does
    services.report_save(user=world.users["staff_a1"], report=rep, raw=raw)
    services.report_save(
        user=world.users["staff_a1"],
        report=rep,
        raw=raw,
        explanations={"A02": "新增科普大篷车巡展"},
        submit=True,
    )
    rep.refresh_from_db()
    assert rep.explanations == {"A02": "新增科普大篷车巡展"}


def test_excel_upload_with_bad_cells_is_all_or_nothing(world):
    collection = make_collection(world)
    rep = report_of(collection, world)
    cat = collection.catalogue.parsed()
    values = {k: int(v) for k, v in valid_values().items()}
    good = exports.report_template(catalogue=cat, values=values, notes={})
    services.report_upload(user=world.users["staff_a1"], report=rep, name="报表.xlsx", data=good)
    rep.refresh_from_db()
    assert rep.values["F01"] == 100
    assert AuditEntry.objects.filter(object_id=str(rep.pk), changes__has_key="import_file").exists()

    bad_values = dict(values, P02="十", F01=101)
    bad = exports.report_template(catalogue=cat, values=bad_values, notes={})
    with pytest.raises(DataImportError) as exc:
        services.report_upload(user=world.users["staff_a1"], report=rep, name="报表.xlsx", data=bad)
    text = "\n".join(exc.value.errors)
    line_p02 = cat.codes().index("P02") + 2
    assert f"第{line_p02}行: P02 科普专职人员" in text and "非负整数" in text
    rows = [["代码", "数值"], ["ZZ9", "1"]]
    with pytest.raises(DataImportError, match="不在2026年度目录中"):
        services.report_upload(
            user=world.users["staff_a1"], report=rep, name="r.xlsx", data=_xlsx(rows)
        )
    with pytest.raises(DataImportError, match="不支持的文件类型"):
        services.report_upload(user=world.users["staff_a1"], report=rep, name="r.csv", data=b"a,b")
    rep.refresh_from_db()
    assert rep.values["F01"] == 100  # nothing of the bad files was kept


def _accept(world, rep, **over):
    services.report_save(
        user=world.users["super"], report=rep, raw=valid_values(**over), submit=True
    )
    services.report_review(user=world.users["admin_a"], report=rep, accept=True)


def test_rollup_by_region_and_department_with_per_capita(world):
    collection = make_collection(world)
    _accept(world, report_of(collection, world, "unit_a1"))
    _accept(world, report_of(collection, world, "town_a"), F03=10, F02=30, F01=70)
    services.report_save(
        user=world.users["staff_a2"],
        report=report_of(collection, world, "unit_a2"),
        raw=valid_values(),
        submit=True,
    )  # submitted, not accepted: not counted
    services.population_import(
        user=world.users["admin_a"],
        name="p.csv",
        data="区划代码,年度,常住人口(人)\n530300,2026,1000000\n530302,2026,200000\n".encode(),
    )
    result = selectors.rollup(user=world.users["admin_a"], collection=collection)
    rows = {r.label: r for r in result.rows}
    assert set(rows) == {"曲靖市(本级)", "麒麟区"}
    assert rows["曲靖市(本级)"].values["F03"] == 40 and rows["曲靖市(本级)"].reports == 1
    assert rows["麒麟区"].values["F03"] == 10 and rows["麒麟区"].population == 200000
    assert rows["麒麟区"].derived["D01"] == 0.5  # 10 万元 / 200,000 人 = 0.5 元/人
    assert result.total.values["F03"] == 50 and result.total.reports == 2
    assert result.total.derived["D01"] == 0.5  # 50 万元 / 1,000,000
    by_dept = {
        r.label: r
        for r in selectors.rollup(
            user=world.users["admin_a"], collection=collection, by="department"
        ).rows
    }
    assert by_dept["教育"].values["P01"] == 30 and by_dept["乡镇街道"].reports == 1
    # the export carries the same numbers
    import io

    from openpyxl import load_workbook

    wb = load_workbook(
        io.BytesIO(
            exports.rollup_workbook(
                title="t", catalogue=collection.catalogue.parsed(), rollup=result
            )
        )
    )
    ws = wb["科普经费"]
    header = [c.value for c in ws[2]]
    col = header.index("政府拨款中: 科普专项经费(万元)")
    assert [ws.cell(row=3, column=1).value, ws.cell(row=3, column=col + 1).value] == [
        "曲靖市合计",
        50,
    ]


def test_rollup_is_scoped(world):
    collection = make_collection(world)
    _accept(world, report_of(collection, world, "unit_a1"))
    _accept(world, report_of(collection, world, "town_a"))
    county = selectors.rollup(user=world.users["county_admin_a"], collection=collection)
    assert county.total.reports == 1  # the county office sees only its county's report
    assert StatReport.objects.restrict(world.users["staff_a1"], Action.VIEW).count() == 1
    assert StatReport.objects.restrict(world.users["admin_b"], Action.VIEW).count() == 0


def test_population_import_errors_and_region_limits(world):
    data = (
        "区划代码,年度,常住人口(人)\n530300,2026,abc\n530100,2026,5\n999999,2026,5\n530302,20x6,5\n"
    ).encode()
    with pytest.raises(DataImportError) as exc:
        services.population_import(user=world.users["admin_a"], name="p.csv", data=data)
    text = "\n".join(exc.value.errors)
    assert "第2行: 常住人口「abc」" in text and "第3行: 区划代码「530100」" in text
    assert "第4行" in text and "第5行: 年度" in text
    assert not Population.objects.exists()
    with pytest.raises(PermissionDenied):
        services.population_import(user=world.users["staff_a1"], name="p.csv", data=data)
    n = services.population_import(
        user=world.users["admin_a"],
        name="p.csv",
        data="区划代码,年度,常住人口(人)\n530300,2026,10\n".encode(),
    )
    n2 = services.population_import(
        user=world.users["admin_a"],
        name="p.csv",
        data="区划代码,年度,常住人口(人)\n530300,2026,12\n".encode(),
    )
    assert (n, n2) == (1, 1)
    assert Population.objects.get(region=Region.objects.get(code="530300")).population == 12
    assert AuditEntry.objects.filter(content_type__model="population").count() == 2
