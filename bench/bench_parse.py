"""Benchmark: parse a large synthetic plan and compare with merely reading + decoding it.

    .venv/bin/python bench/bench_parse.py [--pages 50] [--repeat 5]

Prints the sizes, the median times and the ratio parse / (read + decode).  Not a pass/fail test.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kepu.plans.parsing import parse_file
from kepu.plans.parsing.decode import cn_number as cn
from kepu.plans.parsing.decode import decode_text_bytes

UNITS = [
    "市科协",
    "市教育局",
    "市科技局",
    "市卫健委",
    "市农业农村局",
    "市文旅局",
    "团市委",
    "市妇联",
    "市应急管理局",
    "市气象局",
    "各县(市、区)人民政府",
    "各成员单位",
]
VERBS = ["开展", "举办", "组织", "推进", "实施", "建设", "完善", "加强"]
THINGS = [
    "科普讲座",
    "青少年科技节",
    "农技培训",
    "科普进社区活动",
    "科学教育",
    "应急科普宣传",
    "科普基地建设",
    "科技志愿服务",
    "银龄科普行动",
    "科普信息化平台",
]
FILLER = (
    "围绕公众关心的健康、安全、数字素养等热点问题,深入学校、社区、农村和企业,"
    "通过讲座、展览、体验、竞赛等多种形式普及科学知识、弘扬科学精神、传播科学思想。"
)


def synthetic_plan(pages: int, seed: int = 7) -> str:
    """About 1,000 characters per page: sections, items, dash tasks, units and targets."""
    rng = random.Random(seed)
    out = [
        "某市科学技术协会",
        "关于印发《2025年某市全民科学素质行动工作要点》的通知",
        "某科协发〔2025〕3号",
        "各成员单位:",
        "现将工作要点印发给你们,请认真贯彻落实。",
        "某市全民科学素质纲要实施工作办公室",
        "2025年3月1日",
        "2025年某市全民科学素质行动工作要点",
        "到2025年,全市公民具备科学素质的比例超过15%。",
    ]
    item = 0
    size = 0
    section = 0
    while size < pages * 1000:
        section += 1
        out.append(f"{cn(section)}、实施第{section}项重点行动")
        for sub in range(1, 4):
            out.append(f"({cn(sub)}){rng.choice(VERBS)}{rng.choice(THINGS)}")
            if sub == 3:  # a subsection of dash items
                for _ in range(3):
                    lead = rng.choice(UNITS)
                    out.append(
                        f"——{rng.choice(VERBS)}{rng.choice(THINGS)}。{FILLER}(责任单位:{lead})"
                    )
                continue
            for _ in range(3):
                item += 1
                lead, coop1, coop2 = rng.sample(UNITS, 3)
                target = rng.choice(
                    [
                        "每年不少于12场",
                        "培训教师300人以上",
                        "覆盖群众突破50万人次",
                        "比例达到12%",
                        "新建站点20个",
                    ]
                )
                out.append(
                    f"{item}.{rng.choice(VERBS)}{rng.choice(THINGS)}。{FILLER}{target}。"
                    f"({lead}牵头,{coop1}、{coop2}配合)"
                )
        size = sum(len(x) for x in out)
    return "\n".join(out) + "\n"


def median_time(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pages", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    text = synthetic_plan(args.pages)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plan.txt"
        path.write_bytes(text.encode("gb18030"))
        parse_file(path)  # warm-up: imports, OpenCC dictionaries, regex compilation
        baseline = median_time(lambda: decode_text_bytes(path.read_bytes()), args.repeat)
        parse = median_time(lambda: parse_file(path), args.repeat)
        plan = parse_file(path)
    n_targets = sum(len(t.targets) for t in plan.tasks) + len(plan.targets)
    print(f"synthetic plan: {len(text):,} characters (~{args.pages} pages), GB18030 on disk")
    print(f"tasks found: {len(plan.tasks)}, targets: {n_targets}")
    print(f"read + decode (baseline): {baseline * 1000:8.1f} ms")
    print(f"parse_file             : {parse * 1000:8.1f} ms")
    print(f"ratio parse / baseline : {parse / baseline:8.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
