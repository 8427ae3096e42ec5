"""Benchmark of the survey estimation engine against R's survey package.

A national-size job: synthetic sample (default 400,000 respondents, 62 strata, ~750 PSUs),
raking to 4 margins (sex, age band, education, urban/rural), then the literacy rate with
Taylor SEs, CIs and design effects nationally, for 31 provinces and for 186 province x
key-group domains.

Prints, measured in this run on this machine:
  * engine time / time to merely read the input file (target <= 3)
  * R time / engine time (target >= 100; R runs the same job with svydesign, calibrate,
    svymean and svyby, reading the same CSV)
  * peak RSS of this process (target < 500 MB; data generation runs in a child process)

Not a test: run ``.venv/bin/python bench/bench_survey.py [--n N] [--skip-r]``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RAKE_VARS = ("sex", "age_band", "education", "urban")
BY = ["province", ("province", "group")]


def _generate(n: int, out: Path, seed: int) -> dict:
    code = (
        "import json,sys;from kepu.survey.engine.synth import write_synth;"
        f"print(json.dumps(write_synth({n}, {str(out)!r}, seed={seed})))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return json.loads(proc.stdout)


def _read_only(path: str) -> float:
    import pyarrow.csv as pacsv

    t0 = time.perf_counter()
    table = pacsv.read_csv(path)
    dt = time.perf_counter() - t0
    assert table.num_rows > 0
    return dt


def _engine_job(path: str, margin_paths: dict[str, str]):
    from kepu.survey.engine import Design, estimate, load_margins, load_table, rake

    t0 = time.perf_counter()
    columns = ["literate", "weight", "stratum", "psu", *RAKE_VARS, "province", "group"]
    data = load_table(path, columns)
    design = Design(data, weights="weight", strata="stratum", psu="psu")
    raked = rake(design, {v: load_margins(margin_paths[v], v) for v in RAKE_VARS})
    ests = estimate(raked.design, "literate", by=BY)
    return time.perf_counter() - t0, ests, raked


def _run_r(path: str, margin_paths: dict[str, str], workdir: Path):
    spec = {
        "data": path,
        "y": "literate",
        "weight": "weight",
        "strata": "stratum",
        "psu": "psu",
        "rake": {v: margin_paths[v] for v in RAKE_VARS},
        "by": [["province"], ["province", "group"]],
        "logit": False,
    }
    spec_path = workdir / "r_spec.json"
    out_path = workdir / "r_out.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    script = ROOT / "kepu" / "survey" / "engine" / "reference.R"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        ["Rscript", str(script), str(spec_path), str(out_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"R failed: {proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_maxrss / 1024, json.loads(out_path.read_text(encoding="utf-8"))


def _max_diffs(ests, ref) -> tuple[float, float]:
    from kepu.survey.engine.tableio import canonical_value

    def key(by, dom):
        dom = dom if isinstance(dom, dict) else {}
        return by, tuple(sorted((k, canonical_value(v)) for k, v in dom.items()))

    mine = {key(e.by, e.domain): e for e in ests}
    d_est = d_se = 0.0
    for row in ref["estimates"]:
        e = mine[key(row["by"], row["domain"])]
        d_est = max(d_est, abs(e.estimate - row["estimate"]))
        if row["se"] > 1e-12:
            d_se = max(d_se, abs(e.se - row["se"]) / row["se"])
    return d_est, d_se


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=400_000, help="respondents (default 400000)")
    ap.add_argument("--skip-r", action="store_true", help="do not run R")
    ap.add_argument("--repeat", type=int, default=5, help="timed repetitions (median)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--dir", help="working directory (default: a temporary one)")
    args = ap.parse_args()

    tmp = None
    if args.dir:
        workdir = Path(args.dir)
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench_survey_")
        workdir = Path(tmp.name)
    t0 = time.perf_counter()
    info = _generate(args.n, workdir, args.seed)
    print(
        f"data: n={info['n']}, {info['strata']} strata, {info['psu']} PSUs, "
        f"{os.path.getsize(info['data']) / 1e6:.1f} MB CSV (generated in {time.perf_counter() - t0:.1f} s)"
    )
    path, margins = info["data"], info["margins"]

    _read_only(path)  # warm the page cache and imports
    _engine_job(path, margins)
    reads, jobs = [], []
    for _ in range(args.repeat):
        reads.append(_read_only(path))
        dt, ests, raked = _engine_job(path, margins)
        jobs.append(dt)
    t_read = statistics.median(reads)
    t_job = statistics.median(jobs)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    n_dom = {b: sum(1 for e in ests if e.by == b) for b in dict.fromkeys(e.by for e in ests)}
    print(f"estimates: {n_dom}")
    print(
        f"raking: {raked.iterations} iterations ({raked.method}), max relative margin "
        f"error {raked.max_error:.2e}, g in [{raked.g_min:.3f}, {raked.g_max:.3f}]"
    )
    print(
        f"read input file only (pyarrow, all columns): {t_read * 1000:8.1f} ms (median of {args.repeat})"
    )
    print(
        f"engine job (read + design + rake + estimates): {t_job * 1000:8.1f} ms (median of {args.repeat})"
    )
    print(f"ratio engine / read: {t_job / t_read:.2f}  (target <= 3)")
    print(f"peak RSS of this process: {rss:.0f} MB  (target < 500)")
    if not args.skip_r:
        r_wall, r_rss, ref = _run_r(path, margins, workdir)
        d_est, d_se = _max_diffs(ests, ref)
        print(f"R survey (Rscript wall time, same job): {r_wall:8.2f} s, peak RSS {r_rss:.0f} MB")
        print(f"ratio R / engine: {r_wall / t_job:.0f}x  (target >= 100)")
        print(f"max |estimate - R| = {d_est:.2e}, max relative |se - R| = {d_se:.2e}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
