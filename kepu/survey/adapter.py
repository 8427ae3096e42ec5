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
    try:
        return eng.Design, eng.rake, eng.estimate, eng.SurveyError
    except AttributeError:  # the engine's package exports not there (yet): use the modules
        from kepu.survey.engine.design import Design
        from kepu.survey.engine.errors import SurveyError
        from kepu.survey.engine.estimation import estimate
        from kepu.survey.engine.raking import rake

        return Design, rake, estimate, SurveyError


# --- questionnaire and scoring ----------------------------------------------------------
DEFAULT_THRESHOLD = 70.0
STANDARD_KEYS = "ABCDBCADBACDBDCABDCA"  # answer key of the built-in 20-item test


def default_questionnaire() -> dict[str, Any]:
    """A built-in 20-item multiple-choice test (options A–D)."""
    return {
        "name": "公民科学素质测评 (标准题本)",
        "items": [
            {"id": f"q{i:02d}", "text": f"第{i}题", "options": ["A", "B", "C", "D"]}
            for i in range(1, 21)
        ],
    }


def default_scoring() -> dict[str, Any]:
    """Five points per correct answer (100 in all); literate at 70 points or more."""
    return {
        "threshold": DEFAULT_THRESHOLD,
        "items": {f"q{i:02d}": {"key": k, "points": 5} for i, k in enumerate(STANDARD_KEYS, 1)},
    }


def literacy_threshold(scoring: Mapping[str, Any]) -> float:
    try:
        return float(scoring.get("threshold", DEFAULT_THRESHOLD))
    except (TypeError, ValueError):
        return DEFAULT_THRESHOLD


def _keys(rule: Mapping[str, Any]) -> set[str]:
    key = rule.get("key")
    if isinstance(key, list):
        return {str(k).strip().upper() for k in key}
    return {str(key).strip().upper()} if key is not None else set()


def validate_configuration(
    questionnaire: Mapping[str, Any], scoring: Mapping[str, Any]
) -> list[str]:
    """Chinese messages for everything wrong with a questionnaire/scoring pair."""
    errors: list[str] = []
    items = questionnaire.get("items") if isinstance(questionnaire, Mapping) else None
    if not isinstance(items, list) or not items:
        return ["问卷应包含题目列表 items (每题至少有 id)。"]
    ids: list[str] = []
    for k, item in enumerate(items, start=1):
        if not isinstance(item, Mapping) or not str(item.get("id", "")).strip():
            errors.append(f"问卷第{k}题缺少 id。")
            continue
        ids.append(str(item["id"]).strip())
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        errors.append(f"问卷题目 id 重复: {'、'.join(dupes)}。")
    if not isinstance(scoring, Mapping):
        return [*errors, "计分规则应为 JSON 对象。"]
    threshold = scoring.get("threshold", DEFAULT_THRESHOLD)
    if not isinstance(threshold, int | float) or not 0 < threshold <= 100:
        errors.append("计分规则的判定标准 threshold 应为 0 到 100 之间的分数。")
    rules = scoring.get("items")
    if not isinstance(rules, Mapping) or not rules:
        return [*errors, "计分规则应包含 items: 每题的正确答案 key 与分值 points。"]
    unknown = [i for i in rules if i not in ids]
    if unknown:
        errors.append(f"计分规则中的题目不在问卷中: {'、'.join(map(str, unknown[:10]))}。")
    missing = [i for i in ids if i not in rules]
    if missing:
        errors.append(f"问卷题目没有计分规则: {'、'.join(missing[:10])}。")
    total = 0.0
    for item_id, rule in rules.items():
        if not isinstance(rule, Mapping) or not _keys(rule):
            errors.append(f"题目 {item_id} 的计分规则缺少正确答案 key。")
            continue
        points = rule.get("points", 1)
        if not isinstance(points, int | float) or points <= 0:
            errors.append(f"题目 {item_id} 的分值 points 应为正数。")
            continue
        total += float(points)
    if not errors and abs(total - 100) > 1e-9:
        errors.append(f"各题分值之和应为 100 (现为 {total:g})。")
    return errors


def check_answers(scoring: Mapping[str, Any], answers: Mapping[str, str]) -> list[str]:
    """Row-level problems with one respondent's answers (blank means not answered)."""
    problems = []
    for item_id, value in answers.items():
        v = value.strip()
        if len(v) > 20:
            problems.append(f"题目 {item_id} 的作答「{v[:20]}…」过长")
    return problems


def score_answers(
    scoring: Mapping[str, Any], answers: Mapping[str, list[str]]
) -> tuple[np.ndarray, np.ndarray]:
    """Scores (0–100) and the literacy indicator for columns of answers."""
    rules = scoring.get("items", {})
    n = len(next(iter(answers.values()))) if answers else 0
    score = np.zeros(n)
    for item_id, column in answers.items():
        rule = rules.get(item_id)
        if rule is None:
            continue
        keys = _keys(rule)
        points = float(rule.get("points", 1))
        correct = np.fromiter((a.strip().upper() in keys for a in column), dtype=bool, count=n)
        score += points * correct
    score = np.round(score, 6)
    return score, score >= literacy_threshold(scoring)


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
