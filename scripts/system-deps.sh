#!/usr/bin/env bash
# System packages the test suite needs, from Debian: Chromium (browser tests),
# CJK fonts (readable screenshots), R with the survey package and MASS, which its
# calibrate() needs (estimates cross-check).
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)
command -v Rscript >/dev/null 2>&1 || missing+=(r-base-core)
Rscript -e 'quit(status = !requireNamespace("survey", quietly = TRUE))' >/dev/null 2>&1 \
  || missing+=(r-cran-survey)
Rscript -e 'quit(status = !requireNamespace("jsonlite", quietly = TRUE))' >/dev/null 2>&1 \
  || missing+=(r-cran-jsonlite)
Rscript -e 'quit(status = !requireNamespace("MASS", quietly = TRUE))' >/dev/null 2>&1 \
  || missing+=(r-cran-mass)
if [ ${#missing[@]} -gt 0 ]; then
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  echo "==> apt: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
