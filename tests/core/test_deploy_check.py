from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "KEPU_ENV": "production",
    "KEPU_SECRET_KEY": "x7Qv-production-like-secret-key-for-the-check-only-9fK2mZ0pLr8sT4uW",
    "KEPU_ALLOWED_HOSTS": "kepu.example.cn",
    "KEPU_HSTS_PRELOAD": "1",
    "DATABASE_URL": "postgres://kepu@127.0.0.1:5432/kepu",
}


def test_check_deploy_is_clean_with_documented_production_variables():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEPU_", "PYTEST_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(PRODUCTION_ENV)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEPU_", "PYTEST_", "DJANGO_"))}
    env.update({"KEPU_ENV": "production", "KEPU_ALLOWED_HOSTS": "kepu.example.cn"})
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "KEPU_SECRET_KEY" in result.stderr


def _production_check(extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEPU_", "PYTEST_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({"KEPU_ENV": "production", **extra})
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_allowed_hosts():
    result = _production_check({"KEPU_SECRET_KEY": PRODUCTION_ENV["KEPU_SECRET_KEY"]})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "KEPU_ALLOWED_HOSTS" in result.stderr
    blank = _production_check(
        {"KEPU_SECRET_KEY": PRODUCTION_ENV["KEPU_SECRET_KEY"], "KEPU_ALLOWED_HOSTS": " , "}
    )
    assert blank.returncode != 0 and "KEPU_ALLOWED_HOSTS" in blank.stderr


def _production_settings(extra: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KEPU_", "PYTEST_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({**PRODUCTION_ENV, **extra})
    env.pop("DATABASE_URL", None)
    code = (
        "import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k)"
        " for k in ['DEBUG', 'SECURE_SSL_REDIRECT', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE',"
        " 'SECURE_HSTS_SECONDS', 'SECURE_CONTENT_TYPE_NOSNIFF', 'SECURE_REFERRER_POLICY',"
        " 'X_FRAME_OPTIONS', 'MIDDLEWARE', 'ALLOWED_HOSTS']}))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    import json

    return json.loads(result.stdout.strip().splitlines()[-1])


def test_production_settings_carry_the_security_headers():
    s = _production_settings({})
    assert s["DEBUG"] is False and s["ALLOWED_HOSTS"] == ["kepu.example.cn"]
    assert s["SECURE_SSL_REDIRECT"] and s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"]
    assert s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"] and s["SECURE_REFERRER_POLICY"] == "same-origin"
    assert s["X_FRAME_OPTIONS"] == "DENY"
    mw = s["MIDDLEWARE"]
    assert "kepu.core.middleware.SecurityHeadersMiddleware" in mw
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in mw
    # the local production-mode server of scripts/start.sh: plain HTTP, still DEBUG off
    local = _production_settings({"KEPU_HTTPS": "0"})
    assert local["DEBUG"] is False
    assert not local["SECURE_SSL_REDIRECT"] and not local["SESSION_COOKIE_SECURE"]
    assert local["SECURE_HSTS_SECONDS"] == 0
