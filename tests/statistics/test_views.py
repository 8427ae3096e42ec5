"""Statistics pages: the form shows errors per cell, prefill, upload, review, exports."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kepu.statistics import exports, services
from kepu.statistics.models import ReportStatus
from tests.matrix import MatrixData
from tests.statistics.conftest import make_collection, report_of, valid_values

pytestmark = pytest.mark.django_db


def _post_values(**over):
    return {f"v_{k}": v for k, v in valid_values(**over).items()}


def test_form_shows_the_error_beside_the_cell_and_keeps_input(client, world):
    rep = report_of(make_collection(world), world)
    client.force_login(world.users["staff_a1"])
    url = reverse("statistics:report", args=[rep.pk])
    resp = client.post(url, {**_post_values(P02="1O"), "version": rep.version, "action": "save"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'id="err_P02"' in html and "「科普专职人员」须填写非负整数 (当前为「1O」)" in html
    assert 'name="v_P02" id="v_P02" value="1O"' in html
    assert "有 1 处需要修改" in html
    rep.refresh_from_db()
    assert rep.values == {}
    resp = client.post(url, {**_post_values(), "version": rep.version, "action": "submit"})
    assert resp.status_code == 302
    rep.refresh_from_db()
    assert rep.status == ReportStatus.SUBMITTED


def test_prefill_from_campaigns_and_registry(client, world, settings, tmp_path, monkeypatch):
    from kepu.campaigns import services as campaign_services
    from tests.campaigns.conftest import TODAY

    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(campaign_services, "_today", lambda: TODAY)
    data = MatrixData(world)
    activity = data.published  # unit_a1's published activity
    _ = data.certified_base  # unit_a1's certified education base
    rep = report_of(make_collection(world, activity.starts_at.year), world)
    client.force_login(world.users["staff_a1"])
    html = client.get(reverse("statistics:report", args=[rep.pk])).content.decode()
    assert 'name="v_A07" id="v_A07" value="1"' in html
    assert 'name="v_V11" id="v_V11" value="1"' in html
    assert html.count("系统预填") >= 2
    # another unit's form is not prefilled with unit_a1's data
    other = report_of(rep.collection, world, "unit_a2")
    client.force_login(world.users["staff_a2"])
    html = client.get(reverse("statistics:report", args=[other.pk])).content.decode()
    assert 'name="v_A07" id="v_A07" value="0"' in html


def test_upload_view_lists_cell_errors(client, world):
    collection = make_collection(world)
    rep = report_of(collection, world)
    cat = collection.catalogue.parsed()
    bad = exports.report_template(
        catalogue=cat, values={k: int(v) for k, v in valid_values().items()} | {"F07": 1}, notes={}
    )
    client.force_login(world.users["staff_a1"])
    resp = client.post(
        reverse("statistics:report_upload", args=[rep.pk]),
        {"file": _file("报表.xlsx", bad)},
        follow=True,
    )
    html = resp.content.decode()
    assert "F07 年度科普经费使用额" in html and "应等于" in html
    rep.refresh_from_db()
    assert rep.values == {}


def _file(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_template_download_round_trips(client, world):
    rep = report_of(make_collection(world), world)
    services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values())
    client.force_login(world.users["staff_a1"])
    resp = client.get(reverse("statistics:report_template", args=[rep.pk]))
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = {r[0]: r[5] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["P01"] == 30 and rows["F01"] == 100


def test_review_via_page_and_rollup_shows_it(client, world):
    collection = make_collection(world)
    rep = report_of(collection, world)
    services.report_save(user=world.users["staff_a1"], report=rep, raw=valid_values(), submit=True)
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("statistics:report_review", args=[rep.pk]), {"decision": "return"}, follow=True
    )
    assert "退回时请填写审核意见" in resp.content.decode()
    client.post(reverse("statistics:report_review", args=[rep.pk]), {"decision": "accept"})
    rep.refresh_from_db()
    assert rep.status == ReportStatus.ACCEPTED
    html = client.get(reverse("statistics:rollup", args=[collection.pk])).content.decode()
    assert "曲靖市(本级)" in html and "stat-chart-data" in html
    resp = client.get(reverse("statistics:rollup_export", args=[collection.pk]))
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb["科普人员"].cell(row=3, column=3).value == 30
