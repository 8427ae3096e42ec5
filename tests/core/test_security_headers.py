"""Security headers (issue 7): every HTML page of the project carries the strict
Content-Security-Policy and the other headers, and no template carries inline script."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from kepu.core.middleware import ERROR_500_STYLE, ERROR_500_STYLE_HASH
from kepu.plans import services as plan_services
from tests.core.hostile import plant

TEMPLATES = Path(settings.BASE_DIR) / "kepu" / "templates"
# Every folder of templates: the project's and each app's own.
TEMPLATE_DIRS = [TEMPLATES, *sorted((Path(settings.BASE_DIR) / "kepu").glob("*/templates"))]


def _directives(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


def assert_strict_csp(resp) -> None:
    header = resp.headers.get("Content-Security-Policy", "")
    assert header, f"no CSP on {resp.status_code} {resp.get('Content-Type')}"
    csp = _directives(header)
    assert csp["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in csp["style-src"] and "'unsafe-eval'" not in header
    assert csp["frame-ancestors"] == ["'none'"] and csp["object-src"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["base-uri"] == ["'self'"]
    assert "camera=()" in resp.headers["Permissions-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["X-Frame-Options"] == "DENY"


def _patterns(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            ns = p.namespace or namespace
            if ns == "admin":
                continue  # Django's admin: its index page is checked below
            yield from _patterns(p, prefix + str(p.pattern), ns)
        elif isinstance(p, URLPattern) and p.name:
            yield (f"{namespace}:{p.name}" if namespace else p.name), p


@pytest.fixture
def objects(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    planted = plant(world, lambda field: f"安全头测试 {field}")
    draft = plan_services.plan_draft_create(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        name="要点.txt",
        data="一、加强科普工作\n1.开展科普讲座。(市科协牵头)\n".encode(),
    )
    membership = planted.member.memberships.get()
    from kepu.core.jobs import job_start

    job = job_start(
        user=world.users["admin_a"],
        kind="ledger_export",
        organisation=world.orgs["office_a"],
        func="kepu.plans.jobs.ledger_export",
        params={"filters": {}, "title": "安全头测试台账"},
    )
    campaign_objects = _campaign_objects(world)
    return {
        "jobs": {"pk": job.pk},
        **campaign_objects,
        **_registry_objects(world),
        **_statistics_objects(world),
        **_progress_objects(world, planted.task),
        "orgs:invite": {"uidb64": "MQ", "token": "no-such-token"},
        "orgs": {"pk": planted.org.pk},
        "orgs:member_remove": {"pk": membership.pk},
        "plans": {"pk": planted.plan.pk},
        "plans:task": {"pk": planted.task.pk},
        "plans:task_edit": {"pk": planted.task.pk},
        "plans:draft": {"pk": draft.pk},
        "plans:draft_cancel": {"pk": draft.pk},
        "autocomplete": {"source": "orgs"},
        "survey": {
            "pk": planted.wave.pk,
            "target_pk": planted.target.pk,
            "run_pk": planted.wave.runs.first().pk,
        },
    }


def _progress_objects(world, task) -> dict:
    from tests.progress.helpers import progress_objects

    return progress_objects(world)


def _campaign_objects(world) -> dict:
    from unittest import mock

    from kepu.campaigns import services as campaign_services
    from tests.campaigns.conftest import TODAY, activity_fields, fields, png_bytes

    with mock.patch.object(campaign_services, "_today", lambda: TODAY):
        campaign = campaign_services.campaign_create(user=world.users["admin_a"], fields=fields())
        activity = campaign_services.activity_register(
            user=world.users["staff_a1"],
            campaign=campaign,
            organiser=world.orgs["unit_a1"],
            fields=activity_fields(world),
        )
        campaign_services.activity_review(
            user=world.users["admin_a"], activity=activity, approve=True
        )
        photo = campaign_services.activity_photo_add(
            user=world.users["staff_a1"], activity=activity, name="p.png", data=png_bytes()
        )
    return {
        "campaigns": {"pk": campaign.pk},
        "campaigns:activity": {"pk": activity.pk},
        "campaigns:activity_edit": {"pk": activity.pk},
        "campaigns:activity_submit": {"pk": activity.pk},
        "campaigns:activity_review": {"pk": activity.pk},
        "campaigns:activity_reopen": {"pk": activity.pk},
        "campaigns:activity_photo_add": {"pk": activity.pk},
        "campaigns:activity_complete": {"pk": activity.pk},
        "campaigns:activity_poster": {"pk": activity.pk},
        "campaigns:photo": {"pk": photo.pk},
        "portal": {"pk": campaign.pk},
        "portal:activity": {"pk": activity.pk},
        "portal:poster": {"pk": activity.pk},
        "portal:photo": {"pk": photo.pk},
    }


def _registry_objects(world) -> dict:
    from kepu.registry import services as registry_services
    from kepu.registry.scoring import DEFAULT_SHEET
    from tests.registry.conftest import base_fields

    admin = world.users["admin_a"]
    base = registry_services.base_apply(
        user=admin,
        organisation=world.orgs["unit_a1"],
        fields=base_fields(world, region=world.regions["city_a"]),
    )
    registry_services.base_certify(
        user=admin, base=base, approve=True, valid_from=2026, valid_to=2030
    )
    sheet = registry_services.sheet_create(user=admin, year=2026, data=DEFAULT_SHEET)
    review = registry_services.review_open(user=admin, base=base, sheet=sheet, year=2026)
    expert = registry_services.expert_save(
        user=admin,
        fields=registry_services.ExpertFields(
            name="专家", region=world.regions["city_a"], fields=["健康"]
        ),
    )
    from tests.registry.conftest import registry_world

    more = registry_world(world)
    museum, team, volunteer = more["museum"], more["team"], more["volunteer"]
    return {
        "registry": {"pk": base.pk},
        "registry:museum": {"pk": museum.pk},
        "registry:museum_edit": {"pk": museum.pk},
        "registry:museum_report_open": {"pk": museum.pk},
        "registry:museum_report": {"pk": more["report"].pk},
        "registry:team": {"pk": team.pk},
        "registry:team_edit": {"pk": team.pk},
        "registry:team_import": {"pk": team.pk},
        "registry:volunteer_new": {"team_pk": team.pk},
        "registry:volunteer": {"pk": volunteer.pk},
        "registry:volunteer_edit": {"pk": volunteer.pk},
        "registry:service_add": {"pk": volunteer.pk},
        "registry:volunteer_certificate": {"pk": volunteer.pk},
        "registry:review": {"pk": review.pk},
        "registry:sheet": {"pk": sheet.pk},
        "registry:sheet_export": {"pk": sheet.pk},
        "registry:expert_edit": {"pk": expert.pk},
    }


def _statistics_objects(world) -> dict:
    from tests.statistics.conftest import make_collection

    collection = make_collection(world)
    report = collection.reports.get(organisation=world.orgs["unit_a1"])
    return {
        "statistics": {"pk": collection.pk},
        "statistics:catalogue": {"pk": collection.catalogue_id},
        **{
            f"statistics:{n}": {"pk": report.pk}
            for n in ("report", "report_template", "report_upload", "report_review")
        },
    }


def _kwargs(name: str, pattern: URLPattern, objects: dict) -> dict:
    names = list(pattern.pattern.converters)
    if not names:
        return {}
    table = objects.get(name) or objects[name.split(":")[0]]
    return {k: table[k] for k in names}


def test_every_page_of_the_project_carries_the_policy(client, world, objects):
    client.force_login(world.users["super"])
    html_pages = 0
    for name, pattern in _patterns():
        url = reverse(name, kwargs=_kwargs(name, pattern, objects))
        if name == "logout":
            continue  # POST only; checked by the login page below
        resp = client.get(url)
        assert resp.status_code < 500, (name, resp.status_code)
        if resp.status_code == 200 and resp["Content-Type"].startswith("text/html"):
            html_pages += 1
        assert_strict_csp(resp)
    assert html_pages >= 20
    for url in (reverse("admin:index"), "/no-such-page/"):
        assert_strict_csp(client.get(url))
    assert_strict_csp(Client().get(reverse("login")))
    # 403: a viewer may read the wave, not change it
    c = Client()
    c.force_login(world.users["viewer_a"])
    denied = c.get(reverse("survey:wave_edit", args=[objects["survey"]["pk"]]))
    assert denied.status_code == 403
    assert_strict_csp(denied)


def test_no_template_has_inline_script_or_handlers():
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
    handler = re.compile(r"\son[a-z]+\s*=", re.I)
    js_url = re.compile(r"javascript:", re.I)
    offenders = []
    for folder in TEMPLATE_DIRS:
        for path in folder.rglob("*.html"):
            text = path.read_text(encoding="utf-8")
            for rx in (inline_script, handler, js_url):
                offenders += [f"{path}: {m.group(0)}" for m in rx.finditer(text)]
    assert len(TEMPLATE_DIRS) > 1
    assert not offenders, offenders


def test_the_500_pages_only_inline_style_is_the_hashed_one():
    text = (TEMPLATES / "errors" / "500.html").read_text(encoding="utf-8")
    styles = re.findall(r"<style>(.*?)</style>", text, re.S)
    assert styles == [ERROR_500_STYLE]
    assert (
        ERROR_500_STYLE_HASH
        in _directives(Client().get(reverse("login")).headers["Content-Security-Policy"])[
            "style-src"
        ]
    )


def test_base_template_loads_the_escape_helper_and_disables_htmx_eval(client, world):
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("home")).content.decode()
    assert "/static/kepu/safe.js" in html
    assert '"allowEval": false' in html and '"includeIndicatorStyles": false' in html
