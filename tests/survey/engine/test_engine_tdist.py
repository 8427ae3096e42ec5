"""The scipy-free Student t quantile used for svyciprop's logit interval."""

from __future__ import annotations

import pytest

from kepu.survey.engine.tdist import t_ppf

scipy_stats = pytest.importorskip("scipy.stats")


@pytest.mark.parametrize("df", [1, 2, 3, 5, 10, 30, 61, 200, 685, 999, 1000, 5000, 399_938])
@pytest.mark.parametrize("p", [0.975, 0.025, 0.9, 0.995])
def test_matches_scipy(df, p):
    assert t_ppf(p, df) == pytest.approx(float(scipy_stats.t.ppf(p, df)), rel=1e-11)
