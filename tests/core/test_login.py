from __future__ import annotations

from django.test import override_settings
from django.urls import reverse

from tests.conftest import PASSWORD


def test_login_page_is_chinese(client, db):
    html = client.get(reverse("login")).content.decode()
    assert "登录" in html and 'lang="zh-Hans"' in html


def test_login_and_logout(client, world):
    resp = client.post(reverse("login"), {"username": "admin_a", "password": PASSWORD})
    assert resp.status_code == 302 and resp["Location"] == reverse("home")
    assert "曲靖市科学技术协会" in client.get(reverse("home")).content.decode()
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_wrong_password_message(client, world):
    resp = client.post(reverse("login"), {"username": "admin_a", "password": "wrong"})
    assert resp.status_code == 200 and "用户名或密码错误" in resp.content.decode()


@override_settings(KEPU_LOGIN_MAX_FAILURES=3)
def test_throttling_locks_after_repeated_failures(client, world):
    for _ in range(3):
        client.post(reverse("login"), {"username": "admin_a", "password": "wrong"})
    # even the right password is refused while locked
    resp = client.post(reverse("login"), {"username": "admin_a", "password": PASSWORD})
    assert resp.status_code == 200 and "登录失败次数过多" in resp.content.decode()
    assert "_auth_user_id" not in client.session
    # another account is not affected
    ok = client.post(reverse("login"), {"username": "staff_a1", "password": PASSWORD})
    assert ok.status_code == 302


def test_password_change(client, world):
    client.force_login(world.users["staff_a1"])
    resp = client.post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "Brand-new-pass-42",
            "new_password2": "Brand-new-pass-42",
        },
    )
    assert resp.status_code == 302
    world.users["staff_a1"].refresh_from_db()
    assert world.users["staff_a1"].check_password("Brand-new-pass-42")
