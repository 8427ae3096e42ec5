"""Acceptance script (not collected by pytest): parse the real documents in ../shared/corpus.

    .venv/bin/python tests/plans/parsing/corpus_check.py [CORPUS_DIR]

Prints, per document, the metadata, the task count per top-level path, unit-role counts,
target counts and samples so that a person can check them against the text.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from kepu.plans.parsing import ParseError, parse_file  # noqa: E402


def main(argv: list[str]) -> int:
    corpus = Path(argv[0]) if argv else ROOT.parent / "shared" / "corpus"
    if not corpus.is_dir():
        print(f"没有找到语料目录: {corpus}")
        return 0
    files = sorted(
        p
        for p in corpus.iterdir()
        if p.suffix in {".txt", ".docx", ".html", ".htm", ".pdf", ".xls", ".xlsx"}
    )
    for path in files:
        t0 = time.perf_counter()
        try:
            plan = parse_file(path)
        except ParseError as exc:
            print(f"== {path.name}: 解析失败: {exc}")
            continue
        ms = (time.perf_counter() - t0) * 1000
        print(f"== {path.name}  ({ms:.0f} ms)")
        print(f"   title={plan.title!r} issuer={plan.issuer!r} doc_number={plan.doc_number!r}")
        print(f"   issued_on={plan.issued_on} period={plan.period}")
        groups = Counter(t.path[0] if t.path else "(root)" for t in plan.tasks)
        print(f"   tasks: {len(plan.tasks)}  by top-level section: {dict(groups)}")
        lead = sum(len(t.lead) for t in plan.tasks)
        coop = sum(len(t.cooperate) for t in plan.tasks)
        resp = sum(len(t.responsible) for t in plan.tasks)
        with_units = sum(1 for t in plan.tasks if t.responsible)
        print(
            f"   units: lead={lead} cooperate={coop} responsible={resp} "
            f"tasks-with-units={with_units}"
        )
        task_targets = [x for t in plan.tasks for x in t.targets]
        print(f"   targets: in tasks={len(task_targets)} document-level={len(plan.targets)}")
        for t in plan.tasks:
            units = ""
            if t.lead or t.cooperate:
                units = f" 牵头={'、'.join(t.lead)} 配合={'、'.join(t.cooperate)}"
            elif t.responsible:
                units = f" 责任={'、'.join(t.responsible)}"
            print(f"     [{t.number or '—'}] {t.title[:40]}{units}")
        for x in [*task_targets, *plan.targets]:
            print(f"     目标 {x.comparator} {x.value} {x.unit} year={x.year} 「{x.text}」")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
