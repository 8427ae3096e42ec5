"""The plan completion dashboard, its drill-down and the task-link pages in a browser:
charts render under the strict CSP, the status column shows on the ledger."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from kepu.plans.services import PlanFields, plan_create_from_parsed
from kepu.progress import services
from tests.browser.test_browser_shell import login
from tests.progress.conftest import pw  # noqa: F401 (the progress world fixture)

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("KEPU_SCREENSHOTS", "")


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"), full_page=True)


def test_plan_dashboard_drill_down_and_links(page, live_server, pw):  # noqa: F811
    services.round_open(
        user=pw.users["admin_a"],
        office=pw.orgs["office_a"],
        title="2026年第三季度",
        plans=[pw.plan],
        opens_on=dt.date(2026, 1, 1),
        closes_on=dt.date(2026, 2, 1),
    )
    parent = plan_create_from_parsed(
        user=pw.users["admin_a"],
        owner=pw.orgs["office_a"],
        parsed={
            "tasks": [
                {
                    "path": ["一、重点任务"],
                    "number": "1",
                    "title": "推进中小学科学教育和教师培训",
                    "text": "推进中小学科学教育和教师培训。",
                    "lead": [],
                    "cooperate": [],
                    "responsible": [],
                    "targets": [],
                }
            ]
        },
        fields=PlanFields(title="曲靖市科学素质行动实施方案"),
    )
    base = live_server.url
    problems: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, live_server, "admin_a")

    page.goto(f"{base}/progress/dashboard/plans/{pw.plan.pk}/")
    page.wait_for_selector("#chart-status canvas")
    assert "完成情况: 2026年曲靖市科普工作要点" in page.inner_text("h1")
    assert "红灯 = 已逾期未完成" in page.content()
    _shot(page, "plan_dashboard")
    page.click("table a:has-text('曲靖市教育体育局')")
    page.wait_for_selector("text=责任单位: 曲靖市教育体育局")
    assert page.inner_text(".stats .stat .num >> nth=0") == "1"

    page.goto(f"{base}/plans/ledger/?plan={pw.plan.pk}")
    assert "<th>状态</th>" in page.content()
    assert page.locator("td.status .light").count() == 3
    _shot(page, "ledger_status")

    page.goto(f"{base}/progress/plans/{pw.plan.pk}/links/?parent={parent.pk}")
    page.click("button:has-text('按相似度生成对应建议')")
    page.wait_for_selector("text=条对应建议")
    page.click("button:has-text('确认') >> nth=0")
    page.wait_for_selector("text=已确认")
    _shot(page, "plan_links")
    page.goto(f"{base}/progress/plans/{parent.pk}/coverage/")
    assert "开展中小学科学教育" in page.inner_text("table")
    _shot(page, "plan_coverage")
    assert not problems, problems


def test_a_county_office_links_its_plan_to_the_city_plan(page, live_server, pw):  # noqa: F811
    """The county reads the city plan on the linking pages only: from its own plan it
    generates suggestions, confirms one, then picks a local task for an uncovered city
    task on the city plan's coverage page."""
    city = pw.plan  # the city office's plan (tasks 1–3)
    county = plan_create_from_parsed(
        user=pw.users["county_admin_a"],
        owner=pw.orgs["county_office_a"],
        parsed={
            "tasks": [
                {
                    "path": ["一、重点任务"],
                    "number": str(i),
                    "title": t.title,
                    "text": t.text,
                    "lead": [],
                    "cooperate": [],
                    "responsible": [],
                    "targets": [],
                }
                for i, t in enumerate(city.tasks.order_by("order")[:2], 1)
            ]
        },
        fields=PlanFields(title="麒麟区科普工作要点"),
    )
    base = live_server.url
    problems: list[str] = []
    page.on("console", lambda m: "Content Security Policy" in m.text and problems.append(m.text))
    page.on("pageerror", lambda e: problems.append(str(e)))
    login(page, live_server, "county_admin_a")
    page.goto(f"{base}/plans/{county.pk}/")
    page.click("a:has-text('上级任务对应')")
    page.select_option("select[name=parent]", str(city.pk))
    page.click("button:has-text('查看')")
    page.click("button:has-text('按相似度生成对应建议')")
    page.wait_for_selector("text=条对应建议")
    page.click("button:has-text('确认') >> nth=0")
    page.wait_for_selector("text=已确认")
    _shot(page, "county_plan_links")
    page.click("a:has-text('落实情况')")
    page.wait_for_selector("text=由「麒麟区科普工作要点」落实")
    page.click("a:has-text('只看尚无落实任务的')")
    rows = page.locator("table.grid tbody tr")
    first = rows.nth(0)
    title = first.locator("td").nth(0).inner_text().split(" ", 1)[1]
    first.locator("input[name=local_number]").fill("2")
    first.locator("button:has-text('对应并确认')").click()
    page.wait_for_selector("text=已确认:")
    assert title in page.inner_text(".messages")
    _shot(page, "county_coverage")
    assert not problems, problems
