"""Django settings for Kepu.

Everything comes from environment variables with safe defaults:

- ``DATABASE_URL``: unset → an SQLite file ``db.sqlite3`` in the project folder;
  ``postgres://…`` → PostgreSQL (production).  Under pytest,
  ``KEPU_TEST_DATABASE_URL`` takes precedence so the suite can run on PostgreSQL.
- ``KEPU_ENV``: ``development`` (default: DEBUG on, only localhost may connect,
  a fixed development key) or ``production`` (DEBUG off, secure cookies, HSTS,
  ``KEPU_SECRET_KEY`` and ``KEPU_ALLOWED_HOSTS`` required).
- ``KEPU_DEBUG``: overrides DEBUG either way.
- ``KEPU_ALLOWED_HOSTS``: comma separated; ``KEPU_CSRF_TRUSTED_ORIGINS`` likewise.
- ``KEPU_SECURE_SSL_REDIRECT``, ``KEPU_HSTS_SECONDS``: HTTPS hardening in production;
  ``KEPU_HTTPS=0`` switches it off for the local production-mode server of scripts/start.sh.
- ``KEPU_TRUSTED_PROXIES``: reverse proxies whose X-Forwarded-For names the client.
- ``KEPU_STATIC_ROOT``, ``KEPU_MEDIA_ROOT``: where collected static and uploads live.
- ``KEPU_SQLITE_BUSY_TIMEOUT_MS``: how long an SQLite writer waits for the lock (20000).
- ``KEPU_MAX_REQUEST_BYTES``: the request-body limit (default 101 MB: the largest upload
  kind, survey microdata 100 MB, plus the form's other fields).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


TESTING = bool(os.environ.get("PYTEST_VERSION"))
PRODUCTION = os.environ.get("KEPU_ENV", "development").strip().lower() == "production"
DEBUG = _env_bool("KEPU_DEBUG", not PRODUCTION and not TESTING)

SECRET_KEY = os.environ.get("KEPU_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("KEPU_ENV=production requires KEPU_SECRET_KEY (see README).")
    SECRET_KEY = "kepu-development-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = _env_list("KEPU_ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,[::1]")
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "KEPU_ENV=production requires KEPU_ALLOWED_HOSTS (the site's host names, comma separated)."
    )
if TESTING:
    ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
CSRF_TRUSTED_ORIGINS = _env_list("KEPU_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "kepu.core",
    "kepu.regions",
    "kepu.orgs",
    "kepu.audit",
    "kepu.plans",
    "kepu.survey",
    "kepu.campaigns",
    "kepu.registry",
    "kepu.progress",
    "kepu.notifications",
    "kepu.statistics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kepu.core.limits.RequestBodyLimitMiddleware",
    "kepu.core.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kepu.audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

if PRODUCTION:
    # Static files are served by WhiteNoise in production; runserver serves them in development.
    MIDDLEWARE.insert(1, "whitenoise.middleware.WhiteNoiseMiddleware")

ROOT_URLCONF = "kepu.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "kepu" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kepu.core.context_processors.navigation",
            ],
        },
    },
]

WSGI_APPLICATION = "kepu.wsgi.application"
ASGI_APPLICATION = "kepu.asgi.application"

# SQLite: write-ahead logging so readers never wait for a writer, a busy timeout so a
# writer waits (instead of failing with "database is locked") while another commits,
# and IMMEDIATE transactions so two writers queue rather than deadlock.
SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("KEPU_SQLITE_BUSY_TIMEOUT_MS", "20000"))


def sqlite_database(path: str) -> Any:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS};"
                "PRAGMA synchronous=NORMAL"
            ),
        },
    }


_database_url = os.environ.get("DATABASE_URL")
if TESTING and os.environ.get("KEPU_TEST_DATABASE_URL"):
    _database_url = os.environ["KEPU_TEST_DATABASE_URL"]
if _database_url:
    DATABASES = {"default": dj_database_url.parse(_database_url, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        # No JIT: web queries are short, and a large cost estimate (a portal search over
        # 500,000 activities) made PostgreSQL spend 0.8 s compiling a 0.2 s query.
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
else:
    DATABASES = {
        "default": sqlite_database(os.environ.get("KEPU_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")))
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling (kepu/core/throttle.py): N failures of one account from one address,
# or N × factor failures from one address, lock further attempts until the window has
# passed; an account with N failures stays open to addresses that never failed on it.
KEPU_LOGIN_MAX_FAILURES = int(os.environ.get("KEPU_LOGIN_MAX_FAILURES", "5"))
KEPU_LOGIN_WINDOW_SECONDS = int(os.environ.get("KEPU_LOGIN_WINDOW_SECONDS", "900"))
KEPU_LOGIN_ADDRESS_FACTOR = int(os.environ.get("KEPU_LOGIN_ADDRESS_FACTOR", "4"))
# Reverse proxies (addresses or networks, comma separated) whose X-Forwarded-For is
# believed; empty: the client is REMOTE_ADDR.  Example: 127.0.0.1,10.0.0.0/8
KEPU_TRUSTED_PROXIES = _env_list("KEPU_TRUSTED_PROXIES")

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("KEPU_STATIC_ROOT", BASE_DIR / "staticfiles"))
_node_modules = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    ("vendor/htmx", _node_modules / "htmx.org" / "dist"),
    ("vendor/echarts", _node_modules / "echarts" / "dist"),
]
STATICFILES_DIRS = [(prefix, path) for prefix, path in STATICFILES_DIRS if path.exists()]
STATICFILES_FINDERS = [
    "kepu.core.staticfiles.VendorFileSystemFinder",  # collects only the vendor files we load
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if not PRODUCTION
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("KEPU_MEDIA_ROOT", BASE_DIR / "media"))
# Uploads: DATA_UPLOAD_MAX_MEMORY_SIZE bounds only the non-file form fields; the request
# body as a whole is bounded by KEPU_MAX_REQUEST_BYTES (kepu.core.limits, 413 before
# reading), and each kind of file by its own limit in kepu.core.files (checked from the
# upload's size before reading). Uploads over FILE_UPLOAD_MAX_MEMORY_SIZE go to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
if os.environ.get("KEPU_MAX_REQUEST_BYTES"):
    KEPU_MAX_REQUEST_BYTES = int(os.environ["KEPU_MAX_REQUEST_BYTES"])

TASKS = {
    "default": {
        "BACKEND": (
            "django_tasks.backends.immediate.ImmediateBackend"
            if TESTING
            else "django_tasks_db.backend.DatabaseBackend"
        )
    }
}

# Production hardening (all on unless DEBUG).
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
CSRF_COOKIE_HTTPONLY = False
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# KEPU_HTTPS=0: production mode served over plain HTTP on a local machine (scripts/start.sh
# on 127.0.0.1): no HTTPS redirect, no Secure-only cookies, no HSTS.  Never behind a public name.
HTTPS = _env_bool("KEPU_HTTPS", True)
if PRODUCTION:
    SESSION_COOKIE_SECURE = HTTPS
    CSRF_COOKIE_SECURE = HTTPS
    SECURE_SSL_REDIRECT = HTTPS and _env_bool("KEPU_SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("KEPU_HSTS_SECONDS", "31536000")) if HTTPS else 0
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = _env_bool("KEPU_HSTS_PRELOAD", False)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEPU_LOG_LEVEL", "WARNING")},
}

# Background jobs (kepu/core/jobs.py): a running job whose heartbeat is older than this
# is given up as "后台进程中断"; the heartbeat beats this often while a job runs.
KEPU_JOB_STALE_SECONDS = int(os.environ.get("KEPU_JOB_STALE_SECONDS", "600"))
KEPU_JOB_HEARTBEAT_SECONDS = float(os.environ.get("KEPU_JOB_HEARTBEAT_SECONDS", "30"))
# Above these sizes the ledger export and the survey microdata import run as jobs.
KEPU_LEDGER_EXPORT_JOB_ROWS = int(os.environ.get("KEPU_LEDGER_EXPORT_JOB_ROWS", "300"))
KEPU_SURVEY_IMPORT_JOB_BYTES = int(os.environ.get("KEPU_SURVEY_IMPORT_JOB_BYTES", str(1024 * 1024)))
# E-mail for notifications: the console backend unless a real one is configured.
EMAIL_BACKEND = os.environ.get(
    "KEPU_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
DEFAULT_FROM_EMAIL = os.environ.get("KEPU_FROM_EMAIL", "kepu@localhost")
