"""Page benchmark: every list, detail page and export, per role, against a production server.

Usage (data from ``kepu bench seed``; see README)::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench \\
        .venv/bin/python bench/bench_pages.py [--repeat 5] [--url http://127.0.0.1:8123]

Without ``--url`` the script starts the platform as in production (``KEPU_ENV=production``,
gunicorn, WhiteNoise, DEBUG off) on a free loopback port against ``DATABASE_URL`` and stops it
at the end.  It signs in over HTTP as the six accounts the seeder creates (national,
provincial, city and county office administrators, a member unit's staff and a provincial
viewer) and requests each page ``--repeat`` times, reporting the median and p95 time, the
response size and the HTTP status.

Query counts are measured in-process: the same request is made once more with Django's test
client against the same database (``DATABASE_URL``), inside ``CaptureQueriesContext``.  This
needs nothing in the application (no debug header) and counts exactly the queries of the
view, template and middleware.  Pages whose HTTP requests failed or took more than
``--inprocess-limit`` seconds are not repeated in-process.

Adding a page is one line in ``PAGES``: a label and a path whose ``{placeholders}`` are
filled per user by ``OBJECTS`` (the first object of that kind the user may see).

Results are printed as a table and written to ``bench/out/pages-<label>.json``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PASSWORD = "Kepu-bench-2025"
# The production server is told it sits behind an HTTPS proxy (X-Forwarded-Proto), so its
# Secure cookies and CSRF origin checks work over loopback HTTP; tests against a plain
# development server turn this off.
BEHIND_HTTPS = True
ROLES = {
    "national": "bench_national",
    "province": "bench_province",
    "city": "bench_city",
    "county": "bench_county",
    "unit": "bench_unit",
    "viewer": "bench_viewer",
}


@dataclass(frozen=True)
class Page:
    label: str
    path: str  # may contain {plan}, {task}, {org}, {wave}


PAGES: list[Page] = [
    Page("首页", "/"),
    Page("任务台账", "/plans/ledger/"),
    Page("任务台账导出", "/plans/ledger/export.xlsx"),
    Page("我的任务", "/plans/my-tasks/"),
    Page("规划列表", "/plans/"),
    Page("规划详情", "/plans/{plan}/"),
    Page("任务详情", "/plans/tasks/{task}/"),
    Page("组织列表", "/orgs/"),
    Page("组织详情", "/orgs/{org}/"),
    Page("监测调查列表", "/survey/"),
    Page("监测调查详情(结果)", "/survey/{wave}/"),
    Page("调查结果导出", "/survey/{wave}/export.xlsx"),
    Page("调查地图数据", "/survey/{wave}/geo.json"),
    Page("审计日志", "/audit/"),
    Page("进展填报轮次", "/progress/"),
    Page("我的填报", "/progress/reports/"),
    Page("督办看板", "/progress/dashboard/"),
    Page("督办通知", "/progress/notices/"),
    Page("活动征集列表", "/campaigns/"),
    Page("科普教育基地", "/registry/"),
    Page("科普专家库", "/registry/experts/"),
    Page("科技馆", "/registry/museums/"),
    Page("志愿服务队", "/registry/teams/"),
    Page("科普统计", "/statistics/"),
    Page("通知", "/notifications/"),
]


def _first(model_path: str, order: str = "pk") -> Callable[[Any], int | None]:
    def pick(user: Any) -> int | None:
        from django.apps import apps

        model = apps.get_model(model_path)
        return (
            model.objects.restrict(user, "view")
            .order_by(order)
            .values_list("pk", flat=True)
            .first()
        )

    return pick


def _own_org(user: Any) -> int | None:
    from kepu.orgs.models import Membership

    return Membership.objects.filter(user=user).values_list("organisation_id", flat=True).first()


# How each placeholder is filled for a user: the first object of the kind the user may see.
OBJECTS: dict[str, Callable[[Any], int | None]] = {
    "plan": _first("plans.Plan"),
    "task": _first("plans.Task"),
    "org": _own_org,
    "wave": _first("survey.Wave"),
}


# --- Django in-process (objects and query counts) -------------------------------------------
def setup_django() -> None:
    """Django in this process, development settings against DATABASE_URL, DEBUG off."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    os.environ.setdefault("KEPU_DEBUG", "0")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def resolve(page: Page, user: Any, cache: dict[tuple[str, int], int | None]) -> str | None:
    """The page's path for ``user``, or None when the user can see no object of a kind."""
    names = re.findall(r"{(\w+)}", page.path)
    values = {}
    for name in names:
        key = (name, user.pk)
        if key not in cache:
            cache[key] = OBJECTS[name](user)
        if cache[key] is None:
            return None
        values[name] = cache[key]
    return page.path.format(**values)


