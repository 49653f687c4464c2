"""Authlib's Django OAuth 2.0 server (authlib.integrations.django_oauth2), on the same stack as DOT:
gunicorn sync workers, PostgreSQL with persistent connections, startproject's middleware."""

import os

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "bench-only-authlib-baseline-key-0123456789abcdefghijklmnopqrstuvwxyz")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "oauth",
]
MIDDLEWARE = [  # startproject's defaults
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "authlibsite.urls"
WSGI_APPLICATION = "authlibsite.wsgi.application"
TEMPLATES = []
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BENCH_DB_NAME", "bench_authlib"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "CONN_MAX_AGE": 600,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

AUTHLIB_OAUTH2_PROVIDER = {"token_expires_in": {"client_credentials": 600}}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
