"""Load benchmark (issue 7 "Load"): concurrent signed-in readers of every role plus writers.

Usage (data from ``kepu bench seed``; see README)::

    # PostgreSQL
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench .venv/bin/python bench/bench_load.py
    # SQLite
    KEPU_SQLITE_PATH=bench/out/bench.sqlite3 .venv/bin/python bench/bench_load.py

For ``--duration`` seconds (default 60), ``--users`` virtual users per role (default 50; roles:
national, province, city, county, unit, viewer — the seeder's bench accounts) read the task
ledger, their tasks and the survey results (when their role sees a wave), while ``--writers``
(default 5) office administrators edit member units through the real edit form (GET the form,
POST it back with a changed short name).  Each virtual user waits an exponentially
distributed think time with mean ``--think`` seconds (default 1; 0 = as fast as possible)
between requests.  Virtual users of one role share that account's session (one sign-in per
account: a sign-in costs a password hash).

The server is started in production mode (gunicorn, ``KEPU_ENV=production``) on a free
loopback port against the same database, unless ``--url`` names one already running (loopback
only).  Every loop is bounded by the deadline; the run stops by itself, then prints requests/s,
p50/p95/p99 and errors per operation, and writes ``bench/out/load-<label>.json``.
"""

from __future__ import annotations

import argparse
import html.parser
import json
import os
import random
import sys
import threading
import time
import urllib.parse
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_pages import (
    OUT,
    PASSWORD,
    ROLES,
    Page,
    Server,
    Session,
    percentile,
    resolve,
    setup_django,
)

