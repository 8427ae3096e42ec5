"""Questionnaire scoring: vectorised, configurable bands and dimensions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kepu.survey.engine import (
    NATIONAL_SCHEME,
    Item,
    Questionnaire,
    SurveyError,
    encode_answers,
    load_questionnaire,
    score,
)


def _q(scheme=NATIONAL_SCHEME):
    return Questionnaire(
        items=(
            Item("k1", "knowledge", 20, "single", "B"),
            Item("k2", "knowledge", 20, "true_false", False),
            Item("m1", "method", 20, "multiple", "ACD", partial_credit=10),
            Item("s1", "spirit", 20, "single", "D"),
            Item("a1", "application", 20, "multiple", ["A", "B"]),
        ),
        scheme=scheme,
    )


def test_scores_dimensions_bands_and_literacy():
    q = _q()
    rows = [
        ["B", "错", "ACD", "D", "AB"],  # 100
        ["B", "错", "AC", "D", ""],  # 20+20+10+20 = 70 -> literate (>= 70)
        ["B", "对", "ACD", "D", "A"],  # 60 -> basic
        ["A", "对", "ACDB", "A", "B"],  # 0 -> low
        ["B", "F", "A", "", "BA"],  # 20+20+10+0+20 = 70
    ]
    r = score(q, rows)
    np.testing.assert_allclose(r.total, [100, 70, 60, 0, 70])
    assert list(r.band) == ["high", "literate", "basic", "low", "literate"]
    assert list(r.literate) == [1, 1, 0, 0, 1]
    np.testing.assert_allclose(r.dimensions["knowledge"], [40, 40, 20, 0, 40])
    np.testing.assert_allclose(r.dimensions["method"], [20, 10, 20, 0, 10])
    assert set(r.columns()) >= {"score", "band", "literate", "score_method"}


def test_codes_matrix_equals_letter_answers():
    q = _q()
    rows = [["B", "错", "ACD", "D", "AB"], ["C", "对", "A", "", "B"]]
    codes = encode_answers(q, rows)
    assert codes.dtype == np.int64
    assert codes[0].tolist() == [1, 0, 0b1101, 3, 0b11]
    assert codes[1, 3] == -1
    np.testing.assert_allclose(score(q, codes).total, score(q, rows).total)


def test_threshold_inclusivity_is_configuration():
    d = NATIONAL_SCHEME.to_dict()
    d["bands"][1]["inclusive"] = False  # literate only above 70
    d["bands"][3]["threshold"] = 0
    q = Questionnaire.from_dict({"scheme": d, "items": [vars(it) for it in _q().items]})
    r = score(q, [["B", "错", "AC", "D", ""]])
    assert r.total[0] == 70
    assert r.band[0] == "basic" and r.literate[0] == 0


def test_round_trip_through_json(tmp_path):
    q = _q()
    path = tmp_path / "q.json"
    path.write_text(json.dumps(q.to_dict(), ensure_ascii=False), encoding="utf-8")
    q2 = load_questionnaire(path)
    assert q2.items == q.items
    assert [b.code for b in q2.scheme.sorted_bands()] == ["high", "literate", "basic", "low"]


def test_invalid_questionnaires():
    with pytest.raises(SurveyError, match="满分"):
        Questionnaire(items=(Item("k1", "knowledge", 10, "single", "A"),))
    with pytest.raises(SurveyError, match="维度"):
        Questionnaire(items=(Item("x", "art", 100, "single", "A"),))
    with pytest.raises(SurveyError, match="答案键无效"):
        Item("k1", "knowledge", 40, "single", "E").key_code()
    with pytest.raises(SurveyError, match="作答无效"):
        score(_q(), [["Z", "对", "A", "A", "A"]])


def test_vectorised_scoring_of_many_respondents():
    q = _q()
    rng = np.random.default_rng(0)
    n = 50_000
    keys = np.array([it.key_code() for it in q.items])
    answers = np.where(rng.random((n, 5)) < 0.6, keys, 0)
    r = score(q, answers)
    expected = ((answers == keys) * np.array([20, 20, 20, 20, 20])).sum(axis=1)
    # item m1 (key ACD) gives partial credit 10 to the answer "A" (code 1): a subset
    expected = expected + 10 * (answers[:, 2] == 1)
    np.testing.assert_allclose(r.total, expected)
