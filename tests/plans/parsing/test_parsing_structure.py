"""Outline, task selection, metadata, units and targets on whole invented documents."""

from __future__ import annotations

from kepu.plans.parsing import parse_text


def by_title(plan):
    return {t.title: t for t in plan.tasks}


def test_metadata(annual_plan):
    plan = parse_text(annual_plan)
    assert plan.title == "2024年测试县全民科学素质行动工作要点"
    assert plan.issuer == "测试县全民科学素质纲要实施工作办公室"
    assert plan.doc_number == "测科素办发〔2024〕2号"
    assert plan.issued_on == "2024-02-18"
    assert plan.period is None


def test_tasks_are_the_lowest_headed_items_and_ledger_rows(annual_plan):
    plan = parse_text(annual_plan)
    titles = [t.title for t in plan.tasks]
    assert titles == [
        "开展科学教育",
        "举办青少年科技节",
        "开展农技培训进村活动,全年培训农民两千人次",
        "组织科技特派员下乡",  # traditional characters converted
        "建设社区科普站",
        "完善评价机制",
        "开展中期评估",
        "推进科普信息化",
        "加强组织领导",  # safeguards (保障) are tasks too (issue 9)
        "加强经费保障",
        "举办县级科普讲解大赛",
        "开展防灾减灾科普宣传周活动,覆盖群众不少于1万人次",
        "推进中央党校(国家行政学院)课程进修,支持示范县(市、区)建设",
    ]
    # notice text, signature, contact line: no tasks
    joined = "\n".join(t.text for t in plan.tasks)
    assert "张三" not in joined and "0871" not in joined and "印发给你们" not in joined


def test_paths_numbers_and_text(annual_plan):
    plan = parse_text(annual_plan)
    t = by_title(plan)
    first = t["开展科学教育"]
    assert first.path == ["提升重点人群科学素质", "青少年"]
    assert first.number == "1"
    assert first.text == "开展科学教育。培训科学教师300人以上,每所学校每学年开展科普活动不少于4次。"
    dash = t["组织科技特派员下乡"]
    assert dash.number is None and dash.path == ["提升重点人群科学素质", "农民"]
    ledger = [x for x in plan.tasks if x.path and x.path[0].startswith("附件")]
    assert len(ledger) == 3
    assert ledger[0].path == ["附件 2024年测试县全民科学素质行动重点任务台账"]


def test_units_per_task(annual_plan):
    t = by_title(parse_text(annual_plan))
    first = t["开展科学教育"]
    assert (first.lead, first.cooperate, first.responsible) == (
        ["县教育局"],
        ["县科协", "团县委"],
        ["县教育局", "县科协", "团县委"],
    )
    festival = t["举办青少年科技节"]
    assert festival.lead == [] and festival.responsible == ["县教育局", "县科协"]
    station = t["建设社区科普站"]
    assert station.lead == ["县住房和城乡建设局", "县科协"]
    assert station.cooperate == ["各乡镇人民政府"]
    assert t["开展中期评估"].cooperate == ["各成员单位"]
    labelled = t["推进科普信息化"]
    assert labelled.responsible == ["县科协", "县融媒体中心"] and labelled.lead == []
    party = t["推进中央党校(国家行政学院)课程进修,支持示范县(市、区)建设"]
    assert party.lead == ["县委组织部"] and party.cooperate == ["县委党校"]


def test_targets_attach_to_tasks_and_document(annual_plan):
    plan = parse_text(annual_plan)
    t = by_title(plan)
    assert [(x.comparator, x.value, x.unit) for x in t["开展科学教育"].targets] == [
        (">=", 300, "人"),
        (">=", 4, "次"),
    ]
    assert [(x.comparator, x.value, x.unit) for x in t["推进科普信息化"].targets] == [
        (">", 5000000, "人次")
    ]
    doc = [(x.comparator, x.value, x.unit, x.year) for x in plan.targets]
    assert (">", 15, "%", 2025) in doc
    assert all(x.text != "2024年2月18日" for x in plan.targets)


def test_heading_with_paragraph_on_next_line_and_all_heading_forms():
    text = """工作方案
一、重点任务
（一）青少年
1、开展科技节
每年举办一次,参与学生不少于1000人。
2．开展研学
(1)组织营地活动。（市教育局牵头）
(2)组织参观。
①参观科技馆。
②参观实验室。
"""
    plan = parse_text(text)
    assert [(t.number, t.title, t.path) for t in plan.tasks] == [
        ("1", "开展科技节", ["重点任务", "青少年"]),
        ("(1)", "组织营地活动", ["重点任务", "青少年", "开展研学"]),
        ("①", "参观科技馆", ["重点任务", "青少年", "开展研学", "组织参观"]),
        ("②", "参观实验室", ["重点任务", "青少年", "开展研学", "组织参观"]),
    ]
    assert plan.tasks[0].text == "开展科技节\n每年举办一次,参与学生不少于1000人。"
    assert plan.tasks[0].targets[0].value == 1000
    assert plan.tasks[1].lead == ["市教育局"]


