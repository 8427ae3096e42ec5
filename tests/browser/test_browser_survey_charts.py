"""The survey results page at desktop and phone width (issue #12): one confidence interval
per estimate, bar values never drawn over error bars, category names not running into
each other, the highest region's label on the map, and the trend's gap green once the
target is met. The checks read what ECharts drew (its display list), and every chart is
screenshotted."""

from __future__ import annotations

import numpy as np
import pytest

from kepu.regions.models import Level
from kepu.survey import services
from kepu.survey.models import Wave
from tests.browser.test_browser_shell import login
from tests.conftest import make_region
from tests.survey.test_survey_services import HEADER, add_second_county, csv_bytes, make_wave

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": (1280, 900), "phone": (390, 844)}
# 曲靖市's counties (the test world has 麒麟区; the others are added here).
COUNTIES = [
    ("530302", "麒麟区"),
    ("530303", "沾益区"),
    ("530304", "马龙区"),
    ("530322", "陆良县"),
    ("530323", "师宗县"),
    ("530324", "罗平县"),
    ("530325", "富源县"),
    ("530326", "会泽县"),
    ("530381", "宣威市"),
]
EDUCATION = ["小学及以下", "初中", "高中(中专、技校)", "大学专科", "大学本科及以上"]
GROUPS = ["农民", "产业工人", "老年人", "领导干部和公务员", "城镇劳动者", "其他"]
AGES = ["18-29", "30-39", "40-49", "50-59", "60-69"]


def city_rows(per_county: int = 40, seed: int = 3) -> list[list[str]]:
    """Scores for every county of the city; 麒麟区 (a small urban district) scores highest."""
    rng = np.random.default_rng(seed)
    rows = [[*HEADER, "score"]]
    k = 0
    for c, (code, _) in enumerate(COUNTIES):
        for i in range(per_county):
            k += 1
            urban = i % 2
            edu = int(rng.integers(5))
            base = 74 if c == 0 else 52 + 2 * c
            score = int(np.clip(round(base + 4 * edu + rng.normal(0, 10)), 0, 100))
            rows.append(
                [
                    str(k),
                    code,
                    "城镇" if urban else "乡村",
                    "男" if rng.random() < 0.5 else "女",
                    AGES[int(rng.integers(5))],
                    EDUCATION[edu],
                    GROUPS[int(rng.integers(6))],
                    f"{code}-{urban}",
                    f"{code}-{urban}-{i % 3}",
                    f"{rng.uniform(50, 150):.2f}",
                    str(score),
                ]
            )
    return rows


