"""Stock django-oauth-toolkit, served as DOT serves best: gunicorn sync workers, persistent connections.

Everything is Django's `startproject` default or DOT's documented default: the client secret is
hashed with Django's first PASSWORD_HASHERS entry (PBKDF2, 1.5M rounds) and access tokens are
opaque rows looked up on every API request. BENCH_FAST_HASHER=1 puts Django's built-in
MD5PasswordHasher first instead, so the secret check costs microseconds (the "fast hasher" variant).
"""

import os

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "bench-only-dot-baseline-key-0123456789abcdefghijklmnopqrstuvwxyz")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
# The load generator stands in for a TLS-terminating proxy, as for every system in the suite.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "oauth2_provider",
    "documents",
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
ROOT_URLCONF = "dotsite.urls"
WSGI_APPLICATION = "dotsite.wsgi.application"
TEMPLATES = []
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("BENCH_DB_NAME", "bench_dot"),
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "CONN_MAX_AGE": 600,  # one connection per sync worker, kept between requests
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"

if os.environ.get("BENCH_FAST_HASHER") == "1":
    PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]

OAUTH2_PROVIDER = {
    # The same scope names as AgentAuth, so every system receives the same request body.
    "SCOPES": {"documents:read": "Read documents", "documents:write": "Write documents"},
    "ACCESS_TOKEN_EXPIRE_SECONDS": 600,
}
REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
