"""Hand-computable variance cases and design validation (no R needed)."""

from __future__ import annotations

import numpy as np
import pytest

from kepu.survey.engine import Design, SurveyError, estimate


def test_equal_weight_srs_matches_textbook_formulas():
    rng = np.random.default_rng(1)
    y = rng.normal(50, 10, 200)
    d = Design({"y": y, "w": np.full(200, 5.0)}, weights="w")
    (e,) = estimate(d, "y")
    n = 200
    assert e.estimate == pytest.approx(y.mean(), abs=1e-12)
    # with-replacement SRS: var = s^2 / n
    assert e.se == pytest.approx(np.sqrt(y.var(ddof=1) / n), rel=1e-12)
    assert e.ci_low == pytest.approx(e.estimate - 1.959963984540054 * e.se, abs=1e-12)
    # deff (R's deff=TRUE): N/(N-n) for equal weights; deff="replace": exactly 1
    N = 1000.0
    assert e.deff == pytest.approx(N / (N - n), rel=1e-12)
    (er,) = estimate(d, "y", deff="replace")
    assert er.deff == pytest.approx(1.0, rel=1e-12)
    assert e.n == n and e.df == n - 1 and e.total_weight == pytest.approx(N)


def test_stratified_srs_variance():
    rng = np.random.default_rng(2)
    n_h = np.array([30, 50, 20])
    N_h = np.array([3000.0, 2000.0, 5000.0])
    h = np.repeat(np.arange(3), n_h)
    y = rng.normal(10 + 5 * h, 3)
    w = (N_h / n_h)[h]
    d = Design({"y": y, "w": w, "h": h}, weights="w", strata="h")
    (e,) = estimate(d, "y")
    means = np.array([y[h == k].mean() for k in range(3)])
    s2 = np.array([y[h == k].var(ddof=1) for k in range(3)])
    W = N_h / N_h.sum()
    assert e.estimate == pytest.approx((W * means).sum(), abs=1e-12)
    assert e.se**2 == pytest.approx((W**2 * s2 / n_h).sum(), rel=1e-10)