READ_PAGES = [
    Page("任务台账", "/plans/ledger/"),
    Page("我的任务", "/plans/my-tasks/"),
    Page("调查结果", "/survey/{wave}/"),
]
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class FormParser(html.parser.HTMLParser):
    """The fields of every POST form (inputs, selects, textareas), in page order."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.fields: dict[str, str] | None = None
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.fields = {}
            self.forms.append(self.fields)
        if self.fields is None:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.fields[name] = a.get("value", "on")
            elif kind not in {"submit", "button", "file"}:
                self.fields[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select, self._first_option = name, None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
            if "selected" in a:
                self.fields[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_endtag(self, tag: str) -> None:
        if self.fields is None:
            return
        if tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option or "")
            self._select = None
        elif tag == "textarea" and self._textarea:
            # HTML drops one newline right after <textarea>
            self.fields[self._textarea] = self.fields[self._textarea].removeprefix("\n")
            self._textarea = None
        elif tag == "form":
            self.fields = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.fields is not None:
            self.fields[self._textarea] += data


def form_fields(body: bytes) -> dict[str, str]:
    """The largest POST form of the page (the edit form, not the sign-out button)."""
    p = FormParser()
    p.feed(body.decode("utf-8", "replace"))
    return max(p.forms, key=len, default={})


@dataclass
class Sample:
    op: str  # "读 任务台账", "写 组织编辑" …
    role: str
    seconds: float
    ok: bool
    status: int


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.samples: list[Sample] = []

    def add(self, s: Sample) -> None:
        with self.lock:
            self.samples.append(s)


def _think(rng: random.Random, mean: float, deadline: float) -> None:
    if mean > 0:
        time.sleep(max(0.0, min(rng.expovariate(1 / mean), deadline - time.monotonic())))


def reader(
    session: Session,
    role: str,
    paths: list[tuple[str, str]],
    deadline: float,
    think: float,
    rec: Recorder,
    seed: int,
) -> None:
    rng = random.Random(seed)
    i = rng.randrange(len(paths))
    # Start in steady state: each user's first request comes after one (exponential) think
    # time, as if the users had been working for a while, not all clicking at t=0.
    _think(rng, think, deadline)
    while time.monotonic() < deadline:
        label, path = paths[i % len(paths)]
        i += 1
        t0 = time.perf_counter()
        try:
            r = session.get(path)
            rec.add(Sample(f"读 {label}", role, r.seconds, r.status == 200, r.status))
        except OSError:
            rec.add(Sample(f"读 {label}", role, time.perf_counter() - t0, False, 0))
        _think(rng, think, deadline)


def writer(
    session: Session, org_id: int, deadline: float, think: float, rec: Recorder, seed: int
) -> None:
    rng = random.Random(seed)
    n = 0
    path = f"/orgs/{org_id}/edit/"
    _think(rng, think, deadline)
    while time.monotonic() < deadline:
        t0 = time.perf_counter()
        try:
            form = session.get(path)
            rec.add(
                Sample("写 打开编辑表单", "writer", form.seconds, form.status == 200, form.status)
            )
            if form.status != 200:
                _think(rng, think, deadline)
                continue
            fields = form_fields(form.body)
            n += 1
            base = fields.get("short_name", "").split("·")[0] or "单位"
            fields["short_name"] = f"{base}·{n}"
            r = session.request("POST", path, fields, referer=path)
            rec.add(Sample("写 保存组织", "writer", r.seconds, r.status == 302, r.status))
        except OSError:
            rec.add(Sample("写 保存组织", "writer", time.perf_counter() - t0, False, 0))
        _think(rng, think, deadline)


def summarise(samples: list[Sample], duration: float) -> list[dict[str, Any]]:
    by_op: dict[str, list[Sample]] = defaultdict(list)
    for s in samples:
        by_op[s.op].append(s)
        by_op["读 (全部)" if s.op.startswith("读") else "写 (全部)"].append(s)
    out = []
    for op in sorted(by_op, key=lambda o: (not o.startswith("读"), "全部" not in o, o)):
        ss = by_op[op]
        times = [s.seconds for s in ss]
        errors = [s for s in ss if not s.ok]
        out.append(
            {
                "op": op,
                "requests": len(ss),
                "rps": round(len(ss) / duration, 1),
                "p50_ms": round(percentile(times, 50) * 1000, 1),
                "p95_ms": round(percentile(times, 95) * 1000, 1),
                "p99_ms": round(percentile(times, 99) * 1000, 1),
                "errors": len(errors),
                "error_statuses": sorted({s.status for s in errors}),
            }
        )
    return out


def _writer_orgs(n: int) -> tuple[str, list[int]]:
    """Member units the city office administrator may edit (one per writer)."""
    from django.contrib.auth import get_user_model

    from kepu.orgs.models import Organisation

    admin = get_user_model().objects.get(username=ROLES["city"])
    ids = list(
        Organisation.objects.restrict(admin, "change")
        .filter(kind="department")
        .order_by("pk")
        .values_list("pk", flat=True)[:n]
    )
    return admin.username, ids


def run(base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    User = get_user_model()
    cache: dict[tuple[str, int], int | None] = {}
    rec = Recorder()
    threads: list[threading.Thread] = []
    roles = [r for r in args.roles.split(",") if r]
    plans: list[tuple[str, Session, list[tuple[str, str]]]] = []
    for role in roles:
        user = User.objects.get(username=ROLES[role])
        s = Session(base_url, timeout=args.timeout)
        s.login(user.username, args.password)
        paths = [(p.label, path) for p in READ_PAGES if (path := resolve(p, user, cache))]
        plans.append((role, s, paths))
    writer_name, org_ids = _writer_orgs(args.writers)
    wsession = Session(base_url, timeout=args.timeout)
    if org_ids:
        wsession.login(writer_name, args.password)
    start = time.monotonic()
    deadline = start + args.duration
    seed = 0
    for role, s, paths in plans:
        for _ in range(args.users):
            clone = Session(base_url, timeout=args.timeout)
            clone.cookies = dict(s.cookies)
            seed += 1
            threads.append(
                threading.Thread(
                    target=reader,
                    args=(clone, role, paths, deadline, args.think, rec, seed),
                    daemon=True,
                )
            )
    for org_id in org_ids:
        clone = Session(base_url, timeout=args.timeout)
        clone.cookies = dict(wsession.cookies)
        seed += 1
        threads.append(
            threading.Thread(
                target=writer, args=(clone, org_id, deadline, args.think, rec, seed), daemon=True
            )
        )
    print(
        f"{len(threads) - len(org_ids)} 个读用户 ({'、'.join(roles)} 各 {args.users}), {len(org_ids)} 个写用户, {args.duration} 秒 …"
    )
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()) + args.timeout + 5)
    elapsed = time.monotonic() - start
    stuck = sum(t.is_alive() for t in threads)
    return {
        "duration": round(elapsed, 1),
        "virtual_users": len(threads),
        "stuck_threads": stuck,
        "ops": summarise(rec.samples, elapsed),
        "per_role": {
            role: summarise([s for s in rec.samples if s.role == role], elapsed)[0]
            for role in [*roles, "writer"]
            if any(s.role == role for s in rec.samples)
        },
    }


def print_table(result: dict[str, Any]) -> None:
    print(
        f"\n{'操作':<14}{'请求数':>8}{'请求/秒':>9}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}{'错误':>7}"
    )
    for o in result["ops"]:
        print(
            f"{o['op']:<14}{o['requests']:>8}{o['rps']:>9}{o['p50_ms']:>10}{o['p95_ms']:>10}"
            f"{o['p99_ms']:>10}{o['errors']:>7}  {o['error_statuses'] or ''}"
        )
    print("\n按角色 (读):")
    for role, o in result["per_role"].items():
        print(
            f"  {role:<9} {o['requests']:>6} 次  p50 {o['p50_ms']} ms  p95 {o['p95_ms']} ms  错误 {o['errors']}"
        )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        description="并发负载测试: 各角色读台账、我的任务、调查结果, 同时有人写"
    )
    p.add_argument("--url", help="已在运行的服务器 (只允许本机回环地址)")
    p.add_argument("--users", type=int, default=50, help="每个角色的并发用户数 (默认 50)")
    p.add_argument("--writers", type=int, default=5, help="并发写用户数 (默认 5)")
    p.add_argument("--duration", type=float, default=60.0, help="持续秒数 (默认 60)")
    p.add_argument(
        "--think", type=float, default=1.0, help="两次请求间的平均思考时间 (秒, 0 为不停顿)"
    )
    p.add_argument("--roles", default=",".join(ROLES))
    p.add_argument("--password", default=PASSWORD)
    p.add_argument("--workers", type=int, default=4, help="gunicorn 进程数")
    p.add_argument("--timeout", type=float, default=30.0, help="单个请求的客户端超时 (秒)")
    p.add_argument("--label", default="")
    args = p.parse_args(argv)
    if args.duration <= 0 or args.duration > 3600 or args.users < 0 or args.users > 500:
        p.error("--duration 应在 0–3600 秒, --users 应在 0–500")
    if args.url and urllib.parse.urlsplit(args.url).hostname not in LOOPBACK:
        p.error("--url 只能是本机回环地址 (127.0.0.1 / localhost)")
    setup_django()
    from django.db import connection

    name = str(connection.settings_dict["NAME"]).rsplit("/", 1)[-1]
    label = args.label or f"{connection.vendor}-{name}"
    started = time.time()
    if args.url:
        result = run(args.url, args)
        server = args.url
    else:
        with Server(os.environ.get("DATABASE_URL", ""), workers=args.workers) as srv:
            result = run(srv.url, args)
        server = f"gunicorn {args.workers} workers, KEPU_ENV=production"
    result.update(
        label=label,
        database=connection.vendor,
        server=server,
        users_per_role=args.users,
        writers=args.writers,
        think_seconds=args.think,
        started=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
    )
    print_table(result)
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"load-{label}.json"
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"\n已写入 {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
