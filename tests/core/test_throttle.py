"""Login throttling (issue 7, item 4): atomic counting, trusted proxies, per-account and
per-address limits that cannot lock other accounts out, sign-ins in the audit log."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse

from kepu.audit.models import AuditEntry
from kepu.core import throttle
from kepu.core.models import LoginCounter
from tests.conftest import PASSWORD

LOGIN = "/accounts/login/"


def post(client: Client, username: str, password: str, ip: str = "198.51.100.7", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def signed_in(resp) -> bool:
    return resp.status_code == 302


def locked(resp) -> bool:
    return resp.status_code == 200 and "登录失败次数过多" in resp.content.decode()


# --- atomic counting ------------------------------------------------------------------------
def _in_parallel(n: int, fn) -> list:
    barrier = threading.Barrier(n)
    results: list = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait(timeout=30)
            value = fn()
            with lock:
                results.append(value)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


@pytest.mark.django_db(transaction=True)
@override_settings(KEPU_LOGIN_MAX_FAILURES=5)
def test_parallel_attempts_are_counted_one_after_the_other():
    """30 attempts at once on the counters (SQLite and PostgreSQL): exactly 5 go on."""
    results = _in_parallel(
        30, lambda: throttle.attempt_begin(username="admin_a", ip="198.51.100.7")
    )
    assert len(results) == 30
    assert sum(r is not None for r in results) == 5
    assert LoginCounter.objects.get(key="user:admin_a").failures == 5
    assert LoginCounter.objects.get(key="ip:198.51.100.7").failures == 5


@pytest.mark.django_db(transaction=True)
@override_settings(KEPU_LOGIN_MAX_FAILURES=5)
def test_parallel_sign_ins_cannot_all_be_checked(world, monkeypatch):
    """30 wrong passwords at once through the login page: only 5 reach the password
    check.  (On SQLite the same is tested against the production server in
    test_production_server.py: the in-memory test database reports locks instead of
    waiting for them.)"""
    if connection.vendor == "sqlite":
        pytest.skip("SQLite: see test_production_server.py::test_parallel_logins")
    checks = []
    lock = threading.Lock()
    original = ModelBackend.authenticate

    def counting(self, request, username=None, password=None, **kwargs):
        with lock:
            checks.append(username)
        return original(self, request, username=username, password=password, **kwargs)

    monkeypatch.setattr(ModelBackend, "authenticate", counting)
    results = _in_parallel(30, lambda: post(Client(), "admin_a", "wrong-password").status_code)
    assert results == [200] * 30
    assert len(checks) == 5, f"{len(checks)} attempts reached the password check"
    failed = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED, object_repr="admin_a")
    assert failed.count() == 30
    assert failed.filter(changes__原因__1__startswith="失败次数过多").count() == 25


@override_settings(KEPU_LOGIN_MAX_FAILURES=3)
def test_the_right_password_is_refused_from_an_address_that_failed(client, world):
    for _ in range(3):
        assert not signed_in(post(client, "admin_a", "wrong"))
    assert locked(post(client, "admin_a", PASSWORD))
    assert "_auth_user_id" not in client.session


@override_settings(KEPU_LOGIN_MAX_FAILURES=3, KEPU_LOGIN_WINDOW_SECONDS=600)
def test_the_lock_ends_with_the_window(client, world):
    for _ in range(3):
        post(client, "admin_a", "wrong")
    assert locked(post(client, "admin_a", PASSWORD))
    LoginCounter.objects.update(window_start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    assert signed_in(post(client, "admin_a", PASSWORD))


@override_settings(KEPU_LOGIN_MAX_FAILURES=3)
def test_success_gives_the_count_back(client, world):
    post(client, "admin_a", "wrong")
    post(client, "admin_a", "wrong")
    assert signed_in(post(client, "admin_a", PASSWORD))
    client.logout()
    # two more failures do not lock: the earlier ones were cleared by the success
    post(client, "admin_a", "wrong")
    post(client, "admin_a", "wrong")
    assert signed_in(post(client, "admin_a", PASSWORD))


# --- per account, per address ---------------------------------------------------------------
@override_settings(KEPU_LOGIN_MAX_FAILURES=3, KEPU_LOGIN_ADDRESS_FACTOR=4)
def test_a_flood_from_one_address_blocks_that_address_only(world):
    attacker, owner = Client(), Client()
    # 12 failures spread over every account, from one address
    names = ["admin_a", "admin_b", "viewer_a", "staff_a1", "staff_a2", "county_admin_a"]
    for i in range(12):
        post(attacker, names[i % len(names)], "wrong", ip="203.0.113.66")
    # the address is blocked now, for any account
    assert locked(post(attacker, "nobody", PASSWORD, ip="203.0.113.66"))
    # every attacked account still signs in from its owner's address
    for name in names:
        resp = post(owner, name, PASSWORD, ip="198.51.100.20")
        assert signed_in(resp), name
        owner.logout()


@override_settings(KEPU_LOGIN_MAX_FAILURES=3)
def test_an_account_under_attack_stays_open_to_addresses_that_never_failed(world):
    for i in range(9):  # 9 failures on one account from three addresses
        post(Client(), "admin_a", "wrong", ip=f"203.0.113.{10 + i % 3}")
    # every attacking address is refused, the right password included
    assert locked(post(Client(), "admin_a", PASSWORD, ip="203.0.113.10"))
    # a fresh address gets exactly one try while the account is under attack
    fresh = "203.0.113.99"
    assert not signed_in(post(Client(), "admin_a", "wrong", ip=fresh))
    assert locked(post(Client(), "admin_a", PASSWORD, ip=fresh))
    # the owner, who never failed, signs in
    assert signed_in(post(Client(), "admin_a", PASSWORD, ip="198.51.100.20"))


@override_settings(KEPU_LOGIN_MAX_FAILURES=3, KEPU_TRUSTED_PROXIES=["10.0.0.1"])
def test_behind_the_proxy_one_clients_failures_do_not_lock_out_everyone(world):
    proxy = {"ip": "10.0.0.1"}
    names = ["admin_a", "admin_b", "viewer_a", "staff_a1", "staff_a2", "county_admin_a"]
    for i in range(20):  # 12 of these are counted; then the client's address is blocked
        post(Client(), names[i % 6], "wrong", **proxy, HTTP_X_FORWARDED_FOR="203.0.113.66")
    assert locked(post(Client(), "nobody", PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="203.0.113.66"))
    for name in names:
        ok = post(Client(), name, PASSWORD, **proxy, HTTP_X_FORWARDED_FOR="198.51.100.20")
        assert signed_in(ok), name


# --- the client address ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("remote", "forwarded", "trusted", "expected"),
    [
        ("198.51.100.7", "", [], "198.51.100.7"),
        # an untrusted peer cannot choose its address with the header
        ("198.51.100.7", "1.2.3.4", [], "198.51.100.7"),
        ("198.51.100.7", "1.2.3.4", ["10.0.0.1"], "198.51.100.7"),
        # behind a trusted proxy: the rightmost hop that is not a trusted proxy
        ("10.0.0.1", "203.0.113.5", ["10.0.0.1"], "203.0.113.5"),
        ("10.0.0.1", "1.2.3.4, 203.0.113.5", ["10.0.0.1"], "203.0.113.5"),
        ("10.0.0.1", "1.2.3.4, 203.0.113.5, 10.0.0.2", ["10.0.0.0/8"], "203.0.113.5"),
        ("10.0.0.1", "", ["10.0.0.1"], "10.0.0.1"),
        ("10.0.0.1", "garbage, 203.0.113.5", ["10.0.0.1"], "203.0.113.5"),
        ("10.0.0.1", "203.0.113.5, garbage", ["10.0.0.1"], "10.0.0.1"),
        ("::1", "2001:db8::5", ["::1"], "2001:db8::5"),
    ],
)
def test_client_ip(remote, forwarded, trusted, expected, settings):
    settings.KEPU_TRUSTED_PROXIES = trusted
    meta = {"REMOTE_ADDR": remote}
    if forwarded:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert throttle.client_ip(RequestFactory().get("/", **meta)) == expected


def test_trusted_proxies_from_the_environment_string(settings):
    settings.KEPU_TRUSTED_PROXIES = "127.0.0.1, 10.0.0.0/8"
    req = RequestFactory().get("/", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert throttle.client_ip(req) == "203.0.113.9"


# --- the audit log ---------------------------------------------------------------------------------
def test_sign_ins_and_failures_are_in_the_audit_log(client, world):
    post(client, "staff_a1", "wrong", ip="203.0.113.4")
    post(client, "no_such_user", "wrong", ip="203.0.113.4")
    assert signed_in(post(client, "staff_a1", PASSWORD, ip="198.51.100.3"))
    entries = list(
        AuditEntry.objects.filter(
            action__in=[AuditEntry.Action.LOGIN, AuditEntry.Action.LOGIN_FAILED]
        ).order_by("pk")
    )
    assert [(e.action, e.object_repr) for e in entries] == [
        ("login_failed", "staff_a1"),
        ("login_failed", "no_such_user"),
        ("login", "staff_a1"),
    ]
    failed, unknown, ok = entries
    assert failed.changes["来源地址"][1] == "203.0.113.4" and failed.actor is None
    assert "密码错误" in failed.changes["原因"][1]
    assert unknown.changes["原因"][1] == "用户名不存在" and unknown.object_id == ""
    assert ok.actor == world.users["staff_a1"] and ok.changes["来源地址"][1] == "198.51.100.3"
    # the unit's office administrator sees its staff's sign-ins; the other city's does not
    admin = Client()
    admin.force_login(world.users["admin_a"])
    html = admin.get(reverse("audit")).content.decode()
    assert "登录失败" in html and "198.51.100.3" in html
    other = Client()
    other.force_login(world.users["admin_b"])
    assert "198.51.100.3" not in other.get(reverse("audit")).content.decode()
