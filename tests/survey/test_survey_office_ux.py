"""Issue #12 for office staff: county offices read city surveys, one CI per estimate, a
Chinese configuration sheet, a template that imports as it is, forgiving CSV headers,
and the questionnaire as a form and as Excel."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from kepu.orgs.scoping import Action
from kepu.survey import excel, selectors, services
from kepu.survey.models import Estimate, EstimationRun, Margin, Measure, Respondent, Wave
from tests.survey.test_survey_services import load_wave, make_wave


@pytest.fixture
def estimated(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    wave = load_wave(world, make_wave(world, title="曲靖市调查"))
    run = services.run_start(user=world.users["admin_a"], wave=wave)
    return wave, run


# --- county offices read the city's survey --------------------------------------------------
def test_county_office_reads_a_city_survey_through_the_gate(world, estimated):
    wave, run = estimated
    county = world.users["county_admin_a"]
    assert list(Wave.objects.restrict(county)) == [wave]
    assert EstimationRun.objects.restrict(county).filter(pk=run.pk).exists()
    assert Estimate.objects.restrict(county).filter(run=run).count() == run.estimates.count()
    # never writes, and never reads the microdata or the margins
    for action in (Action.ADD, Action.CHANGE, Action.DELETE):
        assert not Wave.objects.restrict(county, action).exists()
        assert not EstimationRun.objects.restrict(county, action).exists()
    assert not Respondent.objects.restrict(county).exists()
    assert not Margin.objects.restrict(county).exists()
    # a county of the other city sees nothing of it
    assert not Wave.objects.restrict(world.users["admin_b"]).filter(pk=wave.pk).exists()


def test_county_office_sees_its_own_county_read_only(client, world, estimated):
    wave, run = estimated
    client.force_login(world.users["county_admin_a"])
    html = client.get(reverse("survey:waves")).content.decode()
    assert "曲靖市调查" in html
    resp = client.get(reverse("survey:wave", args=[wave.pk]))
    assert resp.status_code == 200
    html = resp.content.decode()
    own = run.estimates.get(measure=Measure.RATE, variable="subregion", category="530302")
    assert 'id="own-region-530302"' in html and "麒麟区" in html
    assert f"{own.estimate * 100:.2f}%" in html
    assert 'id="read-only-note"' in html
    assert "运行估计" not in html and ">删除<" not in html
    assert reverse("survey:margins", args=[wave.pk]) not in html
    assert client.get(reverse("survey:export", args=[wave.pk])).status_code == 200
    # denials: visible, so 403; nothing changes
    assert client.get(reverse("survey:margins", args=[wave.pk])).status_code == 403
    assert client.get(reverse("survey:wave_edit", args=[wave.pk])).status_code == 403
    assert client.post(reverse("survey:wave_delete", args=[wave.pk])).status_code == 403
    assert client.post(reverse("survey:run_start", args=[wave.pk])).status_code == 403
    assert Wave.objects.filter(pk=wave.pk).exists()
    assert EstimationRun.objects.filter(wave=wave).count() == 1


def test_city_office_has_no_own_region_card(client, world, estimated):
    wave, _ = estimated
    client.force_login(world.users["viewer_a"])
    html = client.get(reverse("survey:wave", args=[wave.pk])).content.decode()
    assert "own-region-" not in html and 'id="read-only-note"' not in html


# --- one confidence interval ------------------------------------------------------------------
def _overall(run):
    return run.estimates.get(measure=Measure.RATE, variable="overall")


@pytest.mark.parametrize("method", ["logit", "normal"])
def test_one_ci_per_estimate_the_other_in_the_tooltip(client, world, estimated, method):
    wave, run = estimated
    wave.ci_method = method
    wave.save(update_fields=["ci_method"])
    est = _overall(run)
    chosen = (
        (est.ci_logit_low, est.ci_logit_high) if method == "logit" else (est.ci_low, est.ci_high)
    )
    other = (
        (est.ci_low, est.ci_high) if method == "logit" else (est.ci_logit_low, est.ci_logit_high)
    )
    assert chosen != other
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("survey:wave", args=[wave.pk])).content.decode()
    assert "logit {" not in html and "(logit:" not in html
    shown = f"{chosen[0] * 100:.2f}% — {chosen[1] * 100:.2f}%"
    hidden = f"{other[0] * 100:.2f}% — {other[1] * 100:.2f}%"
    headline = html.split('id="headline-ci"', 1)[1].split("</div>", 1)[0]
    assert shown in headline
    # the other interval is only in the tooltip (title attribute), not as text
    assert 'title="' in headline and hidden in headline.split('title="', 1)[1].split('"', 1)[0]
    assert html.count(hidden) == html.count(
        f"; {'正态近似' if method == 'logit' else 'logit 变换'}: {hidden}"
    )
    # the chart data carries the chosen interval
    assert f'"low": {round(chosen[0] * 100, 2)}' in html


def test_ci_method_is_an_office_setting(client, world, estimated):
    wave, _ = estimated
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("survey:wave_edit", args=[wave.pk]),
        {
            "title": wave.title,
            "kind": wave.kind,
            "year": wave.year,
            "min_n": 30,
            "max_rse": 30,
            "ci_method": "normal",
            "version": wave.version,
        },
    )
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    wave.refresh_from_db()
    assert wave.ci_method == "normal"


# --- the export's configuration sheet ------------------------------------------------------------
def test_configuration_sheet_speaks_chinese_with_plain_numbers(world, estimated):
    wave, run = estimated
    run.config["margins"]["education"] = {"junior": 1_500_000.0, "college": 250_000.5}
    data = excel.results_workbook(wave=wave, results=selectors.run_results(run))
    wb = load_workbook(io.BytesIO(data))
    rows = {r[0]: str(r[1]) for r in wb["估计配置"].iter_rows(min_row=2, values_only=True)}
    text = "\n".join(f"{k}: {v}" for k, v in rows.items())
    assert "e+" not in text and "junior" not in text and "subregion" not in text
    assert rows["总体边际: 文化程度"] == "初中 1,500,000; 大学专科 250,000.5"
    assert rows["总体边际: 区域"] == "麒麟区 60,000; 沾益区 40,000"
    assert rows["总体边际: 性别"] == "男 51,000; 女 49,000"
    assert rows["最少样本量"] == "30 人" and rows["最大相对标准误"] == "30%"
    assert rows["置信区间方法"] == "logit 变换"
    assert rows["校准收敛情况"].startswith("已收敛; 迭代")
    assert rows["分组变量"] == "区域、城乡、性别、年龄段、文化程度、重点人群"
    assert "样本量 120" in rows["抽样设计"]


def test_export_puts_the_chosen_ci_first(world, estimated):
    wave, run = estimated
    data = excel.results_workbook(wave=wave, results=selectors.run_results(run))
    ws = load_workbook(io.BytesIO(data))["总体"]
    assert ws.cell(2, 5).value == "95%置信区间下限(%, logit 变换)"
    assert ws.cell(2, 7).value == "另一方法下限(%, 正态近似)"
    est = _overall(run)
    assert ws.cell(3, 5).value == pytest.approx(round(est.ci_logit_low * 100, 2))
    assert ws.cell(3, 7).value == pytest.approx(round(est.ci_low * 100, 2))


# --- the microdata template -----------------------------------------------------------------------
def test_downloaded_template_imports_as_it_is(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    wave = make_wave(world, title="模板调查")
    client.force_login(world.users["admin_a"])
    resp = client.get(reverse("survey:data_template", args=[wave.pk]))
    assert resp.status_code == 200
    text = resp.content.decode("utf-8-sig")
    header = text.splitlines()[0].split(",")
    assert header[:10] == [
        "问卷编号", "区划代码", "城乡", "性别", "年龄段", "文化程度", "重点人群", "层",
        "初级抽样单元", "权重",
    ]  # fmt: skip
    assert header[10:] == wave.item_ids
    # upload it unchanged through the import page
    upload = io.BytesIO(resp.content)
    upload.name = "模板.csv"
    resp = client.post(reverse("survey:import", args=[wave.pk]), {"datafile": upload})
    assert resp.status_code == 302, resp.content.decode()[-2000:]
    assert Respondent.objects.filter(wave=wave).count() == 2
    scores = sorted(Respondent.objects.filter(wave=wave).values_list("score", flat=True))
    assert scores[-1] == 100  # the first example answers every item with its key


def test_english_headers_stay_accepted_as_aliases(world):
    from tests.survey.test_survey_services import csv_bytes, sample_rows

    wave = make_wave(world)
    rows = sample_rows(40)
    assert rows[0][1] == "region_code"
    services.respondents_import(
        user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows)
    )
    assert Respondent.objects.filter(wave=wave).count() == 40


# --- a CSV with a title row ----------------------------------------------------------------------
def _zh_rows(n: int = 40) -> list[list[str]]:
    from tests.survey.test_survey_services import sample_rows

    rows = sample_rows(n)
    zh = {**services.DATA_COLUMNS_ZH, "score": "得分"}
    rows[0] = [zh.get(h, h) for h in rows[0]]
    return rows


def test_gbk_csv_with_a_title_row_finds_its_header(world):
    from tests.survey.test_survey_services import csv_bytes

    wave = make_wave(world)
    rows = [["2026年曲靖市公民科学素质调查 受访者数据"], [], *_zh_rows(40)]
    data = csv_bytes(rows, encoding="gbk")
    summary = services.respondents_import(
        user=world.users["admin_a"], wave=wave, name="gbk.csv", data=data
    )
    assert summary.rows == 40


def test_row_numbers_count_the_title_rows(world):
    from tests.survey.test_survey_services import csv_bytes

    wave = make_wave(world)
    rows = [["调查数据"], *_zh_rows(10)]
    rows[3][9] = "abc"  # weight of the third data row, spreadsheet line 4
    with pytest.raises(services.SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows, "gbk")
        )
    assert any(e.startswith("第4行") for e in exc.value.errors), exc.value.errors


def test_missing_columns_name_only_those_and_show_the_header_found(world):
    from tests.survey.test_survey_services import csv_bytes

    wave = make_wave(world)
    rows = [["调查数据 (内部)"], *[r[:9] + r[10:] for r in _zh_rows(5)]]  # no 权重
    rows[1][4] = "年龄分组"  # not a known name either
    with pytest.raises(services.SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows, "gbk")
        )
    first, second = exc.value.errors[:2]
    assert first == "缺少必需的列: 年龄段(age_band)、权重(weight)。"
    assert second.startswith(
        "找到的表头 (第2行): 「问卷编号」、「区划代码」、「城乡」、「性别」、「年龄分组」"
    )


# --- the questionnaire as a form and as Excel ---------------------------------------------------
from kepu.survey import adapter, config  # noqa: E402


def _standard_tables():
    return config.config_to_tables(adapter.default_questionnaire(), adapter.default_scoring())


def test_standard_configuration_round_trips_through_the_tables():
    q, s = adapter.default_questionnaire(), adapter.default_scoring()
    tables = config.config_to_tables(q, s)
    assert [b["label"] for b in tables.bands] == ["较低", "基本具备", "具备", "高阶"]
    assert tables.literate == "具备" and tables.total == "100"
    assert tables.items[0] == {
        "id": "q01", "text": "第1题", "dimension": "科学知识", "kind": "单选", "points": "5",
        "key": "B", "options": "4",
    }  # fmt: skip
    q2, s2, errors = config.tables_to_config(tables, previous_questionnaire=q, previous_scoring=s)
    assert errors == []
    assert adapter.validate_configuration(q2, s2) == []
    assert [i["key"] for i in q2["items"]] == [i["key"] for i in q["items"]]
    assert [i["dimension"] for i in q2["items"]] == [i["dimension"] for i in q["items"]]
    assert {b["code"]: b["threshold"] for b in s2["bands"]} == {
        b["code"]: b["threshold"] for b in s["bands"]
    }
    assert s2["literate_band"] == "literate"


def test_tables_are_checked_with_chinese_messages():
    tables = _standard_tables()
    tables.dimensions[0]["points"] = "35"  # 科学知识 35: dims add to 95, items to 40
    tables.bands[2]["threshold"] = "50"  # 具备 50 below 基本具备 55
    tables.items[1]["key"] = "E"
    tables.items[2]["key"] = "也许"
    _, _, errors = config.tables_to_config(tables)
    assert "各维度满分之和为 95 分, 与总分 100 分不一致。" in errors
    assert "等级的起点分数应逐级升高: 「具备」(50 分) 应高于「基本具备」(55 分)。" in errors
    assert "第2题 (q02): 正确答案「E」应为 A—D 中的字母。" in errors
    assert any(e.startswith("第3题 (q03): 判断题的正确答案应为「对」或「错」") for e in errors)
    assert any(e.startswith("维度「科学知识」的题目分值之和为") for e in errors)


def _form_post(tables, **extra):
    data = {
        "title": "表格调查", "kind": "local", "year": 2026, "min_n": 30, "max_rse": 30,
        "ci_method": "logit", "config_mode": "table", "total_points": tables.total,
        "band_literate": tables.literate,
        "item_id": [r["id"] for r in tables.items], "item_text": [r["text"] for r in tables.items],
        "item_dimension": [r["dimension"] for r in tables.items],
        "item_kind": [r["kind"] for r in tables.items],
        "item_points": [r["points"] for r in tables.items],
        "item_key": [r["key"] for r in tables.items],
        "item_options": [r["options"] for r in tables.items],
        "dim_label": [r["label"] for r in tables.dimensions],
        "dim_points": [r["points"] for r in tables.dimensions],
        "band_label": [r["label"] for r in tables.bands],
        "band_threshold": [r["threshold"] for r in tables.bands],
    }  # fmt: skip
    data.update(extra)
    return data


def test_wave_is_created_from_the_tables(client, world):
    tables = _standard_tables()
    tables.items = tables.items[:2]
    tables.items[0].update(dimension="科学知识", points="60", kind="", key="AC", options="")
    tables.items[1].update(dimension="应用科学的能力", points="40", kind="判断", key="错")
    tables.dimensions = [
        {"label": "科学知识", "points": "60"},
        {"label": "应用科学的能力", "points": "40"},
    ]
    client.force_login(world.users["admin_a"])
    page = client.get(reverse("survey:wave_create")).content.decode()
    assert 'id="config-items"' in page and 'name="item_key" value="B"' in page
    data = _form_post(tables, owner=world.orgs["office_a"].pk, region=world.regions["city_a"].pk)
    resp = client.post(reverse("survey:wave_create"), data)
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    wave = Wave.objects.get(title="表格调查")
    assert [(i["kind"], i["key"]) for i in wave.questionnaire["items"]] == [
        ("multiple", "AC"),
        ("true_false", False),
    ]
    assert [d["max_points"] for d in wave.scoring["dimensions"]] == [60, 40]


def test_form_shows_the_errors_and_keeps_what_was_typed(client, world, estimated):
    wave, _ = estimated
    tables = config.config_to_tables(wave.questionnaire, wave.scoring)
    tables.bands[3]["threshold"] = "60"  # 高阶 60 below 具备 70
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("survey:wave_edit", args=[wave.pk]), _form_post(tables, version=wave.version)
    )
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "等级的起点分数应逐级升高: 「高阶」(60 分) 应高于「具备」(70 分)。" in html
    assert 'name="band_threshold" value="60"' in html


def test_questionnaire_excel_round_trip(client, world, estimated):
    wave, _ = estimated
    client.force_login(world.users["viewer_a"])
    resp = client.get(reverse("survey:questionnaire_export", args=[wave.pk]))
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.content)).active
    rows = [[c for c in r] for r in ws.iter_rows(values_only=True)]
    assert rows[0][0] == "【题目】" and list(rows[1][:7]) == config.ITEM_HEADERS
    assert list(rows[2][:7]) == ["q01", "第1题", "科学知识", "单选", 5, "B", 4]
    # edit it in "Excel" (change a key and the points of two items) and import it
    wb = load_workbook(io.BytesIO(resp.content))
    ws = wb.active
    ws.cell(3, 6).value = "D"
    buf = io.BytesIO()
    wb.save(buf)
    upload = io.BytesIO(buf.getvalue())
    upload.name = "问卷.xlsx"
    client.force_login(world.users["admin_a"])
    Respondent.objects.filter(wave=wave).delete()  # answers would pin the configuration
    wave.data_mode = ""
    wave.save(update_fields=["data_mode"])
    post = {
        "title": wave.title, "kind": wave.kind, "year": wave.year, "min_n": 30, "max_rse": 30,
        "ci_method": "logit", "version": wave.version, "config_file": upload,
    }  # fmt: skip
    resp = client.post(reverse("survey:wave_edit", args=[wave.pk]), post)
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    wave.refresh_from_db()
    assert wave.questionnaire["items"][0]["key"] == "D"
    assert len(wave.questionnaire["items"]) == 20


def test_questionnaire_import_reports_a_foreign_sheet(client, world, estimated):
    wave, _ = estimated
    upload = io.BytesIO("题号,答案\nq01,B\n".encode("gbk"))
    upload.name = "x.csv"
    client.force_login(world.users["admin_a"])
    resp = client.post(
        reverse("survey:wave_edit", args=[wave.pk]),
        {"title": wave.title, "kind": wave.kind, "year": wave.year, "min_n": 30, "max_rse": 30,
         "version": wave.version, "config_file": upload},
    )  # fmt: skip
    assert resp.status_code == 200
    assert "没有找到 【题目】、【维度】、【等级】 部分" in resp.content.decode()


def test_json_stays_as_the_advanced_view(client, world):
    import json

    q, s = adapter.default_questionnaire(), adapter.default_scoring()
    s["bands"][0]["threshold"] = 90
    client.force_login(world.users["admin_a"])
    data = _form_post(
        _standard_tables(),
        owner=world.orgs["office_a"].pk,
        region=world.regions["city_a"].pk,
        config_mode="json",
        questionnaire=json.dumps(q),
        scoring=json.dumps(s),
    )
    data["item_key"] = ["Z"] * 20  # the tables are ignored in JSON mode
    resp = client.post(reverse("survey:wave_create"), data)
    assert resp.status_code == 302, resp.content.decode()[-3000:]
    wave = Wave.objects.get(title="表格调查")
    assert wave.scoring["bands"][0]["threshold"] == 90
