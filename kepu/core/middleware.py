"""Security headers on every response: Content-Security-Policy and Permissions-Policy.

Django's SecurityMiddleware already sends ``X-Content-Type-Options: nosniff``,
``Referrer-Policy`` (``SECURE_REFERRER_POLICY``) and ``Cross-Origin-Opener-Policy``;
XFrameOptionsMiddleware sends ``X-Frame-Options: DENY``.  This adds the rest.

The policy (``KEPU_CSP`` in settings may replace it):

- ``script-src 'self'``: scripts only from our own static files. No inline ``<script>``,
  no ``on…=`` handler attributes, no ``eval``/``new Function`` (htmx's eval features are
  switched off in base.html), so an injected ``<img onerror=…>`` cannot run even if some
  text escaped the escaping.
- ``style-src 'self'`` plus the hash of the one inline ``<style>`` of the 500 page (that
  page is rendered without the static-files machinery, see ``ERROR_500_STYLE_HASH``):
  no injected ``<style>`` elements (CSS-based data exfiltration).
- ``style-src-attr 'unsafe-inline'``: ``style="…"`` attributes are allowed. They cannot run
  script; the templates use them for computed widths (progress bars, tree depth) and
  ECharts' tooltip markup carries them.  ECharts itself styles its DOM through the CSSOM
  (``element.style``), which CSP does not restrict.
- ``img-src 'self' data:`` (ECharts image export), ``connect-src 'self'`` (map geometry),
  ``object-src 'none'``, ``base-uri 'self'``, ``form-action 'self'``,
  ``frame-ancestors 'none'`` (the page cannot be framed: clickjacking).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# The exact content of the <style> element of templates/errors/500.html.
# tests/core/test_security_headers.py fails if the template's style changes.
ERROR_500_STYLE = (
    'body{font-family:"Noto Sans CJK SC","Microsoft YaHei",sans-serif;'
    "margin:4rem auto;max-width:36rem;color:#223}"
)


def style_hash(css: str) -> str:
    digest = hashlib.sha256(css.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


ERROR_500_STYLE_HASH = style_hash(ERROR_500_STYLE)

DEFAULT_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'", ERROR_500_STYLE_HASH],
    "style-src-attr": ["'unsafe-inline'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=()"
)


def content_security_policy() -> str:
    custom = getattr(settings, "KEPU_CSP", "")
    if custom:
        return custom
    return "; ".join(f"{name} {' '.join(values)}" for name, values in DEFAULT_CSP.items())


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.csp = content_security_policy()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Django's own debug pages (DEBUG only) are built from inline script and style.
        if settings.DEBUG and response.status_code in (404, 500):
            return response
        response.headers.setdefault("Content-Security-Policy", self.csp)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
