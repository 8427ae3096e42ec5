"""The staticfiles app, configured for Kepu (see StaticFilesConfig)."""

from django.contrib.staticfiles.apps import StaticFilesConfig as BaseStaticFilesConfig


class StaticFilesConfig(BaseStaticFilesConfig):
    """django.contrib.staticfiles, collecting only the vendor files the pages load.

    The npm packages ship ~50 MB of builds (ESM, source maps, extensions); collecting,
    hashing and compressing all of them made every start of the production-mode server
    wait most of a minute.  The templates load ``vendor/echarts/echarts.min.js`` and
    ``vendor/htmx/htmx.min.js``; everything else in those folders is left out.
    """

    ignore_patterns = [
        *BaseStaticFilesConfig.ignore_patterns,
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
