"""完成时限 parsing: structured due date plus the original wording, on texts written here."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kepu.plans.parsing import parse_text
from kepu.plans.parsing.deadlines import find_deadline, parse_deadline, plan_year


@pytest.mark.parametrize(
    ("text", "year", "due", "recurring"),
    [
        ("2026年12月底前", 2025, "2026-12-31", None),
        ("10月8日前", 2025, "2025-10-08", None),
        ("10月8日前", 2027, "2027-10-08", None),
        ("6月底", 2026, "2026-06-30", None),
        ("2月底前", 2024, "2024-02-29", None),  # leap year
        ("每季度", 2025, None, "quarterly"),
        ("每年", 2025, None, "yearly"),
        ("每月", 2025, None, "monthly"),
        ("长期坚持", 2025, None, "ongoing"),
        ("持续推进", 2025, None, "ongoing"),
        ("2023年9月17日—23日", 2025, "2023-09-23", None),
        ("2023年9月17日-10月3日", None, "2023-10-03", None),
        ("2026年底", None, "2026-12-31", None),
        ("2026年", None, "2026-12-31", None),
        ("上半年", 2025, "2025-06-30", None),
        ("第三季度", 2025, "2025-09-30", None),
        ("9月中旬", 2025, "2025-09-20", None),
        ("9月上旬", 2025, "2025-09-10", None),
        ("2024—2026年", None, "2026-12-31", None),
        ("二〇二五年十月", None, "2025-10-31", None),
        ("2026年6月30日", None, "2026-06-30", None),
        ("每年12月底前", 2025, "2025-12-31", "yearly"),
        ("按上级要求", 2025, None, None),
        ("10月8日前", None, None, None),  # no year known: the wording is kept, no date
    ],
)
def test_parse_deadline(text, year, due, recurring):
    d = parse_deadline(text, year)
    assert d is not None
    assert d.to_dict() == {"text": text, "due": due, "recurring": recurring}


@pytest.mark.parametrize("text", [None, "", "   "])
def test_empty_deadline_is_none(text):
    assert parse_deadline(text, 2025) is None


def test_invalid_dates_are_not_invented():
    assert parse_deadline("13月5日前", 2025).due is None
    assert parse_deadline("2月30日", 2025).due == "2025-02-28"  # clamped to the month's end


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("开展讲座。2026年6月底前完成。", ("2026年6月底前完成", "2026-06-30", None)),
        ("完成时限：10月8日前\n", ("10月8日前", "2025-10-08", None)),
        ("各地每季度报送进展情况。", ("每季度", None, "quarterly")),
        ("持续推进基地建设。", ("持续推进", None, "ongoing")),
    ],
)
def test_find_deadline_in_task_text(text, expected):
    d = find_deadline(text, 2025)
    assert d is not None and (d.text, d.due, d.recurring) == expected


def test_a_target_year_is_not_a_deadline():
    assert find_deadline("到2025年,公民具备科学素质的比例超过15%。", 2025) is None


def test_plan_year():
    assert plan_year((2025, 2025), "2024-12-30") == 2025
    assert plan_year(None, None, "曲靖市2026年科普工作要点") == 2026
    assert plan_year((2021, 2025), "2021-09-01") == 2021
    assert plan_year(None, "2024-03-01") == 2024
    assert plan_year(None, None) is None


def test_documents_carry_deadlines_with_the_plan_year():
    text = """曲靖市2026年全民科学素质工作要点
一、重点任务
1.开展科普讲座。10月8日前完成。(市科协牵头,市教育局配合)
2.推进基地建设。长期坚持。(市科协)
3.开展调查。(市科协)
"""
    tasks = parse_text(text).to_dict()["tasks"]
    assert tasks[0]["deadline"] == {"text": "10月8日前完成", "due": "2026-10-08", "recurring": None}
    assert tasks[1]["deadline"] == {"text": "长期坚持", "due": None, "recurring": "ongoing"}
    assert tasks[2]["deadline"] == {"text": "", "due": None, "recurring": None}


def test_ledger_table_deadline_column():
    text = """曲靖市2026年科普工作任务台账
序号\t任务内容\t牵头单位\t配合单位\t目标任务\t完成时限
1\t开展科普日活动\t市科协\t市教育局\t不少于20场\t2026年9月17日—23日
2\t举办科技周\t市科技局\t市科协\t不少于5场\t5月底
3\t发布科普信息\t市科协\t市融媒体中心\t12期\t每季度
"""
    tasks = parse_text(text).to_dict()["tasks"]
    got = [(t["deadline"]["due"], t["deadline"]["recurring"]) for t in tasks]
    assert got == [("2026-09-23", None), ("2026-05-31", None), (None, "quarterly")]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60), st.one_of(st.none(), st.integers(1, 3000)))
def test_never_crashes(text, year):
    for d in (parse_deadline(text, year), find_deadline(text, year)):
        if d is not None:
            assert d.due is None or len(d.due) == 10
