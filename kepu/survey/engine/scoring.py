"""Scoring a literacy questionnaire: the questionnaire is data.

Items have a dimension, points and an answer key.  Answers are encoded as integers so a
whole answers matrix (respondents x items) is scored with a few numpy operations:

* single choice: option index, ``A=0, B=1, ...``;
* multiple choice: bit mask of the chosen options, ``A=1, B=2, C=4, ...`` (exact match
  scores; optional partial credit for a correct non-empty subset);
* true/false: ``1`` true, ``0`` false.

A negative code means "not answered".  ``encode_answers`` turns letter answers such as
``"B"``, ``"ACD"``, ``"对"``/``"错"`` into these codes.

Bands and thresholds are configuration: the national scheme (100 points: science
knowledge 40, scientific method 20, scientific spirit and thought 20, ability to apply
science 20; bands >=85 high, >=70 literate, >=55 basic, otherwise low) is
``NATIONAL_SCHEME``; each survey round can load its own from a dict or JSON.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import SurveyError

__all__ = [
    "NATIONAL_SCHEME",
    "Band",
    "Dimension",
    "Item",
    "Questionnaire",
    "ScoreResult",
    "ScoringScheme",
    "encode_answers",
    "load_questionnaire",
    "score",
]

ITEM_KINDS = ("single", "multiple", "true_false")
_TRUE = {"1", "T", "TRUE", "Y", "YES", "对", "是", "正确", "√"}
_FALSE = {"0", "F", "FALSE", "N", "NO", "错", "否", "错误", "×"}


@dataclass(frozen=True)
class Dimension:
    code: str
    label: str
    max_points: float | None = None


@dataclass(frozen=True)
class Band:
    """A score band; a respondent is in the first band (highest threshold first) whose
    condition ``score >= threshold`` (``inclusive``) or ``score > threshold`` holds."""

    code: str
    label: str
    threshold: float
    inclusive: bool = True


@dataclass(frozen=True)
class ScoringScheme:
    dimensions: tuple[Dimension, ...]
    bands: tuple[Band, ...]  # any order; sorted by threshold descending when used
    literate_band: str = "literate"  # this band and every band above it count as literate
    total_points: float | None = 100.0

    def sorted_bands(self) -> list[Band]:
        return sorted(self.bands, key=lambda b: (-b.threshold, not b.inclusive))

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> ScoringScheme:
        try:
            dims = tuple(Dimension(**x) for x in d["dimensions"])
            bands = tuple(Band(**x) for x in d["bands"])
        except (KeyError, TypeError) as exc:
            raise SurveyError(f"评分方案格式错误: {exc}") from None
        scheme = ScoringScheme(
            dimensions=dims,
            bands=bands,
            literate_band=d.get("literate_band", "literate"),
            total_points=d.get("total_points", 100.0),
        )
        scheme.validate()
        return scheme

    def to_dict(self) -> dict[str, Any]:
        return {
            "dimensions": [vars(x) for x in self.dimensions],
            "bands": [vars(x) for x in self.bands],
            "literate_band": self.literate_band,
            "total_points": self.total_points,
        }

    def validate(self) -> None:
        codes = [d.code for d in self.dimensions]
        if len(set(codes)) != len(codes) or not codes:
            raise SurveyError("评分方案的维度为空或编码重复")
        bcodes = [b.code for b in self.bands]
        if len(set(bcodes)) != len(bcodes) or not bcodes:
            raise SurveyError("评分方案的等级为空或编码重复")
        if self.literate_band not in bcodes:
            raise SurveyError(f"具备科学素质的等级 {self.literate_band} 不在等级列表中")
        if self.total_points is not None:
            dims_max = [d.max_points for d in self.dimensions]
            known = [m for m in dims_max if m is not None]
            if len(known) == len(dims_max) and abs(sum(known) - self.total_points) > 1e-9:
                raise SurveyError(f"各维度满分之和 {sum(known)} 与总分 {self.total_points} 不一致")


NATIONAL_SCHEME = ScoringScheme(
    dimensions=(
        Dimension("knowledge", "科学知识", 40),
        Dimension("method", "科学方法", 20),
        Dimension("spirit", "科学精神与思想", 20),
        Dimension("application", "应用科学的能力", 20),
    ),
    bands=(
        Band("high", "高", 85),
        Band("literate", "具备科学素质", 70),
        Band("basic", "基本", 55),
        Band("low", "低", float("-inf")),
    ),
    literate_band="literate",
    total_points=100.0,
)


@dataclass(frozen=True)
class Item:
    id: str
    dimension: str
    points: float
    kind: str  # "single" | "multiple" | "true_false"
    key: Any  # "B" / 1 | "ACD" / ["A", "C"] / True
    options: int = 4  # number of options for choice items
    partial_credit: float | None = None  # multiple choice: points for a correct subset

    def key_code(self) -> int:
        return _encode_one(self, self.key, strict=True)


@dataclass(frozen=True)
class Questionnaire:
    items: tuple[Item, ...]
    scheme: ScoringScheme = field(default_factory=lambda: NATIONAL_SCHEME)
    id: str = ""

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        self.scheme.validate()
        ids = [it.id for it in self.items]
        if not ids:
            raise SurveyError("问卷没有题目")
        if len(set(ids)) != len(ids):
            raise SurveyError("问卷题目编号重复")
        dims = {d.code: d for d in self.scheme.dimensions}
        per_dim = dict.fromkeys(dims, 0.0)
        for it in self.items:
            if it.kind not in ITEM_KINDS:
                raise SurveyError(f"题目 {it.id} 的题型无效: {it.kind}")
            if it.dimension not in dims:
                raise SurveyError(f"题目 {it.id} 的维度 {it.dimension} 不在评分方案中")
            if not it.points > 0:
                raise SurveyError(f"题目 {it.id} 的分值必须大于 0")
            if it.partial_credit is not None and (
                it.kind != "multiple" or not 0 <= it.partial_credit < it.points
            ):
                raise SurveyError(f"题目 {it.id} 的部分得分设置无效")
            it.key_code()
            per_dim[it.dimension] += it.points
        for code, d in dims.items():
            if d.max_points is not None and abs(per_dim[code] - d.max_points) > 1e-9:
                raise SurveyError(
                    f"维度 {d.label} 的题目分值之和 {per_dim[code]:g} 与满分 {d.max_points:g} 不一致"
                )

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> Questionnaire:
        scheme = ScoringScheme.from_dict(d["scheme"]) if "scheme" in d else NATIONAL_SCHEME
        try:
            items = tuple(Item(**x) for x in d["items"])
        except (KeyError, TypeError) as exc:
            raise SurveyError(f"问卷格式错误: {exc}") from None
        return Questionnaire(items=items, scheme=scheme, id=str(d.get("id", "")))

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "scheme": self.scheme.to_dict(),
            "items": [vars(it) for it in self.items],
        }


def load_questionnaire(path: str | Path) -> Questionnaire:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise SurveyError(f"无法读取问卷文件 {path}: {exc}") from None
    return Questionnaire.from_dict(data)


def _letters_to_mask(text: str, options: int) -> int:
    mask = 0
    for ch in text.upper():
        if ch in " ,，、;；":
            continue
        k = ord(ch) - ord("A")
        if not 0 <= k < max(options, 1) or k > 25:
            raise ValueError(ch)
        mask |= 1 << k
    return mask


def _encode_one(item: Item, value: Any, *, strict: bool = False) -> int:
    """Encode one answer (or the key, with ``strict``) to the integer code."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        if strict:
            raise SurveyError(f"题目 {item.id} 缺少答案")
        return -1
    try:
        if item.kind == "true_false":
            if isinstance(value, bool | int | np.integer):
                return int(bool(value))
            s = str(value).strip().upper()
            if s in _TRUE:
                return 1
            if s in _FALSE:
                return 0
            if s == "" and not strict:
                return -1
            raise ValueError(s)
        if item.kind == "single":
            if isinstance(value, int | np.integer) and not isinstance(value, bool):
                if not 0 <= int(value) < item.options:
                    raise ValueError(value)
                return int(value)
            s = str(value).strip().upper()
            if s == "" and not strict:
                return -1
            if len(s) != 1:
                raise ValueError(s)
            k = ord(s) - ord("A")
            if not 0 <= k < item.options:
                raise ValueError(s)
            return k
        # multiple
        if isinstance(value, list | tuple | set | frozenset):
            value = "".join(str(v) for v in value)
        if isinstance(value, int | np.integer) and not isinstance(value, bool):
            return int(value)
        s = str(value).strip()
        if s == "" and not strict:
            return -1
        mask = _letters_to_mask(s, item.options)
        if mask == 0:
            raise ValueError(s)
        return mask
    except ValueError:
        what = "答案键" if strict else "作答"
        raise SurveyError(f"题目 {item.id} 的{what}无效: {value!r}") from None


