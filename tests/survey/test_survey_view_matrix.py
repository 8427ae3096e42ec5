"""Scoping matrix for every survey view (users as in tests/test_view_matrix.py).

Wave A belongs to 曲靖市科协 (office_a): its administrator manages it, its viewer reads
it; units of the city (staff_a1/a2) are not offices and see nothing, nor does the sibling
city's administrator.  Allowed cells succeed; denied cells get 403/404 and change nothing;
anonymous users are sent to the login page.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kepu.survey import services
from kepu.survey.models import EstimationRun, Margin, Respondent, RunStatus, Wave, WaveTarget
from tests.survey.test_survey_services import csv_bytes, load_wave, make_wave, sample_rows

USERS = ["super", "admin_a", "admin_b", "viewer_a", "staff_a1", "staff_a2", "nobody", "anon"]
DENIED = {403, 404}
READ_A = {"super", "admin_a", "viewer_a"}
WRITE_A = {"super", "admin_a"}
CREATORS = {"super", "admin_a", "admin_b"}


def as_user(client, world, who):
    if who != "anon":
        client.force_login(world.users[who])
    return client


def is_login_redirect(resp):
    return resp.status_code == 302 and resp["Location"].startswith(reverse("login"))


@pytest.fixture
def waves(world, settings, tmp_path):
    """Wave A (曲靖市, estimated, with a target) and wave B (昆明市, estimated)."""
    settings.MEDIA_ROOT = tmp_path
    wave_a = load_wave(world, make_wave(world, "a", title="曲靖调查"))
    services.wave_target_add(user=world.users["admin_a"], wave=wave_a, year=2026, rate=13)
    services.run_start(user=world.users["admin_a"], wave=wave_a)
    wave_b = make_wave(world, "b", title="昆明调查")
    rows = sample_rows(40)
    for r in rows[1:]:
        r[1] = "530102"
        r[7] = "s"
    services.respondents_import(
        user=world.users["admin_b"], wave=wave_b, name="b.csv", data=csv_bytes(rows)
    )
    services.run_start(user=world.users["admin_b"], wave=wave_b)
    return wave_a, wave_b


@pytest.mark.parametrize("who", USERS)
def test_wave_list_is_scoped(client, world, waves, who):
    resp = as_user(client, world, who).get(reverse("survey:waves"))
    if who == "anon":
        assert is_login_redirect(resp)
        return
    assert resp.status_code == 200
    html = resp.content.decode()
    assert ("曲靖调查" in html) == (who in READ_A), who
    assert ("昆明调查" in html) == (who in {"super", "admin_b"}), who
    assert ("新建监测调查" in html) == (who in CREATORS), who


@pytest.mark.parametrize("who", USERS)
@pytest.mark.parametrize("name", ["survey:wave", "survey:margins", "survey:export", "survey:geo"])
def test_read_views(client, world, waves, who, name):
    wave_a, _ = waves
    resp = as_user(client, world, who).get(reverse(name, args=[wave_a.pk]))
    if who == "anon":
        assert is_login_redirect(resp)
    elif who in READ_A:
        assert resp.status_code == 200, (who, name)
        if name == "survey:export":
            wb = load_workbook(io.BytesIO(resp.content))
            assert wb["总体"].cell(3, 1).value == "曲靖市"
        elif name == "survey:geo":
            assert resp.json()["type"] == "FeatureCollection"
        elif name == "survey:wave":
            html = resp.content.decode()
            assert 'id="headline-rate"' in html and 'id="survey-map"' in html
            assert ("运行估计" in html) == (who in WRITE_A)
    else:
        assert resp.status_code in DENIED, (who, name)


@pytest.mark.parametrize("who", USERS)
def test_run_status(client, world, waves, who):
    wave_a, _ = waves
    run = wave_a.runs.get()
    resp = as_user(client, world, who).get(reverse("survey:run_status", args=[wave_a.pk, run.pk]))
    if who == "anon":
        assert is_login_redirect(resp)
    elif who in READ_A:
        assert resp.status_code == 200 and "已完成" in resp.content.decode()
    else:
        assert resp.status_code in DENIED


def test_run_status_of_another_wave_is_404(client, world, waves):
    wave_a, wave_b = waves
    run_b = wave_b.runs.get()
    resp = as_user(client, world, "admin_a").get(
        reverse("survey:run_status", args=[wave_a.pk, run_b.pk])
    )
    assert resp.status_code == 404


def test_polling_a_running_run_keeps_polling(client, world, waves):
    wave_a, _ = waves
    run = EstimationRun.objects.create(
        wave=wave_a, status=RunStatus.RUNNING, progress=40, message="估计具备科学素质的比例"
    )
    c = as_user(client, world, "viewer_a")
    resp = c.get(reverse("survey:run_status", args=[wave_a.pk, run.pk]), HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert 'hx-trigger="every 1s"' in html and "40%" in html and "HX-Refresh" not in resp
    page = c.get(reverse("survey:wave", args=[wave_a.pk])).content.decode()
    assert 'id="run-status"' in page and "计算中" in page
    EstimationRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE, progress=100)
    resp = c.get(reverse("survey:run_status", args=[wave_a.pk, run.pk]), HTTP_HX_REQUEST="true")
    assert resp["HX-Refresh"] == "true" and "every 1s" not in resp.content.decode()


@pytest.mark.parametrize("who", USERS)
def test_wave_create(client, world, who):
    c = as_user(client, world, who)
    get = c.get(reverse("survey:wave_create"))
    key = "b" if who == "admin_b" else "a"
    post = c.post(
        reverse("survey:wave_create"),
        {
            "owner": world.orgs[f"office_{key}"].pk,
            "title": "新调查",
            "kind": "local",
            "year": 2027,
            "region": world.regions[f"city_{key}"].pk,
            "min_n": 30,
            "max_rse": 30,
        },
    )
    created = Wave.objects.filter(title="新调查").first()
    if who == "anon":
        assert is_login_redirect(get) and is_login_redirect(post) and created is None
    elif who in CREATORS:
        assert get.status_code == 200 and post.status_code == 302, post.content.decode()[:2000]
        assert created is not None and created.region == world.regions[f"city_{key}"]
        assert created.questionnaire["items"] and created.scoring["bands"]
    else:
        assert get.status_code == 403 and post.status_code == 403 and created is None


def test_cannot_create_a_wave_for_another_office_or_region(client, world):
    c = as_user(client, world, "admin_a")
    resp = c.post(
        reverse("survey:wave_create"),
        {
            "owner": world.orgs["office_b"].pk,
            "title": "越权",
            "kind": "local",
            "year": 2027,
            "region": world.regions["city_b"].pk,
            "min_n": 30,
            "max_rse": 30,
        },
    )
    assert resp.status_code == 200  # the form refuses both choices
    assert not Wave.objects.filter(title="越权").exists()


@pytest.mark.parametrize("who", USERS)
def test_wave_edit(client, world, waves, who):
    wave_a, _ = waves
    c = as_user(client, world, who)
    url = reverse("survey:wave_edit", args=[wave_a.pk])
    get = c.get(url)
    post = c.post(
        url,
        {"title": "改过的调查", "kind": "local", "year": 2026, "min_n": 50, "max_rse": 25},
    )
    wave_a.refresh_from_db()
    if who == "anon":
        assert is_login_redirect(get) and is_login_redirect(post)
    elif who in WRITE_A:
        assert get.status_code == 200 and post.status_code == 302
        assert wave_a.title == "改过的调查" and wave_a.min_n == 50 and wave_a.max_rse == 0.25
        return
    else:
        assert get.status_code in DENIED and post.status_code in DENIED
        if who == "viewer_a":
            assert get.status_code == 403  # may read, may not change
    assert wave_a.title == "曲靖调查"


@pytest.mark.parametrize("who", USERS)
def test_wave_delete(client, world, waves, who):
    wave_a, _ = waves
    resp = as_user(client, world, who).post(reverse("survey:wave_delete", args=[wave_a.pk]))
    exists = Wave.objects.filter(pk=wave_a.pk).exists()
    if who == "anon":
        assert is_login_redirect(resp) and exists
    elif who in WRITE_A:
        assert resp.status_code == 302 and not exists
        assert not Respondent.objects.filter(wave_id=wave_a.pk).exists()
    else:
        assert resp.status_code in DENIED and exists


@pytest.mark.parametrize("who", USERS)
def test_data_import(client, world, waves, who):
    wave_a, _ = waves
    c = as_user(client, world, who)
    url = reverse("survey:import", args=[wave_a.pk])
    get = c.get(url)
    upload = io.BytesIO(csv_bytes(sample_rows(24, seed=11)))
    upload.name = "新数据.csv"
    post = c.post(url, {"datafile": upload})
    count = wave_a.respondents.count()
    if who == "anon":
        assert is_login_redirect(get) and is_login_redirect(post) and count == 120
    elif who in WRITE_A:
        assert get.status_code == 200 and post.status_code == 302 and count == 24
    else:
        assert get.status_code in DENIED and post.status_code in DENIED and count == 120


def test_import_errors_are_shown_and_nothing_saved(client, world, waves):
    wave_a, _ = waves
    rows = sample_rows(6)
    rows[2][9] = "-1"
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "bad.csv"
    resp = as_user(client, world, "admin_a").post(
        reverse("survey:import", args=[wave_a.pk]), {"datafile": upload}
    )
    html = resp.content.decode()
    assert resp.status_code == 200 and "第3行: 权重必须大于0" in html and "没有保存任何内容" in html
    assert wave_a.respondents.count() == 120


@pytest.mark.parametrize("who", USERS)
def test_data_template(client, world, waves, who):
    wave_a, _ = waves
    resp = as_user(client, world, who).get(reverse("survey:data_template", args=[wave_a.pk]))
    if who == "anon":
        assert is_login_redirect(resp)
    elif who in WRITE_A:
        assert resp.status_code == 200 and "区划代码" in resp.content.decode("utf-8-sig")
    else:
        assert resp.status_code in DENIED


@pytest.mark.parametrize("who", USERS)
def test_margins_post(client, world, waves, who):
    wave_a, _ = waves
    c = as_user(client, world, who)
    post = c.post(
        reverse("survey:margins", args=[wave_a.pk]),
        {"action": "entry", "ent-variable": "urban_rural", "ent-lines": "城镇,55000\n乡村,45000"},
    )
    added = Margin.objects.filter(wave=wave_a, variable="urban_rural").count()
    if who == "anon":
        assert is_login_redirect(post) and added == 0
    elif who in WRITE_A:
        assert post.status_code == 302 and added == 2
    else:
        assert post.status_code in DENIED and added == 0
    assert Margin.objects.filter(wave=wave_a).count() == 4 + added


def test_margins_file_upload_and_clear(client, world, waves):
    wave_a, _ = waves
    c = as_user(client, world, "admin_a")
    url = reverse("survey:margins", args=[wave_a.pk])
    upload = io.BytesIO(
        b"value,Freq\n18-29,20000\n30-39,20000\n40-49,20000\n50-59,20000\n60-69,20000\n"
    )
    upload.name = "age.csv"
    resp = c.post(url, {"action": "import", "imp-variable": "age_band", "imp-marginfile": upload})
    assert resp.status_code == 302
    assert Margin.objects.filter(wave=wave_a, variable="age_band").count() == 5
    html = c.get(url).content.decode()
    assert "年龄段" in html and "20000" in html
    resp = c.post(url, {"action": "clear", "variable": "age_band"})
    assert resp.status_code == 302
    assert not Margin.objects.filter(wave=wave_a, variable="age_band").exists()


@pytest.mark.parametrize("who", USERS)
def test_targets(client, world, waves, who):
    wave_a, _ = waves
    c = as_user(client, world, who)
    url = reverse("survey:targets", args=[wave_a.pk])
    get = c.get(url)
    post = c.post(url, {"year": 2030, "rate": 18, "label": ""})
    added = WaveTarget.objects.filter(wave=wave_a, year=2030).exists()
    if who == "anon":
        assert is_login_redirect(get) and is_login_redirect(post) and not added
    elif who in WRITE_A:
        assert get.status_code == 200 and post.status_code == 302 and added
    else:
        assert get.status_code in DENIED and post.status_code in DENIED and not added


@pytest.mark.parametrize("who", USERS)
def test_target_delete(client, world, waves, who):
    wave_a, _ = waves
    target = wave_a.targets.get()
    resp = as_user(client, world, who).post(
        reverse("survey:target_delete", args=[wave_a.pk, target.pk])
    )
    exists = WaveTarget.objects.filter(pk=target.pk).exists()
    if who == "anon":
        assert is_login_redirect(resp) and exists
    elif who in WRITE_A:
        assert resp.status_code == 302 and not exists
    else:
        assert resp.status_code in DENIED and exists


def test_target_can_link_a_visible_plan_target(client, world, waves):
    from kepu.plans.models import Target
    from kepu.plans.services import PlanFields, plan_create_from_parsed

    wave_a, _ = waves

    def plan(key):
        return plan_create_from_parsed(
            user=world.users[f"admin_{key}"],
            owner=world.orgs[f"office_{key}"],
            parsed={
                "tasks": [],
                "targets": [
                    {
                        "text": "比例达到13%",
                        "comparator": ">=",
                        "value": 13,
                        "unit": "%",
                        "year": 2026,
                    }
                ],
            },
            fields=PlanFields(title=f"要点{key}"),
        )

    target_a = Target.objects.get(plan=plan("a"))
    target_b = Target.objects.get(plan=plan("b"))
    c = as_user(client, world, "admin_a")
    url = reverse("survey:targets", args=[wave_a.pk])
    assert "比例达到13%" in c.get(url).content.decode()
    resp = c.post(url, {"year": 2026, "rate": 13, "plan_target": target_b.pk})
    assert resp.status_code == 200  # not offered: another city's plan
    resp = c.post(url, {"year": 2026, "rate": 13, "plan_target": target_a.pk})
    assert resp.status_code == 302
    assert wave_a.targets.filter(plan_target=target_a).exists()


@pytest.mark.parametrize("who", USERS)
def test_run_start(client, world, waves, who):
    wave_a, _ = waves
    before = wave_a.runs.count()
    resp = as_user(client, world, who).post(reverse("survey:run_start", args=[wave_a.pk]))
    after = wave_a.runs.count()
    if who == "anon":
        assert is_login_redirect(resp) and after == before
    elif who in WRITE_A:
        assert resp.status_code == 302 and after == before + 1
        assert wave_a.runs.order_by("-pk").first().status == RunStatus.DONE
    else:
        assert resp.status_code in DENIED and after == before


def test_results_page_shows_flags_trend_and_older_runs(client, world, waves):
    wave_a, _ = waves
    first = wave_a.runs.get()
    services.run_start(user=world.users["admin_a"], wave=wave_a, rake=False)
    c = as_user(client, world, "viewer_a")
    html = c.get(reverse("survey:wave", args=[wave_a.pk])).content.decode()
    assert "按总体边际校准" not in html or "未校准" in html
    assert "需谨慎解读" in html and "样本量不足" in html  # flagged, with the reason
    assert 'id="trend-table"' in html and "2026年达到13%" in html
    assert "按城乡" in html and "按重点人群" in html
    older = c.get(reverse("survey:wave", args=[wave_a.pk]), {"run": first.pk}).content.decode()
    assert f"估计任务 #{first.pk}" in older and "已按总体边际校准" in older
    # a run id of another wave falls back to nothing rather than leaking it
    _, wave_b = waves
    run_b = wave_b.runs.get()
    resp = c.get(reverse("survey:export", args=[wave_a.pk]), {"run": run_b.pk})
    assert resp.status_code == 404


def test_province_wave_falls_back_to_ranked_bars(client, world, settings, tmp_path):
    from kepu.orgs.models import Organisation, OrgKind

    settings.MEDIA_ROOT = tmp_path
    prov_office = Organisation.objects.create(
        name="云南省科学技术协会", kind=OrgKind.ASSOCIATION, region=world.regions["prov"]
    )
    wave = services.wave_create(
        user=world.users["super"],
        owner=prov_office,
        fields=services.WaveFields(title="全省调查", region=world.regions["prov"]),
    )
    rows = sample_rows(60)
    for i, r in enumerate(rows[1:]):
        r[1] = "530302" if i % 2 else "530102"
    services.respondents_import(
        user=world.users["super"], wave=wave, name="p.csv", data=csv_bytes(rows)
    )
    services.run_start(user=world.users["super"], wave=wave)
    html = (
        as_user(client, world, "super").get(reverse("survey:wave", args=[wave.pk])).content.decode()
    )
    assert "没有下级区划的地图边界数据, 以排序条形图显示" in html
    assert 'data-kind="bar"' in html
    assert (
        as_user(client, world, "super").get(reverse("survey:geo", args=[wave.pk])).status_code
        == 404
    )


def _queries(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(url)
    assert resp.status_code == 200
    return len(ctx.captured_queries)


def test_wave_list_and_detail_queries_do_not_grow(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = as_user(client, world, "admin_a")
    first = load_wave(world, make_wave(world, year=2020))
    services.run_start(user=world.users["admin_a"], wave=first)
    small_list = _queries(c, reverse("survey:waves"))
    small_detail = _queries(c, reverse("survey:wave", args=[first.pk]))
    for year in (2021, 2022, 2023):
        wave = load_wave(world, make_wave(world, year=year), seed=year)
        services.wave_target_add(user=world.users["admin_a"], wave=wave, year=year, rate=10)
        services.run_start(user=world.users["admin_a"], wave=wave)
    assert _queries(c, reverse("survey:waves")) == small_list
    assert _queries(c, reverse("survey:wave", args=[first.pk])) == small_detail


def test_data_template_writes_item_ids_as_text(client, world, waves):
    """An item id that looks like a formula is prefixed so no spreadsheet evaluates it."""
    wave_a, _ = waves
    wave_a.questionnaire = {"items": [{"id": '=HYPERLINK("x")'}, {"id": "q2"}]}
    wave_a.save(update_fields=["questionnaire"])
    resp = as_user(client, world, "admin_a").get(reverse("survey:data_template", args=[wave_a.pk]))
    header = resp.content.decode("utf-8-sig").splitlines()[0]
    assert header.endswith(',"\'=HYPERLINK(""x"")",q2')
