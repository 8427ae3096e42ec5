#!/usr/bin/env bash
# First command: install everything, migrate SQLite, import divisions, load demo data,
# then serve on http://127.0.0.1:8000 (with the background task worker). Idempotent.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
.venv/bin/kepu setup
mkdir -p var
.venv/bin/kepu manage db_worker --interval 1 > var/worker.log 2>&1 &
worker=$!
# Reminders (kepu remind is safe to run often: each reminder is sent once only).
( while true; do .venv/bin/kepu remind >> var/remind.log 2>&1; sleep 300; done ) &
reminder=$!
trap 'kill $worker $reminder 2>/dev/null || true' EXIT INT TERM
echo
echo "科普平台已启动: http://127.0.0.1:8000  (按 Ctrl+C 停止; 后台任务日志: var/worker.log)"
.venv/bin/kepu serve "${KEPU_ADDR:-127.0.0.1:8000}"