def test_period_and_chinese_date():
    text = """某市全民科学素质行动实施方案(2021—2025年)
某市人民政府
二〇二一年九月八日
一、主要任务
1.开展活动。(市科协牵头)
"""
    plan = parse_text(text)
    assert plan.period == (2021, 2025)
    assert plan.to_dict()["period"] == [2021, 2025]
    assert plan.issued_on == "2021-09-08"
    assert plan.issuer == "某市人民政府"


def test_parent_units_are_inherited():
    text = """一、任务
(一)加强学校科学教育(市教育局牵头,市科协配合)
1.开展科学课。
2.开展科技节。(市科协)
"""
    t = by_title(parse_text(text))
    assert t["开展科学课"].lead == ["市教育局"] and t["开展科学课"].cooperate == ["市科协"]
    assert t["开展科技节"].lead == [] and t["开展科技节"].responsible == ["市科协"]


def test_first_listed_unit_leads_when_document_says_so():
    text = """说明:责任单位中排在第一位的为牵头单位。
一、任务
1.开展活动。(市科协、市教育局)
"""
    task = parse_text(text).tasks[0]
    assert task.lead == ["市科协"] and task.cooperate == ["市教育局"]


def test_to_dict_shape(annual_plan):
    data = parse_text(annual_plan).to_dict()
    assert set(data) >= {"title", "issuer", "doc_number", "issued_on", "period", "tasks", "targets"}
    task = data["tasks"][0]
    assert list(task) == [
        "path",
        "number",
        "title",
        "text",
        "lead",
        "cooperate",
        "responsible",
        "targets",
        "deadline",
    ]
    assert set(task["deadline"]) == {"text", "due", "recurring"}
    assert list(task["targets"][0]) == ["text", "comparator", "value", "unit", "year", "display"]
    sections = data["sections"]
    assert sections[0]["title"] == "提升重点人群科学素质"
    assert sections[0]["children"][0]["children"][0]["task_index"] == 0


def test_labelled_unit_lines_apply_to_the_preceding_task():
    text = """一、任务
1.开展科普讲座。每年不少于12场。
（责任单位：各镇）
2.开展展览。
牵头单位：市科协
配合单位：市教育局、市文旅局
"""
    first, second = parse_text(text).tasks
    assert (first.lead, first.responsible, first.text) == (
        [],
        ["各镇"],
        "开展科普讲座。每年不少于12场。",
    )
    assert second.lead == ["市科协"] and second.cooperate == ["市教育局", "市文旅局"]
    assert second.text == "开展展览。"


SAFEGUARDS = """2025年测试市全民科学素质行动工作要点
一、重点任务
1.开展科普讲座。每年不少于12场。(市科协牵头)
二、保障措施
(一)加强组织领导。各成员单位要把科学素质工作纳入年度计划。
(二)加大投入力度。将科普经费列入财政预算。(市财政局牵头)
(三)加强宣传引导。(市委宣传部)
三、组织实施
(一)强化条件保障
1.建设科普人才队伍。培训科普人员200人以上。
2.完善科普设施。
(二)实施步骤
1.动员部署阶段。2025年3月底前完成。
四、工作要求
(一)加强统筹协调。各单位要高度重视。
"""


def test_safeguard_items_are_tasks_with_their_path():
    """Issue 9: items under 保障措施/组织保障/组织实施 are tasks in real ledgers (funding
    goes to 财政, publicity to 宣传部); steps and requirements stay outline text."""
    plan = parse_text(SAFEGUARDS)
    t = by_title(plan)
    assert [x.title for x in plan.tasks] == [
        "开展科普讲座",
        "加强组织领导",
        "加大投入力度",
        "加强宣传引导",
        "建设科普人才队伍",
        "完善科普设施",
    ]
    assert t["加强组织领导"].path == ["保障措施"]
    assert t["加强组织领导"].responsible == []  # no unit is invented
    assert t["加大投入力度"].lead == ["市财政局"]
    assert t["加强宣传引导"].responsible == ["市委宣传部"]
    assert t["建设科普人才队伍"].path == ["组织实施", "强化条件保障"]
    assert t["建设科普人才队伍"].targets[0].value == 200
    # the JSON contract is unchanged: the same keys per task
    task = plan.to_dict()["tasks"][1]
    assert set(task) == {
        "path",
        "number",
        "title",
        "text",
        "lead",
        "cooperate",
        "responsible",
        "targets",
        "deadline",
    }
