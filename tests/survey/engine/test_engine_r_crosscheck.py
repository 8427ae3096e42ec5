"""Cross-check against R's survey package (svydesign / calibrate(raking) / svymean /
svyby / svyciprop) on data written by the test: estimates to 1e-8, SEs to 1e-6 relative.

All R jobs run in one Rscript process (module fixture) to keep the suite fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from kepu.survey.engine import Design, estimate, load_margins, load_table, rake, synth

from .r_helpers import compare, run_r

pytestmark = pytest.mark.r

RAKE4 = ("sex", "age_band", "education", "urban")


def _write(cols: dict[str, np.ndarray], path: Path) -> str:
    pacsv.write_csv(pa.table(cols), path, pacsv.WriteOptions(quoting_style="none"))
    return str(path)


@pytest.fixture(scope="module")
def datasets(tmp_path_factory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("r_crosscheck")
    s = synth(4000, seed=11)
    cols = dict(s.columns)
    cols["psu_local"] = cols["psu"] % 1000  # ids unique only within strata
    margins = {}
    for var, totals in s.margins.items():
        p = root / f"m_{var}.csv"
        p.write_text(f"{var},Freq\n" + "".join(f"{k},{v}\n" for k, v in totals.items()))
        margins[var] = str(p)
    # lonely PSUs: in 5 strata keep only the first PSU
    strata = np.unique(cols["stratum"])[[0, 7, 20, 33, 50]]
    keep = np.ones(len(cols["id"]), dtype=bool)
    for h in strata:
        in_h = cols["stratum"] == h
        first = cols["psu"][in_h].min()
        keep &= ~in_h | (cols["psu"] == first)
    lonely = {k: v[keep] for k, v in cols.items()}
    return {
        "main": _write(cols, root / "sample.csv"),
        "lonely": _write(lonely, root / "lonely.csv"),
        "margins": margins,
        "root": root,
    }


def _jobs(ds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    m = ds["margins"]
    rake4 = {v: m[v] for v in RAKE4}
    base = {"y": "literate", "weight": "weight", "strata": "stratum", "psu": "psu"}
    return {
        "unraked": {
            **base,
            "data": ds["main"],
            "by": [["province"], ["province", "group"]],
            "logit": True,
            "logit_by": True,
        },
        "raked4": {
            **base,
            "data": ds["main"],
            "rake": rake4,
            "epsilon": 1e-12,
            "by": [["province"], ["urban", "group"], ["province", "urban"]],
            "logit": True,
        },
        "raked5_province": {
            **base,
            "data": ds["main"],
            "rake": {**rake4, "province": m["province"]},
            "epsilon": 1e-12,
            "by": [["province"], ["group"]],
        },
        "raked_bounds": {
            **base,
            "data": ds["main"],
            "rake": rake4,
            "bounds": [0.7, 1.7],
            "epsilon": 1e-12,
            "by": [["province"]],
        },
        "nest": {
            **base,
            "psu": "psu_local",
            "nest": True,
            "data": ds["main"],
            "rake": rake4,
            "epsilon": 1e-12,
            "by": [["province"]],
        },
        "score_mean_replace": {
            **base,
            "y": "score",
            "data": ds["main"],
            "rake": rake4,
            "epsilon": 1e-12,
            "deff": "replace",
            "by": [["province"], ["education"]],
        },
        "no_design_vars": {
            "y": "literate",
            "weight": "weight",
            "strata": None,
            "psu": None,
            "data": ds["main"],
            "by": [["urban"]],
            "logit": True,
        },
        **{
            f"lonely_{opt}": {**base, "data": ds["lonely"], "lonely_psu": opt, "by": [["province"]]}
            for opt in ("certainty", "remove", "adjust", "average")
        },
        **{
            f"lonely_{opt}_raked": {
                **base,
                "data": ds["lonely"],
                "lonely_psu": opt,
                "rake": rake4,
                "epsilon": 1e-12,
                "by": [["province"]],
            }
            for opt in ("certainty", "adjust", "average")
        },
    }


@pytest.fixture(scope="module")
def r_results(datasets) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    jobs = _jobs(datasets)
    results = run_r(list(jobs.values()), datasets["root"])
    return {name: (job, res) for (name, job), res in zip(jobs.items(), results, strict=True)}


def _engine(job: dict[str, Any]):
    data = load_table(job["data"])
    design = Design(
        data,
        weights=job["weight"],
        strata=job.get("strata"),
        psu=job.get("psu"),
        nest=job.get("nest", False),
        lonely_psu=job.get("lonely_psu", "fail"),
    )
    raking = None
    if job.get("rake"):
        raking = rake(
            design,
            {v: load_margins(p) for v, p in job["rake"].items()},
            bounds=tuple(job["bounds"]) if job.get("bounds") else None,
            tol=1e-12,
        )
        design = raking.design
    ests = estimate(
        design,
        job["y"],
        by=[tuple(b) for b in job["by"]],
        deff="replace" if job.get("deff") == "replace" else "srswor",
    )
    return ests, raking


CASES = [
    "unraked",
    "raked4",
    "raked5_province",
    "raked_bounds",
    "nest",
    "score_mean_replace",
    "no_design_vars",
    "lonely_certainty",
    "lonely_remove",
    "lonely_adjust",
    "lonely_average",
    "lonely_certainty_raked",
    "lonely_adjust_raked",
    "lonely_average_raked",
]


@pytest.mark.parametrize("case", CASES)
def test_matches_r(case, r_results):
    job, ref = r_results[case]
    ests, raking = _engine(job)
    worst = compare(ests, ref, logit=bool(job.get("logit")), logit_by=bool(job.get("logit_by")))
    assert worst["estimate"] <= 1e-8
    if raking is not None:
        assert raking.g_min == pytest.approx(ref["raking"]["g_min"], rel=1e-8)
        assert raking.g_max == pytest.approx(ref["raking"]["g_max"], rel=1e-8)


def test_bounds_are_binding_and_enforced(r_results):
    job, ref = r_results["raked_bounds"]
    _, raking = _engine(job)
    _, free = _engine({**job, "bounds": None})
    assert free.g_min < 0.7 or free.g_max > 1.7, "test data must need the bounds"
    assert raking.g_min >= 0.7 - 1e-12
    assert raking.g_max <= 1.7 + 1e-12
    assert ref["raking"]["g_max"] <= 1.7 + 1e-9


def test_lonely_options_differ(r_results):
    """The lonely-PSU options really change the variance (so each case tests something)."""
    ses = {}
    for opt in ("certainty", "adjust", "average"):
        job, _ = r_results[f"lonely_{opt}"]
        ests, _ = _engine(job)
        ses[opt] = ests[0].se
    assert len({round(v, 12) for v in ses.values()}) == 3
