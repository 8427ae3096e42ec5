"""The bridge between the platform and the pure estimation engine (``kepu.survey.engine``).

The platform stores microdata in the database; this module turns it into the engine's
column arrays, builds the design, rakes to the wave's margins and collects the cells the
pages show.  Engine errors (Chinese messages) become :class:`EstimationError`.  Scoring
configuration is validated and applied here as well (see :func:`validate_configuration`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class EstimationError(Exception):
    """An estimation that cannot give a result; the message is shown to the user."""


# --- engine access ---------------------------------------------------------------------
def _engine() -> Any:
    from kepu.survey import engine

    return engine


def engine_version() -> str:
    return str(getattr(_engine(), "__version__", "") or "dev")


def _engine_api() -> tuple[Any, Any, Any, type[Exception]]:
    """(Design, rake, estimate, SurveyError) from the engine's public API."""
    eng = _engine()
    return eng.Design, eng.rake, eng.estimate, eng.SurveyError


# --- questionnaire and scoring ----------------------------------------------------------
# A wave stores the engine's questionnaire (items with dimension, points, kind, answer key
# and options; an item may also carry a display ``text``) and, separately, the engine's
# scoring scheme (dimensions, score bands and the band that counts as literate).
ITEM_FIELDS = ("id", "dimension", "points", "kind", "key", "options", "partial_credit")
DEFAULT_THRESHOLD = 70.0

# The built-in 20-item test: 8 knowledge items (40 points) and 4 items for each of
# method, spirit and application (20 points each), 5 points per item.
_STANDARD_ITEMS: list[tuple[str, str, Any]] = [
    ("knowledge", "single", "B"),
    ("knowledge", "single", "C"),
    ("knowledge", "true_false", True),
    ("knowledge", "single", "A"),
    ("knowledge", "single", "D"),
    ("knowledge", "true_false", False),
    ("knowledge", "single", "B"),
    ("knowledge", "multiple", "AC"),
    ("method", "single", "C"),
    ("method", "single", "A"),
    ("method", "true_false", True),
    ("method", "single", "D"),
    ("spirit", "single", "B"),
    ("spirit", "true_false", False),
    ("spirit", "single", "C"),
    ("spirit", "single", "A"),
    ("application", "single", "D"),
    ("application", "multiple", "BD"),
    ("application", "single", "B"),
    ("application", "single", "C"),
]


def default_questionnaire() -> dict[str, Any]:
    """The built-in 20-item test (single choice A–D, true/false, multiple choice)."""
    return {
        "id": "standard-20",
        "name": "公民科学素质测评 (平台标准题本)",
        "items": [
            {
                "id": f"q{i:02d}",
                "text": f"第{i}题",
                "dimension": dim,
                "points": 5,
                "kind": kind,
                "key": key,
                "options": 2 if kind == "true_false" else 4,
            }
            for i, (dim, kind, key) in enumerate(_STANDARD_ITEMS, start=1)
        ],
    }


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not np.isfinite(value):
        return 0.0 if value < 0 else 1e9  # a band open to the bottom: every score >= 0
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


# The four bands as offices name them (the engine's codes stay).
BAND_NAMES = {"low": "较低", "basic": "基本具备", "literate": "具备", "high": "高阶"}


def default_scoring() -> dict[str, Any]:
    """The national scheme: 100 points; >=85 高阶, >=70 具备, >=55 基本具备, else 较低."""
    scheme = _json_safe(_engine().NATIONAL_SCHEME.to_dict())
    for band in scheme["bands"]:
        band["label"] = BAND_NAMES.get(band["code"], band["label"])
    return scheme


def build_questionnaire(questionnaire: Mapping[str, Any], scoring: Mapping[str, Any]) -> Any:
    """The engine's ``Questionnaire`` for a wave (raises the engine's SurveyError)."""
    eng = _engine()
    items = questionnaire.get("items") if isinstance(questionnaire, Mapping) else None
    if not isinstance(items, list) or not items:
        raise eng.SurveyError("问卷应包含题目列表 items。")
    clean = []
    for k, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise eng.SurveyError(f"问卷第{k}题格式错误。")
        clean.append({f: item[f] for f in ITEM_FIELDS if f in item})
    data: dict[str, Any] = {"id": str(questionnaire.get("id", "")), "items": clean}
    if scoring:
        data["scheme"] = dict(scoring)
    return eng.Questionnaire.from_dict(data)


def validate_configuration(
    questionnaire: Mapping[str, Any], scoring: Mapping[str, Any]
) -> list[str]:
    """Chinese messages for everything wrong with a questionnaire/scoring pair."""
    try:
        build_questionnaire(questionnaire, scoring)
    except _engine().SurveyError as exc:
        return [f"问卷或计分规则有误: {exc}"]
    return []


def _literate_band(scoring: Mapping[str, Any]) -> Mapping[str, Any] | None:
    code = scoring.get("literate_band", "literate")
    return next((b for b in scoring.get("bands", []) if b.get("code") == code), None)


def literacy_threshold(scoring: Mapping[str, Any]) -> float:
    band = _literate_band(scoring)
    try:
        return float(band["threshold"]) if band else DEFAULT_THRESHOLD
    except (TypeError, ValueError, KeyError):
        return DEFAULT_THRESHOLD


