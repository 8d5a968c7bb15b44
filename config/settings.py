"""Billbridge settings, all read from the environment (see docs/operations.md)."""
from __future__ import annotations

from pathlib import Path

import dj_database_url
from cryptography.fernet import Fernet

from config import env

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env.get("DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

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
    "import_export",
    "django_q",
    "rest_framework",
    "drf_spectacular",
    "billers",
    "payments",
    "exchanges",
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
            # IMMEDIATE transactions avoid "database is locked".
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
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
}
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

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.get("LOG_LEVEL", "INFO")},
}
