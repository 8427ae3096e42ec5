# Environment of the first command (sourced by scripts/start.sh and scripts/serve.sh):
# production mode on this machine.  DEBUG is off, errors show the Chinese pages, static
# files are served by WhiteNoise; served over plain HTTP on 127.0.0.1, so KEPU_HTTPS=0
# (no HTTPS redirect, no Secure-only cookies).  Anything already set in the environment wins.
# Developer mode with autoreload: scripts/dev.sh.
PY="${KEPU_PYTHON:-.venv/bin/python}"
KEPU_VAR="${KEPU_VAR:-var}"
export KEPU_ENV="${KEPU_ENV:-production}"
export KEPU_HTTPS="${KEPU_HTTPS:-0}"
kepu_addr="${KEPU_ADDR:-127.0.0.1:8000}"
kepu_host="${kepu_addr%:*}"
kepu_host="${kepu_host#[}"
kepu_host="${kepu_host%]}"
case "$kepu_host" in
  127.0.0.1|localhost|::1|0.0.0.0|::|"") kepu_host="" ;;
esac
export KEPU_ALLOWED_HOSTS="${KEPU_ALLOWED_HOSTS:-127.0.0.1,localhost,[::1]${kepu_host:+,$kepu_host}}"
if [ -z "${KEPU_SECRET_KEY:-}" ]; then
  # one random key per installation, kept in var/ (not in git)
  mkdir -p "$KEPU_VAR"
  if [ ! -s "$KEPU_VAR/secret_key" ]; then
    (umask 077 && "$PY" -c 'import secrets; print(secrets.token_urlsafe(50))' > "$KEPU_VAR/secret_key")
  fi
  KEPU_SECRET_KEY="$(cat "$KEPU_VAR/secret_key")"
  export KEPU_SECRET_KEY
fi
