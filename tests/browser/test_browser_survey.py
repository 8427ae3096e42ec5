"""Import a small wave file, run the estimation, and read the results: the rate with its
confidence interval, the map of sub-regions, the breakdowns and the trend against targets."""

from __future__ import annotations

import pytest

from kepu.survey import services
from tests.browser.test_browser_shell import login
from tests.survey.test_survey_services import csv_bytes, load_wave, make_wave, sample_rows

pytestmark = pytest.mark.browser


def test_import_estimate_and_read_results(page, live_server, world, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    earlier = load_wave(world, make_wave(world, year=2024, title="2024年曲靖调查"), seed=5)
    services.run_start(user=world.users["admin_a"], wave=earlier)
    wave = make_wave(world, year=2026, title="2026年曲靖调查")
    services.wave_target_add(user=world.users["admin_a"], wave=wave, year=2026, rate=13)
    datafile = tmp_path / "2026年数据.csv"
    datafile.write_bytes(csv_bytes(sample_rows(160, seed=9), "gbk"))  # an office's GBK export

    login(page, live_server, "admin_a")
    page.wait_for_url(f"{live_server.url}/")
    page.click("nav.mainnav >> text=素质监测")
    page.click("text=2026年曲靖调查")
    assert "导入受访者数据后即可估计" in page.locator("#no-results").inner_text()
    page.click(".subnav >> text=导入数据")
    page.set_input_files("input[name=datafile]", str(datafile))
    page.click("#import-form button[type=submit]")
    page.wait_for_selector("text=已导入 160 名受访者")

    page.click("#run-button")
    page.wait_for_selector("#headline-rate")
    rate = page.locator("#headline-rate").inner_text()
    assert rate.endswith("%") and 0 < float(rate[:-1]) < 100
    assert "95%置信区间" in page.locator("#headline").inner_text()

    # the map of the city's counties, drawn by ECharts from the package's geometry
    page.wait_for_selector("#survey-map[data-ready='1'] canvas", timeout=15000)
    table = page.locator("#subregion-section table").inner_text()
    assert "麒麟区" in table and "沾益区" in table
    # breakdowns with charts; small cells flagged with the reason
    for variable in ("urban_rural", "sex", "age_band", "education", "key_group"):
        assert page.locator(f"#chart-{variable} canvas").count() == 1
    assert page.locator("tr.flagged .flag").count() > 0
    assert "样本量不足" in page.locator("#breakdowns").inner_text()
    # the trend: both waves, the target and the gap
    page.wait_for_selector("#survey-trend canvas")
    trend = page.locator("#trend-table").inner_text()
    assert "2024年曲靖调查" in trend and "2026年曲靖调查" in trend and "2026年达到13%" in trend
    gap = page.locator("#trend-table tr.current td").last.inner_text()
    assert gap.startswith(("+", "-"))
    page.screenshot(path=str(tmp_path / "survey-results.png"), full_page=True)
    page.screenshot(path="/tmp/kepu-survey-results-browser-test.png", full_page=True)

    # the Excel export is offered and downloads
    with page.expect_download() as download:
        page.click("text=导出 Excel")
    assert download.value.suggested_filename.endswith(".xlsx")
