"""Searched filter choices (kepu/autocomplete.js): type, pick, filter; names typed by users
are shown as text, never run."""

from __future__ import annotations

import pytest

from kepu.orgs.models import Organisation, OrgKind
from tests.browser.test_browser_shell import login

pytestmark = pytest.mark.browser

EVIL = '<img src=x onerror="window.__kepu_xss=1">曲靖市恶意单位'


def _plans(world):
    from kepu.plans.services import PlanFields, plan_create_from_parsed

    for title, unit in (("曲靖要点甲", "市教体局"), ("曲靖要点乙", "市卫健委")):
        plan_create_from_parsed(
            user=world.users["admin_a"],
            owner=world.orgs["office_a"],
            parsed={
                "tasks": [
                    {
                        "path": [],
                        "title": f"{title}的任务",
                        "text": f"{title}的任务。",
                        "lead": [unit],
                        "cooperate": [],
                        "responsible": [unit],
                        "targets": [],
                    }
                ]
            },
            fields=PlanFields(title=title),
        )


def test_pick_a_plan_and_a_unit_in_the_ledger(page, live_server, world):
    _plans(world)
    Organisation.objects.create(name=EVIL, kind=OrgKind.DEPARTMENT, region=world.regions["city_a"])
    login(page, live_server, "admin_a")
    page.goto(f"{live_server.url}/plans/ledger/")

    page.fill("#id_plan", "要点乙")
    option = page.locator("#id_plan-results li.autocomplete-option")
    option.first.wait_for()
    assert option.all_inner_texts() == ["曲靖要点乙 曲靖市"]
    option.first.click()
    assert page.input_value("#id_plan") == "曲靖要点乙"
    page.click("#ledger-filters button[type=submit]")
    page.wait_for_load_state()
    assert "plan=" in page.url
    ledger = page.locator("table.ledger").inner_text()
    assert "曲靖要点乙的任务" in ledger and "曲靖要点甲的任务" not in ledger
    assert page.input_value("#id_plan") == "曲靖要点乙"

    # a unit whose name is markup is listed as text and runs nothing
    page.fill("#id_organisation", "恶意")
    evil = page.locator("#id_organisation-results li.autocomplete-option")
    evil.first.wait_for()
    assert evil.first.inner_text().startswith("<img src=x")
    assert page.locator("#id_organisation-results img").count() == 0
    assert page.evaluate("window.__kepu_xss") is None

    # keyboard: the region is picked with the arrow keys and Enter
    page.fill("#id_region", "麒麟")
    page.locator("#id_region-results li.autocomplete-option").first.wait_for()
    page.press("#id_region", "ArrowDown")
    page.press("#id_region", "Enter")
    assert page.input_value("#id_region") == "麒麟区"
    assert page.input_value("input[type=hidden][name=region]") == "530302"

    # clearing the search clears the choice
    page.fill("#id_plan", "")
    assert page.input_value("input[type=hidden][name=plan]") == ""
