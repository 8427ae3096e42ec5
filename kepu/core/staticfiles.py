"""Static files: collect only the vendor files the pages load."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from django.contrib.staticfiles.finders import FileSystemFinder

# The npm packages in STATICFILES_DIRS ship ~50 MB of builds (ESM, source maps,
# extensions); collecting, hashing and compressing all of them made every start of the
# production-mode server wait most of a minute.  The templates load
# ``vendor/echarts/echarts.min.js`` and ``vendor/htmx/htmx.min.js``; the rest is left out.
VENDOR_IGNORE_PATTERNS = [
    "*.map",
    "*.mjs",
    "*.esm.*",
    "*.common.*",
    "*.simple.*",
    "*.cjs.js",
    "*.amd.js",
    "*.d.ts",
    "*.gz",
    "extension",
    "ext",
    "package.json",
    "README.md",
    "echarts.js",
    "htmx.js",
]


class VendorFileSystemFinder(FileSystemFinder):
    """FileSystemFinder (STATICFILES_DIRS) that leaves the unused vendor builds out of
    ``collectstatic``; looking a single file up (development serving) is unchanged."""

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, Any]]:
        return super().list(  # type: ignore[return-value]  # the stub's Iterable is a generator
            [*(ignore_patterns or []), *VENDOR_IGNORE_PATTERNS]
        )
