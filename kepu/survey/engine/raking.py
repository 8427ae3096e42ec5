"""Raking (calibration to marginal population totals).

Raking works on the cross-classification *cells* of the raking variables: the raking
factor is the same for every respondent in a cell, so iterations run on a table of at
most a few thousand cells instead of on every respondent.

Two algorithms give the same solution (the unique raking weights):

* ``"ipf"`` -- classical iterative proportional fitting (default without bounds);
* ``"newton"`` -- Newton-Raphson on the calibration equations, as R's
  ``calibrate(calfun="raking")`` (``grake``); used when ``bounds`` are given, where
  ``g = clip(exp(x'eta), lo, hi)`` as in R's truncated raking.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .design import Calibration, Design
from .errors import RakingError, SurveyError
from .tableio import canonical_value, factorize, python_value

__all__ = ["MarginReport", "RakeResult", "rake"]


@dataclass(frozen=True)
class MarginReport:
    variable: str
    category: Any
    target: float
    before: float
    after: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "variable": self.variable,
            "category": self.category,
            "target": self.target,
            "before": self.before,
            "after": self.after,
        }


@dataclass
class RakeResult:
    design: Design
    converged: bool
    iterations: int
    max_error: float
    method: str
    g_min: float
    g_max: float
    bounds: tuple[float, float] | None
    margins: list[MarginReport] = field(default_factory=list)

    def to_dict(self, *, with_margins: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "converged": self.converged,
            "iterations": self.iterations,
            "max_error": self.max_error,
            "method": self.method,
            "g_min": self.g_min,
            "g_max": self.g_max,
            "bounds": list(self.bounds) if self.bounds else None,
            "variables": list(dict.fromkeys(m.variable for m in self.margins)),
        }
        if with_margins:
            out["margins"] = [m.to_dict() for m in self.margins]
        return out


def _match_margin(
    var: str, uniques: np.ndarray, totals: Mapping[Any, float]
) -> tuple[np.ndarray, list[Any]]:
    """Population totals aligned with the data's sorted categories; errors on mismatch."""
    canon: dict[Any, float] = {}
    for key, value in totals.items():
        ck = canonical_value(key)
        if ck in canon:
            raise SurveyError(f"变量 {var} 的边际类别 {ck} 重复")
        try:
            fv = float(value)
        except (TypeError, ValueError):
            raise SurveyError(f"变量 {var} 的边际类别 {ck} 的总数不是数值: {value!r}") from None
        if not np.isfinite(fv) or fv <= 0:
            raise SurveyError(f"变量 {var} 的边际类别 {ck} 的总数必须大于 0 (现为 {value})")
        canon[ck] = fv
    data_keys = [canonical_value(u) for u in uniques]
    missing_in_margins = [k for k in data_keys if k not in canon]
    if missing_in_margins:
        shown = ", ".join(map(str, missing_in_margins[:10]))
        raise SurveyError(f"变量 {var} 的类别 {shown} 在数据中出现, 但总体边际中没有")
    dk = set(data_keys)
    absent = [k for k in canon if k not in dk]
    if absent:
        shown = ", ".join(map(str, absent[:10]))
        raise SurveyError(f"变量 {var} 的边际类别 {shown} 在数据中不存在 (无样本, 无法加权)")
    return np.array([canon[k] for k in data_keys]), [python_value(u) for u in uniques]


