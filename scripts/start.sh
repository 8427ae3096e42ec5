#!/usr/bin/env bash
# First command: install everything, migrate SQLite, import divisions, load demo data,
# then serve on http://127.0.0.1:8000 (with the background task worker). Idempotent.
# It serves like production (DEBUG off, gunicorn, WhiteNoise: scripts/serve.sh); the
# developer mode with autoreload is scripts/dev.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
# shellcheck source=scripts/env.sh
source scripts/env.sh
.venv/bin/kepu setup
mkdir -p var
.venv/bin/kepu worker --interval 1 > var/worker.log 2>&1 &
worker=$!
# Reminders (kepu remind is safe to run often: each reminder is sent once only).
( while true; do .venv/bin/kepu remind >> var/remind.log 2>&1; sleep 300; done ) &
reminder=$!
trap 'kill $worker $reminder 2>/dev/null || true' EXIT INT TERM
echo
echo "科普平台已启动: http://${KEPU_ADDR:-127.0.0.1:8000}  (按 Ctrl+C 停止; 后台任务日志: var/worker.log)"
bash scripts/serve.sh
