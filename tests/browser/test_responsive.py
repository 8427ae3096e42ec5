"""The shell on a phone (390×844), on a desktop (1280×900) and on paper.

Every main page is opened at both widths and measured in the browser: the page never
scrolls sideways, no button breaks its label over several lines, links in tables keep
readable lines (not one or two characters a line), and on the phone every table cell is
a full-width card line that carries its column's name. Printing (A4) leaves out the
navigation, filters, pagers and buttons, and renders to an A4 PDF.
"""

from __future__ import annotations

import re

import pytest

from kepu.campaigns import services as campaign_services
from kepu.survey import services as survey_services
from tests.browser.test_browser_shell import login
from tests.campaigns.conftest import activity_fields, campaign  # noqa: F401 (fixture)
from tests.progress.conftest import pw, round_  # noqa: F401 (fixtures)
from tests.survey.test_survey_services import load_wave, make_wave

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

LONG_TITLE = "组织开展面向农村留守儿童和进城务工人员随迁子女的科学教育与科普研学实践活动"

# What the page looks like, measured in the browser. Lines are counted from the text's
# own line boxes (a Range over the element), so a label broken one character a line
# shows as many lines whatever the element's padding.
MEASURE = """
() => {
  const out = {scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth,
               buttons: [], links: [], cells: [], unlabelled: []};
  const lines = (el) => {
    const r = document.createRange(); r.selectNodeContents(el);
    const tops = new Set();
    for (const q of r.getClientRects()) if (q.width > 0 && q.height > 0) tops.add(Math.round(q.top));
    return tops.size;
  };
  const shown = (el) => {
    const b = el.getBoundingClientRect();
    return b.width > 0 && b.height > 0 && getComputedStyle(el).visibility !== "hidden";
  };
  for (const el of document.querySelectorAll("button, a.button")) {
    const text = el.textContent.replace(/\\s+/g, " ").trim();
    if (!shown(el) || !text) continue;
    const b = el.getBoundingClientRect();
    out.buttons.push({text, lines: lines(el), left: b.left, right: b.right, width: b.width});
  }
  for (const a of document.querySelectorAll("table.grid a")) {
    const text = a.textContent.replace(/\\s+/g, "").trim();
    if (!shown(a) || !text) continue;
    out.links.push({text, lines: lines(a)});
  }
  for (const table of document.querySelectorAll("table.grid:not(.keep-table)")) {
    if (!shown(table)) continue;
    for (const cell of table.querySelectorAll(":scope > tbody > tr > td")) {
      if (!shown(cell) || !cell.textContent.trim()) continue;
      out.cells.push({text: cell.textContent.trim().slice(0, 20), width: cell.getBoundingClientRect().width,
                      label: cell.getAttribute("data-label"), colspan: cell.colSpan});
    }
  }
  return out;
}
"""


@pytest.fixture
def shell_world(pw, round_, campaign, settings, tmp_path):  # noqa: F811
    """A plan with a long task title, an open round, a campaign with an activity and an
    estimated survey wave: something on every main page."""
    from kepu.plans.models import Task

    settings.MEDIA_ROOT = tmp_path / "media"
    Task.objects.filter(pk=pw.tasks[0].pk).update(title=LONG_TITLE)  # unscoped: test set-up
    campaign_services.activity_register(
        user=pw.users["staff_a1"],
        campaign=campaign,
        organiser=pw.orgs["unit_a1"],
        fields=activity_fields(pw),
    )
    wave = load_wave(pw, make_wave(pw, year=2026, title="2026年曲靖调查"), n=160, seed=9)
    survey_services.run_start(user=pw.users["admin_a"], wave=wave)
    pw.round = round_
    pw.campaign = campaign
    pw.wave = wave
    return pw


def main_pages(w) -> list[tuple[str, str]]:
    """(user, path) of the main pages: every list and the pages that carry reports."""
    plan, task, rnd, camp, wave = w.plan, w.tasks[0], w.round, w.campaign, w.wave
    office = w.orgs["office_a"]
    return [
        ("admin_a", "/"),
        ("admin_a", "/plans/ledger/"),
        ("admin_a", "/plans/"),
        ("admin_a", f"/plans/{plan.pk}/"),
        ("admin_a", f"/plans/tasks/{task.pk}/"),
        ("admin_a", "/orgs/"),
        ("admin_a", f"/orgs/{office.pk}/"),
        ("admin_a", "/progress/"),
        ("admin_a", f"/progress/rounds/{rnd.pk}/"),
        ("admin_a", f"/progress/dashboard/?round={rnd.pk}"),
        ("admin_a", "/progress/notices/"),
        ("admin_a", "/campaigns/"),
        ("admin_a", f"/campaigns/{camp.pk}/"),
        ("admin_a", f"/campaigns/{camp.pk}/activities/"),
        ("admin_a", f"/campaigns/{camp.pk}/quotas/"),
        ("admin_a", "/survey/"),
        ("admin_a", f"/survey/{wave.pk}/"),
        ("admin_a", "/registry/"),
        ("admin_a", "/registry/experts/"),
        ("admin_a", "/registry/sheets/"),
        ("admin_a", "/audit/"),
        ("admin_a", "/jobs/"),
        ("admin_a", "/notifications/"),
        ("staff_a1", "/plans/my-tasks/"),
        ("staff_a1", "/progress/reports/"),
    ]


