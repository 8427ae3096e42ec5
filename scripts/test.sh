#!/usr/bin/env bash
# Second command: install what the tests need and run the whole suite (SQLite by default;
# PostgreSQL when KEPU_TEST_DATABASE_URL is set). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh --dev
bash scripts/system-deps.sh
exec .venv/bin/pytest "$@"
