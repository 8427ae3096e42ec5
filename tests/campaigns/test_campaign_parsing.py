"""Campaign plan parser on documents these tests write (invented cities and units)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kepu.campaigns.parsing import (
    ParseError,
    parse_campaign_bytes,
    parse_campaign_file,
    parse_campaign_text,
)

SCIENCE_DAY = """\
2024年某某市全国科普日活动实施方案
为深入贯彻落实全民科学素质行动规划纲要,现制定本方案。
一、活动主题和时间
2024年全国科普日活动以“提升全民科学素质,协力建设科技强国”为主题。活动时间为9月15日—21日,各地各部门可拟定活动副主题。
二、主办单位
市科协、市委宣传部、市教育局、市经信局(科技局)、市卫生健康委、各县(市、区)人民政府
三、主要活动
(一)全市主场活动。9月15日,在市科技馆举办全国科普日主场活动(责任单位:市科协)。
四、工作要求
(一)登记填报。请各单位于2024年9月1日至9月20日期间登录全国科普日网站注册并填报活动信息。各县(市、区)科协至少填报50场次,各乡镇(街道)不少于二十场,市直有关部门、学会、协会至少填报10场次。
(二)信息完善。请各单位于9月30日前补充完善活动图片视频和新闻报道链接。
(三)工作总结。请各单位于10月10日前将活动总结和汇总表报送市科协科普部。
附件:2024年某某市全国科普日活动汇总表
填报单位:            联系人:
序号  活动名称  活动时间  活动地点  主办单位  参与人数  备注
"""


def test_fields_of_a_science_day_plan():
    c = parse_campaign_text(SCIENCE_DAY)
    assert c.title == "2024年某某市全国科普日活动实施方案"
    assert c.year == 2024
    assert c.theme == "提升全民科学素质,协力建设科技强国"
    assert (c.event_start, c.event_end) == ("2024-09-15", "2024-09-21")
    assert (c.registration_start, c.registration_end) == ("2024-09-01", "2024-09-20")
    assert c.completion_deadline == "2024-09-30"
    assert c.summary_deadline == "2024-10-10"
    assert [q.to_dict() for q in c.quotas] == [
        {"who": "各县(市、区)科协", "min": 50, "unit": "场次"},
        {"who": "各乡镇(街道)", "min": 20, "unit": "场"},
        {"who": "市直有关部门、学会、协会", "min": 10, "unit": "场次"},
    ]
    assert c.organizers == [
        "市科协",
        "市委宣传部",
        "市教育局",
        "市经信局(科技局)",
        "市卫生健康委",
        "各县(市、区)人民政府",
    ]
    assert c.summary_columns == [
        "序号",
        "活动名称",
        "活动时间",
        "活动地点",
        "主办单位",
        "参与人数",
        "备注",
    ]


def test_json_contract_keys_and_types():
    data = parse_campaign_text(SCIENCE_DAY).to_dict()
    assert list(data) == [
        "title",
        "year",
        "theme",
        "event_start",
        "event_end",
        "registration_start",
        "registration_end",
        "completion_deadline",
        "summary_deadline",
        "quotas",
        "organizers",
        "summary_columns",
    ]
    assert all(set(q) == {"who", "min", "unit"} for q in data["quotas"])


@pytest.mark.parametrize(
    ("sentence", "start", "end"),
    [
        ("定于9月17-23日在全市各地集中开展。", "2023-09-17", "2023-09-23"),
        ("定于9月17日—23日在全市集中开展。", "2023-09-17", "2023-09-23"),
        ("活动时间:2023年9月17日至9月23日。", "2023-09-17", "2023-09-23"),
        ("活动时间为9月28日至10月4日。", "2023-09-28", "2023-10-04"),
        ("科普月活动于9月全月集中开展。", "2023-09-01", "2023-09-30"),
    ],
)
def test_event_date_ranges(sentence, start, end):
    c = parse_campaign_text(f"2023年某县科普日活动方案\n一、活动时间\n{sentence}")
    assert (c.event_start, c.event_end) == (start, end)


def test_dates_without_a_year_take_the_titles_year_and_issue_dates_are_not_events():
    text = "2022年某区科技活动周工作方案\n请于5月10日前填报活动信息。\n某区科协\n2022年4月1日"
    c = parse_campaign_text(text)
    assert c.registration_end == "2022-05-10"
    assert c.event_start is None and c.event_end is None


def test_glued_summary_header_is_split_by_column_words():
    text = "2023年某市科普日方案\n附件:汇总表填报单位:联系人:序号活动名称活动时间活动地点受众人数"
    assert parse_campaign_text(text).summary_columns == [
        "序号",
        "活动名称",
        "活动时间",
        "活动地点",
        "受众人数",
    ]


def test_damaged_web_copy_with_traditional_characters_and_page_markers():
    damaged = (
        "《2023年某市全國科普日活動方案.docx》由会员分享,可在线阅读,更多相关请在文库网上搜索。\n"
        "1、2023年某市全國科普日活動方案一、活动主题和时间2023年全国科普日主题为:科普新时代。"
        "定于9月16-22日集中开展。二、主办单位市科协、市教育局\n"
        "2、、市卫健委三、相关事项(一)登记填报。请各镇于2023年9月1日-9月25日期间注册填报,"
        "各镇至少填报15场次。"
    )
    c = parse_campaign_text(damaged)
    assert c.theme == "科普新时代"
    assert (c.event_start, c.event_end) == ("2023-09-16", "2023-09-22")
    assert (c.registration_start, c.registration_end) == ("2023-09-01", "2023-09-25")
    assert c.organizers == ["市科协", "市教育局", "市卫健委"]
    assert [(q.who, q.min) for q in c.quotas] == [("各镇", 15)]


def _docx(paragraphs: list[str], header: list[str]) -> bytes:
    d = docx.Document()
    for p in paragraphs:
        d.add_paragraph(p)
    table = d.add_table(rows=2, cols=len(header))
    for i, h in enumerate(header):
        table.rows[0].cells[i].text = h
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_with_a_summary_table():
    data = _docx(
        [
            "2025年某市全国科普月活动方案",
            "活动时间为2025年9月1日至30日。",
            "请各单位于8月25日至9月30日期间登记活动,各乡镇至少开展5场。",
        ],
        ["序号", "活动名称", "活动形式", "参加人数"],
    )
    c = parse_campaign_bytes(data, "方案.docx")
    assert (c.event_start, c.event_end) == ("2025-09-01", "2025-09-30")
    assert (c.registration_start, c.registration_end) == ("2025-08-25", "2025-09-30")
    assert c.summary_columns == ["序号", "活动名称", "活动形式", "参加人数"]
    assert [(q.who, q.min, q.unit) for q in c.quotas] == [("各乡镇", 5, "场")]


def test_gbk_text_file(tmp_path: Path):
    path = tmp_path / "plan.txt"
    path.write_bytes(SCIENCE_DAY.encode("gbk"))
    assert parse_campaign_file(path).theme == "提升全民科学素质,协力建设科技强国"


@pytest.mark.parametrize("data", [b"", b"   ", b"\x00\x01\x02" * 10, b"abc def"])
def test_unreadable_input_is_a_chinese_parse_error(data):
    with pytest.raises(ParseError) as exc:
        parse_campaign_bytes(data, "x.txt")
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(exc.value))


@settings(max_examples=150, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            list("年月日至-—前9月12301场次至少各镇主题为:“”。,()、序号活动名称\n ")
        ),
        max_size=200,
    )
)
def test_arbitrary_text_never_crashes(text):
    try:
        c = parse_campaign_text(text)
    except ParseError:
        return
    for value in (c.event_start, c.registration_end, c.summary_deadline):
        assert value is None or len(value) == 10


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [sys.executable, "-c", "import sys; from kepu.cli import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        cwd=root,
        check=False,
    )


def test_cli_json_and_errors(tmp_path: Path):
    path = tmp_path / "campaign.txt"
    path.write_text(SCIENCE_DAY, encoding="utf-8")
    ok = _cli("campaign", "parse", str(path), "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["summary_deadline"] == "2024-10-10"
    readable = _cli("campaign", "parse", str(path))
    assert "场次要求" in readable.stdout and "各乡镇(街道): 至少 20 场" in readable.stdout
    missing = _cli("campaign", "parse", str(tmp_path / "none.txt"))
    assert missing.returncode == 1 and "找不到文件" in missing.stderr
    usage = _cli("campaign", "parse")
    assert usage.returncode == 2
