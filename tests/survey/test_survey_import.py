"""Survey microdata import at scale: ``kepu survey synth`` output imports unchanged, row
errors stop at 100 with a count, files over the row cap are refused quickly, progress is
reported, and the write is a bulk write whose query count does not grow with the file."""

from __future__ import annotations

import csv
import io
import time
import zipfile
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kepu.core.importing import DataImportError, SheetLimits
from kepu.orgs.models import Membership, Organisation, OrgKind
from kepu.orgs.scoping import Role
from kepu.regions.models import Level, Region
from kepu.survey import importing, services
from kepu.survey.engine.synth import PROVINCES, write_synth
from kepu.survey.models import Margin, Respondent
from kepu.survey.services import SurveyImportError, WaveFields
from tests.conftest import make_region
from tests.survey.test_survey_services import HEADER, csv_bytes, make_wave, sample_rows


@pytest.fixture
def national(world):
    """The 31 provinces under the root, and a national office with its administrator."""
    root = world.regions["root"]
    for code, name, _, _ in PROVINCES:
        if not Region.objects.filter(code=f"{code}0000").exists():
            make_region(f"{code}0000", name, Level.PROVINCE, root)
    office = Organisation.objects.create(
        name="中国科学技术协会", kind=OrgKind.ASSOCIATION, region=root, short_name="中国科协"
    )
    admin = world.users["nobody"]
    Membership.objects.create(user=admin, organisation=office, role=Role.OFFICE_ADMIN)
    wave = services.wave_create(
        user=admin, owner=office, fields=WaveFields(title="全国合成调查", year=2025)
    )
    return admin, wave


def test_synth_output_imports_unchanged(national, tmp_path):
    admin, wave = national
    info = write_synth(800, tmp_path, seed=5)
    data = Path(info["data"]).read_bytes()
    header = next(csv.reader(io.StringIO(data.decode())))
    assert header[:10] == [
        "id",
        "province",
        "urban",
        "stratum",
        "psu",
        "weight",
        "sex",
        "age_band",
        "education",
        "group",
    ]

    summary = services.respondents_import(user=admin, wave=wave, name="sample.csv", data=data)
    assert summary.rows == 800 and summary.mode == "scores"
    assert summary.subregions == 31
    first = Respondent.objects.filter(wave=wave).order_by("row_number").first()
    assert first.region.code.endswith("0000") and first.subregion == first.region
    # the synth codes became the platform's categories
    assert set(Respondent.objects.values_list("sex", flat=True)) == {"male", "female"}
    assert set(Respondent.objects.values_list("urban_rural", flat=True)) == {"urban", "rural"}
    assert set(Respondent.objects.values_list("age_band", flat=True)) == {
        "18-29",
        "30-39",
        "40-49",
        "50-59",
        "60-69",
    }
    assert set(Respondent.objects.values_list("key_group", flat=True)) <= {
        "urban_labour",
        "farmers",
        "workers",
        "elderly",
        "cadres",
        "other",
    }
    # scores and the literacy flag are the file's
    written = list(csv.DictReader(io.StringIO(data.decode())))
    assert sum(Respondent.objects.values_list("literate", flat=True)) == sum(
        int(r["literate"]) for r in written
    )
    assert sorted(Respondent.objects.values_list("score", flat=True)) == sorted(
        float(r["score"]) for r in written
    )

    # and the margins files too, each as written
    for variable, path in info["margins"].items():
        created = services.margins_import(
            user=admin, wave=wave, name=f"{variable}.csv", data=Path(path).read_bytes()
        )
        assert created, variable
    margins = {(m.variable, m.category): m.population for m in Margin.objects.filter(wave=wave)}
    assert {v for v, _ in margins} == {"sex", "age_band", "education", "urban_rural", "subregion"}
    assert ("subregion", "110000") in margins and ("sex", "female") in margins
    totals = {v: sum(p for (var, _), p in margins.items() if var == v) for v, _ in margins}
    assert len(set(totals.values())) == 1  # every margin sums to the same population


