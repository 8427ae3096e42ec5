"""Stored XSS sweep (issue 7, item 2).

Markup payloads are planted through the services in every user-editable text field
(tests/core/hostile.py: organisation name/short name/alias, usernames and full names, plan
title/issuer/number/file name, section, task number/title/text/deadline, unit names, target
texts and units, survey wave titles/notes/file names, target labels, a region name), then
every page and chart is visited as the users who see them, the charts hovered so their
tooltips render.  A page fails on:

- any dialog (the payloads call ``alert``) or page error;
- any element the payload would have injected (``<img src=x>``, an inline ``<script>``
  calling ``alert``, an ``onerror`` attribute), in the page or in a chart tooltip;
- any Content-Security-Policy violation reported on the console (our own pages and code
  must not trip the policy either).

The sweep runs twice: with the policy (as users get it) and with the browser told to
ignore it, so escaping alone is proven to hold and the policy is only the second wall.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from kepu.plans import services as plan_services
from tests.browser.test_browser_shell import login
from tests.conftest import PASSWORD
from tests.core.hostile import FIELDS, plant

pytestmark = pytest.mark.browser

TAGS = {field: f"X{i:02d}" for i, field in enumerate(FIELDS)}


def payload(field: str) -> str:
    return f'{TAGS[field]}"><img src=x onerror=alert(1)><script>alert(2)</script>'


INJECTED_JS = """() => {
  const found = [];
  const scan = (root, where) => {
    root.querySelectorAll('img[src="x"]').forEach(() => found.push(where + ': <img src=x>'));
    root.querySelectorAll('[onerror]').forEach(() => found.push(where + ': onerror attribute'));
    root.querySelectorAll('script:not([src]):not([type="application/json"])').forEach((s) => {
      if (s.textContent.includes('alert')) found.push(where + ': inline <script>');
    });
  };
  scan(document, 'page');
  return found;
}"""

TOOLTIPS_JS = """() => Array.from(document.querySelectorAll('.chart div'))
  .filter((d) => d.style.position === 'absolute' && d.innerHTML.length > 0)
  .map((d) => d.innerHTML)"""


def _hover_charts(page) -> list[str]:
    """Move the mouse over every chart (a grid of points) and trigger each data item's
    tooltip through ECharts; return the tooltip HTML seen."""
    seen: list[str] = []
    for chart in page.locator(".chart").all():
        box = chart.bounding_box()
        if not box:
            continue
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        for fx in (0.15, 0.3, 0.45, 0.6, 0.75, 0.9):
            for fy in (0.2, 0.4, 0.5, 0.6, 0.8):
                page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                page.wait_for_timeout(15)
                seen += page.evaluate(TOOLTIPS_JS)
    # every data item of every series, as a user pointing exactly at it would see it
    seen += page.evaluate(
        """async () => {
      const out = [];
      for (const node of document.querySelectorAll('.chart')) {
        const chart = window.echarts && echarts.getInstanceByDom(node);
        if (!chart) continue;
        const series = chart.getOption().series || [];
        for (let s = 0; s < series.length; s++) {
          const n = (series[s].data || []).length;
          for (let i = 0; i < n; i++) {
            chart.dispatchAction({ type: 'showTip', seriesIndex: s, dataIndex: i });
            await new Promise((r) => setTimeout(r, 10));
            node.querySelectorAll('div').forEach((d) => {
              if (d.style.position === 'absolute' && d.innerHTML) out.push(d.innerHTML);
            });
          }
        }
      }
      return out;
    }"""
    )
    return seen


class Sweep:
    def __init__(self, page, base: str):
        self.page, self.base = page, base
        self.problems: list[str] = []
        self.tags_seen: set[str] = set()
        self.tooltips: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda err: self.problems.append(f"{page.url}: page error {err}"))
        self.pending: dict[str, str] = {}
        page.on("request", lambda r: self.pending.__setitem__(r.url, r.method))
        page.on("requestfinished", lambda r: self.pending.pop(r.url, None))
        page.on("requestfailed", lambda r: self.pending.pop(r.url, None))

    def _dialog(self, dialog):
        self.problems.append(f"{self.page.url}: dialog {dialog.type} {dialog.message!r}")
        dialog.dismiss()

    def _console(self, msg):
        if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text:
            self.problems.append(f"{self.page.url}: CSP violation: {msg.text[:200]}")

    def visit(self, path: str, *, charts: bool | str = False) -> None:
        page = self.page
        page.goto(self.base + path)
        try:
            # not "networkidle": polling and map fetches can keep a loaded machine from it
            page.wait_for_load_state("load", timeout=90_000)
            if charts == "portal":
                page.wait_for_selector("#portal-map canvas", timeout=90_000)
                page.wait_for_timeout(500)  # the geometry and the points are fetched
            elif charts:
                # the map is drawn after its geometry has been fetched
                page.wait_for_selector(
                    "#survey-map[data-ready='1'] canvas, #survey-map[data-kind='bar'] canvas",
                    timeout=90_000,
                )
                page.wait_for_selector("#survey-trend canvas", timeout=90_000)
        except PlaywrightTimeoutError as exc:
            raise AssertionError(f"{path}: still loading {self.pending}") from exc
        if charts:
            tips = _hover_charts(page)
            self.tooltips += tips
            for html in tips:
                if (
                    "<img" in html
                    or "<script" in html
                    or "onerror=" in html.replace("onerror=alert", "")
                ):
                    self.problems.append(f"{path}: tooltip markup not escaped: {html[:200]}")
        for found in page.evaluate(INJECTED_JS):
            self.problems.append(f"{path}: {found}")
        text = page.content()
        self.tags_seen |= {tag for tag in TAGS.values() if tag in text}


@pytest.mark.parametrize("enforce_csp", [True, False], ids=["with-csp", "csp-ignored"])
def test_planted_markup_never_runs_on_any_page(
    browser, live_server, world, settings, tmp_path, enforce_csp
):
    settings.MEDIA_ROOT = tmp_path / "media"
    p = plant(world, payload)
    draft = plan_services.plan_draft_create(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="要点.txt",
        data=(
            f"{payload('plan.title')}\n一、{payload('section.title')}\n"
            f"1.{payload('task.text')}。({payload('unit.lead')}牵头,{payload('unit.cooperate')}配合)\n"
        ).encode(),
    )
    membership = p.member.memberships.get()

    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, bypass_csp=not enforce_csp
    )
    page = context.new_page()
    sweep = Sweep(page, live_server.url)
    try:
        # the city office administrator: every page of the area
        login(page, live_server, "admin_a")
        page.wait_for_url(f"{live_server.url}/")
        pages = [
            reverse("home"),
            reverse("my_permissions"),
            reverse("orgs:list"),
            reverse("orgs:detail", args=[p.org.pk]),
            reverse("orgs:edit", args=[p.org.pk]),
            reverse("plans:list"),
            reverse("plans:detail", args=[p.plan.pk]),
            reverse("plans:ledger"),
            reverse("plans:ledger") + f"?plan={p.plan.pk}",
            reverse("plans:task", args=[p.task.pk]),
            reverse("plans:task_edit", args=[p.task.pk]),
            reverse("plans:draft", args=[draft.pk]),
            reverse("survey:waves"),
            reverse("survey:wave_edit", args=[p.wave.pk]),
            reverse("survey:targets", args=[p.wave.pk]),
            reverse("survey:margins", args=[p.wave.pk]),
            reverse("survey:import", args=[p.wave.pk]),
            reverse("audit"),
        ]
        for path in pages:
            sweep.visit(path)
        for wave in (p.wave, p.earlier_wave):
            sweep.visit(reverse("survey:wave", args=[wave.pk]), charts=True)
        c, a = p.campaign.pk, p.activity.pk
        for path in (
            reverse("campaigns:list"),
            reverse("campaigns:detail", args=[c]),
            reverse("campaigns:edit", args=[c]),
            reverse("campaigns:activities", args=[c]),
            reverse("campaigns:review", args=[c]),
            reverse("campaigns:quotas", args=[c]),
            reverse("campaigns:awards", args=[c]),
            reverse("campaigns:activity", args=[a]),
            reverse("campaigns:activity_edit", args=[a]),
        ):
            sweep.visit(path)

        # the public portal, signed out: index, the campaign with its map, the activity
        context.clear_cookies()
        sweep.visit(reverse("portal:index"))
        sweep.visit(reverse("portal:campaign", args=[c]), charts="portal")
        sweep.visit(reverse("portal:activity", args=[a]))
        sweep.visit(reverse("portal:awards", args=[c]))

        # the hostile member (hostile username and full name): my tasks, home
        context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", p.member.username)
        page.fill("input[name=password]", "Kepu-hostile-pass-7")
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        for path in (reverse("home"), reverse("plans:my_tasks"), reverse("my_permissions")):
            sweep.visit(path)
        sweep.visit(reverse("plans:task", args=[p.task.pk]))

        # the superuser: the audit log across the whole country, the admin site
        context.clear_cookies()
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", "super")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        sweep.visit(reverse("audit"))
        sweep.visit(reverse("admin:orgs_organisation_changelist"))
        sweep.visit(reverse("admin:orgs_organisation_change", args=[p.org.pk]))
        sweep.visit(reverse("admin:orgs_membership_changelist"))
        sweep.visit(reverse("admin:auth_user_changelist"))
    finally:
        context.close()

    assert not sweep.problems, "\n".join(sweep.problems)
    # the planted text really was on the pages (shown as text), so the sweep saw it
    missing = {f for f, tag in TAGS.items() if tag not in sweep.tags_seen}
    assert not missing, f"planted fields never shown: {sorted(missing)}"
    # and the tooltips were really shown with planted (escaped) text in them
    assert any("&lt;img src=x" in html for html in sweep.tooltips), sweep.tooltips[:5]
    _ = membership