def literate_from_score(scoring: Mapping[str, Any], score: float) -> bool:
    """Whether a precomputed score reaches the literate band (its threshold rule)."""
    band = _literate_band(scoring) or {}
    threshold = literacy_threshold(scoring)
    return score >= threshold if band.get("inclusive", True) else score > threshold


class Scorer:
    """Encodes and scores answer rows with a wave's questionnaire (built once)."""

    def __init__(self, questionnaire: Mapping[str, Any], scoring: Mapping[str, Any]) -> None:
        self.questionnaire = build_questionnaire(questionnaire, scoring)
        self.item_ids = [it.id for it in self.questionnaire.items]

    def encode(self, rows: list[list[str]]) -> np.ndarray:
        """Answer rows (one column per item, in questionnaire order) as codes."""
        return _engine().encode_answers(self.questionnaire, rows)

    def check(
        self, rows: list[tuple[int, list[str]]]
    ) -> tuple[np.ndarray | None, list[tuple[int, str]]]:
        """Encode every row: (codes, []) or (None, [(row number, Chinese message), ...]).

        One engine call for the whole file; only when it fails are rows tried one by one.
        """
        eng = _engine()
        try:
            return self.encode([r for _, r in rows]), []
        except eng.SurveyError:
            pass
        problems = []
        for line, row in rows:
            try:
                self.encode([row])
            except eng.SurveyError as exc:
                problems.append((line, str(exc)))
        return None, problems

    def score(self, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Total scores and the 0/1 literacy indicator for encoded rows."""
        result = _engine().score(self.questionnaire, codes)
        return result.total, result.literate


# --- estimation -------------------------------------------------------------------------
@dataclass
class Cell:
    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    ci_logit_low: float | None
    ci_logit_high: float | None
    deff: float | None
    n: int
    weighted_n: float | None = None


@dataclass
class Output:
    engine_version: str
    cells: dict[tuple[str, str, str], Cell] = field(default_factory=dict)
    convergence: dict[str, Any] = field(default_factory=dict)
    design: dict[str, Any] = field(default_factory=dict)


def build_design(data: Mapping[str, np.ndarray]) -> Any:
    """The engine design for our columns: strata and PSUs when the data has them."""
    Design, _, _, SurveyError = _engine_api()
    has_strata = bool(len(data["stratum"])) and all(data["stratum"] != "")
    has_psu = bool(len(data["psu"])) and all(data["psu"] != "")
    try:
        return Design(
            data,
            weights="weight",
            strata="stratum" if has_strata else None,
            psu="psu" if has_psu else None,
            nest=True,
        )
    except SurveyError as exc:
        raise EstimationError(f"抽样设计有误: {exc}") from exc


def estimate(
    data: Mapping[str, np.ndarray],
    *,
    margins: Mapping[str, Mapping[str, float]] | None,
    by: list[str],
    progress: Callable[[float, str], None] | None = None,
) -> Output:
    """Literacy rate (``literate``) and mean score (``score``) overall and by ``by``.

    Cells are keyed ``(measure, variable, category)`` with measure ``rate`` / ``mean``
    and variable ``overall`` (category ``""``) or one of ``by``.
    """
    _, rake, engine_estimate, SurveyError = _engine_api()

    def report(fraction: float, message: str) -> None:
        if progress is not None:
            progress(fraction, message)

    report(0.05, "建立抽样设计")
    design = build_design(data)
    out = Output(engine_version=engine_version())
    out.design = {
        "n": int(design.n),
        "strata": int(design.n_strata),
        "psu": int(design.n_psu),
        "nest": True,
    }
    if margins:
        report(0.15, f"按总体边际校准 (raking): {'、'.join(margins)}")
        try:
            result = rake(design, {v: dict(c) for v, c in margins.items()})
        except SurveyError as exc:
            raise EstimationError(f"按总体边际校准失败: {exc}") from exc
        design = result.design
        out.convergence = result.to_dict(with_margins=True)
    steps = [("rate", "literate", "具备科学素质的比例"), ("mean", "score", "平均得分")]
    for k, (measure, column, label) in enumerate(steps):
        report(0.35 + 0.3 * k, f"估计{label} (总体及按{len(by)}个分组变量)")
        try:
            results = engine_estimate(
                design,
                column,
                by=by,
                national=True,
                kind="proportion" if measure == "rate" else "mean",
            )
        except SurveyError as exc:
            raise EstimationError(f"估计失败: {exc}") from exc
        for r in results:
            if r.by == "national":
                variable, category = "overall", ""
            else:
                variable = r.by
                category = str(next(iter(r.domain.values())))
            out.cells[(measure, variable, category)] = Cell(
                estimate=r.estimate,
                se=r.se,
                ci_low=r.ci_low,
                ci_high=r.ci_high,
                ci_logit_low=r.logit_ci_low,
                ci_logit_high=r.logit_ci_high,
                deff=r.deff,
                n=r.n,
                weighted_n=r.total_weight,
            )
    report(1.0, "估计完成")
    return out
