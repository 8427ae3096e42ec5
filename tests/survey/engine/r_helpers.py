"""Running R's survey package on data the tests wrote, and comparing with the engine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kepu.survey.engine.tableio import canonical_value

REFERENCE_R = Path(__file__).resolve().parents[3] / "kepu" / "survey" / "engine" / "reference.R"
R_PACKAGES = "r-base-core r-cran-survey r-cran-jsonlite r-cran-mass"


def require_r() -> str:
    """Path of Rscript with the survey package; fail under CI, skip locally, when missing."""
    rscript = shutil.which("Rscript")
    problem = None
    if rscript is None:
        problem = "Rscript not found"
    else:
        probe = subprocess.run(
            [rscript, "-e", "library(survey); library(jsonlite); library(MASS)"],
            capture_output=True,
            text=True,
        )
        if probe.returncode != 0:
            problem = f"R packages missing: {probe.stderr.strip()[-300:]}"
    if problem:
        message = f"{problem}; install with: apt-get install -y {R_PACKAGES}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return rscript  # type: ignore[return-value]


def run_r(jobs: list[dict[str, Any]], workdir: Path) -> list[dict[str, Any]]:
    rscript = require_r()
    spec = workdir / "r_jobs.json"
    out = workdir / "r_out.json"
    spec.write_text(json.dumps({"jobs": jobs}), encoding="utf-8")
    proc = subprocess.run(
        [rscript, str(REFERENCE_R), str(spec), str(out)], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise AssertionError(f"R failed:\n{proc.stderr[-3000:]}")
    return json.loads(out.read_text(encoding="utf-8"))["jobs"]


def key(by: str, domain: Any) -> tuple[str, tuple[tuple[str, Any], ...]]:
    dom = domain if isinstance(domain, dict) else {}
    return by, tuple(sorted((k, canonical_value(v)) for k, v in dom.items()))


def compare(
    mine: list[Any], ref: dict[str, Any], *, logit: bool = False, logit_by: bool = False
) -> dict[str, float]:
    """Assert the engine matches R; return the largest differences seen."""
    by_key = {key(e.by, e.domain): e for e in mine}
    worst = {"estimate": 0.0, "se_rel": 0.0, "ci": 0.0, "deff_rel": 0.0, "logit_ci": 0.0}
    assert len(ref["estimates"]) == len(by_key), "different number of estimates"
    compared_logit = 0
    for row in ref["estimates"]:
        e = by_key[key(row["by"], row["domain"])]
        where = f"{row['by']} {row['domain']}"
        d_est = abs(e.estimate - row["estimate"])
        assert d_est <= 1e-8, f"estimate {where}: {e.estimate} vs R {row['estimate']}"
        worst["estimate"] = max(worst["estimate"], d_est)
        r_se = row["se"]
        d_se = abs(e.se - r_se)
        assert d_se <= 1e-6 * abs(r_se) + 1e-13, f"se {where}: {e.se} vs R {r_se}"
        if r_se > 1e-12:
            worst["se_rel"] = max(worst["se_rel"], d_se / r_se)
        for mine_ci, r_ci in ((e.ci_low, row["ci_low"]), (e.ci_high, row["ci_high"])):
            d = abs(mine_ci - r_ci)
            assert d <= 1e-8 + 4e-6 * r_se, f"normal CI {where}: {mine_ci} vs R {r_ci}"
            worst["ci"] = max(worst["ci"], d)
        r_deff = row.get("deff")
        if r_deff is not None and e.deff is not None and r_se > 1e-12:
            d = abs(e.deff - r_deff) / abs(r_deff)
            assert d <= 1e-6, f"deff {where}: {e.deff} vs R {r_deff}"
            worst["deff_rel"] = max(worst["deff_rel"], d)
        else:
            assert (r_deff is None) == (e.deff is None) or r_se <= 1e-12, f"deff {where}"
        if logit:
            lo, hi = row.get("logit_ci_low"), row.get("logit_ci_high")
            if row["by"] != "national" and not logit_by:
                continue
            # R's svyciprop fits a glm per domain; where that glm breaks down (p = 0 or 1,
            # or some calibrated domains) its interval is degenerate: compare proper ones.
            if lo is None or hi is None or not (lo < row["estimate"] < hi):
                continue
            for a, b in ((e.logit_ci_low, lo), (e.logit_ci_high, hi)):
                assert a is not None and abs(a - b) <= 1e-7, f"logit CI {where}: {a} vs R {b}"
                worst["logit_ci"] = max(worst["logit_ci"], abs(a - b))
            compared_logit += 1
    if logit:
        assert compared_logit >= 1, "no logit interval compared"
    if logit_by:
        assert compared_logit >= len(ref["estimates"]) // 2, "too few logit intervals compared"
    return worst
