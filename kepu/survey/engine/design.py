"""Survey design: weights, strata, PSUs nested in strata, lonely-PSU policy.

Matches R's ``svydesign(ids=~psu, strata=~stratum, weights=~w, nest=...)`` (one stage,
with-replacement "ultimate cluster" variance, no fpc).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import SurveyError
from .tableio import factorize, python_value

__all__ = ["LONELY_PSU_OPTIONS", "Calibration", "Design"]

LONELY_PSU_OPTIONS = ("fail", "certainty", "remove", "adjust", "average")

Column = str | np.ndarray | None


@dataclass(frozen=True)
class Calibration:
    """What the variance needs to know about a raking step (R: ``greg_calibration``).

    ``cell`` maps each row to a cross-classification cell of the raking variables; ``model``
    is the cell-level model matrix (intercept + treatment dummies per margin); ``g`` the
    g-weight per cell; ``design_weights`` the weights before raking.
    """

    variables: tuple[str, ...]
    cell: np.ndarray  # (n,) intp
    model: np.ndarray  # (C, p)
    g: np.ndarray  # (C,)
    design_weights: np.ndarray  # (n,)
    gram_pinv: np.ndarray  # (p, p) pseudo-inverse of M' D M with pre-raking weights
    psu_model_totals: np.ndarray  # (p, P) sum over each PSU of w_cal * M


class Design:
    """A stratified one-stage cluster design (PSUs sampled with replacement).

    Parameters are column names in ``data`` or arrays of length n.

    * ``weights`` must be finite and > 0.
    * ``strata``: stratum of each row (``None``: one stratum).
    * ``psu``: primary sampling unit (``None``: each row is its own PSU).
    * ``nest``: PSU ids are only unique within strata (R's ``nest=TRUE``).  Without it a
      PSU id that occurs in two strata is an error.
    * ``lonely_psu``: what to do with a stratum that has one PSU, like R's
      ``options(survey.lonely.psu=...)``; default ``"fail"`` as in R.
    """

    def __init__(
        self,
        data: Mapping[str, np.ndarray] | None = None,
        *,
        weights: Column,
        strata: Column = None,
        psu: Column = None,
        nest: bool = False,
        lonely_psu: str = "fail",
    ) -> None:
        self.data: Mapping[str, np.ndarray] = data if data is not None else {}
        if lonely_psu not in LONELY_PSU_OPTIONS:
            raise SurveyError(
                f"lonely_psu 取值无效: {lonely_psu} (可选: {', '.join(LONELY_PSU_OPTIONS)})"
            )
        self.lonely_psu = lonely_psu
        self.nest = nest
        w = self._resolve(weights, "权重")
        if w.dtype.kind not in "iuf":
            raise SurveyError("权重变量必须是数值型")
        w = np.ascontiguousarray(w, dtype=np.float64)
        n = w.shape[0]
        if n == 0:
            raise SurveyError("数据为空")
        bad = ~(w > 0) | ~np.isfinite(w)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise SurveyError(
                f"权重必须为大于 0 的有限数值: 共 {int(bad.sum())} 行不符合 (第一行: 第 {i + 1} 行, 值 {w[i]})"
            )
        self.weights = w
        self.n = n
        self.strata_name = strata if isinstance(strata, str) else None
        self.psu_name = psu if isinstance(psu, str) else None
        self.weights_name = weights if isinstance(weights, str) else None

        if strata is None:
            st = np.zeros(n, dtype=np.intp)
            st_values = np.asarray([1])
        else:
            st, st_values = factorize(self._checked(self._resolve(strata, "分层"), "分层变量"))
        H = len(st_values)
        if psu is None:
            ps = np.arange(n, dtype=np.intp)
            psu_values = np.arange(1, n + 1)
        else:
            ps, psu_values = factorize(self._checked(self._resolve(psu, "PSU"), "PSU 变量"))
        P0 = len(psu_values)
        # unique (psu, stratum) pairs
        pair_codes, pairs = factorize(ps.astype(np.int64) * H + st)
        pair_psu = pairs // H
        pair_st = pairs % H
        if nest:
            psu_raw = pair_psu
            ps = pair_codes
            pair_psu = np.arange(len(pairs))
        else:
            counts = np.bincount(pair_psu, minlength=P0)
            if (counts > 1).any():
                j = int(np.flatnonzero(counts > 1)[0])
                in_strata = [python_value(st_values[s]) for s in pair_st[pair_psu == j]]
                raise SurveyError(
                    f"PSU {python_value(psu_values[j])} 同时出现在多个层中 ({', '.join(map(str, in_strata))})。"
                    "若 PSU 编号只在层内唯一, 请使用 nest=True (命令行 --nest)"
                )
            psu_raw = pair_psu
        P = len(pairs)
        # order PSUs by stratum so each stratum is a contiguous block
        order = np.lexsort((psu_raw, pair_st))
        newcode = np.empty(P, dtype=np.intp)
        newcode[order] = np.arange(P, dtype=np.intp)
        self.psu = newcode[ps]
        self.psu_stratum = pair_st[order].astype(np.intp)
        self.psu_labels = psu_values[psu_raw[order]]
        self.n_psu = P
        self.n_strata = H
        self.strata_values = st_values
        self.psu_per_stratum = np.bincount(self.psu_stratum, minlength=H)
        self.stratum_starts = np.concatenate(([0], np.cumsum(self.psu_per_stratum)[:-1]))
        lonely = np.flatnonzero(self.psu_per_stratum == 1)
        self.lonely_strata = lonely
        if lonely.size and lonely_psu == "fail":
            shown = ", ".join(str(python_value(st_values[h])) for h in lonely[:10])
            raise SurveyError(
                f"有 {lonely.size} 个层只有一个 PSU (层: {shown}{' …' if lonely.size > 10 else ''})。"
                "请合并层, 或指定 lonely_psu 为 certainty / remove / adjust / average (命令行 --lonely-psu)"
            )
        self.calibration: Calibration | None = None

    # -- helpers -----------------------------------------------------------------------
    def _resolve(self, col: Column, what: str) -> np.ndarray:
        if isinstance(col, str):
            return self.column(col)
        if col is None:
            raise SurveyError(f"缺少{what}变量")
        return np.asarray(col)

    @staticmethod
    def _checked(values: np.ndarray, what: str) -> np.ndarray:
        if values.dtype.kind == "f" and np.isnan(values).any():
            raise SurveyError(f"{what}含缺失值")
        if values.dtype.kind == "O" and any(v is None for v in values):
            raise SurveyError(f"{what}含缺失值")
        return values

    def column(self, name: str | np.ndarray) -> np.ndarray:
        """A data column by name (or an array passed through, checked for length)."""
        if not isinstance(name, str):
            arr = np.asarray(name)
            if hasattr(self, "n") and arr.shape[0] != self.n:
                raise SurveyError(f"变量长度 {arr.shape[0]} 与样本量 {self.n} 不一致")
            return arr
        if name not in self.data:
            have = ", ".join(self.data.keys())
            raise SurveyError(f"数据中找不到列: {name} (现有列: {have})")
        arr = np.asarray(self.data[name])
        if hasattr(self, "n") and arr.shape[0] != self.n:
            raise SurveyError(f"列 {name} 的长度与样本量不一致")
        return arr

    def codes(self, name: str | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``factorize`` of a column (cached per column name; data columns are not
        expected to change while a design uses them)."""
        if not isinstance(name, str):
            return factorize(self.column(name))
        cache = self.__dict__.setdefault("_codes_cache", {})
        if name not in cache:
            cache[name] = factorize(self.column(name))
        return cache[name]

    @property
    def degf(self) -> int:
        """Design degrees of freedom: #PSU - #strata (R's ``degf``)."""
        return int(self.n_psu - self.n_strata)

    def with_weights(self, weights: np.ndarray, calibration: Calibration | None) -> Design:
        """A copy sharing the structure, with new weights (used by raking)."""
        new = object.__new__(Design)
        new.__dict__.update(self.__dict__)
        new.weights = np.ascontiguousarray(weights, dtype=np.float64)
        new.calibration = calibration
        return new

    def summary(self) -> dict[str, Any]:
        return {
            "n": int(self.n),
            "strata": int(self.n_strata),
            "psu": int(self.n_psu),
            "lonely_strata": int(self.lonely_strata.size),
            "lonely_psu": self.lonely_psu,
            "sum_weights": float(self.weights.sum()),
            "calibrated": self.calibration is not None,
        }
