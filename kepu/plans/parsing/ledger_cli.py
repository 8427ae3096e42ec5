"""``kepu ledger parse FILE.xlsx [--json]``: an Excel ledger as JSON or a Chinese outline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .errors import ParseError
from .ledger import parse_ledger

USAGE = "用法: kepu ledger parse 文件.xlsx [--json]"


def main(argv: list[str]) -> int:
    args = list(argv)
    if not args or any(a in ("-h", "--help") for a in args):
        print(USAGE, file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    as_json = "--json" in args
    files = [a for a in args if a != "--json"]
    if len(files) != 1 or files[0].startswith("--"):
        print(f"参数错误: 需要且只能指定一个文件\n{USAGE}", file=sys.stderr)
        return 2
    path = Path(files[0])
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        print(f"解析失败: 找不到文件: {path}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"解析失败: 无法读取文件: {path} ({exc.strerror or exc})", file=sys.stderr)
        return 1
    try:
        ledger = parse_ledger(data)
    except ParseError as exc:
        print(f"解析失败: {exc}", file=sys.stderr)
        return 1
    try:
        if as_json:
            text = json.dumps(ledger, ensure_ascii=False, indent=2) + "\n"
            buffer = getattr(sys.stdout, "buffer", None)
            if buffer is not None:
                sys.stdout.flush()
                buffer.write(text.encode("utf-8"))
                buffer.flush()
            else:
                sys.stdout.write(text)
        else:
            print(f"标题: {ledger['title'] or '—'}")
            print(f"任务: {len(ledger['tasks'])} 项")
            section = None
            for t in ledger["tasks"]:
                if t["section"] != section:
                    section = t["section"]
                    print(section or "(未分章节)")
                print(f"  {t['number'] or '·'} {t['title']}")
                if t["lead"]:
                    print(f"      牵头: {'、'.join(t['lead'])}")
                if t["cooperate"]:
                    print(f"      配合: {'、'.join(t['cooperate'])}")
                if t["deadline"]["text"]:
                    print(
                        f"      时限: {t['deadline']['text']} ({t['deadline']['due'] or '无固定日期'})"
                    )
    except BrokenPipeError:
        return 0
    return 0