def count_queries(user: Any, path: str) -> tuple[int, int]:
    """(queries, status) of one in-process request with the test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    with CaptureQueriesContext(connection) as ctx:
        resp = client.get(path)
        if getattr(resp, "streaming", False):
            b"".join(resp.streaming_content)
    return len(ctx.captured_queries), resp.status_code


# --- HTTP ---------------------------------------------------------------------------------------------
@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float


class Session:
    """A signed-in HTTP session (cookies handled by hand: the production cookies are Secure,
    and the server is told it sits behind an HTTPS proxy with X-Forwarded-Proto)."""

    def __init__(
        self, base_url: str, timeout: float = 60.0, *, behind_https: bool | None = None
    ) -> None:
        u = urllib.parse.urlsplit(base_url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        self.behind_https = BEHIND_HTTPS if behind_https is None else behind_https
        self.origin = f"{'https' if self.behind_https else 'http'}://{self.host}:{self.port}"
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None, referer: str = "/"
    ) -> Response:
        headers = {
            "Host": f"{self.host}:{self.port}",
            "Accept-Encoding": "identity",
            "User-Agent": "kepu-bench",
        }
        if self.behind_https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            headers["Referer"] = self.origin + referer
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=data, headers=headers)
            resp = conn.getresponse()
            payload = resp.read()
            seconds = time.perf_counter() - t0
            for name, value in resp.getheaders():
                if name.lower() == "set-cookie":
                    k, _, rest = value.partition("=")
                    self.cookies[k.strip()] = rest.split(";", 1)[0]
            return Response(
                resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload, seconds
            )
        finally:
            conn.close()

    def get(self, path: str) -> Response:
        return self.request("GET", path)

    def login(self, username: str, password: str) -> None:
        page = self.get("/accounts/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if page.status != 200 or token is None:
            raise RuntimeError(f"登录页异常: HTTP {page.status}")
        resp = self.request(
            "POST",
            "/accounts/login/",
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1).decode(),
            },
            referer="/accounts/login/",
        )
        if resp.status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(
                f"无法以 {username} 登录 (HTTP {resp.status}); 先运行 kepu bench seed"
            )


# --- the production server -------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in production mode on loopback, against ``database_url`` (empty: the SQLite
    file of ``KEPU_SQLITE_PATH``); a context manager."""

    def __init__(
        self, database_url: str, *, workers: int = 4, timeout: int = 30, log: Path | None = None
    ):
        self.database_url = database_url
        self.workers = workers
        self.timeout = timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log or OUT / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("KEPU_") or k == "KEPU_SQLITE_PATH"
        }
        env.pop("DATABASE_URL", None)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        env.update(
            KEPU_ENV="production",
            KEPU_SECRET_KEY=secrets.token_urlsafe(40),
            KEPU_ALLOWED_HOSTS="127.0.0.1,localhost",
            KEPU_SECURE_SSL_REDIRECT="0",
            KEPU_HSTS_SECONDS="0",
            KEPU_STATIC_ROOT=str(OUT / "static"),
            KEPU_MEDIA_ROOT=str(OUT / "media"),
        )
        return env

    def __enter__(self) -> Server:
        OUT.mkdir(parents=True, exist_ok=True)
        python = sys.executable
        subprocess.run(
            [python, str(ROOT / "manage.py"), "collectstatic", "--noinput", "-v0"],
            env=self.env(),
            check=True,
            cwd=ROOT,
        )
        gunicorn = shutil.which("gunicorn", path=str(Path(python).parent)) or "gunicorn"
        self.logfile = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [
                gunicorn,
                "kepu.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                str(self.timeout),
            ],
            env=self.env(),
            cwd=ROOT,
            stdout=self.logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _wait_ready(self) -> None:
        assert self.proc is not None
        probe = Session(self.url, timeout=5)
        for _ in range(120):
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn 启动失败, 见 {self.log}")
            try:
                if probe.get("/accounts/login/").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"gunicorn 60 秒内没有就绪, 见 {self.log}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if getattr(self, "logfile", None):
            self.logfile.close()


