"""AgentAuth settings: one module, every deployment knob read from the environment.

With nothing set, the portal runs embedded: SQLite in WAL mode, the in-memory channel layer,
Celery tasks run eagerly in the web process, console e-mail. Production changes only the
environment: DATABASE_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS, AGENTAUTH_ISSUER, DEBUG=False.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from agentauth.lib.pool_check import check_idle_connection

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.getenv(name, str(default))
    if value not in ("True", "False", "1", "0", "true", "false"):
        raise ImproperlyConfigured(f"{name}={value!r}: use 'True' or 'False'")
    return value in ("True", "1", "true")


def env_int(name, default):
    value = os.getenv(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r}: expected a whole number") from None


def env_list(name, default=""):
    return [item.strip() for item in os.getenv(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", True)
# A development key is only acceptable with DEBUG on; the deploy check refuses it otherwise.
DEV_SECRET_KEY = "dev-insecure-agentauth-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
SECRET_KEY = os.getenv("SECRET_KEY", DEV_SECRET_KEY)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "oauth2_provider",
    "channels",
    # Floors, lowest first: each app imports only from the ones above it in this list
    # (docs/architecture.md; tests/test_layers.py keeps it so).
    "agentauth.audit",
    "agentauth.identity",
    "agentauth.consent",
    "agentauth.oauth",
    "agentauth.monitoring",
    "portal",
    "passkeys",
    "approvals",
    "live",
    "examples",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "agentauth.audit.middleware.RequestIdMiddleware",
    "agentauth.lib.middleware.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "agentauth.urls"
WSGI_APPLICATION = "agentauth.wsgi.application"
ASGI_APPLICATION = "agentauth.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: embedded SQLite unless DATABASE_URL names another one.
DATABASE_URL = os.getenv("DATABASE_URL")
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.getenv("SQLITE_PATH", str(BASE_DIR / "agentauth.sqlite3")),
        "OPTIONS": {
            # WAL lets readers run beside the single writer; IMMEDIATE takes the write lock at
            # BEGIN so two token requests can never interleave inside one transaction.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        },
        "TEST": {"NAME": str(BASE_DIR / ".test.sqlite3")},
    }
}
if DATABASE_URL:
    DATABASES["default"] = dj_database_url.parse(DATABASE_URL)
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Pooled connections (psycopg-pool) instead of one connection per request.
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": env_int("DATABASE_POOL_SIZE", 20),
            # A request that waits longer for a connection is better answered 503 (Retry-After).
            "timeout": env_int("DATABASE_POOL_TIMEOUT", 10),
            # Connections killed by the server (restart, pg_terminate_backend) are replaced on checkout,
            # asked with one empty query when idle for a second or more (agentauth.lib.pool_check).
            "check": check_idle_connection,
        }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: the fast path for the channel layer, Celery broker, cache and revocation list.
REDIS_URL = os.getenv("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # redis-py's 5 s socket timeout equals channels_redis' blocking read: give it room.
            # Its asyncio pool holds 100 connections and raises beyond that: thousands of sockets
            # closing at once (a deploy) each discard their groups and would exceed it.
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 10,
                        "max_connections": env_int("AGENTAUTH_LAYER_CONNECTIONS", 1000),
                    }
                ],
                # Every socket and long-poll of a process shares one inbox list in Redis; a busy
                # process drains it late, and past `capacity` a push is dropped (the default, 100,
                # dropped pushes at 200 agents on two cores).
                "capacity": env_int("AGENTAUTH_LAYER_CAPACITY", 5000),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "agentauth.lib.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery: eager in the embedded default (tasks run in the web process), a real broker with REDIS_URL.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_timeout": 5}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker outlives a broker outage of any length
CELERY_BEAT_SCHEDULER = "agentauth.lib.beat:SingleBeat"  # one beat per deployment, however many run
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# A web request must not hang on a broker that is down: one quick retry, then the sweeps take over.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_TIME_LIMIT = 60
CELERY_TASK_SOFT_TIME_LIMIT = 45
CELERY_BEAT_SCHEDULE_FILENAME = os.getenv("CELERY_BEAT_SCHEDULE_FILENAME", str(BASE_DIR / ".celerybeat-schedule"))
# How often the sweeps run, and how long approved work may wait for a worker before it is re-sent.
# /metrics answers loopback callers (not through a proxy) and `Authorization: Bearer <this>`.
AGENTAUTH_METRICS_TOKEN = os.getenv("AGENTAUTH_METRICS_TOKEN", "")
AGENTAUTH_SWEEP_SECONDS = env_int("AGENTAUTH_SWEEP_SECONDS", 15)
AGENTAUTH_STUCK_SECONDS = env_int("AGENTAUTH_STUCK_SECONDS", 30)
CELERY_BEAT_SCHEDULE = {
    "clear-expired-tokens": {"task": "agentauth.identity.tasks.clear_expired_tokens", "schedule": 3600},
    "expire-overdue-approvals": {"task": "approvals.tasks.expire_overdue", "schedule": AGENTAUTH_SWEEP_SECONDS},
    "requeue-stuck-approvals": {"task": "approvals.tasks.requeue_stuck", "schedule": AGENTAUTH_SWEEP_SECONDS},
    "monitoring-flush": {"task": "agentauth.monitoring.tasks.flush_activity", "schedule": 60},
    # Records are sealed right after each commit; this catches any whose sealer was busy.
    "seal-audit-log": {"task": "agentauth.audit.tasks.seal_audit_log", "schedule": 30},
    "security-review": {"task": "agentauth.monitoring.tasks.security_review", "schedule": 24 * 3600},
}

# E-mail (Django 6.1 MAILERS): console by default, SMTP when EMAIL_HOST is set.
AGENTAUTH_EMAIL_HOST = os.getenv("EMAIL_HOST", "")
if AGENTAUTH_EMAIL_HOST:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": AGENTAUTH_EMAIL_HOST,
                "port": env_int("EMAIL_PORT", 587),
                "username": os.getenv("EMAIL_HOST_USER", ""),
                "password": os.getenv("EMAIL_HOST_PASSWORD", ""),
                "use_tls": env_bool("EMAIL_USE_TLS", True),
                "timeout": 10,
            },
        }
    }
else:
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
DEFAULT_FROM_EMAIL = os.getenv("DEFAULT_FROM_EMAIL", "AgentAuth <agentauth@localhost>")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    # Client secrets are 256-bit random strings: key stretching adds nothing, so they use a
    # keyed HMAC instead of 1.5M PBKDF2 rounds (see agentauth/hashers.py and the README).
    "agentauth.identity.hashers.ClientSecretHasher",
]
# ModelBackend's rules and the db session engine's storage; both read their row by a query
# compiled once (people signed in under ModelBackend's path sign in again, once).
AUTHENTICATION_BACKENDS = ["agentauth.identity.backends.PersonBackend"]
SESSION_ENGINE = "agentauth.identity.sessions"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(os.getenv("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Security headers. Production behaviour follows DEBUG=False (CONTRACT.md).
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
if not DEBUG:
    # __Host- cookies are bound to this exact origin over https (CS-05).
    SESSION_COOKIE_NAME = "__Host-agentauth-session"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = 0 if DEBUG else 31536000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
if os.getenv("SECURE_PROXY_SSL_HEADER") == "X-Forwarded-Proto":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Strict CSP: no inline script or style anywhere. The consent form posts to our own origin and
# then redirects to the agent; Chromium applies form-action to that redirect too, so it is
# left open rather than listing every agent's host (DOT docs, "Content Security Policy").
SECURE_CSP = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "https:"],
    "connect-src": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
    "object-src": ["'none'"],
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 200

# OAuth: django-oauth-toolkit configured to RFC 9700 (OAuth 2.0 security best current practice).
# In development the issuer is where `make run` serves (HOST, PORT); production must name it.
DEV_ISSUER = f"http://{os.getenv('HOST', '127.0.0.1')}:{os.getenv('PORT', '8000')}"
AGENTAUTH_ISSUER = os.getenv("AGENTAUTH_ISSUER", DEV_ISSUER if DEBUG else "").rstrip("/")
# The audience of tokens for this project's own API (RFC 8707 resource indicator).
AGENTAUTH_API_AUDIENCE = os.getenv("AGENTAUTH_API_AUDIENCE", f"{AGENTAUTH_ISSUER}/api/")
# Other resource servers are data (admin, `manage.py register_resource`); these are created at migrate.
AGENTAUTH_EXTRA_RESOURCES = env_list("AGENTAUTH_EXTRA_RESOURCES")
AGENTAUTH_ACCESS_TOKEN_SECONDS = env_int("AGENTAUTH_ACCESS_TOKEN_SECONDS", 600)
AGENTAUTH_REFRESH_TOKEN_SECONDS = env_int("AGENTAUTH_REFRESH_TOKEN_SECONDS", 14 * 24 * 3600)
AGENTAUTH_CODE_SECONDS = env_int("AGENTAUTH_CODE_SECONDS", 60)
AGENTAUTH_DEVICE_INTERVAL = env_int("AGENTAUTH_DEVICE_INTERVAL", 5)
# Key that encrypts signing keys at rest. Defaults to one derived from SECRET_KEY.
AGENTAUTH_KEY_ENCRYPTION_KEY = os.getenv("AGENTAUTH_KEY_ENCRYPTION_KEY", "")
# Dynamic client registration is open on the embedded default; production requires this token.
AGENTAUTH_REGISTRATION_TOKEN = os.getenv("AGENTAUTH_REGISTRATION_TOKEN", "")
AGENTAUTH_OPEN_REGISTRATION = env_bool("AGENTAUTH_OPEN_REGISTRATION", DEBUG)
# Who may use dynamic client registration (RFC 7591): "open" (anyone; the default with
# AGENTAUTH_OPEN_REGISTRATION, so in development), "token" (the production default: everyone
# needs the initial access token; MCP clients can still come in by CIMD), or "public" (public
# clients without a token, rate-limited per address and marked unverified; confidential ones
# with the initial access token).
AGENTAUTH_REGISTRATION = os.getenv("AGENTAUTH_REGISTRATION", "")
# RFC 9449 DPoP: how far a proof's iat may be from now (seconds), and whether every proof must
# carry a nonce this server issued (answered with use_dpop_nonce and a DPoP-Nonce header).
AGENTAUTH_DPOP_PROOF_SECONDS = env_int("AGENTAUTH_DPOP_PROOF_SECONDS", 60)
AGENTAUTH_DPOP_NONCE = env_bool("AGENTAUTH_DPOP_NONCE", False)
# Whether the example API refuses Bearer tokens (then every agent must bind its tokens with DPoP).
AGENTAUTH_API_REQUIRES_DPOP = env_bool("AGENTAUTH_API_REQUIRES_DPOP", False)
# Web Push (RFC 8292 VAPID): the server's private key (base64url, as py_vapid writes it; required in
# production, derived from SECRET_KEY in development), the contact it names, and the push services
# a subscription may point at (suffixes; with DEBUG, 127.0.0.1 and localhost too, for tests).
# (VAPID_PRIVATE_KEY and VAPID_SUBJECT, the names in CONTRACT.md, work too.)
AGENTAUTH_VAPID_PRIVATE_KEY = os.getenv("AGENTAUTH_VAPID_PRIVATE_KEY", os.getenv("VAPID_PRIVATE_KEY", ""))
AGENTAUTH_VAPID_SUBJECT = os.getenv(
    "AGENTAUTH_VAPID_SUBJECT", os.getenv("VAPID_SUBJECT", "mailto:security@agentauth.invalid")
)
AGENTAUTH_PUSH_SERVICES = env_list(
    "AGENTAUTH_PUSH_SERVICES",
    "fcm.googleapis.com,updates.push.services.mozilla.com,push.services.mozilla.com,web.push.apple.com,notify.windows.com",
)
# How often a push that failed (not "gone") is retried, with backoff, before e-mail takes over.
AGENTAUTH_PUSH_RETRIES = env_int("AGENTAUTH_PUSH_RETRIES", 5)
# Passkeys (WebAuthn): the relying party ID and the origins its pages are served from. Both
# default to the issuer's (passkeys.ceremonies.relying_party).
AGENTAUTH_PASSKEY_RP_ID = os.getenv("AGENTAUTH_PASSKEY_RP_ID", "")
AGENTAUTH_PASSKEY_ORIGINS = env_list("AGENTAUTH_PASSKEY_ORIGINS", "")
# Hosts this server may call although they resolve to private or loopback addresses, and over
# plain http (agentauth.lib.outbound): callbacks, CIBA pings and every later outbound fetch.
AGENTAUTH_OUTBOUND_ALLOWED_HOSTS = env_list(
    "AGENTAUTH_OUTBOUND_ALLOWED_HOSTS",
    os.getenv("AGENTAUTH_OUTBOUND_ALLOW_HOSTS", "127.0.0.1,localhost" if DEBUG else ""),  # CONTRACT.md's name
)
# Client ids of registered resource servers that may call the introspection endpoint.
# A CA bundle for outbound https (an internal CA; the tests' own), else the system's.
AGENTAUTH_OUTBOUND_CA_BUNDLE = os.getenv("AGENTAUTH_OUTBOUND_CA_BUNDLE", "")
# Client ID Metadata Documents: a client_id that is an https URL is fetched and trusted as far
# as its own document says (public, redirect URIs listed there, marked unverified). On by default.
AGENTAUTH_CIMD = env_bool("AGENTAUTH_CIMD", True)
AGENTAUTH_JWKS_CACHE_SECONDS = 300

# The scope catalogue as seeded into the database; edit it later in the admin.
AGENTAUTH_SCOPES = {
    "documents:read": {"description": "Read your documents", "risk": "low"},
    "documents:write": {"description": "Create and change your documents", "risk": "medium"},
    "payments:read": {"description": "See your payments", "risk": "medium"},
    "calendar:write": {"description": "Send calendar invitations for you", "risk": "medium"},
    "payments:execute": {
        "description": "Make payments from your account",
        "risk": "high",
        "requires_approval": True,
    },
}

OAUTH2_PROVIDER_APPLICATION_MODEL = "agentauth.Agent"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "agentauth.AccessToken"
OAUTH2_PROVIDER_REFRESH_TOKEN_MODEL = "agentauth.RefreshToken"
OAUTH2_PROVIDER_ID_TOKEN_MODEL = "agentauth.IDToken"
OAUTH2_PROVIDER_GRANT_MODEL = "agentauth.AuthorizationCode"
OAUTH2_PROVIDER_DEVICE_GRANT_MODEL = "agentauth.DeviceAuthorization"
OAUTH2_PROVIDER = {
    "OAUTH2_VALIDATOR_CLASS": "agentauth.oauth.validator.AgentValidator",
    "OAUTH2_SERVER_CLASS": "agentauth.oauth.validator.AgentServer",
    "SCOPES_BACKEND_CLASS": "agentauth.identity.scopes.CatalogueScopes",
    "DEFAULT_SCOPES": [],
    "SCOPES": {},
    "ACCESS_TOKEN_GENERATOR": "agentauth.identity.tokens.generate_access_token",
    "REFRESH_TOKEN_GENERATOR": "oauthlib.oauth2.rfc6749.tokens.random_token_generator",
    "ACCESS_TOKEN_EXPIRE_SECONDS": AGENTAUTH_ACCESS_TOKEN_SECONDS,
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": AGENTAUTH_CODE_SECONDS,
    "REFRESH_TOKEN_EXPIRE_SECONDS": AGENTAUTH_REFRESH_TOKEN_SECONDS,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "PKCE_REQUIRED": True,
    "CLIENT_SECRET_HASHER": "agentauth_client_secret",
    "CLIENT_SECRET_GENERATOR_LENGTH": 64,
    "ALLOWED_REDIRECT_URI_SCHEMES": ["https", "http"],
    "ALLOW_URI_WILDCARDS": False,
    "ALLOW_LOCALHOST_LOOPBACK": True,
    "REQUEST_APPROVAL_PROMPT": "force",
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    # http stays allowed for loopback redirect URIs only (RFC 8252); see SILENCED_SYSTEM_CHECKS.
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": False,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "OIDC_ISS_ENDPOINT": AGENTAUTH_ISSUER,
    "OAUTH_DEVICE_VERIFICATION_URI": f"{AGENTAUTH_ISSUER}/device/",
    # RFC 8628 §3.3.1: the page with the code filled in; the person still confirms it there.
    "OAUTH_DEVICE_VERIFICATION_URI_COMPLETE": f"{AGENTAUTH_ISSUER}/device/?user_code={{user_code}}",
    "DEVICE_FLOW_INTERVAL": AGENTAUTH_DEVICE_INTERVAL,
    # DOT's default hook 500s on an unknown device code; AgentValidator does this job instead.
    "OAUTH_PRE_TOKEN_VALIDATION": [],
    "OAUTH2_GRANT_TYPES_SUPPORTED": [
        "authorization_code",
        "client_credentials",
        "refresh_token",
        "urn:ietf:params:oauth:grant-type:device_code",
    ],
    "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["client_secret_basic", "client_secret_post", "none"],
    "ERROR_RESPONSE_WITH_SCOPES": True,
    "OAUTH2_PROTECTED_RESOURCE_IDENTIFIER": AGENTAUTH_API_AUDIENCE,
    "OAUTH2_PROTECTED_RESOURCE_AUTHORIZATION_SERVERS": [AGENTAUTH_ISSUER],
    "OAUTH2_PROTECTED_RESOURCE_NAME": "AgentAuth example API",
    "CIMD_ENABLED": AGENTAUTH_CIMD,
    "CIMD_METADATA_FETCHER": "agentauth.oauth.client_metadata.GuardedFetcher",
    "CIMD_FETCH_TIMEOUT_SECONDS": 5,
    "CIMD_MAX_DOCUMENT_SIZE": 16 * 1024,
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["agentauth.resource.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["agentauth.resource.permissions.HasScopes"],
    "DEFAULT_THROTTLE_CLASSES": ["agentauth.resource.throttles.AgentRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["agentauth.lib.parsers.StrictJSONParser"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "agentauth.resource.error_handler.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AgentAuth APIs",
    "DESCRIPTION": "The example protected API, the agent's approval status and the person's decision endpoint.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "approvals.schema.add_plain_views"],
}

# One JSON object per line in production (LOG_FORMAT=json|text overrides), each naming the request,
# agent, approval or task it belongs to (agentauth.lib.logs).
LOG_FORMAT = os.getenv("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "agentauth.lib.logs.ContextFilter"}},
    "formatters": {"json": {"()": "agentauth.lib.logs.JSONFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["context"],
            **({"formatter": "json"} if LOG_FORMAT == "json" else {}),
        }
    },
    "root": {"handlers": ["console"], "level": os.getenv("LOG_LEVEL", "INFO")},
    "loggers": {
        # oauthlib logs request bodies (client secrets) at DEBUG: never let that through.
        "oauthlib": {"level": "WARNING"},
        "oauth2_provider": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# Deploy checks silenced on purpose, each with its reason.
SILENCED_SYSTEM_CHECKS = [
    # DOT W008: http redirect URIs are allowed, but only for loopback hosts (RFC 8252 native
    # agents); agentauth.redirects refuses http for any other host at registration.
    "oauth2_provider.W008",
]

# Demo data and the person-facing portal.
AGENTAUTH_DEMO_USERNAME = "demo"
AGENTAUTH_SERVICE_NAME = os.getenv("AGENTAUTH_SERVICE_NAME", "AgentAuth")
# Token buckets (see agentauth/lib/ratelimit.py): per agent and per person on the API, the tightest
# rate among the scopes a call needs; on the token endpoint per agent and per client IP; sign-in
# and device-code entry per username / person and per IP.
# Requests with more header bytes or lines than this get 431 (WebSocket handshakes: refused).
AGENTAUTH_MAX_HEADER_BYTES = env_int("AGENTAUTH_MAX_HEADER_BYTES", 32 * 1024)
AGENTAUTH_MAX_HEADER_COUNT = env_int("AGENTAUTH_MAX_HEADER_COUNT", 100)
AGENTAUTH_RATE_LIMITS = {
    "default": {
        "agent": os.getenv("AGENTAUTH_RATE_AGENT", "600/min"),
        "person": os.getenv("AGENTAUTH_RATE_PERSON", "1200/min"),
        "token": os.getenv("AGENTAUTH_RATE_TOKEN", "120/min"),
        "token_ip": os.getenv("AGENTAUTH_RATE_TOKEN_IP", "600/min"),
        "signin": "10/min",
        "signin_ip": "30/min",
        "device_code": "10/min",
        "register_ip": os.getenv("AGENTAUTH_RATE_REGISTER_IP", "10/hour"),  # open registrations per address
        "socket": os.getenv("AGENTAUTH_RATE_SOCKET", "60/min"),  # approval-feed connections per person
    },
    "payments:execute": {
        "agent": os.getenv("AGENTAUTH_RATE_PAYMENTS_AGENT", "30/min"),
        "person": os.getenv("AGENTAUTH_RATE_PAYMENTS_PERSON", "60/min"),
    },
}
# High-severity alerts suspend the agent at once.
AGENTAUTH_AUTO_SUSPEND = env_bool("AGENTAUTH_AUTO_SUSPEND", True)
# Scheduled audits: what counts as stale.
AGENTAUTH_REVIEW_UNUSED_DAYS = env_int("AGENTAUTH_REVIEW_UNUSED_DAYS", 30)
AGENTAUTH_REVIEW_SECRET_DAYS = env_int("AGENTAUTH_REVIEW_SECRET_DAYS", 90)
AGENTAUTH_REVIEW_KEY_DAYS = env_int("AGENTAUTH_REVIEW_KEY_DAYS", 90)
APPROVAL_TTL = timedelta(minutes=env_int("APPROVAL_TTL_MINUTES", 15))
# Seconds an execution holds its transaction before running the action: 0 except in fault drills
# (tests/faults kill a worker in the middle of one).
APPROVAL_EXECUTION_DELAY = float(os.getenv("APPROVAL_EXECUTION_DELAY", "0"))
APPROVAL_POLL_INTERVAL = 2  # seconds an agent should wait between status polls
APPROVAL_MAX_WAIT = 30  # seconds a long-poll (?wait=N) may hold the request
# High-risk approvals need a sign-in at most this old (seconds).
APPROVAL_REAUTH_SECONDS = env_int("APPROVAL_REAUTH_SECONDS", 300)
# What the operator asks by default; people and agents get their own policies in the portal/admin.
APPROVAL_DEFAULT_POLICIES = {"payments:execute": {"mode": "always"}}
# OpenID CIBA: how long a request may wait, how fast a person may be asked, how long its token lives.
CIBA_DEFAULT_EXPIRY = 300
CIBA_MAX_EXPIRY = 600
CIBA_RATE_PER_PERSON = os.getenv("CIBA_RATE_PER_PERSON", "10/min")
CIBA_TOKEN_SECONDS = 300
