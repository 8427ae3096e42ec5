"""Weighted means and proportions with Taylor-linearised standard errors.

Everything is computed for all domains of a ``by`` specification at once: per-PSU totals
of the influence functions for every domain are a dense (domains x PSUs) matrix built with
``np.bincount``; for raked designs the influence functions are replaced by their residuals
from the weighted regression on the raking model matrix (R's ``qr.resid`` step in
``svyrecvar``), which only needs small per-domain normal equations.  See
docs/survey-engine.md for the formulas and how they match R's ``survey`` package.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from statistics import NormalDist
from typing import Any

import numpy as np

from .design import Design
from .errors import SurveyError
from .tableio import factorize, python_value
from .tdist import t_ppf

__all__ = ["Estimate", "estimate"]

# dense (domains x max(PSUs, cells)) blocks are processed in chunks of at most this size
_BLOCK = 4_000_000


@dataclass
class Estimate:
    variable: str
    by: str  # "national" or the by-columns joined with "+"
    domain: dict[str, Any]
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    logit_ci_low: float | None
    logit_ci_high: float | None
    deff: float | None
    n: int
    df: int
    total_weight: float
    kind: str  # "proportion" or "mean"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


ByArg = str | Sequence[str]


def _norm_by(by: ByArg | Sequence[ByArg] | None) -> list[tuple[str, ...]]:
    if by is None:
        return []
    if isinstance(by, str):
        return [tuple(c.strip() for c in by.split(",") if c.strip())]
    out: list[tuple[str, ...]] = []
    for spec in by:
        if isinstance(spec, str):
            cols = tuple(c.strip() for c in spec.replace("+", ",").split(",") if c.strip())
        else:
            cols = tuple(spec)
        if not cols:
            raise SurveyError("分组变量不能为空")
        out.append(cols)
    return out


def estimate(
    design: Design,
    y: str | np.ndarray,
    by: ByArg | Sequence[ByArg] | None = None,
    *,
    national: bool = True,
    na_rm: bool = False,
    deff: str = "srswor",
    level: float = 0.95,
    kind: str | None = None,
) -> list[Estimate]:
    """Weighted mean (proportion for a 0/1 variable) of ``y`` nationally and by domains.

    ``by`` is a list of domain specifications, each a column name or a tuple of column
    names (a crossing), e.g. ``["province", ("province", "group")]``.  Domains are
    estimated on the full design (domain indicator approach), as R's ``svyby`` does.

    ``deff="srswor"`` matches R's ``deff=TRUE`` (SRS without replacement, denominator
    ``s^2 (N-n)/(N n)``); ``deff="replace"`` matches R's ``deff="replace"``.
    """
    if deff not in {"srswor", "replace"}:
        raise SurveyError(f"deff 取值无效: {deff} (可选 srswor / replace)")
    if not 0 < level < 1:
        raise SurveyError("置信水平必须在 0 与 1 之间")
    name = y if isinstance(y, str) else "y"
    yv = design.column(y)
    if yv.dtype.kind == "b":
        yv = yv.astype(np.float64)
    if yv.dtype.kind not in "iuf":
        raise SurveyError(f"变量 {name} 不是数值型, 无法估计")
    yv = yv.astype(np.float64, copy=False)
    valid = np.isfinite(yv)
    all_valid = bool(valid.all())
    if not all_valid and not na_rm:
        raise SurveyError(
            f"变量 {name} 有 {int((~valid).sum())} 个缺失值 (可使用 na_rm=True / --na-rm 排除)"
        )
    if not valid.any():
        raise SurveyError(f"变量 {name} 全部缺失")
    yfin = yv[valid] if not all_valid else yv
    binary = bool(np.all((yfin == 0) | (yfin == 1)))
    if kind is None:
        kind = "proportion" if binary else "mean"
    w = design.weights
    shift = (
        float(np.dot(w[valid], yfin) / w[valid].sum())
        if not all_valid
        else float(np.dot(w, yv) / w.sum())
    )
    yc = np.where(valid, yv - shift, 0.0) if not all_valid else yv - shift
    wy = w * yc
    # for a 0/1 variable sum(w*yc^2) follows from sum(w*yc) and sum(w): skip that pass
    wyy = None if kind == "proportion" and all_valid and binary else wy * yc
    z = NormalDist().inv_cdf(0.5 + level / 2)

    specs: list[tuple[str, tuple[str, ...]]] = []
    if national:
        specs.append(("national", ()))
    specs.extend(("+".join(cols), cols) for cols in _norm_by(by))

    results: list[Estimate] = []
    for label, cols in specs:
        if cols:
            dom, domains = _domains(design, cols)
        else:
            dom = np.zeros(design.n, dtype=np.intp)
            domains = [{}]
        if not all_valid:
            dom = np.where(valid, dom, -1)
        stats = _domain_stats(design, w, wy, wyy, dom, len(domains))
        if wyy is None:  # y in {0, 1}, yc = y - shift: yc^2 = y (1 - 2 shift) + shift^2
            wsum_y = stats["S"] + shift * stats["N"]
            stats["SYY"] = (1 - 2 * shift) * wsum_y + shift * shift * stats["N"]
        results.extend(_finish(name, label, domains, stats, shift, z, level, deff, kind))
    return results


def _domains(design: Design, cols: tuple[str, ...]) -> tuple[np.ndarray, list[dict[str, Any]]]:
    key = np.zeros(design.n, dtype=np.int64)
    uniq: list[np.ndarray] = []
    sizes: list[int] = []
    for col in cols:
        vals = design.column(col)
        if vals.dtype.kind == "f" and np.isnan(vals).any():
            raise SurveyError(f"分组变量 {col} 含缺失值")
        c, u = design.codes(col)
        key = key * len(u) + c
        uniq.append(u)
        sizes.append(len(u))
    if len(cols) == 1:  # codes are already 0..K-1 in sorted order
        dom, keys = key.astype(np.intp, copy=False), np.arange(sizes[0], dtype=np.int64)
    else:
        dom, keys = factorize(key)
    labels: list[dict[str, Any]] = []
    idx = np.empty((len(cols), len(keys)), dtype=np.int64)
    rest = keys.copy()
    for j in range(len(cols) - 1, -1, -1):
        idx[j] = rest % sizes[j]
        rest //= sizes[j]
    for d in range(len(keys)):
        labels.append({col: python_value(uniq[j][idx[j, d]]) for j, col in enumerate(cols)})
    return dom, labels


def _domain_stats(
    design: Design, w: np.ndarray, wy: np.ndarray, wyy: np.ndarray | None, dom: np.ndarray, D: int
) -> dict[str, np.ndarray]:
    P = design.n_psu
    cal = design.calibration
    C = cal.model.shape[0] if cal is not None else 0
    chunk = max(1, _BLOCK // max(P, C, 1))
    out = {k: np.zeros(D) for k in ("N", "S", "SYY", "V")}
    out["n"] = np.zeros(D, dtype=np.int64)
    out["df"] = np.zeros(D, dtype=np.int64)
    has_excluded = bool((dom < 0).any())
    if D <= chunk:
        rows = np.flatnonzero(dom >= 0) if has_excluded else None
        _chunk(design, w, wy, wyy, dom, rows, 0, D, out)
        return out
    order = np.argsort(dom, kind="stable")
    sorted_dom = dom[order]
    for d0 in range(0, D, chunk):
        d1 = min(D, d0 + chunk)
        a, b = np.searchsorted(sorted_dom, [d0, d1])
        _chunk(design, w, wy, wyy, dom, order[a:b], d0, d1, out)
    return out


def _chunk(design, w, wy, wyy, dom, rows, d0, d1, out) -> None:
    P = design.n_psu
    Dc = d1 - d0
    if rows is None:
        ld, psu, ww, wyr, wyyr = dom, design.psu, w, wy, wyy
        if d0:
            ld = dom - d0
    else:
        ld = dom[rows] - d0
        psu, ww, wyr = design.psu[rows], w[rows], wy[rows]
        wyyr = None if wyy is None else wyy[rows]
    if Dc == 1:
        kp = psu
    else:
        kp = ld * P + psu
    size = Dc * P
    WP = np.bincount(kp, weights=ww, minlength=size).reshape(Dc, P)
    WYP = np.bincount(kp, weights=wyr, minlength=size).reshape(Dc, P)
    if Dc == 1:
        SYY = np.array([wyyr.sum() if wyyr is not None else np.nan])
        n = np.array([psu.shape[0]])
    else:
        SYY = (
            np.bincount(ld, weights=wyyr, minlength=Dc) if wyyr is not None else np.full(Dc, np.nan)
        )
        n = np.bincount(ld, minlength=Dc)
    present = WP > 0  # weights are > 0, so a PSU has domain rows iff its weight total is > 0
    N = WP.sum(axis=1)
    S = WYP.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_c = S / N
        Z = (WYP - mean_c[:, None] * WP) / N[:, None]
    cal = design.calibration
    if cal is not None:
        C = cal.model.shape[0]
        cell = cal.cell if rows is None else cal.cell[rows]
        kc = cell if Dc == 1 else ld * C + cell
        WC = np.bincount(kc, weights=ww, minlength=Dc * C).reshape(Dc, C) / cal.g
        WYC = np.bincount(kc, weights=wyr, minlength=Dc * C).reshape(Dc, C) / cal.g
        with np.errstate(invalid="ignore", divide="ignore"):
            B = (WYC - mean_c[:, None] * WC) / N[:, None]
        beta = (B @ cal.model) @ cal.gram_pinv
        Z = Z - beta @ cal.psu_model_totals
    nh = design.psu_per_stratum
    starts = design.stratum_starts
    S1 = np.add.reduceat(Z, starts, axis=1)
    Zc = Z - np.repeat(S1 / nh, nh, axis=1)
    SS = np.add.reduceat(Zc * Zc, starts, axis=1)
    lonely = nh == 1
    scale = np.where(lonely, 1.0, nh / np.maximum(nh - 1, 1))
    policy = design.lonely_psu
    if lonely.any():
        if policy == "adjust":
            SS[:, lonely] = Z[:, starts[lonely]] ** 2
        elif policy in {"certainty", "remove", "average"}:
            SS[:, lonely] = 0.0
    V = (SS * scale).sum(axis=1)
    present_strata = np.add.reduceat(present, starts, axis=1) > 0
    if policy == "average" and lonely.any():
        if cal is not None:
            nstrat = np.full(Dc, design.n_strata)
            nok = np.full(Dc, int((~lonely).sum()))
        else:
            nstrat = present_strata.sum(axis=1)
            nok = (present_strata & ~lonely).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            V = V * nstrat / nok
    df = present.sum(axis=1) - present_strata.sum(axis=1)
    sl = slice(d0, d1)
    out["N"][sl] = N
    out["S"][sl] = S
    out["SYY"][sl] = SYY
    out["V"][sl] = V
    out["n"][sl] = n
    out["df"][sl] = df


def _opt(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _finish(name, label, domains, st, shift, z, level, deff_kind, kind) -> list[Estimate]:
    N, S, SYY, V, n, df = st["N"], st["S"], st["SYY"], st["V"], st["n"], st["df"]
    out: list[Estimate] = []
    tcache: dict[int, float] = {}
    for d, dom in enumerate(domains):
        if n[d] == 0:
            continue
        mean_c = S[d] / N[d]
        est = mean_c + shift
        var = max(float(V[d]), 0.0)
        se = math.sqrt(var)
        # deff: R's svymean(deff=TRUE): v / (svyvar * (N - n) / (N n)), svyvar with n/(n-1)
        s2 = SYY[d] / N[d] - mean_c * mean_c
        nd = int(n[d])
        dv: float | None = None
        if nd > 1 and s2 > 0:
            s2u = s2 * nd / (nd - 1)
            if deff_kind == "replace":
                dv = var / (s2u / nd)
            elif N[d] > nd:
                dv = var / (s2u * (N[d] - nd) / (N[d] * nd))
        lo_l = hi_l = None
        if kind == "proportion":
            if est <= 0 or est >= 1:
                lo_l = hi_l = float(min(max(est, 0.0), 1.0))
            elif df[d] > 0:
                k = int(df[d])
                if k not in tcache:
                    tcache[k] = t_ppf(0.5 + level / 2, k)
                q = tcache[k]
                lg = math.log(est / (1 - est))
                sel = se / (est * (1 - est))
                lo_l = 1 / (1 + math.exp(-(lg - q * sel)))
                hi_l = 1 / (1 + math.exp(-(lg + q * sel)))
        out.append(
            Estimate(
                variable=name,
                by=label,
                domain=dom,
                estimate=float(est),
                se=se,
                ci_low=float(est - z * se),
                ci_high=float(est + z * se),
                logit_ci_low=_opt(lo_l) if lo_l is not None else None,
                logit_ci_high=_opt(hi_l) if hi_l is not None else None,
                deff=_opt(dv) if dv is not None else None,
                n=nd,
                df=int(df[d]),
                total_weight=float(N[d]),
                kind=kind,
            )
        )
    return out