# --- measuring -------------------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of a non-empty list."""
    s = sorted(values)
    if len(s) == 1:
        return s[0]
    pos = (len(s) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


@dataclass
class Row:
    role: str
    page: str
    path: str
    status: str
    n: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None
    kb: float | None = None
    queries: int | None = None
    notes: list[str] = field(default_factory=list)


def measure(session: Session, path: str, repeat: int) -> tuple[list[float], list[int], int]:
    times, statuses, size = [], [], 0
    for _ in range(repeat):
        try:
            r = session.get(path)
        except (TimeoutError, OSError):
            times.append(session.timeout)
            statuses.append(0)
            break  # a timed-out page is not hammered again
        times.append(r.seconds)
        statuses.append(r.status)
        size = len(r.body)
        if r.status >= 500:
            break
    return times, statuses, size


def run(
    base_url: str,
    *,
    repeat: int,
    roles: list[str],
    pages: list[Page],
    password: str,
    inprocess_limit: float,
    timeout: float,
    warmup: int = 0,
    log: Callable[[str], None] = print,
) -> list[Row]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    cache: dict[tuple[str, int], int | None] = {}
    rows: list[Row] = []
    for role in roles:
        user = User.objects.filter(username=ROLES[role]).first()
        if user is None:
            raise SystemExit(f"没有账号 {ROLES[role]}: 请先运行 kepu bench seed")
        session = Session(base_url, timeout=timeout)
        session.login(user.username, password)
        if warmup:
            # Untimed requests first, so each gunicorn worker has loaded its templates and
            # URL resolver (a freshly started worker's first request is not what users see).
            for page in pages:
                path = resolve(page, user, cache)
                if path is not None:
                    measure(session, path, warmup)
        for page in pages:
            path = resolve(page, user, cache)
            if path is None:
                rows.append(Row(role, page.label, page.path, "无可见对象"))
                continue
            times, statuses, size = measure(session, path, repeat)
            ok = all(s == 200 for s in statuses)
            row = Row(
                role,
                page.label,
                path,
                "200" if ok else ",".join(sorted({str(s) if s else "超时" for s in statuses})),
                n=len(times),
                median_ms=round(statistics.median(times) * 1000, 1),
                p95_ms=round(percentile(times, 95) * 1000, 1),
                kb=round(size / 1024, 1),
            )
            if ok and statistics.median(times) <= inprocess_limit:
                row.queries, status = count_queries(user, path)
                if status != 200:
                    row.notes.append(f"进程内 HTTP {status}")
            elif ok:
                row.notes.append("太慢, 未在进程内计查询数")
            rows.append(row)
            log(format_row(row))
    return rows


COLUMNS = ("角色", "页面", "状态", "中位数ms", "p95 ms", "大小KB", "查询数")


def _cell(v: Any) -> str:
    return "-" if v is None else str(v)


def format_row(r: Row) -> str:
    return (
        f"{r.role:<9}{r.page:<14}\t{r.status:<6}{_cell(r.median_ms):>10}{_cell(r.p95_ms):>10}"
        f"{_cell(r.kb):>10}{_cell(r.queries):>7}  {' '.join(r.notes)}"
    )


def table(rows: list[Row]) -> str:
    head = f"{'角色':<8}{'页面':<12}\t{'状态':<5}{'中位数ms':>8}{'p95 ms':>10}{'大小KB':>8}{'查询数':>5}"
    return "\n".join([head, *(format_row(r) for r in rows)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="按角色测量每个列表页、详情页和导出的耗时、大小和查询数"
    )
    p.add_argument("--url", help="已在运行的服务器 (默认: 自动启动 gunicorn 生产模式)")
    p.add_argument("--repeat", type=int, default=5, help="每页请求次数 (默认 5)")
    p.add_argument(
        "--warmup", type=int, default=1, help="计时前每页先请求几次 (不计时; 默认 1, 0 为不预热)"
    )
    p.add_argument("--roles", default=",".join(ROLES), help="逗号分隔: " + ",".join(ROLES))
    p.add_argument("--pages", default="", help="只测标签包含这些词的页面 (逗号分隔)")
    p.add_argument("--password", default=PASSWORD)
    p.add_argument("--workers", type=int, default=4, help="gunicorn 进程数")
    p.add_argument("--timeout", type=float, default=40.0, help="客户端超时 (秒)")
    p.add_argument(
        "--inprocess-limit",
        type=float,
        default=10.0,
        help="超过该中位数 (秒) 的页面不在进程内计查询数",
    )
    p.add_argument("--label", default="", help="结果文件名标签 (默认: 数据库名)")
    args = p.parse_args(argv)
    database_url = os.environ.get("DATABASE_URL", "")
    setup_django()
    from django.db import connection

    label = (
        args.label or f"{connection.vendor}-{connection.settings_dict['NAME'].rsplit('/', 1)[-1]}"
    )
    roles = [r.strip() for r in args.roles.split(",") if r.strip()]
    wanted = [w for w in args.pages.split(",") if w]
    pages = [pg for pg in PAGES if not wanted or any(w in pg.label for w in wanted)]
    started = time.time()

    def go(url: str) -> list[Row]:
        print(f"测量 {url} (数据库 {label}), 每页 {args.repeat} 次")
        return run(
            url,
            repeat=args.repeat,
            roles=roles,
            pages=pages,
            password=args.password,
            inprocess_limit=args.inprocess_limit,
            timeout=args.timeout,
            warmup=args.warmup,
        )

    if args.url:
        rows = go(args.url)
        server_desc = args.url
    else:
        with Server(database_url, workers=args.workers) as server:
            rows = go(server.url)
        server_desc = f"gunicorn {args.workers} workers, KEPU_ENV=production"
    print()
    print(table(rows))
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"pages-{label}.json"
    out.write_text(
        json.dumps(
            {
                "label": label,
                "server": server_desc,
                "repeat": args.repeat,
                "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
                "seconds": round(time.time() - started, 1),
                "rows": [asdict(r) for r in rows],
            },
            ensure_ascii=False,
            indent=1,
        ),
        encoding="utf-8",
    )
    print(f"\n已写入 {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
