"""Pure-Python parser for activity-campaign plans (科普日/科普月/科技活动周 工作方案).

    >>> from kepu.campaigns.parsing import parse_campaign_text
    >>> c = parse_campaign_text("2025年某市全国科普月活动方案\\n活动时间为9月1日至30日。")
    >>> c.year, c.event_start, c.event_end
    (2025, '2025-09-01', '2025-09-30')

Decoding and repair (encodings, docx, html, damaged web copies) are the plan parser's
(:mod:`kepu.plans.parsing`); this module reads the campaign fields from the repaired
text: title, year, theme, event dates, registration window, completion and summary
deadlines, quotas per kind of organiser, organisers and the summary table's columns.
Any failure is a :class:`~kepu.plans.parsing.ParseError` with a Chinese message.
No Django here.
"""

from __future__ import annotations

import os

from kepu.plans.parsing import ParseError, blocks_from_bytes, blocks_from_text, read_document_file

from .extract import extract
from .model import ParsedCampaign, Quota

__all__ = [
    "ParseError",
    "ParsedCampaign",
    "Quota",
    "parse_campaign_bytes",
    "parse_campaign_file",
    "parse_campaign_text",
]


def _run(blocks: list) -> ParsedCampaign:  # type: ignore[type-arg]
    try:
        return extract(blocks)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("文档结构过于复杂, 无法解析。") from exc
    except Exception as exc:  # a bug must not crash the caller: report it as a parse failure
        raise ParseError(f"解析活动方案时出错 ({exc.__class__.__name__})。") from exc


def parse_campaign_text(text: str) -> ParsedCampaign:
    return _run(blocks_from_text(text))


def parse_campaign_bytes(data: bytes, filename: str) -> ParsedCampaign:
    return _run(blocks_from_bytes(data, filename))


def parse_campaign_file(path: str | os.PathLike[str]) -> ParsedCampaign:
    return parse_campaign_bytes(*read_document_file(path))
