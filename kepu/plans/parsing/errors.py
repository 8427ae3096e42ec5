"""The one exception the parser raises."""

from __future__ import annotations


class ParseError(ValueError):
    """The input cannot be parsed; ``str(exc)`` is a message in Simplified Chinese.

    Raised for: an unsupported file type, a missing or unreadable file, a damaged
    ``.docx``, and a document that is empty or holds no readable Chinese text.
    Every other problem in the input is tolerated and yields a (possibly empty) result.
    """