def problems_on(page, phone: bool) -> list[str]:
    m = page.evaluate(MEASURE)
    found = []
    if m["scrollWidth"] > m["innerWidth"]:
        found.append(f"页面横向滚动 {m['scrollWidth']} > {m['innerWidth']}")
    for b in m["buttons"]:
        if b["lines"] > 1:
            found.append(f"按钮「{b['text']}」折成 {b['lines']} 行")
        if b["right"] > m["innerWidth"] + 1 or b["left"] < -1:
            found.append(f"按钮「{b['text']}」超出屏幕")
    for a in m["links"]:
        # at least six characters a line on average (a short name: one line)
        if a["lines"] > max(1, -(-len(a["text"]) // 6)):
            found.append(f"表格中的「{a['text'][:12]}」挤成 {a['lines']} 行")
    if phone:
        for c in m["cells"]:
            if c["width"] < 0.7 * m["innerWidth"]:
                found.append(f"单元格「{c['text']}」只有 {c['width']:.0f}px 宽")
    return found


def visit_all(browser, live_server, w, viewport, tmp_path, tag) -> tuple[dict, list[str]]:
    problems: list[str] = []
    errors: list[str] = []
    seen: dict[str, dict] = {}
    by_user: dict[str, list[str]] = {}
    for user, path in main_pages(w):
        by_user.setdefault(user, []).append(path)
    for user, paths in by_user.items():
        context = browser.new_context(locale="zh-CN", viewport=viewport)
        page = context.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        login(page, live_server, user)
        page.wait_for_url(f"{live_server.url}/")
        for path in paths:
            response = page.goto(f"{live_server.url}{path}")
            assert response is not None and response.status == 200, (path, response)
            page.wait_for_load_state("load")
            page.wait_for_function(
                "document.querySelectorAll('table.grid:not([data-labelled])').length === 0"
            )
            problems += [f"{path}: {p}" for p in problems_on(page, viewport["width"] < 640)]
            seen[path] = page.evaluate(MEASURE)
            name = re.sub(r"[^0-9a-z]+", "_", path).strip("_") or "home"
            page.screenshot(path=str(tmp_path / f"{tag}-{name}.png"), full_page=True)
        context.close()
    assert not errors, errors
    return seen, problems


def test_main_pages_on_a_phone(browser, live_server, shell_world, tmp_path):
    seen, problems = visit_all(browser, live_server, shell_world, PHONE, tmp_path, "phone")
    assert not problems, "\n".join(problems)
    # the ledger is a stack of cards: each cell says which column it is, and the long
    # task title runs over full-width lines
    ledger = seen["/plans/ledger/"]
    labels = {c["label"] for c in ledger["cells"]}
    assert {"任务内容", "牵头单位", "配合单位"} <= labels
    title = next(a for a in ledger["links"] if a["text"] == LONG_TITLE)
    assert title["lines"] <= 4  # 38 characters: about 15 a line on a 390px screen
    mine = seen["/plans/my-tasks/"]
    assert any(c["label"] == "任务" for c in mine["cells"])
    assert any(b["text"] == "填报进展" and b["lines"] == 1 for b in mine["buttons"])


def test_main_pages_on_a_desktop(browser, live_server, shell_world, tmp_path):
    seen, problems = visit_all(browser, live_server, shell_world, DESKTOP, tmp_path, "desktop")
    assert not problems, "\n".join(problems)
    # a desktop keeps real tables: cells side by side, the long title on one or two lines
    ledger = seen["/plans/ledger/"]
    assert min(c["width"] for c in ledger["cells"]) < 0.5 * ledger["innerWidth"]
    assert next(a for a in ledger["links"] if a["text"] == LONG_TITLE)["lines"] <= 2


PRINTED = ["/plans/ledger/", "plan", "dashboard", "round", "wave", "quotas"]


def test_print_leaves_out_navigation_and_controls(page, live_server, shell_world, tmp_path):
    w = shell_world
    paths = {
        "plan": f"/plans/{w.plan.pk}/",
        "dashboard": f"/progress/dashboard/?round={w.round.pk}",
        "round": f"/progress/rounds/{w.round.pk}/",
        "wave": f"/survey/{w.wave.pk}/",
        "quotas": f"/campaigns/{w.campaign.pk}/quotas/",
    }
    login(page, live_server, "admin_a")
    page.wait_for_url(f"{live_server.url}/")
    for key in PRINTED:
        path = paths.get(key, key)
        page.emulate_media(media="screen")
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("load")
        assert page.locator("nav.mainnav").is_visible()  # on screen the menu is there
        page.emulate_media(media="print")
        for selector in (
            "header.topbar",
            "nav.mainnav",
            ".subnav",
            "form.filters",
            ".pager",
            "footer",
        ):
            shown = [
                i
                for i in range(page.locator(selector).count())
                if page.locator(selector).nth(i).is_visible()
            ]
            assert not shown, f"{path}: {selector} printed"
        buttons = page.locator("button, a.button")
        assert not [i for i in range(buttons.count()) if buttons.nth(i).is_visible()], (
            f"{path}: buttons printed"
        )
        assert page.locator("h1").first.is_visible(), path
        if page.locator("table.grid").count():
            assert page.locator("table.grid").first.is_visible(), path
        # no sideways overflow on paper either (A4 less margins is about 700px)
        width = page.evaluate("document.scrollingElement.scrollWidth")
        assert width <= page.evaluate("innerWidth"), (path, width)

    page.emulate_media(media="print")
    page.goto(f"{live_server.url}/plans/ledger/")
    pdf = page.pdf(prefer_css_page_size=True, print_background=False)
    (tmp_path / "ledger.pdf").write_bytes(pdf)
    assert pdf.startswith(b"%PDF")
    # A4 portrait from the stylesheet's @page: 595 × 842 points
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and all(round(float(x)) == 595 and round(float(y)) == 842 for x, y in boxes)
