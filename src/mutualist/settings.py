"""Django settings, driven only by MUTUALIST_* environment variables (see docs/configuration.md).

MUTUALIST_MODE decides the defaults: `production` (the default) refuses to start without a
secret key or with debug on; `development`, `demo` and `test` are for one machine and generate
a local secret key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured

from mutualist.lib.env import (
    MODES,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_secret,
    parse_database_url,
)

# Lets `admin.ModelAdmin[Model]` and similar generic annotations work at run time.
django_stubs_ext.monkeypatch()

PACKAGE_DIR = Path(__file__).resolve().parent

MODE = env_choice("MUTUALIST_MODE", MODES, "production")
LOCAL_MODE = MODE != "production"
DATA_DIR = Path(os.environ.get("MUTUALIST_DATA_DIR", "").strip() or "var").resolve()


def _local_secret_key() -> str:
    """A per-installation key for local modes, kept in the data dir so sessions survive restarts."""
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


SECRET_KEY = env_secret("MUTUALIST_SECRET_KEY")
if not SECRET_KEY:
    if not LOCAL_MODE:
        raise ImproperlyConfigured(
            "MUTUALIST_SECRET_KEY is not set. Set it to a long random string (for example the "
            "output of `python -c 'import secrets; print(secrets.token_urlsafe(50))'`), or set "
            "MUTUALIST_MODE=development for a local, non-production run."
        )
    SECRET_KEY = _local_secret_key()

DEBUG = env_bool("MUTUALIST_DEBUG", default=MODE == "development")
if DEBUG and not LOCAL_MODE:
    raise ImproperlyConfigured(
        "MUTUALIST_DEBUG is on while MUTUALIST_MODE=production: debug pages leak settings and "
        "data. Unset MUTUALIST_DEBUG, or set MUTUALIST_MODE=development on a private machine."
    )

ALLOWED_HOSTS = env_list(
    "MUTUALIST_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if LOCAL_MODE else []
)
if not ALLOWED_HOSTS and not LOCAL_MODE:
    raise ImproperlyConfigured(
        "MUTUALIST_ALLOWED_HOSTS is not set. Set it to the host names the server answers to, "
        "comma-separated, for example MUTUALIST_ALLOWED_HOSTS=partners.example.com"
    )

_default_db_url = f"sqlite:///{DATA_DIR / 'mutualist.sqlite3'}"
DATABASE_URL = os.environ.get("MUTUALIST_DATABASE_URL", "").strip() or _default_db_url
DATABASES = {"default": parse_database_url("MUTUALIST_DATABASE_URL", DATABASE_URL).as_django()}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(str(DATABASES["default"]["NAME"])).parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "ninja",
    "django_tasks",
    "django_tasks_db",
    "mutualist.core",
    "mutualist.audit",
    "mutualist.accounts",
    "mutualist.partners",
    "mutualist.crm",
    "mutualist.imports",
    "mutualist.insights",
    "mutualist.overlaps",
    "mutualist.cosell",
    "mutualist.onboarding",
    "mutualist.tiers",
    "mutualist.agreements",
    "mutualist.fit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "mutualist.core.middleware.ActionErrorsMiddleware",
]

ROOT_URLCONF = "mutualist.urls"
WSGI_APPLICATION = "mutualist.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mutualist.core.context.site",
                "mutualist.cosell.context.unread",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if MODE == "test":
    # The default hasher is deliberately slow; tests create many users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
FISCAL_YEAR_START_MONTH = env_int("MUTUALIST_FISCAL_YEAR_START_MONTH", 1)
if not 1 <= FISCAL_YEAR_START_MONTH <= 12:
    raise ImproperlyConfigured(
        f"MUTUALIST_FISCAL_YEAR_START_MONTH={FISCAL_YEAR_START_MONTH} is not a month; use 1 to 12"
    )
BASE_CURRENCY = os.environ.get("MUTUALIST_BASE_CURRENCY", "USD").strip().upper()
if len(BASE_CURRENCY) != 3 or not BASE_CURRENCY.isalpha():
    raise ImproperlyConfigured(
        f"MUTUALIST_BASE_CURRENCY={BASE_CURRENCY!r} is not an ISO 4217 code such as USD or EUR"
    )

STATIC_URL = "static/"
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
# Local modes serve straight from the package (no collectstatic); production from STATIC_ROOT.
STATIC_ROOT = None if LOCAL_MODE else DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if LOCAL_MODE
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
# Local modes serve static files straight from the package, no collectstatic step needed.
WHITENOISE_USE_FINDERS = LOCAL_MODE
WHITENOISE_AUTOREFRESH = DEBUG

# Notifications' e-mail: SMTP when MUTUALIST_SMTP_HOST is set, else printed to the console
# (development and the demo; `mutualist check --deploy` warns about it in production).
EMAIL_HOST = os.environ.get("MUTUALIST_SMTP_HOST", "").strip()
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("MUTUALIST_SMTP_PORT", 587)
EMAIL_HOST_USER = os.environ.get("MUTUALIST_SMTP_USER", "").strip()
EMAIL_HOST_PASSWORD = env_secret("MUTUALIST_SMTP_PASSWORD")
EMAIL_USE_TLS = env_bool("MUTUALIST_SMTP_TLS", default=True)
DEFAULT_FROM_EMAIL = os.environ.get("MUTUALIST_EMAIL_FROM", "mutualist@localhost").strip()

# Security: production assumes HTTPS (directly or behind a proxy that sets X-Forwarded-Proto).
HTTPS = env_bool("MUTUALIST_HTTPS", default=not LOCAL_MODE)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31_536_000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = env_list("MUTUALIST_CSRF_TRUSTED_ORIGINS", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

NINJA_PAGINATION_PER_PAGE = 50

# Background work (imports) runs in a worker process reading a database queue
# (`mutualist db_worker`; `mutualist serve` and `demo` start one). Tests run tasks inline.
TASKS = {
    "default": {
        "BACKEND": "django_tasks.backends.immediate.ImmediateBackend"
        if MODE == "test"
        else "django_tasks_db.DatabaseBackend"
    }
}
UPLOAD_DIR = DATA_DIR / "uploads"
# The currency the board reports in; other currencies are converted with the imported monthly
# rates (`mutualist import rates`), and amounts without a rate are flagged, never guessed.
REPORTING_CURRENCY = os.environ.get("MUTUALIST_REPORTING_CURRENCY", "USD").strip().upper()
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
