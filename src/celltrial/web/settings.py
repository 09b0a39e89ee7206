"""Settings of the registry server, all from the environment that `celltrial serve` (or a
test) sets: CELLTRIAL_DATA_DIR, DATABASE_URL, CELLTRIAL_DEBUG, CELLTRIAL_SECRET_KEY,
CELLTRIAL_ALLOWED_HOSTS, CELLTRIAL_HTTPS."""

from __future__ import annotations

import os
from pathlib import Path

from celltrial.web.database import database_settings
from celltrial.web.secret import secret_key

DATA_DIR = Path(os.environ.get("CELLTRIAL_DATA_DIR", ".")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
DEBUG = os.environ.get("CELLTRIAL_DEBUG") == "1"
SECRET_KEY = secret_key(DATA_DIR)
ALLOWED_HOSTS = os.environ.get("CELLTRIAL_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "ninja",
    "celltrial.registry",
    # registry pages (issue 12): templates and static files of celltrial.web, htmx requests
    "django.contrib.staticfiles",
    "django_htmx",
    "celltrial.web",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",  # registry pages: request.htmx
    "celltrial.web.json_errors.ApiErrorsAsJson",
]
ROOT_URLCONF = "celltrial.web.urls"
WSGI_APPLICATION = "celltrial.web.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csrf",
                "django.contrib.auth.context_processors.auth",
                "celltrial.web.pages.header.header",  # registry pages: studies and alerts
            ]
        },
    }
]
DATABASES = {"default": database_settings(DATA_DIR, os.environ.get("DATABASE_URL"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# Naive datetimes: StudyData times are local clinic times without a zone (schema.py), and
# the round trip folder -> database -> folder must give them back unchanged.
USE_TZ = False
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = False

# Django's default password hasher (PBKDF2) and its validators
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Bodies above 2.5 MB (Django's default) are refused before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# Security headers (Django deployment checklist, `manage.py check --deploy`)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
_HTTPS = os.environ.get("CELLTRIAL_HTTPS") == "1"  # served behind an HTTPS proxy
SESSION_COOKIE_SECURE = _HTTPS
CSRF_COOKIE_SECURE = _HTTPS
if _HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31_536_000  # one year, as the Django deployment checklist suggests
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["console"], "level": "WARNING"}},
}

# Registry pages (issue 12): static files served by the app itself (nothing from the
# network), e-mail alerts to a file in the data folder unless SMTP is configured.
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
LOGIN_URL = "pages:login"
LOGIN_REDIRECT_URL = "pages:home"
LOGOUT_REDIRECT_URL = "pages:login"
EMAIL_BACKEND = os.environ.get(
    "CELLTRIAL_EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = os.environ.get("CELLTRIAL_EMAIL_HOST", "localhost")
DEFAULT_FROM_EMAIL = os.environ.get("CELLTRIAL_EMAIL_FROM", "celltrial@localhost")