def rake(
    design: Design,
    margins: Mapping[str, Mapping[Any, float]],
    *,
    bounds: tuple[float, float] | None = None,
    tol: float = 1e-10,
    maxit: int | None = None,
    method: str = "auto",
    total_tol: float = 1e-6,
) -> RakeResult:
    """Rake ``design`` to population ``margins`` = ``{variable: {category: total}}``.

    Convergence: the largest relative margin error ``|achieved - target| / target`` is
    below ``tol``.  Failure to converge raises :class:`RakingError`.  ``bounds=(lo, hi)``
    limits the g-weights (calibrated / design weight), as R's ``bounds=c(lo, hi)``.
    """
    if design.calibration is not None:
        raise SurveyError("该设计已经校准过, 不支持再次加权 (请从原始设计权数开始)")
    if not margins:
        raise SurveyError("没有提供加权边际")
    if method not in {"auto", "ipf", "newton"}:
        raise SurveyError(f"加权方法无效: {method} (可选 ipf / newton)")
    if bounds is not None:
        lo, hi = float(bounds[0]), float(bounds[1])
        if not (0 <= lo < 1 < hi):
            raise SurveyError(f"权数界限必须满足 0 ≤ 下限 < 1 < 上限 (现为 {lo}, {hi})")
        bounds = (lo, hi)
    if method == "auto":
        method = "newton" if bounds is not None else "ipf"
    if method == "ipf" and bounds is not None:
        raise SurveyError("带权数界限的加权只能使用 newton 方法 (与 R 的 calibrate 相同)")
    if maxit is None:
        maxit = 1000 if method == "ipf" else 50

    variables = list(margins)
    codes: list[np.ndarray] = []
    targets: list[np.ndarray] = []
    labels: list[list[Any]] = []
    for var in variables:
        vals = design.column(var)
        if vals.dtype.kind == "f" and np.isnan(vals).any():
            raise SurveyError(f"加权变量 {var} 含缺失值")
        c, u = design.codes(var)
        t, lab = _match_margin(var, u, margins[var])
        codes.append(c)
        targets.append(t)
        labels.append(lab)
    sums = np.array([t.sum() for t in targets])
    if sums.max() - sums.min() > total_tol * sums.max():
        detail = ", ".join(f"{v}={s:.6g}" for v, s in zip(variables, sums, strict=True))
        raise SurveyError(f"各加权变量的总体总数不一致, 无法加权: {detail}")

    # cells of the cross-classification
    sizes = [len(t) for t in targets]
    key = np.zeros(design.n, dtype=np.int64)
    stride = 1
    for c, k in zip(codes, sizes, strict=True):
        key += c.astype(np.int64) * stride
        stride *= k
    cell, cell_keys = factorize(key)
    C = len(cell_keys)
    cell_cat = []
    stride = 1
    for k in sizes:
        cell_cat.append(((cell_keys // stride) % k).astype(np.intp))
        stride *= k

    d = design.weights
    t_cell = np.bincount(cell, weights=d, minlength=C)
    before = [
        np.bincount(cc, weights=t_cell, minlength=k) for cc, k in zip(cell_cat, sizes, strict=True)
    ]

    def max_rel_error(gc: np.ndarray) -> float:
        tw = t_cell * gc
        return max(
            float(np.max(np.abs(np.bincount(cc, weights=tw, minlength=k) - tg) / tg))
            for cc, k, tg in zip(cell_cat, sizes, targets, strict=True)
        )

    # model matrix per cell: intercept + dummies for categories 1..K-1 of each margin
    p = 1 + sum(k - 1 for k in sizes)
    model = np.zeros((C, p))
    model[:, 0] = 1.0
    col = 1
    for cc, k in zip(cell_cat, sizes, strict=True):
        rows = np.flatnonzero(cc > 0)
        model[rows, col + cc[rows] - 1] = 1.0
        col += k - 1

    if method == "ipf":
        g, iterations, err = _ipf(t_cell, cell_cat, sizes, targets, tol, maxit, max_rel_error)
    else:
        pop = np.concatenate([[targets[0].sum()], *[t[1:] for t in targets]])
        g, iterations, err = _newton(t_cell, model, pop, bounds, tol, maxit, max_rel_error)

    if not (err < tol):
        raise RakingError(
            f"加权 (raking) 在 {iterations} 次迭代后仍未收敛: 最大相对边际误差 {err:.3g} "
            f"(要求 < {tol:g})。请检查边际是否与样本相容, 或放宽权数界限",
            iterations=iterations,
            max_error=err,
        )
    if bounds is not None:
        lo, hi = bounds
        if g.min() < lo * (1 - 1e-12) or g.max() > hi * (1 + 1e-12):
            raise RakingError("加权结果超出权数界限", iterations=iterations, max_error=err)

    g_row = g[cell]
    w_new = d * g_row
    gram = model.T @ (model * t_cell[:, None])
    gram_pinv = np.linalg.pinv(gram, rcond=1e-13, hermitian=True)
    # PSU totals of w_cal * M, via per-margin bincounts (P x K_m each)
    P = design.n_psu
    psu_tot = np.empty((p, P))
    psu_tot[0] = np.bincount(design.psu, weights=w_new, minlength=P)
    col = 1
    for c, k in zip(codes, sizes, strict=True):
        if k > 1:
            m = np.bincount(design.psu * k + c, weights=w_new, minlength=P * k).reshape(P, k)
            psu_tot[col : col + k - 1] = m[:, 1:].T
        col += k - 1
    cal = Calibration(
        variables=tuple(variables),
        cell=cell,
        model=model,
        g=g,
        design_weights=d,
        gram_pinv=gram_pinv,
        psu_model_totals=psu_tot,
    )
    new_design = design.with_weights(w_new, cal)
    tw = t_cell * g
    reports = []
    for var, cc, k, tg, lab, bf in zip(
        variables, cell_cat, sizes, targets, labels, before, strict=True
    ):
        after = np.bincount(cc, weights=tw, minlength=k)
        for j in range(k):
            reports.append(MarginReport(var, lab[j], float(tg[j]), float(bf[j]), float(after[j])))
    return RakeResult(
        design=new_design,
        converged=True,
        iterations=int(iterations),
        max_error=float(err),
        method=method,
        g_min=float(g.min()),
        g_max=float(g.max()),
        bounds=bounds,
        margins=reports,
    )


def _ipf(t_cell, cell_cat, sizes, targets, tol, maxit, max_rel_error):
    g = np.ones_like(t_cell)
    err = max_rel_error(g)
    it = 0
    while err >= tol and it < maxit:
        it += 1
        for cc, k, tg in zip(cell_cat, sizes, targets, strict=True):
            cur = np.bincount(cc, weights=t_cell * g, minlength=k)
            g *= (tg / cur)[cc]
        err = max_rel_error(g)
        if not np.isfinite(err):
            break
    return g, it, err


def _newton(t_cell, model, pop, bounds, tol, maxit, max_rel_error):
    lo, hi = bounds if bounds is not None else (0.0, np.inf)

    def gfun(u):
        return np.clip(np.exp(u), lo, hi)

    def dfun(u):
        e = np.exp(u)
        return np.where((e > lo) & (e < hi), e, 0.0)

    eta = np.zeros(model.shape[1])
    xeta = model @ eta
    err = max_rel_error(gfun(xeta))
    it = 0
    while err >= tol and it < maxit:
        it += 1
        deriv = dfun(xeta)
        tmat = model.T @ (model * (t_cell * deriv)[:, None])
        misfit = pop - model.T @ (t_cell * gfun(xeta))
        deta = np.linalg.pinv(tmat, rcond=256 * np.finfo(float).eps) @ misfit
        eta = eta + deta
        xeta = model @ eta
        halvings = 0
        while not np.all(np.isfinite(np.exp(xeta))) and halvings < 50:
            deta = deta / 2
            eta = eta - deta
            xeta = model @ eta
            halvings += 1
        err = max_rel_error(gfun(xeta))
    return gfun(xeta), it, err
