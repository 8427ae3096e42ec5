"""The request-body limit: a body larger than the largest upload any page accepts is
refused with a Chinese 413 page before it is read.

Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not count uploaded files, so without this
a 200 MB body is received (into a temporary file) before a view can look at its size.
The middleware refuses a declared ``Content-Length`` over the limit at once, and counts
the bytes while the body streams in (a body without, or with a wrong, length), so no
more than the limit is ever read. It must come before ``CsrfViewMiddleware``, which is
the first to read a form body.

The limit is ``KEPU_MAX_REQUEST_BYTES`` (default: the largest per-kind upload limit in
:mod:`kepu.core.files` plus 1 MB for the other form fields). Each form then checks its
own kind's limit from the uploaded file's size, still before reading it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from kepu.core.files import MAX_REQUEST_BYTES, MB

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


class RequestBodyTooLarge(SuspiciousOperation):
    """The body grew past the limit while it was read."""


def max_request_bytes() -> int:
    return int(getattr(settings, "KEPU_MAX_REQUEST_BYTES", MAX_REQUEST_BYTES))


class _CountingStream:
    """Wraps the request's input stream; raises once more than ``limit`` bytes are read."""

    def __init__(self, stream: Any, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._read = 0

    def _count(self, data: bytes) -> bytes:
        self._read += len(data)
        if self._read > self._limit:
            raise RequestBodyTooLarge(f"request body over {self._limit} bytes")
        return data

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        return self._count(self._stream.read(*args, **kwargs))

    def readline(self, *args: Any, **kwargs: Any) -> bytes:
        return self._count(self._stream.readline(*args, **kwargs))

    def __iter__(self) -> Any:
        while line := self.readline():
            yield line

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


def too_large_response(limit: int, size: int | None = None) -> HttpResponse:
    html = render_to_string(
        "errors/413.html",
        {"limit_mb": limit // MB, "size_mb": f"{size / MB:.1f}" if size else None},
    )
    response = HttpResponse(html, status=413)
    # The client may still be sending; tell it the connection ends here.
    response["Connection"] = "close"
    return response


class RequestBodyLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in BODY_METHODS:
            limit = max_request_bytes()
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return too_large_response(limit, length)
            stream = getattr(request, "_stream", None)
            if stream is not None:
                request._stream = _CountingStream(stream, limit)  # type: ignore[attr-defined,assignment]
            if request.content_type in FORM_TYPES:
                # Read the form now, so a body that outgrows the limit while streaming is
                # answered here with 413 rather than wherever the form is first used.
                try:
                    request.POST  # noqa: B018
                except RequestBodyTooLarge:
                    return too_large_response(limit)
                except OSError:  # the client went away; CSRF and the view see an empty form
                    pass
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RequestBodyTooLarge):
            return too_large_response(max_request_bytes())
        return None