@pytest.fixture
def city_waves(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    add_second_county(world)
    for code, name in COUNTIES:
        if not any(r.code == code for r in world.regions.values()):
            world.regions[f"c{code}"] = make_region(
                code, name, Level.COUNTY, world.regions["city_a"]
            )
    admin = world.users["admin_a"]
    waves = []
    for year, seed in ((2024, 3), (2026, 4)):
        wave = make_wave(world, year=year, title=f"{year}年曲靖调查")
        services.respondents_import(
            user=admin, wave=wave, name="d.csv", data=csv_bytes(city_rows(seed=seed))
        )
        waves.append(wave)
    # 2024 met its (low) target; 2026 is below its (high) one
    services.wave_target_add(user=admin, wave=waves[0], year=2024, rate=1)
    services.wave_target_add(user=admin, wave=waves[1], year=2026, rate=99)
    for wave in waves:
        services.run_start(user=admin, wave=wave)
    return waves


# What ECharts drew: text elements and the error bars' lines, in page pixels.
DRAWN = """(id) => {
  const node = document.getElementById(id);
  const chart = echarts.getInstanceByDom(node);
  const box = node.getBoundingClientRect();
  const out = { texts: [], bars: [], width: box.width };
  function rectOf(el) {
    const r = el.getBoundingRect().clone();
    const t = el.getComputedTransform();
    if (t) r.applyTransform(t);
    return { x: r.x, y: r.y, w: r.width, h: r.height };
  }
  function walk(el) {
    if (el.ignore || el.invisible) return;  // hidden (a label that gave way is ignored)
    if (el.type === "text" && el.style && el.style.text) {
      out.texts.push({ ...rectOf(el), text: String(el.style.text), name: el.name || "",
                       fill: String(el.style.fill || "") });
    } else if (el.type === "line" && el.name === "ebar") {
      out.bars.push(rectOf(el));
    }
    if (el.isGroup) el.eachChild(walk);
    const label = el.getTextContent && el.getTextContent();
    if (label) walk(label);
  }
  chart.getZr().storage.getRoots().forEach(walk);
  return out;
}"""


def overlap(a, b, slack=0.5) -> bool:
    return (
        a["x"] + slack < b["x"] + b["w"]
        and b["x"] + slack < a["x"] + a["w"]
        and a["y"] + slack < b["y"] + b["h"]
        and b["y"] + slack < a["y"] + a["h"]
    )


def open_results(browser, live_server, wave: Wave, size: str):
    width, height = VIEWPORTS[size]
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": height}, is_mobile=size == "phone"
    )
    page = context.new_page()
    login(page, live_server, "admin_a")
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/survey/{wave.pk}/")
    page.wait_for_selector("#survey-map[data-ready='1'] canvas", timeout=20000)
    for variable in ("urban_rural", "sex", "age_band", "education", "key_group"):
        page.wait_for_selector(f"#chart-{variable}[data-ready='1'] canvas")
    page.wait_for_selector("#survey-trend canvas")
    page.wait_for_timeout(600)  # ECharts' first animation frame
    return context, page


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_survey_charts_at_desktop_and_phone_width(browser, live_server, city_waves, size):
    _, wave = city_waves
    context, page = open_results(browser, live_server, wave, size)
    try:
        # one interval per estimate: no second "logit …" line anywhere
        headline = page.locator("#headline").inner_text()
        assert "(logit:" not in headline and headline.count(" — ") == 1
        assert "logit " not in page.locator("#breakdowns").inner_text().replace("logit 变换", "")
        tip = page.locator("#headline-ci .ci-value").get_attribute("title")
        assert tip.startswith("logit 变换的95%置信区间; 正态近似: ")

        for variable in ("urban_rural", "sex", "age_band", "education", "key_group"):
            drawn = page.evaluate(DRAWN, f"chart-{variable}")
            values = [t for t in drawn["texts"] if t["name"] == "evalue"]
            assert len(values) >= 2, (variable, drawn["texts"])
            # bar values never over an error bar
            for v in values:
                hits = [b for b in drawn["bars"] if overlap(v, b)]
                assert not hits, (size, variable, v, hits)
            # category names do not run into each other (nor into the values)
            names = [t for t in drawn["texts"] if t["name"] != "evalue" and "%" not in t["text"]]
            labels = [t for t in names if not t["text"].replace(".", "").isdigit()]
            for i, a in enumerate(labels):
                for b in labels[i + 1 :]:
                    assert not overlap(a, b), (size, variable, a, b)
            # and stay inside the chart
            for t in labels:
                assert t["x"] >= -1 and t["x"] + t["w"] <= drawn["width"] + 1, (size, variable, t)
        if size == "phone":
            layout = page.locator("#chart-key_group").get_attribute("data-layout")
            assert layout == "horizontal"  # six groups do not fit side by side at 390 px

        # the map shows the label of the highest region
        best = page.locator("#survey-map").get_attribute("data-best")
        assert best == "麒麟区"
        drawn = page.evaluate(DRAWN, "survey-map")
        mine = [t for t in drawn["texts"] if t["text"].startswith(best + "\n")]
        assert len(mine) == 1, drawn["texts"]
        for t in drawn["texts"]:
            assert t is mine[0] or not overlap(t, mine[0]), (size, t["text"], mine[0]["text"])

        # trend: the met target's gap is green ("已达标"), the other red; values and
        # gaps are not drawn over the error bars
        drawn = page.evaluate(DRAWN, "survey-trend")
        notes = {t["text"].split(" ")[0]: t["fill"] for t in drawn["texts"] if t["name"] == "enote"}
        assert notes == {"已达标": "#1e7e34", "差距": "#c0392b"}, drawn["texts"]
        for t in drawn["texts"]:
            if t["name"] in ("evalue", "enote"):
                assert not [b for b in drawn["bars"] if overlap(t, b)], (size, t)
        gaps = page.locator("#trend-table span.gap-met, #trend-table span.gap-below")
        classes = [gaps.nth(i).get_attribute("class") for i in range(gaps.count())]
        assert classes == ["gap-met", "gap-below"]

        if size == "phone":
            # the page itself does not scroll sideways: wide tables scroll in their box
            overflow = page.evaluate(
                "() => [...document.querySelectorAll('main .card')].filter("
                "c => c.getBoundingClientRect().right > window.innerWidth + 1).length"
            )
            assert overflow == 0
        page.screenshot(path=f"/tmp/kepu-survey-charts-{size}.png", full_page=True)
    finally:
        context.close()


def test_county_office_reads_its_county_on_a_phone(browser, live_server, world, city_waves):
    assert len(city_waves) == 2
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    try:
        login(page, live_server, "county_admin_a")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/survey/")
        page.click("text=2026年曲靖调查")
        card = page.locator("#own-region-530302").inner_text()
        assert "麒麟区" in card and "95%置信区间" in card
        assert "只读" in page.locator("#read-only-note").inner_text()
        assert page.locator("#run-button").count() == 0
        assert page.locator(".subnav >> text=设置").count() == 0
        page.screenshot(path="/tmp/kepu-survey-county-phone.png", full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("size", list(VIEWPORTS))
def test_questionnaire_tables_in_the_browser(browser, live_server, world, settings, tmp_path, size):
    """The settings page: the questionnaire as tables; a wrong threshold is refused in
    Chinese and what was typed stays; a fixed one saves."""
    settings.MEDIA_ROOT = tmp_path / "media"
    wave = make_wave(world, title="表格问卷调查")
    width, height = VIEWPORTS[size]
    context = browser.new_context(
        locale="zh-CN", viewport={"width": width, "height": height}, is_mobile=size == "phone"
    )
    page = context.new_page()
    try:
        login(page, live_server, "admin_a")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/survey/{wave.pk}/edit/")
        assert page.locator("#config-items input[name=item_id]").first.input_value() == "q01"
        page.screenshot(path=f"/tmp/kepu-survey-form-before-{size}.png", full_page=True)
        # the form does not scroll sideways: the items table scrolls in its own box
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width + 1
        thresholds = page.locator("#config-bands input[name=band_threshold]")
        thresholds.nth(3).fill("60")  # 高阶 below 具备 (70)
        page.click("#wave-form button[type=submit]")
        errors = page.locator("#config-errors").inner_text()
        assert "等级的起点分数应逐级升高: 「高阶」(60 分) 应高于「具备」(70 分)。" in errors
        assert page.locator("#config-bands input[name=band_threshold]").nth(3).input_value() == "60"
        page.screenshot(path=f"/tmp/kepu-survey-form-{size}.png", full_page=True)
        page.locator("#config-bands input[name=band_threshold]").nth(3).fill("90")
        page.click("#wave-form button[type=submit]")
        page.wait_for_selector("text=已保存。")
        wave.refresh_from_db()
        assert {b["label"]: b["threshold"] for b in wave.scoring["bands"]}["高阶"] == 90
    finally:
        context.close()
