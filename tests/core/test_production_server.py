"""The first command serves like production (issue 7): scripts/serve.sh — what
scripts/start.sh runs — started on a free port against a temporary SQLite database.

DEBUG is off (the Chinese 404 page, no traceback), static files are collected and served
by WhiteNoise, every page carries the security headers, and 30 parallel wrong passwords
against the real server (SQLite file database, several gunicorn processes) reach the
password check only as often as the throttle allows.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _base_env(tmp: Path, port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("KEPU_", "PYTEST_", "DJANGO_")) and k != "DATABASE_URL"
    }
    env.update(
        KEPU_PYTHON=sys.executable,
        KEPU_ADDR=f"127.0.0.1:{port}",
        KEPU_VAR=str(tmp / "var"),
        KEPU_SQLITE_PATH=str(tmp / "db.sqlite3"),
        KEPU_STATIC_ROOT=str(tmp / "static"),
        KEPU_MEDIA_ROOT=str(tmp / "media"),
        KEPU_WEB_WORKERS="2",
    )
    return env


def _run(env: dict[str, str], script: str) -> None:
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail; source scripts/env.sh; {script}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


class Server:
    def __init__(self, base: str, proc: subprocess.Popen, tmp: Path):
        self.base, self.proc, self.tmp = base, proc, tmp

    def get(self, path: str, opener=None):
        opener = opener or urllib.request.build_opener()
        try:
            resp = opener.open(self.base + path, timeout=30)
        except urllib.error.HTTPError as err:
            resp = err
        return resp.status, dict(resp.headers), resp.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("production")
    port = _free_port()
    env = _base_env(tmp, port)
    _run(env, '"$PY" manage.py migrate --noinput -v0')
    _run(
        env,
        '"$PY" manage.py shell -c "from django.contrib.auth.models import User; '
        "User.objects.create_user('office', password='Kepu-prod-pass-3')\"",
    )
    log = open(tmp / "server.log", "w")  # closed in the teardown below
    proc = subprocess.Popen(
        ["bash", "scripts/serve.sh"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(base + "/accounts/login/", timeout=5).read()
            break
        except (urllib.error.URLError, ConnectionError, OSError):
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail("server did not start:\n" + (tmp / "server.log").read_text())
            time.sleep(0.3)
    yield Server(base, proc, tmp)
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def test_serves_with_gunicorn_and_debug_off(server):
    assert "Starting gunicorn" in (server.tmp / "server.log").read_text()
    status, headers, body = server.get("/no-such-page/")
    html = body.decode()
    assert status == 404
    assert "404 · 页面不存在" in html and 'lang="zh-Hans"' in html
    for debug_marker in ("Traceback", "DEBUG = True", "URLconf", "Page not found", "Django"):
        assert debug_marker not in html, debug_marker
    assert headers["Server"].startswith("gunicorn")
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    # plain HTTP on this machine: no redirect to https, the cookie works over http
    status, headers, body = server.get("/accounts/login/")
    assert status == 200 and "登录" in body.decode()
    assert "Strict-Transport-Security" not in headers


def test_static_files_are_collected_and_served_by_whitenoise(server):
    _, _, body = server.get("/accounts/login/")
    css = re.search(r'href="(/static/kepu/kepu\.[0-9a-f]{12}\.css)"', body.decode())
    assert css, "hashed (manifest) static names in production"
    status, headers, content = server.get(css.group(1))
    assert status == 200 and b"{" in content
    assert "immutable" in headers["Cache-Control"]  # WhiteNoise, for hashed names
    for script in ("/static/kepu/safe.js", "/static/vendor/echarts/echarts.min.js"):
        status, _, content = server.get(script)
        assert status == 200 and len(content) > 100, script
    assert (server.tmp / "static" / "kepu" / "safe.js").exists()
    # the vendor packages' other builds are not collected
    assert not (server.tmp / "static" / "vendor" / "echarts" / "echarts.js.map").exists()


def test_the_secret_key_is_generated_once_and_kept_private(server):
    key = server.tmp / "var" / "secret_key"
    assert key.exists() and len(key.read_text().strip()) >= 50
    assert (key.stat().st_mode & 0o077) == 0


def _login_client():
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar)), jar


def test_parallel_logins_against_the_server_are_counted_atomically(server):
    """30 wrong passwords at once against gunicorn on an SQLite file: only
    KEPU_LOGIN_MAX_FAILURES (5) of them reach the password check."""
    n = 30
    barrier = threading.Barrier(n)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def attempt():
        try:
            opener, _ = _login_client()
            _, _, body = server.get("/accounts/login/", opener)
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body.decode())
            data = urllib.parse.urlencode(
                {
                    "csrfmiddlewaretoken": token.group(1),
                    "username": "office",
                    "password": "wrong-password",
                }
            ).encode()
            barrier.wait(timeout=60)
            resp = opener.open(server.base + "/accounts/login/", data=data, timeout=60)
            statuses.append(resp.status)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=attempt) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=180)
    assert not errors, errors
    assert statuses == [200] * n
    with sqlite3.connect(server.tmp / "db.sqlite3") as db:
        rows = db.execute(
            "select changes from audit_auditentry where action = 'login_failed'"
        ).fetchall()
    reasons = [json.loads(r[0])["原因"][1] for r in rows]
    assert len(reasons) == n
    checked = [r for r in reasons if "密码错误" in r]
    assert len(checked) == 5, reasons
    # and the right password from this address is refused now
    opener, _ = _login_client()
    _, _, body = server.get("/accounts/login/", opener)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body.decode()).group(1)
    data = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": "office", "password": "Kepu-prod-pass-3"}
    ).encode()
    assert (
        "登录失败次数过多"
        in opener.open(server.base + "/accounts/login/", data=data).read().decode()
    )


def test_start_sh_serves_through_serve_sh_in_production_mode():
    """The first command runs what these tests start: env.sh, then serve.sh (the worker
    line is the jobs helper's)."""
    start = (ROOT / "scripts" / "start.sh").read_text()
    lines = [
        line.strip() for line in start.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert "source scripts/env.sh" in lines
    assert lines.index("source scripts/env.sh") < lines.index(".venv/bin/kepu setup")
    assert lines[-1] == "bash scripts/serve.sh"
    assert "runserver" not in start and "kepu serve" not in start
    env = (ROOT / "scripts" / "env.sh").read_text()
    assert 'KEPU_ENV="${KEPU_ENV:-production}"' in env
    dev = (ROOT / "scripts" / "dev.sh").read_text()
    assert "KEPU_ENV=development" in dev and "kepu serve" in dev
