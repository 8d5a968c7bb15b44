"""Billbridge settings, all read from the environment (see docs/operations.md)."""
from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.get("DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
# Uploads over 2.5 MB are spooled next to the raw-file store, which then links to them instead of copying.
FILE_UPLOAD_TEMP_DIR = DATA_DIR / "tmp" / "uploads"
FILE_UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env.persistent_secret("SECRET_KEY", DATA_DIR)
FIELD_ENCRYPTION_KEY = env.persistent_secret(
    "FIELD_ENCRYPTION_KEY", DATA_DIR, generate=lambda: Fernet.generate_key().decode()
)
DEBUG = env.get_bool("DEBUG", True)
ALLOWED_HOSTS = [h for h in (env.get("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]") or "").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    # Our apps first: their commands (e.g. `export`) win over same-named ones of libraries.
    "billers",
    "payments",
    "exchanges",
    "import_export",
    "django_q",
    "rest_framework",
    "drf_spectacular",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
WSGI_APPLICATION = "config.wsgi.application"


def _database() -> dict:
    url = env.get("DATABASE_URL")
    if url:
        return dj_database_url.parse(url, conn_max_age=60)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "billbridge.sqlite3",
        "OPTIONS": {
            # The ORM broker and the web server share the file: WAL, a busy timeout and
            # IMMEDIATE transactions avoid "database is locked". A new file gets 16 KB pages (an
            # existing one keeps its own): invoice rows of 1-2 KB fill them well, and a big import
            # merges about a quarter faster than with SQLite's 4 KB.
            "init_command": "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "CONN_MAX_AGE": 60,
        "CONN_HEALTH_CHECKS": True,
    }


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").exists() else []

REDIS_URL = env.get("REDIS_URL")
# A shared cache where there is Redis (per-key API throttles count across workers), else per process.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}
Q_CLUSTER = {
    "name": "billbridge",
    "workers": env.get_int("Q_WORKERS", 2),
    # retry must exceed timeout, which must exceed the longest task.
    "timeout": env.get_int("Q_TIMEOUT", 600),
    "retry": env.get_int("Q_RETRY", 720),
    "catch_up": False,
    "max_attempts": 1,
    "save_limit": 1000,
    "sync": env.get_bool("Q_SYNC", False),
    # File imports and transport polls (minutes for a million invoices) run on a cluster of their own,
    # started with Q_CLUSTER_NAME=imports (make run does), so they never hold up the pump or RTDR tasks.
    "ALT_CLUSTERS": {
        "imports": {
            "workers": env.get_int("Q_IMPORT_WORKERS", 1),
            "timeout": env.get_int("Q_IMPORT_TIMEOUT", 3600),
            "retry": env.get_int("Q_IMPORT_RETRY", 4000),
        },
    },
}
IMPORT_CLUSTER = "imports"
if REDIS_URL:
    Q_CLUSTER["redis"] = REDIS_URL
else:
    Q_CLUSTER["orm"] = "default"

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {"TITLE": "Billbridge API", "VERSION": "1.0.0"}

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False

EXCHANGE_RETENTION_DAYS = env.get_int("EXCHANGE_RETENTION_DAYS", 90)
# Invoice files this big or bigger (BIF, FlexiBill) are read by several processes at once, one slice each.
INTAKE_READERS = env.get_int("INTAKE_READERS", min(4, os.cpu_count() or 1))
INTAKE_PARALLEL_MIN_BYTES = env.get_int("INTAKE_PARALLEL_MIN_BYTES", 16 << 20)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
}


# REST API (docs/api.md): how long a worker trusts a key it found (0: every call), and the call log's writer.
API_KEY_CACHE_SECONDS = float(env.get("API_KEY_CACHE_SECONDS") or 2.0)
API_CALL_LOG_WRITE_BEHIND = env.get_bool("API_CALL_LOG_WRITE_BEHIND", True)
API_CALL_LOG_DELAY = env.get_seconds("API_CALL_LOG_DELAY", 0.1, maximum=10)

# Mail: operations alerts (exchanges/alerts.py) go to ALERT_EMAILS (comma-separated), else to ADMINS.
# Without EMAIL_HOST, mail is written to the console log instead of being sent.
EMAIL_HOST = env.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env.get_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env.get_bool("EMAIL_USE_TLS", True)
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.get("DEFAULT_FROM_EMAIL", "billbridge@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
ADMINS = [("Operations", address.strip()) for address in (env.get("ADMIN_EMAILS", "") or "").split(",") if address.strip()]
ALERT_EMAILS = env.get("ALERT_EMAILS")
ALERT_BASE_URL = env.get("ALERT_BASE_URL", "")

# RTDR (billers/rtdr.py, docs/rtdr.md): SOAP timeouts in seconds and the per-endpoint circuit breaker.
RTDR_CONNECT_TIMEOUT = env.get_seconds("RTDR_CONNECT_TIMEOUT", 2.0)
RTDR_READ_TIMEOUT = env.get_seconds("RTDR_READ_TIMEOUT", 5.0)
RTDR_BREAKER_FAILURES = env.get_int("RTDR_BREAKER_FAILURES", 5)
RTDR_BREAKER_WINDOW = env.get_seconds("RTDR_BREAKER_WINDOW", 60.0)
RTDR_BREAKER_COOLDOWN = env.get_seconds("RTDR_BREAKER_COOLDOWN", 60.0)
RTDR_BREAKER_RECHECK = env.get_seconds("RTDR_BREAKER_RECHECK", 1.0)  # a process trusts its memory of an open breaker
# A process reuses a biller's settings read less than this ago (changes made here apply at once).
RTDR_SETTINGS_TTL = env.get_seconds("RTDR_SETTINGS_TTL", 1.0)
# Answered lookups are written (account, exchange, envelopes file, health) by a background thread in
# batches, RTDR_WRITE_DELAY seconds at most after the answer; failures are always written at once.
RTDR_WRITE_BEHIND = env.get_bool("RTDR_WRITE_BEHIND", True)
RTDR_WRITE_DELAY = env.get_seconds("RTDR_WRITE_DELAY", 0.05, maximum=10)

# Data pump (payments/delivery.py, docs/pump.md): attempts before dead, backoff, leases, SOAP timeouts.
PUMP_MAX_ATTEMPTS = env.get_int("PUMP_MAX_ATTEMPTS", 8)
PUMP_BACKOFF_SECONDS = env.get_seconds("PUMP_BACKOFF_SECONDS", 30.0)
PUMP_LEASE_SECONDS = env.get_seconds("PUMP_LEASE_SECONDS", 60.0)
PUMP_CONNECT_TIMEOUT = env.get_seconds("PUMP_CONNECT_TIMEOUT", 3.0)
PUMP_READ_TIMEOUT = env.get_seconds("PUMP_READ_TIMEOUT", 20.0)
PUMP_BATCH_SIZE = env.get_int("PUMP_BATCH_SIZE", 50)
