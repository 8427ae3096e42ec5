"""Repairs of damaged text: traditional characters, ruby, mojibake, spam, page markers, wraps."""

from __future__ import annotations

from kepu.plans.parsing import parse_text
from kepu.plans.parsing.decode import text_blocks
from kepu.plans.parsing.normalize import Line, clean_line, fold, normalize, to_simplified


def lines_of(text: str) -> list[str]:
    return [b.orig for b in normalize(text_blocks(text)).blocks if isinstance(b, Line)]


def test_fold_is_one_for_one():
    text = "（一）责任单位：市科协，市教育局；１２％　完成"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == "(一)责任单位:市科协,市教育局;12% 完成"


def test_traditional_to_simplified():
    assert to_simplified("開展科學普及活動") == "开展科学普及活动"
    task = parse_text("一、任務\n1.舉辦青少年科技節。(縣教育局牽頭)").tasks[0]
    assert task.title == "举办青少年科技节" and task.lead == ["县教育局"]


def test_ruby_pinyin_removed_but_real_parentheses_kept():
    line = "科(kē)學(xué)普(pǔ)及(jí)進(jìn)社(shè)区(qū)。(市科协牵头)"
    assert clean_line(to_simplified(line)) == "科学普及进社区。(市科协牵头)"
    assert clean_line("支持示范县(市、区)和基地(所、站)") == "支持示范县(市、区)和基地(所、站)"
    assert clean_line("运用AI(人工智能)技术") == "运用AI(人工智能)技术"


def test_mojibake_fragments_dropped():
    assert clean_line("开展??科普活动\ufffd") == "开展科普活动"
    assert clean_line("技能培训I、科普讲座") == "技能培训、科普讲座"
    assert clean_line("登录e享科普日平台") == "登录e享科普日平台"


def test_page_furniture_and_page_numbers_dropped():
    text = """当前位置: 首页 > 通知公告
发布时间:2024-05-06 | 作者: | 编辑:管理员
某县科普月活动方案
一、主要活动
1.举办科普讲座。(县科协牵头)
- 2 -
2.举办科普展览。(县科技局牵头)
【打印本页】 【关闭窗口】
"""
    lines = lines_of(text)
    assert lines[0] == "某县科普月活动方案"
    assert "- 2 -" not in lines and all("关闭" not in x for x in lines)
    plan = parse_text(text)
    assert [t.title for t in plan.tasks] == ["举办科普讲座", "举办科普展览"]
    assert plan.issued_on == "2024-05-06"  # only the page's publication date is known


def test_double_page_marker_inline():
    text = "二、主办单位\n市科协、市应急管理局2、、市国资委、市总工会"
    assert "市科协、市应急管理局、市国资委、市总工会" in lines_of(text)


PAGE_1 = (
    "1、2024年某市科普月活动工作方案为深入贯彻落实全民科学素质行动规划纲要,普及科学知识,"
    "弘扬科学精神,现将2024年某市科普月活动工作方案制定如下。一、活动时间5月全月。二、主要活动"
    "(一)科普进社区。组织科技志愿者深入社区开展健康讲座、应急演练等活动,全年不少于20场"
    "(责任单位:市科协、市卫健委、市应急管"
)
PAGE_2 = (
    "2、理局)。(二)科普进校园。组织专家走进中小学开展科学课、科学实验展示等活动,覆盖学生"
    "不少于5000人次,推动科学教育加法落到实处,培养青少年科学兴趣(责任单位:市教育局、团市委)"
    "(三)科普进乡村。组织农技专家下乡开展技术培训,培训农民1000人以上(责任单位:市农业农村局"
)
PAGE_3 = "3、、市科协)。三、工作要求各单位要高度重视,精心组织,确保活动取得实效。"


def test_page_markers_from_document_sharing_sites():
    text = "\n".join(
        [
            "《2024年某市科普月活动工作方案.docx》由会员分享,可在线阅读,更多相关请在某某文库搜索。",
            PAGE_1,
            PAGE_2,
            PAGE_3,
        ]
    )
    plan = parse_text(text)
    assert plan.title == "2024年某市科普月活动工作方案"
    assert [t.title for t in plan.tasks] == ["科普进社区", "科普进校园", "科普进乡村"]
    community, school, village = plan.tasks
    # the page marker split the unit name 市应急管理局
    assert community.responsible == ["市科协", "市卫健委", "市应急管理局"]
    assert school.responsible == ["市教育局", "团市委"]
    # "市农业农村局2、、市科协" across a page break
    assert village.responsible == ["市农业农村局", "市科协"]
    assert [(x.comparator, x.value, x.unit) for x in village.targets] == [(">=", 1000, "人")]
    assert [t.path for t in plan.tasks] == [["主要活动"]] * 3


def test_ordinary_numbered_list_is_not_taken_for_page_markers():
    text = "一、任务\n1、开展讲座。(市科协牵头)\n2、开展展览。(市科技局牵头)\n3、开展竞赛。(市教育局牵头)"
    plan = parse_text(text)
    assert [t.title for t in plan.tasks] == ["开展讲座", "开展展览", "开展竞赛"]


def test_hard_wrapped_text_is_joined():
    para = (
        "1.开展科普讲座。组织专家深入社区、学校、企业和农村开展科普讲座,每年不少于十二场,"
        "内容涵盖健康生活、应急避险、数字素养和生态环保等方面,切实提升公众的科学素质。"
        "(市科协牵头,市卫生健康委员会、市应急管理局配合)"
    )
    wrapped = [para[i : i + 30] for i in range(0, len(para), 30)]
    filler = "本方案所称科普活动是指面向公众开展的各类科学普及活动,由各单位按照职责组织实施。"
    body = [filler[i : i + 30] for i in range(0, len(filler), 30)] * 3
    text = "\n".join(["一、主要任务", *wrapped, "二、工作要求", *body])
    plan = parse_text(text)
    task = plan.tasks[0]
    assert task.title == "开展科普讲座"
    assert task.lead == ["市科协"]
    assert task.cooperate == ["市卫生健康委员会", "市应急管理局"]
    assert task.text.endswith("切实提升公众的科学素质。")
