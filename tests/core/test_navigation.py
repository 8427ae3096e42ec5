"""The main menu by role, the favicon, and the shell's shared assets."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from kepu.core.context_processors import NAV


def menu(client, user) -> list[str]:
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    nav = re.search(r'<nav class="mainnav"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "the main menu is missing"
    return re.findall(r"<a [^>]*>([^<]+)</a>", nav.group(1))


@pytest.mark.parametrize(
    ("who", "sees_audit"),
    [
        ("super", True),
        ("admin_a", True),
        ("county_admin_a", True),
        ("viewer_a", False),
        ("staff_a1", False),
        ("nobody", False),
    ],
)
def test_audit_log_is_offered_only_to_those_who_can_read_it(client, world, who, sees_audit):
    items = menu(client, world.users[who])
    assert ("审计日志" in items) is sees_audit
    # everyone has the built areas
    for label in ("首页", "任务台账", "进展填报", "科普活动", "素质监测", "基地与队伍", "组织机构"):
        assert label in items, (who, label)


def test_areas_not_built_yet_are_not_in_the_menu(client, world):
    unbuilt = [label for _key, label, url_name in NAV if url_name is None]
    assert unbuilt, "NAV lists an unbuilt area (考核) to test this with"
    for who in ("super", "admin_a", "staff_a1"):
        client.force_login(world.users[who])
        html = client.get(reverse("home")).content.decode()
        for label in unbuilt:
            assert label not in re.search(r'<nav class="mainnav".*?</nav>', html, re.S).group(0)
        assert "即将上线" not in html


def test_the_active_area_is_marked(client, world):
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("plans:ledger")).content.decode()
    assert re.search(
        r'<a href="/plans/ledger/" class="active" aria-current="page">任务台账</a>', html
    )


def test_favicon_is_served_and_linked(client, world):
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200
    assert resp["Content-Type"] == "image/x-icon"
    body = resp.content
    assert body[:4] == b"\x00\x00\x01\x00" and int.from_bytes(body[4:6], "little") >= 1  # an ICO
    client.force_login(world.users["staff_a1"])
    html = client.get(reverse("home")).content.decode()
    assert re.search(
        r'<link rel="icon" href="/static/kepu/favicon\.svg" type="image/svg\+xml">', html
    )
    assert finders.find("kepu/favicon.svg") and finders.find("kepu/favicon.ico")
    # the login page (signed out) carries it too
    client.logout()
    assert 'rel="icon"' in client.get(reverse("login")).content.decode()


def test_the_shell_loads_the_table_labeller_and_has_print_and_phone_rules(client, world):
    client.force_login(world.users["admin_a"])
    html = client.get(reverse("home")).content.decode()
    assert '<script src="/static/kepu/tables.js" defer></script>' in html
    css = open(finders.find("kepu/kepu.css"), encoding="utf-8").read()
    print_block = css[css.index("@media print") :]
    assert re.search(r"@page\s*\{[^}]*size:\s*A4", print_block)
    assert "@media screen and (max-width: 640px)" in css
