"""Build the national-scale benchmark data set (same as ``kepu bench seed``).

    createdb -h 127.0.0.1 -U postgres kepu_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/kepu_bench
    .venv/bin/kepu manage migrate && .venv/bin/kepu regions import
    .venv/bin/python bench/seed_national.py --scale national --json bench/out/seed-national.json

Arguments are those of the management command (``--scale national|province|demo``,
``--province CODE``, ``--password``, ``--json FILE``); see
``kepu/core/management/commands/kepu_bench_seed.py``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kepu.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["seed_national", "kepu_bench_seed", *sys.argv[1:]])
