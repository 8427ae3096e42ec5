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
