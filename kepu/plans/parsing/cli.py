"""``kepu plan parse FILE [--json]``: print a parsed plan as JSON or as a Chinese outline."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from . import ParseError, parse_file
from .model import ParsedPlan, Section, Target

USAGE = "用法: kepu plan parse 文件 [--json]\n支持 .docx、带文字层的 .pdf、.txt (任意常见编码)、.html, 以及 Excel 任务台账 (.xlsx、.xls)。\n旧版 .doc/.wps 请先用 Word 或 WPS 另存为 .docx。"
_CMP = {">=": "≥", ">": ">", "=": "=", "<=": "≤", "<": "<"}


def _target(t: Target) -> str:
    year = f" ({t.year}年)" if t.year else ""
    return f"{_CMP.get(t.comparator, t.comparator)} {t.value} {t.unit}{year} 「{t.text}」"


def render_outline(plan: ParsedPlan, out: TextIO) -> None:
    """A readable Chinese outline: metadata, the section tree, tasks with units and targets."""
    period = f"{plan.period[0]}—{plan.period[1]}年" if plan.period else "—"
    print(f"标题: {plan.title or '—'}", file=out)
    print(f"发文单位: {plan.issuer or '—'}", file=out)
    print(f"文号: {plan.doc_number or '—'}", file=out)
    print(f"发文日期: {plan.issued_on or '—'}", file=out)
    print(f"时期: {period}", file=out)
    print(f"任务: {len(plan.tasks)} 项; 全文目标: {len(plan.targets)} 项", file=out)
    for t in plan.targets:
        print(f"  目标 {_target(t)}", file=out)
    print("", file=out)

    def walk(sections: list[Section], depth: int) -> None:
        for s in sections:
            pad = "  " * depth
            number = s.number or ""
            if s.title.startswith(number):
                number = ""
            if s.task_index is None:
                print(f"{pad}{number} {s.title}".rstrip(), file=out)
                walk(s.children, depth + 1)
                continue
            task = plan.tasks[s.task_index]
            mark = f"[任务 {s.task_index + 1}]"
            print(f"{pad}{mark} {number} {task.title}".replace("  ", " "), file=out)
            if task.lead:
                print(f"{pad}    牵头: {'、'.join(task.lead)}", file=out)
            if task.cooperate:
                print(f"{pad}    配合: {'、'.join(task.cooperate)}", file=out)
            if task.responsible:
                print(f"{pad}    责任: {'、'.join(task.responsible)}", file=out)
            for t in task.targets:
                print(f"{pad}    目标: {_target(t)}", file=out)

    walk(plan.sections, 0)


def main(argv: list[str]) -> int:
    args = list(argv)
    if not args or any(a in ("-h", "--help") for a in args):
        print(USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    as_json = "--json" in args
    files = [a for a in args if a != "--json"]
    unknown = [a for a in files if a.startswith("--")]
    if unknown or len(files) != 1:
        print(
            f"参数错误: {' '.join(unknown) or '需要且只能指定一个文件'}\n{USAGE}", file=sys.stderr
        )
        return 2
    try:
        plan = parse_file(files[0])
    except ParseError as exc:
        print(f"解析失败: {exc}", file=sys.stderr)
        return 1
    try:
        if as_json:
            text = json.dumps(plan.to_dict(), ensure_ascii=False, indent=2) + "\n"
            buffer = getattr(sys.stdout, "buffer", None)
            if buffer is not None:
                sys.stdout.flush()
                buffer.write(text.encode("utf-8"))
                buffer.flush()
            else:
                sys.stdout.write(text)
        else:
            render_outline(plan, sys.stdout)
            sys.stdout.flush()
    except BrokenPipeError:  # output piped into `head`
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
