"""``kepu campaign parse FILE [--json]``: a campaign plan's fields as JSON or a Chinese summary."""

from __future__ import annotations

import json
import sys

from . import ParseError, parse_campaign_file
from .model import ParsedCampaign

USAGE = "用法: kepu campaign parse 文件 [--json]\n支持 .txt (任意常见编码)、.docx、.html。"

_LABELS = (
    ("title", "标题"),
    ("year", "年份"),
    ("theme", "主题"),
    ("event_start", "活动开始"),
    ("event_end", "活动结束"),
    ("registration_start", "登记填报开始"),
    ("registration_end", "登记填报截止"),
    ("completion_deadline", "信息完善截止"),
    ("summary_deadline", "总结报送截止"),
)


def render(c: ParsedCampaign) -> str:
    data = c.to_dict()
    out = [f"{label}: {data[key] if data[key] is not None else '—'}" for key, label in _LABELS]
    out.append(f"主办单位 ({len(c.organizers)}): {'、'.join(c.organizers) or '—'}")
    out.append("场次要求:" + ("" if c.quotas else " —"))
    out.extend(f"  {q.who}: 至少 {q.min} {q.unit}" for q in c.quotas)
    out.append(f"汇总表列: {'、'.join(c.summary_columns) or '—'}")
    return "\n".join(out) + "\n"


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
        campaign = parse_campaign_file(files[0])
    except ParseError as exc:
        print(f"解析失败: {exc}", file=sys.stderr)
        return 1
    text = (
        json.dumps(campaign.to_dict(), ensure_ascii=False, indent=2) + "\n"
        if as_json
        else render(campaign)
    )
    try:
        buffer = getattr(sys.stdout, "buffer", None)
        if buffer is not None:
            sys.stdout.flush()
            buffer.write(text.encode("utf-8"))
            buffer.flush()
        else:
            sys.stdout.write(text)
    except BrokenPipeError:
        return 0
    return 0
