"""Benchmark: import a national survey file (default 300,000 respondents from
``kepu survey synth``) into a wave, and compare with merely reading the CSV.

    .venv/bin/python bench/bench_import.py [--n 300000] [--seed 20250101]

Runs on the database ``DATABASE_URL`` names (PostgreSQL: migrated if needed; it creates
a wave and, if missing, the national region tree and an office, and deletes the wave
afterwards);
without ``DATABASE_URL`` on a fresh SQLite file in a temporary folder (WAL mode, as
production). Prints the file size, the time to read the CSV (decode + split every row),
the import time and its ratio to the read, rows per second, the longest write
transaction, and the peak memory. Target (issue 8): 300k rows in <= 60 s.
Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _generate(n: int, out: Path, seed: int) -> Path:
    """Write the synth sample in a child process (its memory is not this process's)."""
    code = (
        "import sys;from kepu.survey.engine.synth import write_synth;"
        f"print(write_synth({n}, {str(out)!r}, seed={seed})['data'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return Path(done.stdout.strip())


def _read_only(data: bytes) -> int:
    """The baseline: decode the bytes and split every row, nothing else."""
    from kepu.core.importing import decode_csv

    return sum(1 for _ in csv.reader(io.StringIO(decode_csv(data))))


def _setup_django(tmp: Path) -> str:
    if not os.environ.get("DATABASE_URL"):
        os.environ["KEPU_SQLITE_PATH"] = str(tmp / "bench.sqlite3")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    os.environ.setdefault("KEPU_DEBUG", "0")  # as in production: no SQL logging
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)  # a fresh database gets the tables
    return connection.vendor


def _national_wave():
    from django.contrib.auth import get_user_model

    from kepu.orgs.models import Membership, Organisation, OrgKind
    from kepu.orgs.scoping import Role
    from kepu.regions.models import Level, Region, short_code
    from kepu.survey import services
    from kepu.survey.engine.synth import PROVINCES

    root = Region.objects.filter(level=Level.NATIONAL).first()
    if root is None:
        root = Region.objects.create(
            code="000000", name="全国", level=Level.NATIONAL, path="CN/", parent=None
        )
    for code, name, _, _ in PROVINCES:
        full = f"{code}0000"
        if not Region.objects.filter(code=full).exists():
            Region.objects.create(
                code=full,
                name=name,
                level=Level.PROVINCE,
                parent=root,
                path=f"{root.path}{short_code(full, Level.PROVINCE)}/",
            )
    office = Organisation.objects.filter(region=root, kind=OrgKind.ASSOCIATION).first()
    if office is None:
        office = Organisation.objects.create(
            name="基准测试全国办公室", kind=OrgKind.ASSOCIATION, region=root
        )
    user, _ = get_user_model().objects.get_or_create(username="bench-import")
    Membership.objects.get_or_create(
        user=user, organisation=office, defaults={"role": Role.OFFICE_ADMIN}
    )
    wave = services.wave_create(
        user=user, owner=office, fields=services.WaveFields(title="导入基准测试", year=2025)
    )
    return user, wave


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300_000)
    parser.add_argument("--seed", type=int, default=20250101)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        path = _generate(args.n, tmp / "synth", args.seed)
        generated = time.perf_counter() - started
        data = path.read_bytes()
        vendor = _setup_django(tmp)

        started = time.perf_counter()
        rows = _read_only(data)
        read = time.perf_counter() - started

        from django.db import connection

        from kepu.survey import services

        user, wave = _national_wave()
        phases: list[tuple[float, float, str]] = []

        def progress(fraction: float, message: str) -> None:
            phases.append((time.perf_counter(), fraction, message))

        started = time.perf_counter()
        cpu_started = time.process_time()
        summary = services.respondents_import(
            user=user, wave=wave, name=path.name, data=data, progress=progress
        )
        imported = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        write_start = next(t for t, f, _ in phases if f >= 0.7)
        write = phases[-1][0] - write_start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        services.wave_delete(user=user, wave=wave)

        print(f"database: {vendor} ({connection.settings_dict['NAME']})")
        print(f"file: {path.name}, {len(data) / 1024 / 1024:.1f} MB, {rows - 1:,} rows")
        print(f"generate (synth, child process): {generated:.1f} s")
        print(f"read only (decode + split rows): {read:.2f} s")
        print(
            f"import: {imported:.1f} s  ({summary.rows:,} respondents, "
            f"{summary.rows / imported:,.0f} rows/s, {summary.subregions} provinces)"
        )
        print(f"  of which the write transaction: {write:.1f} s")
        print(
            f"  CPU time of this process: {cpu:.1f} s (the rest is the database or a busy machine)"
        )
        print(f"ratio import / read: {imported / read:.1f}")
        print(f"peak RSS: {peak:.0f} MB")
        print(f"target: <= 60 s for 300,000 rows -> {'met' if imported <= 60 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
