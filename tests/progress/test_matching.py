"""The pure matcher that suggests which parent-plan task a local task implements."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kepu.progress.matching import bigrams, normalise, suggest

CITY = [
    (1, "组织科技馆进校园、进社区活动,每年不少于20场。"),
    (2, "开展农民实用技术培训,培训农民5000人次。"),
    (3, "加强科普人才队伍建设,培育科普讲解员。"),
    (4, "开展老年人防范电信诈骗科普宣传。"),
]


def test_finds_the_task_a_local_task_implements():
    county = [
        (11, "推动科技馆进校园活动,全年开展8场。"),
        (12, "举办农民实用技术培训班。"),
        (13, "开展老年人防诈骗知识讲座。"),
    ]
    best = {}
    for s in suggest(county, CITY, top=1):
        best[s.local_id] = (s.parent_id, s.score)
    assert {k: v[0] for k, v in best.items()} == {11: 1, 12: 2, 13: 4}
    assert all(0 < score <= 1 for _, score in best.values())


def test_unrelated_text_gets_no_suggestion():
    assert suggest([(9, "修订财务报销制度")], CITY) == []


def test_ranked_best_first_and_limited_to_top():
    out = suggest([(5, "开展科普活动培训")], CITY, top=2, threshold=0.0)
    assert len(out) == 2
    assert out[0].score >= out[1].score


def test_identical_text_scores_one():
    (s,) = suggest([(1, CITY[0][1])], CITY[:1])
    assert s.score == 1.0


def test_normalise_drops_punctuation_and_keeps_words():
    assert normalise("(市科协牵头, 2026年)") == "市科协牵头2026年"
    assert bigrams("科普") == {"科普": 1}
    assert bigrams("") == {}


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.text(max_size=40), max_size=5),
    st.lists(st.text(max_size=40), max_size=5),
)
def test_arbitrary_text_never_crashes(local, parent):
    out = suggest(list(enumerate(local)), list(enumerate(parent, start=100)), threshold=0.0)
    assert all(0 <= s.score <= 1 for s in out)
    assert all(s.parent_id >= 100 for s in out)