def test_domain_is_not_a_subset_analysis():
    """SRS domain variance: n/(n-1) * sum_d (y - ybar_d)^2 / n_d^2 (domain indicator)."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300).astype(float)
    g = rng.integers(1, 4, 300)
    d = Design({"y": y, "w": np.ones(300), "g": g}, weights="w")
    ests = estimate(d, "y", by="g")
    assert [e.by for e in ests] == ["national", "g", "g", "g"]
    for e in ests[1:]:
        m = g == e.domain["g"]
        nd = m.sum()
        ybar = y[m].mean()
        expected = 300 / 299 * ((y[m] - ybar) ** 2).sum() / nd**2
        assert e.estimate == pytest.approx(ybar)
        assert e.se**2 == pytest.approx(expected, rel=1e-12)
        assert e.n == nd
        assert isinstance(e.domain["g"], int)
        assert e.kind == "proportion"


def test_two_psus_per_stratum_hand_computed():
    # one stratum, two PSUs, weight 1: z_i = PSU totals of (y - ybar)/N
    y = np.array([1.0, 0.0, 1.0, 1.0])
    psu = np.array([1, 1, 2, 2])
    d = Design({"y": y, "w": np.ones(4), "psu": psu}, weights="w", psu="psu")
    (e,) = estimate(d, "y")
    z = np.array([(1 - 0.75) + (0 - 0.75), (1 - 0.75) + (1 - 0.75)]) / 4
    assert e.se**2 == pytest.approx(2 / 1 * ((z - z.mean()) ** 2).sum())
    assert e.df == 1


def test_logit_ci_is_inside_unit_interval_and_asymmetric():
    rng = np.random.default_rng(4)
    y = (rng.random(400) < 0.05).astype(float)
    d = Design({"y": y, "w": np.ones(400)}, weights="w")
    (e,) = estimate(d, "y")
    assert 0 < e.logit_ci_low < e.estimate < e.logit_ci_high < 1
    assert e.estimate - e.logit_ci_low < e.logit_ci_high - e.estimate


def test_na_rm_excludes_missing_as_a_domain():
    y = np.array([1.0, np.nan, 0.0, 1.0])
    d = Design({"y": y, "w": np.ones(4)}, weights="w")
    with pytest.raises(SurveyError, match="缺失"):
        estimate(d, "y")
    (e,) = estimate(d, "y", na_rm=True)
    assert e.estimate == pytest.approx(2 / 3)
    assert e.n == 3


def test_crossed_domains_keep_types_and_order():
    data = {
        "y": np.arange(12, dtype=float),
        "w": np.ones(12),
        "p": np.repeat([11, 12], 6),
        "g": np.tile(["a", "b", "c"], 4),
    }
    ests = estimate(Design(data, weights="w"), "y", by=[("p", "g")])
    doms = [e.domain for e in ests[1:]]
    assert doms[0] == {"p": 11, "g": "a"}
    assert len(doms) == 6
    assert ests[1].by == "p+g"


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_weights_must_be_positive(bad):
    w = np.ones(5)
    w[2] = bad
    with pytest.raises(SurveyError, match="权重必须"):
        Design({"w": w}, weights="w")


def test_psu_in_two_strata_is_an_error_unless_nested():
    data = {"w": np.ones(6), "h": np.array([1, 1, 1, 2, 2, 2]), "psu": np.array([1, 2, 2, 1, 2, 2])}
    with pytest.raises(SurveyError, match="同时出现在多个层"):
        Design(data, weights="w", strata="h", psu="psu")
    d = Design(data, weights="w", strata="h", psu="psu", nest=True)
    assert d.n_psu == 4 and d.n_strata == 2 and d.degf == 2


def test_lonely_psu_fails_by_default_like_r():
    data = {"w": np.ones(5), "h": np.array([1, 1, 1, 2, 2]), "psu": np.array([1, 2, 2, 3, 3])}
    with pytest.raises(SurveyError, match="只有一个 PSU"):
        Design(data, weights="w", strata="h", psu="psu")
    for opt in ("certainty", "remove", "adjust", "average"):
        assert (
            Design(data, weights="w", strata="h", psu="psu", lonely_psu=opt).lonely_strata.size == 1
        )
    with pytest.raises(SurveyError, match="lonely_psu"):
        Design(data, weights="w", strata="h", psu="psu", lonely_psu="drop")


def test_lonely_psu_certainty_contributes_zero_and_average_rescales():
    data = {
        "y": np.array([1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]),
        "w": np.ones(7),
        "h": np.array([1, 1, 1, 1, 2, 2, 2]),
        "psu": np.array([1, 1, 2, 2, 3, 3, 3]),
    }
    cert = estimate(Design(data, weights="w", strata="h", psu="psu", lonely_psu="certainty"), "y")[
        0
    ]
    avg = estimate(Design(data, weights="w", strata="h", psu="psu", lonely_psu="average"), "y")[0]
    adj = estimate(Design(data, weights="w", strata="h", psu="psu", lonely_psu="adjust"), "y")[0]
    # average: the lonely stratum gets the mean of the others (here: 2 strata / 1 ok stratum)
    assert avg.se**2 == pytest.approx(2 * cert.se**2)
    ybar = 4 / 7
    z_lonely = (2 - 3 * ybar) / 7  # lonely PSU total, centred at the grand mean
    assert adj.se**2 == pytest.approx(cert.se**2 + z_lonely**2)


def test_missing_column_and_non_numeric_y():
    d = Design({"w": np.ones(3), "t": np.array(["a", "b", "c"], dtype=object)}, weights="w")
    with pytest.raises(SurveyError, match="找不到列"):
        estimate(d, "nope")
    with pytest.raises(SurveyError, match="不是数值型"):
        estimate(d, "t")
    with pytest.raises(SurveyError, match="找不到列"):
        Design({"w": np.ones(3)}, weights="weight")
