"""Bulk activity registration from Excel: all or nothing, row errors, scope, template."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from kepu.audit.models import AuditEntry
from kepu.campaigns import importing
from kepu.campaigns.models import Activity, ActivityEvent, Status
from kepu.core.importing import DataImportError
from tests.campaigns.conftest import TODAY

HEADER = [
    "主办单位",
    "活动名称",
    "活动类型",
    "开始时间",
    "结束时间",
    "区划代码",
    "详细地址",
    "形式",
    "重点人群",
    "预计参与人数",
    "联系电话",
]


def xlsx(rows, *, title_rows=("2026年科普月活动登记表",), header=HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    for t in title_rows:
        ws.append([t])
    ws.append(header)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def row(
    org="市教体局",
    title="科学讲座",
    kind="讲座",
    start="2026-09-16 09:00",
    end="2026-09-16 11:00",
    code="530300",
    address="科技馆",
    mode="线下",
    groups="青少年",
    n="80",
    phone="123",
):
    return [org, title, kind, start, end, code, address, mode, groups, n, phone]


def run(world, campaign, data, who="staff_a1"):
    return importing.activities_import(
        user=world.users[who], campaign=campaign, name="活动.xlsx", data=data, today=TODAY
    )


def test_a_unit_imports_its_list(world, campaign):
    data = xlsx([row(title=f"科学讲座{i}") for i in range(5)])
    result = run(world, campaign, data)
    assert result.created == 5
    acts = Activity.objects.filter(campaign=campaign)
    assert acts.count() == 5 and {a.status for a in acts} == {Status.SUBMITTED}
    a = acts.get(title="科学讲座0")
    assert (
        a.organiser == world.orgs["unit_a1"]
        and a.key_groups == ["youth"]
        and a.contact_phone == "123"
    )
    assert ActivityEvent.objects.filter(activity__campaign=campaign, action="批量登记").count() == 5
    assert AuditEntry.objects.filter(content_type__model="activity", action="create").count() == 5


def test_any_bad_row_saves_nothing_and_each_is_named(world, campaign):
    data = xlsx(
        [
            row(),
            row(org="市卫健委"),  # another unit: not the user's
            row(kind="演唱会"),
            row(start="明天上午"),
            row(code="999999"),
            row(code="530102"),  # another city
            row(mode="线上", address=""),  # online without a link
            row(groups="外星人"),
            row(n="很多"),
        ]
    )
    with pytest.raises(DataImportError) as exc:
        run(world, campaign, data)
    text = "\n".join(exc.value.errors)
    for line, words in [
        (4, "市卫健委"),
        (5, "演唱会"),
        (6, "格式"),
        (7, "区划代码不存在"),
        (9, "线上活动请填写活动链接"),
        (10, "外星人"),
        (11, "非负整数"),
    ]:
        assert f"第{line}行" in text and words in text, (line, words, text)
    assert "第8行" in text  # 530102 is outside the campaign's region
    assert not Activity.objects.exists()


def test_errors_are_capped_at_100_with_a_count(world, campaign):
    data = xlsx([row(kind="不存在的类型") for _ in range(150)])
    with pytest.raises(DataImportError) as exc:
        run(world, campaign, data)
    assert len(exc.value.errors) == 101
    assert "另有 50 处错误" in exc.value.errors[-1]


def test_missing_columns_and_no_header_are_explained(world, campaign):
    with pytest.raises(DataImportError, match="缺少必需的列: 活动类型"):
        run(world, campaign, xlsx([row()], header=[h for h in HEADER if h != "活动类型"]))
    with pytest.raises(DataImportError, match="没有找到表头"):
        run(world, campaign, xlsx([["a", "b"]], header=["甲", "乙"]))


def test_outside_the_window_nothing_is_imported(world, campaign):
    import datetime as dt

    with pytest.raises(DataImportError, match="不在登记时间内"):
        importing.activities_import(
            user=world.users["staff_a1"],
            campaign=campaign,
            name="x.xlsx",
            data=xlsx([row()]),
            today=dt.date(2026, 12, 1),
        )


def test_a_township_list_stays_in_the_township(world, campaign, town_staff):
    bad = xlsx([row(org="南宁街道", code="530302")])  # the county, not the township
    with pytest.raises(DataImportError, match="范围内"):
        run(world, campaign, bad, who="town_staff")
    assert (
        run(
            world, campaign, xlsx([row(org="南宁街道", code="530302001")]), who="town_staff"
        ).created
        == 1
    )


def test_an_office_imports_for_units_in_its_region(world, campaign):
    data = xlsx([row(), row(org="市卫健委", title="健康讲座")])
    assert run(world, campaign, data, who="admin_a").created == 2
    with pytest.raises(DataImportError):
        run(world, campaign, data, who="admin_b")


def test_template_has_the_columns_and_reimports(world, campaign):
    wb = load_workbook(io.BytesIO(importing.template_xlsx()))
    header = [c.value for c in wb.active[1]]
    assert header[:3] == ["主办单位", "活动名称", "活动类型"]
    with pytest.raises(DataImportError, match="没有活动"):
        run(world, campaign, importing.template_xlsx())


def test_the_web_page(client, world, campaign):
    client.force_login(world.users["staff_a1"])
    from django.urls import reverse

    url = reverse("campaigns:activities_import", args=[campaign.pk])
    assert client.get(url).status_code == 200
    upload = io.BytesIO(xlsx([row(kind="演唱会")]))
    upload.name = "list.xlsx"
    resp = client.post(url, {"file": upload})
    assert resp.status_code == 200 and "演唱会" in resp.content.decode()
    client.force_login(world.users["viewer_a"])
    assert client.get(url).status_code == 403
    client.force_login(world.users["admin_b"])
    assert client.get(url).status_code == 404
