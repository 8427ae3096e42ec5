#!/usr/bin/env bash
# The web server of the first command, like production: DEBUG off (Chinese 404/500 pages),
# static files collected into STATIC_ROOT (KEPU_STATIC_ROOT, default ./staticfiles) and
# served by WhiteNoise, under gunicorn.  Needs the installed .venv (scripts/bootstrap.sh)
# and a migrated database (kepu setup); scripts/start.sh does both and then runs this.
#   KEPU_ADDR          address:port (default 127.0.0.1:8000)
#   KEPU_WEB_WORKERS   gunicorn worker processes (default 2), KEPU_WEB_THREADS threads each (4)
#   KEPU_ACCESS_LOG    access log file (default var/access.log; "-" for the terminal)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh
mkdir -p "$KEPU_VAR"
"$PY" manage.py collectstatic --noinput -v0
exec "$PY" -m gunicorn kepu.wsgi \
  --bind "${KEPU_ADDR:-127.0.0.1:8000}" \
  --workers "${KEPU_WEB_WORKERS:-2}" --threads "${KEPU_WEB_THREADS:-4}" \
  --timeout 120 --graceful-timeout 20 \
  --access-logfile "${KEPU_ACCESS_LOG:-$KEPU_VAR/access.log}"
