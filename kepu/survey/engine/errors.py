"""Errors raised by the estimation engine.

Every error carries a message in Simplified Chinese that can be shown to a user as is
(the CLI prints it without a traceback).
"""

from __future__ import annotations


class SurveyError(ValueError):
    """Bad input or a computation that cannot give a trustworthy result."""


class RakingError(SurveyError):
    """Raking did not converge (or cannot converge with the given margins)."""

    def __init__(self, message: str, *, iterations: int = 0, max_error: float = float("nan")):
        super().__init__(message)
        self.iterations = iterations
        self.max_error = max_error
