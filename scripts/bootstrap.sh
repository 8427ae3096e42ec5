#!/usr/bin/env bash
# Idempotent install: .venv with the locked Python packages, and the npm assets.
# Called by scripts/start.sh (runtime packages: requirements.lock) and scripts/test.sh
# (`--dev`: also the test and development tools of requirements-dev.lock); safe to run
# on its own.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON=${PYTHON:-python3}
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_install() {
  echo "==> apt: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@"
}

"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' \
  || { echo "需要 Python 3.11 或更高版本 (当前: $("$PYTHON" --version 2>&1))" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    apt_install python3-venv
    "$PYTHON" -m venv .venv
  fi
fi

hash_of() { cat "$@" | sha256sum | cut -c1-16; }
runtime_hash=$(hash_of requirements.lock pyproject.toml)
dev_hash=$(hash_of requirements-dev.lock requirements.lock pyproject.toml)
stamp=.venv/.kepu-python-stamp
if [ "${1:-}" = "--dev" ]; then
  lock=requirements-dev.lock want="dev:$dev_hash"
else
  lock=requirements.lock want="runtime:$runtime_hash"
fi
have=$(cat "$stamp" 2>/dev/null || true)
# A venv with the dev tools of the same locks serves the runtime too.
if [ "$have" != "$want" ] && [ "$have" != "dev:$dev_hash" ]; then
  echo "==> installing Python packages ($lock)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r "$lock"
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi

nstamp=node_modules/.kepu-npm-stamp
nwant=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
if [ "$(cat "$nstamp" 2>/dev/null)" != "$nwant" ]; then
  echo "==> installing front-end assets and division data (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$nwant" > "$nstamp"
fi