def test_synth_codes_are_read_only_in_the_synth_layout(world):
    """In the platform's own layout a bare '1' is not silently taken as a synth code."""
    wave = make_wave(world)
    rows = sample_rows(8)
    rows[2][HEADER.index("education")] = "1"
    with pytest.raises(SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows)
        )
    assert exc.value.errors[0].startswith("第3行: 文化程度「1」无法识别")


def test_row_errors_stop_at_100_with_a_count(world):
    wave = make_wave(world)
    rows = sample_rows(250)
    for r in rows[1:151]:
        r[HEADER.index("weight")] = "-1"  # 150 bad rows
    with pytest.raises(SurveyImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(rows)
        )
    errors = exc.value.errors
    assert len(errors) == 101
    assert errors[0] == "第2行: 权重必须大于0" and errors[99] == "第101行: 权重必须大于0"
    assert errors[100] == "另有 50 处错误未列出; 请修正后重新导入。"
    assert not Respondent.objects.exists()


def test_progress_is_reported_up_to_done(world):
    wave = make_wave(world)
    seen: list[tuple[float, str]] = []
    services.respondents_import(
        user=world.users["admin_a"],
        wave=wave,
        name="a.csv",
        data=csv_bytes(sample_rows(60)),
        progress=lambda f, m: seen.append((f, m)),
    )
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert seen[-1][1] == "已导入 60 名受访者"


def _csv_bomb(rows: int) -> bytes:
    line = "1,530302,城镇,女,30-39,初中,农民,s1,p1,1.5,60\n"
    return (",".join([*HEADER, "score"]) + "\n" + line * rows).encode()


def test_a_file_over_the_row_cap_is_refused_quickly(world, monkeypatch):
    monkeypatch.setattr(importing, "RESPONDENT_LIMITS", SheetLimits(1000, 100_000, 64 << 20))
    wave = make_wave(world)
    started = time.perf_counter()
    with pytest.raises(DataImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.csv", data=_csv_bomb(50_000)
        )
    assert exc.value.errors == ["数据行数超过上限 (1,000 行); 请拆分后分批导入。"]
    assert time.perf_counter() - started < 2
    assert not Respondent.objects.exists()


def test_an_xlsx_over_the_row_cap_is_refused_before_parsing(world, monkeypatch):
    from tests.plans.test_import_limits import xlsx_bomb

    monkeypatch.setattr(importing, "RESPONDENT_LIMITS", SheetLimits(1000, 100_000, 64 << 20))
    wave = make_wave(world)
    with pytest.raises(DataImportError) as exc:
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.xlsx", data=xlsx_bomb(5000)
        )
    assert exc.value.errors == ["表格行数超过上限 (1,000 行); 请拆分后分批导入。"]
    assert not Respondent.objects.exists()


def test_a_corrupt_xlsx_is_a_clear_error(world):
    wave = make_wave(world)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    with pytest.raises(DataImportError, match="没有工作表"):
        services.respondents_import(
            user=world.users["admin_a"], wave=wave, name="a.xlsx", data=buf.getvalue()
        )


def test_the_write_is_bulk(world):
    """Reading and checking cost the same queries for 20 or 400 rows; the rows go in with
    multi-row INSERTs (the database's parameter limit decides how many per statement)."""
    wave = make_wave(world)

    def queries(n: int) -> tuple[int, int]:
        with CaptureQueriesContext(connection) as ctx:
            services.respondents_import(
                user=world.users["admin_a"], wave=wave, name="a.csv", data=csv_bytes(sample_rows(n))
            )
        inserts = [q for q in ctx.captured_queries if 'INSERT INTO "survey_respondent"' in q["sql"]]
        return len(ctx.captured_queries) - len(inserts), len(inserts)

    queries(20)
    small, large = queries(20), queries(400)
    assert small[0] == large[0]
    assert large[1] <= 400 // 50
    assert Respondent.objects.filter(wave=wave).count() == 400
