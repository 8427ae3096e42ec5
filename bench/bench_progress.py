"""Benchmark: opening a national-size reporting round (target ≤ 10 s for 500,000 slots).

Builds, in its own PostgreSQL database (default ``kepu_bench_progress``), a city office
with N member units and a plan of T tasks naming U units each (T × U report slots;
default 100,000 × 5 = 500,000; the data is generated with SQL), then times
``round_open`` against a baseline measured in the same run: a plain SQL
``INSERT … SELECT`` of the same number of rows into an unindexed scratch table.

Each phase of ``round_open`` is timed: the slots' ``INSERT … SELECT``, the round's audit
summary (one entry counting the slots by role and collective name, one grouped query),
the rest (cascade, commit with the deferred FK checks). With ``--compare-fk`` the round
is opened again (a new round, same slots) with the report table's FK constraints
dropped, then once more with them restored, to show what the constraints cost.

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
    from kepu.plans.models import Plan, UnitRole
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
    with connection.cursor() as cur:
        cur.execute(
            'INSERT INTO plans_task (version, plan_id, "order", number, title, text, path, '
            "deadline, key_groups, deadline_recurring) "
            "SELECT 1, %s, g, '', '任务' || g, '', '[]', '', '[]', '' "
            "FROM generate_series(0, %s - 1) g",
            [plan.pk, args.tasks],
        )
        # task i names units (i·U + k) mod N, the first as lead
        cur.execute(
            "WITH u AS (SELECT id, name, row_number() OVER (ORDER BY id) - 1 AS k "
            "           FROM orgs_organisation WHERE id = ANY(%s)), "
            't AS (SELECT id, "order" AS i FROM plans_task WHERE plan_id = %s) '
            'INSERT INTO plans_taskunit (task_id, name, role, organisation_id, "order") '
            "SELECT t.id, u.name, CASE WHEN g = 0 THEN %s ELSE %s END, u.id, g "
            "FROM t CROSS JOIN generate_series(0, %s - 1) g JOIN u ON u.k = (t.i * %s + g) %% %s",
            [
                [o.pk for o in units],
                plan.pk,
                UnitRole.LEAD,
                UnitRole.COOPERATE,
                args.units_per_task,
                args.units_per_task,
                len(units),
            ],
        )
        n = cur.rowcount
        cur.execute("ANALYZE")
    try:  # flush the preparation's writes now, not during the measured insert
        with connection.cursor() as cur:
            cur.execute("CHECKPOINT")
    except Exception:  # not permitted for this role: measure anyway
        pass
    print(f"数据准备: {args.tasks} 项任务, {n} 个单位任务, 用时 {time.perf_counter() - t0:.1f} s")
    print(f"负载 (load average): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

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
    services._audit_round_slots = timed("audit", services._audit_round_slots)
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
            f"发起轮次 [{label}]: {round_.slot_count} 个填报位 + 1 条审计汇总, 用时 {elapsed:.2f} s "
            f"(填报位 {phases.get('slots', 0):.2f} s, 审计 {phases.get('audit', 0):.2f} s, "
            f"其余含提交 {rest:.2f} s; 目标 ≤ 10 s/500,000; 为基线的 {elapsed / baseline:.1f} 倍)"
        )
        return round_.slot_count == n

    with connection.cursor() as cur:
        cur.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'progress_report'::regclass AND contype = 'f' ORDER BY conname"
        )
        present = cur.fetchall()
    # The constraints Django creates for the report's keys (when the schema has none).
    django_fks = [
        (
            f"bench_fk_{col}",
            f"FOREIGN KEY ({col}) REFERENCES {table}(id) DEFERRABLE INITIALLY DEFERRED",
        )
        for col, table in (
            ("round_id", "progress_reportinground"),
            ("task_id", "plans_task"),
            ("organisation_id", "orgs_organisation"),
            ("parent_id", "progress_report"),
            ("reviewed_by_id", "auth_user"),
        )
    ]
    fks = present or django_fks
    print(f"填报位表的数据库外键约束: {len(present)} 个")

    def set_fks(on: bool) -> None:
        with connection.cursor() as cur:
            for name, definition in fks:
                if on:
                    cur.execute(f'ALTER TABLE progress_report ADD CONSTRAINT "{name}" {definition}')
                else:
                    cur.execute(f'ALTER TABLE progress_report DROP CONSTRAINT "{name}"')

    ok = open_round("当前结构")
    if args.compare_fk:
        set_fks(not present)
        ok = open_round("去掉外键约束" if present else "加上 Django 的外键约束 (延迟检查)") and ok
        set_fks(bool(present))
        ok = open_round("恢复外键约束" if present else "去掉外键约束") and ok
    print(f"负载 (load average): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
