"""Benchmark: opening a national-size reporting round (target ≤ 10 s for 500,000 slots).

Builds, in its own PostgreSQL database (default ``kepu_bench_progress``), a city office
with N member units and a plan of T tasks naming U units each (T × U report slots;
default 100,000 × 5 = 500,000), then times ``round_open`` (slot creation in batches plus
one audit row per slot) against a baseline measured in the same run: a plain SQL
``INSERT … SELECT`` of the same number of rows into a scratch table.

Each phase of ``round_open`` is timed: the slots' ``INSERT … SELECT``, their audit
entries, the rest (cascade, count). With ``--compare-fk`` the round is opened three times
(same slots, new round each time): with the report keys as they are in the schema, then
with the database FK constraints Django would create (``DEFERRABLE INITIALLY DEFERRED``)
added, then without them again, to show what the constraints cost.

Not a test: ``DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench_progress \
.venv/bin/python bench/bench_progress.py [--tasks 100000] [--units-per-task 5] [--compare-fk]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kepu_bench_progress"


def _ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--units-per-task", type=int, default=5)
    parser.add_argument("--units", type=int, default=2_000)
    parser.add_argument("--compare-fk", action="store_true")
    args = parser.parse_args()
    url = os.environ.setdefault("DATABASE_URL", DEFAULT_URL)
    if not url.startswith(("postgres://", "postgresql://")):
        print("需要 PostgreSQL: 请设置 DATABASE_URL=postgres://…", file=sys.stderr)
        return 2
    _ensure_database(url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from kepu.orgs.models import Membership, Organisation, OrgKind
    from kepu.orgs.scoping import Role
    from kepu.plans.models import Plan, Task, TaskUnit, UnitRole
    from kepu.progress.services import round_open
    from kepu.regions.models import Level, Region

    t0 = time.perf_counter()
    root = Region.objects.create(code="000000", name="全国", level=Level.NATIONAL, path="CN/")
    prov = Region.objects.create(
        code="530000", name="省", level=Level.PROVINCE, parent=root, path="CN/53/"
    )
    city = Region.objects.create(
        code="530300", name="市", level=Level.PREFECTURE, parent=prov, path="CN/53/5303/"
    )
    office = Organisation.objects.create(name="市科协", kind=OrgKind.ASSOCIATION, region=city)
    units = Organisation.objects.bulk_create(
        Organisation(name=f"单位{i}", kind=OrgKind.DEPARTMENT, region=city, is_member_unit=True)
        for i in range(args.units)
    )
    user = get_user_model().objects.create_user(username="bench", password="x")
    Membership.objects.create(user=user, organisation=office, role=Role.OFFICE_ADMIN)
    plan = Plan.objects.create(title="基准规划", region=city, owner=office)
    tasks = Task.objects.bulk_create(
        (Task(plan=plan, order=i, title=f"任务{i}", text="") for i in range(args.tasks)),
        batch_size=5000,
    )
    rows = []
    for i, task in enumerate(tasks):
        for k in range(args.units_per_task):
            org = units[(i * args.units_per_task + k) % len(units)]
            role = UnitRole.LEAD if k == 0 else UnitRole.COOPERATE
            rows.append(TaskUnit(task=task, name=org.name, role=role, organisation=org, order=k))
    TaskUnit.objects.bulk_create(rows, batch_size=10000)
    n = len(rows)
    print(f"数据准备: {args.tasks} 项任务, {n} 个单位任务, 用时 {time.perf_counter() - t0:.1f} s")

    with connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE scratch AS SELECT * FROM progress_report WITH NO DATA")
        t = time.perf_counter()
        cur.execute(
            "INSERT INTO scratch (version, round_id, task_id, organisation_id, role, via, "
            "status, state, narrative, links, is_late, review_comment, updated_at) "
            "SELECT 1, 0, task_id, organisation_id, role, '', 'pending', '', '', '', false, "
            "'', now() FROM plans_taskunit"
        )
        baseline = time.perf_counter() - t

    from kepu.progress import services

    phases: dict[str, float] = {}

    def timed(name, func):  # type: ignore[no-untyped-def]
        def wrapper(*a, **kw):  # type: ignore[no-untyped-def]
            t = time.perf_counter()
            try:
                return func(*a, **kw)
            finally:
                phases[name] = time.perf_counter() - t

        return wrapper

    services._insert_direct_slots = timed("slots", services._insert_direct_slots)
    services._audit_direct_slots = timed("audit", services._audit_direct_slots)
    print(f"基线 (INSERT…SELECT {n} 行): {baseline:.2f} s")

    def open_round(label: str) -> bool:
        phases.clear()
        t = time.perf_counter()
        round_ = round_open(
            user=user,
            office=office,
            title=f"基准轮次 {label}",
            plans=[plan],
            opens_on=dt.date(2026, 7, 1),
            closes_on=dt.date(2026, 9, 30),
        )
        elapsed = time.perf_counter() - t
        rest = elapsed - phases.get("slots", 0) - phases.get("audit", 0)
        print(
            f"发起轮次 [{label}]: {round_.slot_count} 个填报位 + 同数审计记录, 用时 {elapsed:.2f} s "
            f"(填报位 {phases.get('slots', 0):.2f} s, 审计 {phases.get('audit', 0):.2f} s, "
            f"其余含提交 {rest:.2f} s; 目标 ≤ 10 s/500,000; 为基线的 {elapsed / baseline:.1f} 倍)"
        )
        return round_.slot_count == n

    fks = [
        ("round_id", "progress_reportinground"),
        ("task_id", "plans_task"),
        ("organisation_id", "orgs_organisation"),
        ("parent_id", "progress_report"),
        ("reviewed_by_id", "auth_user"),
    ]

    def set_fks(on: bool) -> None:
        with connection.cursor() as cur:
            for col, table in fks:
                name = f"bench_fk_{col}"
                if on:
                    cur.execute(
                        f"ALTER TABLE progress_report ADD CONSTRAINT {name} FOREIGN KEY ({col}) "
                        f"REFERENCES {table} (id) DEFERRABLE INITIALLY DEFERRED"
                    )
                else:
                    cur.execute(f"ALTER TABLE progress_report DROP CONSTRAINT {name}")

    ok = open_round("当前结构")
    if args.compare_fk:
        set_fks(True)
        ok = open_round("加数据库外键约束") and ok
        set_fks(False)
        ok = open_round("去掉外键约束") and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