def encode_answers(questionnaire: Questionnaire, rows: Sequence[Sequence[Any]]) -> np.ndarray:
    """Encode letter answers (one row per respondent, one column per item) to codes."""
    items = questionnaire.items
    out = np.full((len(rows), len(items)), -1, dtype=np.int64)
    for i, row in enumerate(rows):
        if len(row) != len(items):
            raise SurveyError(f"第 {i + 1} 行的作答数 {len(row)} 与题目数 {len(items)} 不一致")
        for j, (item, value) in enumerate(zip(items, row, strict=True)):
            out[i, j] = _encode_one(item, value)
    return out


@dataclass
class ScoreResult:
    total: np.ndarray  # (n,)
    dimensions: dict[str, np.ndarray]  # code -> (n,)
    band: np.ndarray  # (n,) band codes (object array of str)
    literate: np.ndarray  # (n,) 0/1 int
    correct: np.ndarray  # (n, items) bool

    def columns(self) -> dict[str, np.ndarray]:
        cols = {"score": self.total, "band": self.band, "literate": self.literate}
        cols.update({f"score_{k}": v for k, v in self.dimensions.items()})
        return cols


def score(
    questionnaire: Questionnaire, answers: np.ndarray | Sequence[Sequence[Any]]
) -> ScoreResult:
    """Score an answers matrix (codes, see module doc; letter answers are encoded first)."""
    arr = np.asarray(answers)
    if arr.dtype.kind not in "iu":
        arr = encode_answers(questionnaire, [list(r) for r in answers])
    if arr.ndim != 2 or arr.shape[1] != len(questionnaire.items):
        raise SurveyError(f"作答矩阵应为 (人数, {len(questionnaire.items)}) 的二维数组")
    items = questionnaire.items
    keys = np.array([it.key_code() for it in items], dtype=np.int64)
    points = np.array([it.points for it in items], dtype=np.float64)
    correct = arr == keys[None, :]
    earned = correct * points[None, :]
    partial = [j for j, it in enumerate(items) if it.partial_credit]
    if partial:
        pj = np.array(partial)
        a = arr[:, pj]
        k = keys[pj]
        subset = (a > 0) & ((a & ~k[None, :]) == 0) & ~correct[:, pj]
        credit = np.array([items[j].partial_credit for j in partial], dtype=np.float64)
        earned[:, pj] += subset * credit[None, :]
    dims = [d.code for d in questionnaire.scheme.dimensions]
    dim_index = np.array([dims.index(it.dimension) for it in items])
    onehot = np.zeros((len(items), len(dims)))
    onehot[np.arange(len(items)), dim_index] = 1.0
    by_dim = earned @ onehot
    total = by_dim.sum(axis=1)
    bands = questionnaire.scheme.sorted_bands()
    band_idx = np.full(total.shape[0], len(bands) - 1, dtype=np.intp)
    assigned = np.zeros(total.shape[0], dtype=bool)
    for bi, b in enumerate(bands):
        hit = (total >= b.threshold) if b.inclusive else (total > b.threshold)
        hit &= ~assigned
        band_idx[hit] = bi
        assigned |= hit
    codes = np.array([b.code for b in bands], dtype=object)
    lit_rank = [b.code for b in bands].index(questionnaire.scheme.literate_band)
    literate = (assigned & (band_idx <= lit_rank)).astype(np.int64)
    return ScoreResult(
        total=total,
        dimensions={d: by_dim[:, i] for i, d in enumerate(dims)},
        band=codes[band_idx],
        literate=literate,
        correct=correct,
    )
