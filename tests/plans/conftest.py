from __future__ import annotations

import pytest

PLAN_TEXT = """曲靖市全民科学素质纲要实施工作办公室
关于印发《2026年测试市科学素质工作要点》的通知
测科办发〔2026〕7号

2026年测试市科学素质工作要点

到2026年,全市公民具备科学素质的比例达到13%以上。

一、青少年科学素质提升
1.开展中小学科学教育。培训科学教师300人以上。(市教体局牵头,市卫健委配合)
2.举办青少年科技节。全年举办活动不少于12场。(市教育局、市科协)

二、老年人科学素质提升
3.开展银龄健康讲座。每年不少于20场次。(市卫健委牵头,市某某局配合)

曲靖市全民科学素质纲要实施工作办公室
2026年3月1日
"""


@pytest.fixture
def plan_bytes() -> bytes:
    return PLAN_TEXT.encode("utf-8")


PARSED = {
    "title": "2026年测试市科学素质工作要点",
    "tasks": [
        {
            "path": ["一、青少年科学素质提升"],
            "number": "1",
            "title": "开展中小学科学教育",
            "text": "开展中小学科学教育。培训科学教师300人以上。",
            "lead": ["市教体局"],
            "cooperate": ["市卫健委"],
            "responsible": ["市教体局", "市卫健委"],
            "targets": [
                {
                    "text": "培训科学教师300人以上",
                    "comparator": ">=",
                    "value": 300,
                    "unit": "人",
                    "year": None,
                }
            ],
        },
        {
            "path": ["一、青少年科学素质提升"],
            "number": "2",
            "title": "举办青少年科技节",
            "text": "举办青少年科技节。",
            "lead": ["市教体局"],
            "cooperate": [],
            "responsible": ["市教体局"],
            "targets": [],
        },
        {
            "path": ["二、老年人科学素质提升"],
            "number": "3",
            "title": "开展银龄健康讲座",
            "text": "开展银龄健康讲座。",
            "lead": ["市科协"],
            "cooperate": [],
            "responsible": ["市科协"],
            "targets": [],
        },
    ],
    "targets": [],
}


@pytest.fixture
def city_plans(world, settings, tmp_path):
    """One plan in each sibling city, created without the document parser."""
    from kepu.plans.services import PlanFields, plan_create_from_parsed

    settings.MEDIA_ROOT = tmp_path
    plan_a = plan_create_from_parsed(
        user=world.users["admin_a"],
        owner=world.orgs["office_a"],
        parsed=PARSED,
        fields=PlanFields(title="曲靖要点"),
        source_name="a.txt",
        source_bytes=b"plan a",
    )
    plan_b = plan_create_from_parsed(
        user=world.users["admin_b"],
        owner=world.orgs["office_b"],
        parsed={
            "tasks": [
                {
                    "path": [],
                    "number": "1",
                    "title": "昆明的任务",
                    "text": "昆明的任务。",
                    "lead": ["市教育局"],
                    "cooperate": [],
                    "responsible": ["市教育局"],
                    "targets": [],
                }
            ]
        },
        fields=PlanFields(title="昆明要点"),
        source_name="b.txt",
        source_bytes=b"plan b",
    )
    return plan_a, plan_b
