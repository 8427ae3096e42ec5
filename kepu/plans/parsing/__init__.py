"""Pure-Python parser for science-popularization plan documents (no Django here).

    >>> from kepu.plans.parsing import parse_text
    >>> plan = parse_text("一、重点任务\\n1.开展科普讲座。每年不少于12场。(市科协牵头,市教育局配合)")
    >>> plan.tasks[0].title, plan.tasks[0].lead, plan.tasks[0].targets[0].value
    ('开展科普讲座', ['市科协'], 12)

Pipeline: :mod:`decode` (bytes → lines and tables) → :mod:`normalize` (repairs) →
:mod:`structure` (outline, tasks, metadata) using :mod:`units` and :mod:`targets`.
Any failure is a :class:`ParseError` with a Chinese message; nothing else is raised.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from .decode import decode_bytes, text_blocks
from .errors import ParseError
from .model import ParsedPlan, Section, Target, Task
from .normalize import Line, normalize
from .structure import build

__all__ = [
    "ParseError",
    "ParsedPlan",
    "Section",
    "Target",
    "Task",
    "parse_bytes",
    "parse_file",
    "parse_text",
]

MAX_BYTES = 50 * 1024 * 1024
_CJK = re.compile(r"[\u3400-\u9fff]")


def _parse_blocks(blocks: list) -> ParsedPlan:  # type: ignore[type-arg]
    try:
        normalized = normalize(blocks)
        has_text = any(
            (isinstance(b, Line) and _CJK.search(b.orig))
            or (not isinstance(b, Line) and any(_CJK.search(c) for r in b.rows for c in r))
            for b in normalized.blocks
        )
        if not normalized.blocks:
            raise ParseError("文档内容为空。")
        if not has_text:
            raise ParseError("文档中没有可识别的中文内容 (可能是乱码或编码无法识别)。")
        return build(normalized)
    except ParseError:
        raise
    except RecursionError as exc:
        raise ParseError("文档结构过于复杂, 无法解析。") from exc
    except Exception as exc:  # a bug must not crash the caller: report it as a parse failure
        raise ParseError(f"解析文档时出错 ({exc.__class__.__name__})。") from exc


def blocks_from_text(text: str) -> list:  # type: ignore[type-arg]
    """The blocks of an already-decoded document (shared with the campaign parser)."""
    if not isinstance(text, str):
        raise ParseError("输入必须是文本。")
    if not text.strip():
        raise ParseError("文档内容为空。")
    return text_blocks(text)


def blocks_from_bytes(data: bytes, filename: str) -> list:  # type: ignore[type-arg]
    """The blocks of a ``.txt`` (any common encoding), ``.docx``, ``.pdf`` or ``.html`` file."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ParseError("输入必须是字节串。")
    data = bytes(data)
    if not data.strip():
        raise ParseError("文件为空。")
    if len(data) > MAX_BYTES:
        raise ParseError("文件过大 (超过 50 MB)。")
    try:
        return decode_bytes(data, filename or "")
    except ParseError:
        raise
    except Exception as exc:
        raise ParseError(f"无法读取文件 ({exc.__class__.__name__})。") from exc


def read_document_file(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    """A file's bytes and name, with Chinese messages for what can go wrong on disk."""
    p = Path(path)
    try:
        return p.read_bytes(), p.name
    except FileNotFoundError as exc:
        raise ParseError(f"找不到文件: {p}") from exc
    except IsADirectoryError as exc:
        raise ParseError(f"这是一个文件夹, 不是文件: {p}") from exc
    except OSError as exc:
        raise ParseError(f"无法读取文件: {p} ({exc.strerror or exc.__class__.__name__})") from exc


def parse_text(text: str) -> ParsedPlan:
    """Parse an already-decoded document."""
    return _parse_blocks(blocks_from_text(text))


def parse_bytes(data: bytes, filename: str) -> ParsedPlan:
    """Parse a ``.txt`` (any common encoding), ``.docx``, ``.pdf`` or saved ``.html`` document."""
    return _parse_blocks(blocks_from_bytes(data, filename))


def parse_file(path: str | os.PathLike[str]) -> ParsedPlan:
    """Read and parse a file from disk."""
    return parse_bytes(*read_document_file(path))
