#!/usr/bin/env bash
# Developer mode: DEBUG on (Django's debug pages), the development server that reloads on
# every code change, static files straight from the apps and node_modules, the background
# task worker beside it.  Same database as the first command (db.sqlite3 unless DATABASE_URL).
# Not for users: scripts/start.sh serves like production.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/bootstrap.sh
export KEPU_ENV=development
.venv/bin/kepu setup
mkdir -p var
.venv/bin/kepu manage db_worker --interval 1 > var/worker.log 2>&1 &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo
echo "开发模式 (自动重载, DEBUG 开启): http://${KEPU_ADDR:-127.0.0.1:8000}  (后台任务日志: var/worker.log)"
.venv/bin/kepu serve "${KEPU_ADDR:-127.0.0.1:8000}"
