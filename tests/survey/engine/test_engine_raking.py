"""Raking: convergence, margins reproduced, bounds, error cases, calibrated SE (no R)."""

from __future__ import annotations

import numpy as np
import pytest

from kepu.survey.engine import Design, RakingError, SurveyError, estimate, rake, synth


@pytest.fixture(scope="module")
def sample():
    return synth(3000, seed=5)


def _design(sample):
    return Design(sample.columns, weights="weight", strata="stratum", psu="psu")


def test_raking_reproduces_every_margin(sample):
    margins = {v: sample.margins[v] for v in ("sex", "age_band", "education", "urban")}
    res = rake(_design(sample), margins)
    assert res.converged and res.iterations >= 2
    assert res.max_error < 1e-10
    w = res.design.weights
    for var, totals in margins.items():
        col = sample.columns[var]
        for cat, target in totals.items():
            assert w[col == cat].sum() == pytest.approx(target, rel=1e-9)
    assert {m.variable for m in res.margins} == set(margins)
    before = [m for m in res.margins if m.variable == "sex"]
    assert any(abs(m.before - m.target) / m.target > 0.01 for m in before)


def test_ipf_and_newton_agree(sample):
    margins = {v: sample.margins[v] for v in ("sex", "age_band", "education", "province")}
    a = rake(_design(sample), margins, method="ipf", tol=1e-12)
    b = rake(_design(sample), margins, method="newton", tol=1e-12)
    np.testing.assert_allclose(a.design.weights, b.design.weights, rtol=1e-9)
    assert b.iterations < a.iterations


def test_bounds_are_enforced(sample):
    margins = {v: sample.margins[v] for v in ("sex", "age_band", "education", "urban")}
    free = rake(_design(sample), margins)
    assert free.g_min < 0.75 or free.g_max > 1.6
    res = rake(_design(sample), margins, bounds=(0.75, 1.6))
    g = res.design.weights / sample.columns["weight"]
    assert g.min() >= 0.75 - 1e-12 and g.max() <= 1.6 + 1e-12
    assert res.method == "newton" and res.max_error < 1e-10
    with pytest.raises(RakingError, match="未收敛"):
        rake(_design(sample), margins, bounds=(0.98, 1.02))


def test_non_convergence_raises(sample):
    margins = {v: sample.margins[v] for v in ("sex", "age_band", "education", "urban")}
    with pytest.raises(RakingError, match="未收敛") as info:
        rake(_design(sample), margins, maxit=1)
    assert info.value.iterations == 1
    assert info.value.max_error > 1e-10


def test_margin_category_mismatch_is_an_error(sample):
    d = _design(sample)
    with pytest.raises(SurveyError, match="在数据中不存在"):
        rake(d, {"sex": {**sample.margins["sex"], 3: 1000}})
    sex = dict(sample.margins["sex"])
    del sex[2]
    with pytest.raises(SurveyError, match="总体边际中没有"):
        rake(d, {"sex": sex})
    with pytest.raises(SurveyError, match="大于 0"):
        rake(d, {"sex": {1: 0, 2: 5}})


def test_inconsistent_totals_and_double_raking(sample):
    d = _design(sample)
    bad_age = {k: v * 1.1 for k, v in sample.margins["age_band"].items()}
    with pytest.raises(SurveyError, match="总体总数不一致"):
        rake(d, {"sex": sample.margins["sex"], "age_band": bad_age})
    res = rake(d, {"sex": sample.margins["sex"]})
    with pytest.raises(SurveyError, match="已经校准"):
        rake(res.design, {"sex": sample.margins["sex"]})


def test_string_margin_keys_match_integer_codes(sample):
    res = rake(_design(sample), {"sex": {str(k): v for k, v in sample.margins["sex"].items()}})
    assert res.max_error < 1e-10


def test_calibration_variable_has_zero_variance_after_raking(sample):
    """The share of a raking category is fixed by the margins: its calibrated SE is 0."""
    cols = dict(sample.columns)
    cols["male"] = (cols["sex"] == 1).astype(np.int64)
    d = Design(cols, weights="weight", strata="stratum", psu="psu")
    raw = estimate(d, "male")[0]
    res = rake(d, {"sex": sample.margins["sex"], "age_band": sample.margins["age_band"]})
    (e,) = estimate(res.design, "male")
    share = sample.margins["sex"][1] / sum(sample.margins["sex"].values())
    assert e.estimate == pytest.approx(share, abs=1e-10)
    assert e.se < 1e-9 < raw.se
