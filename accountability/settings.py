"""Settings for the commitment tracker: every setting, each read once from the
environment (django-environ) with a safe default. Must not make folders, open connections
or guess whether tests are running (tests use ``accountability/settings_test.py``).

Every setting that differs between machines comes from an environment variable. With
none set, the project runs on one machine with no servers at all: SQLite in a file under
``var/``, Celery on kombu's filesystem transport, and a file cache there. Set
``DATABASE_URL`` and ``CELERY_BROKER_URL`` (and ``REDIS_URL`` for the cache) and the
same code runs on PostgreSQL and Redis.
"""

import datetime
import ipaddress
import os
import sys
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class Env(environ.Env):
    """django-environ's reader, with this project's rules for a value kept: an empty
    variable counts as unset, booleans and numbers are read strictly, list items are
    trimmed, nothing is expanded (a value starting with ``$`` is taken as it is), and a
    value that does not parse stops the start with a message naming the variable."""

    TRUE, FALSE = {"1", "true", "yes", "on"}, {"0", "false", "no", "off"}
    MEANING = {bool: "a boolean (1/0, true/false)", int: "a whole number", float: "a number"}

    def get_value(self, var, cast=None, default=environ.Env.NOTSET, parse_default=False):
        raw = self.ENVIRON.get(var, "")
        if raw == "":
            if default is self.NOTSET:
                raise ImproperlyConfigured(f"Set the {var} environment variable")
            return default
        try:
            return self.parse_value(raw, cast)
        except ValueError as exc:
            raise ImproperlyConfigured(
                f"{var} must be {self.MEANING.get(cast, 'valid')}, not {raw!r}"
            ) from exc

    @classmethod
    def parse_value(cls, value, cast):
        if cast is bool:
            lowered = value.strip().lower()
            if lowered not in cls.TRUE | cls.FALSE:
                raise ValueError(value)
            return lowered in cls.TRUE
        if cast is float:
            return float(value)
        if cast is list:
            return [item.strip() for item in value.split(",") if item.strip()]
        return super().parse_value(value, cast)

    def positive(self, var: str, default: float) -> float:
        """A number above 0 (an interval or a timeout)."""
        number = self.float(var, default)
        if number <= 0:
            raise ImproperlyConfigured(f"{var} must be more than 0, not {self.str(var)!r}")
        return number


env = Env()
BASE_DIR = Path(__file__).resolve().parent.parent
# Nothing is made here at import: the secret key's writer makes this folder, as does
# manage.py (for SQLite); the Celery app (accountability/celery.py), the file cache and
# `collectstatic` make their own folders.
VAR_DIR = Path(env.str("VAR_DIR", default=str(BASE_DIR / "var")))


# --- Core -------------------------------------------------------------------------------
# Production by default: DEBUG is off unless DEBUG=1 is set.
DEBUG = env.bool("DEBUG", False)


def secret_key_from(path: Path) -> str:
    """The key kept in ``path``, made on first use: 50 random characters, mode 600. Written
    to a temporary file and linked into place, so processes starting together (web, worker,
    beat) all read the one key that won."""
    if not path.exists():
        from django.core.management.utils import get_random_secret_key

        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(get_random_secret_key())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    key = path.read_text().strip()
    if len(key) < 50:
        raise ImproperlyConfigured(
            f"{path} holds no usable secret key: delete it or set SECRET_KEY"
        )
    return key


# Given: used as is. Not given: generated on first run and kept in VAR_DIR/secret_key.
SECRET_KEY = env.str("SECRET_KEY", default=None) or secret_key_from(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# The address `make run` serves (Procfile), and by default the public address too.
WEB_HOST = env.str("WEB_HOST", default="127.0.0.1")
WEB_PORT = env.int("WEB_PORT", 8000)
_SERVED_HOST = "localhost" if WEB_HOST in {"0.0.0.0", "::", "[::]"} else WEB_HOST
SITE_URL = env.str("SITE_URL", default=f"http://{_SERVED_HOST}:{WEB_PORT}").rstrip("/")
# The product's name in pages, feeds and the API's title.
SITE_NAME = env.str("SITE_NAME", default="Commitment Tracker")
# Who runs the site and where readers write (the /about/ page; corrections requests).
SITE_PUBLISHER = env.str("SITE_PUBLISHER", default="")
SITE_CONTACT_EMAIL = env.str("SITE_CONTACT_EMAIL", default="")
# Whether readers reach the site over https; the HTTPS-only settings below follow it.
SITE_IS_HTTPS = SITE_URL.lower().startswith("https://")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.sitemaps",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    # Only for its templates and static files: the API docs page then loads Swagger UI
    # from this site rather than a CDN, so the Content-Security-Policy needs no exception.
    "ninja",
    "django_filters",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "commitments",
]

MIDDLEWARE = [
    # The language, from the address alone (/fr/...), before anything renders or keys a cache.
    "commitments.middleware.UrlLanguageMiddleware",
    # Outermost: a request still waiting on the database past its deadline has its
    # connection cut (a frozen server), so it fails fast instead of hanging.
    "commitments.middleware.DatabaseDeadlineMiddleware",
    # Then the page cache: it stores the final answer (cookies and all) and a hit skips the rest.
    "commitments.caching.PublicCacheMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "accountability.headers.PermissionsPolicyMiddleware",
    "accountability.headers.ContentSecurityPolicyMiddleware",
    "commitments.middleware.api_errors_as_json",
    "commitments.middleware.refuse_nul_bytes",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After whitenoise (static files never touch the database): a database error below
    # becomes a plain 503 page.
    "commitments.middleware.DatabaseUnavailableMiddleware",
    # Below whitenoise (static files come precompressed from there); above everything that
    # writes a body. Compresses only cookie-less requests outside the admin (BREACH).
    "accountability.headers.PublicGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "commitments.sign_in.RequireTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "accountability.urls"
# Web addresses typed without a scheme are taken as https (Django 6's default).
FORMS_URLFIELD_ASSUME_HTTPS = True
WSGI_APPLICATION = "accountability.wsgi.application"

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
                "commitments.context_processors.site",
                "commitments.context_processors.languages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": {
        **env.db_url("DATABASE_URL", default=DEFAULT_SQLITE),
        "CONN_MAX_AGE": env.int("CONN_MAX_AGE", 60),
        "CONN_HEALTH_CHECKS": True,
    }
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded default has several writers at once (the web process and two worker
    # processes fanning out and sending alerts). A transaction that reads, then writes,
    # cannot wait for another writer ("database is locked" at once): each takes the write
    # lock when it begins instead, waiting up to 20 s for it, and WAL lets readers go on.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------
CACHE_URL = env.str("CACHE_URL", default=None) or env.str("REDIS_URL", default="")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "accountability",
        }
    }
elif CACHE_URL.startswith("locmem://"):
    # One cache per process: only for a single process (the page cache stays right, as its
    # keys hold the public version, but each process renders every page itself).
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
else:
    # A file cache every process on the machine shares: the embedded default (in var/cache)
    # or CACHE_URL=file:///path.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": CACHE_URL.removeprefix("file://") or str(VAR_DIR / "cache"),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
# HTTP caching of public answers (commitments/caching.py): how long browsers and proxies
# may keep them, how long they may serve a stale copy while they revalidate, and how long
# a process may reuse the public version it read (0: read on every request; otherwise a
# write shows up to that many seconds late on each process).
# PUBLIC_CACHE=0 renders every public answer (headers and 304s stay): for the benchmark's
# uncached figures.
PUBLIC_CACHE = env.bool("PUBLIC_CACHE", True)
PUBLIC_MAX_AGE = env.int("PUBLIC_MAX_AGE", 60)
PUBLIC_STALE_WHILE_REVALIDATE = env.int("PUBLIC_STALE_WHILE_REVALIDATE", 60)
PUBLIC_VERSION_SECONDS = env.int("PUBLIC_VERSION_SECONDS", 0)

# --- Auth -------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"
# django-axes first: it refuses sign-ins while an account or address is locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Sign-in throttling (django-axes). AXES_FAILURE_LIMIT failed sign-ins lock the account
# (username) and, separately, the address (IP) for AXES_COOLOFF_MINUTES; an Admin can
# unlock earlier by deleting the attempt in the admin (Axes > Access attempts).
AXES_ENABLED = env.bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "commitments.sign_in.lockout_response"
# Behind reverse proxies the address is the proxy's: set TRUSTED_PROXY_COUNT to the number of
# proxies in front that append to X-Forwarded-For (nginx, a load balancer), and the
# client's address is read from there (only the entries those proxies wrote).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "commitments.sign_in.client_ip"
AXES_HTTP_RESPONSE_CODE = 429

# Two-factor sign-in (django-otp, TOTP). With REQUIRE_2FA on, Publishers, Admins and
# superusers cannot use the admin until they have enrolled an authenticator app and
# entered a code this session; Editors may enrol but are not forced. Default: on when
# DEBUG is off (production), off when DEBUG is on (development and tests).
REQUIRE_2FA = env.bool("REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Commitment tracker")

# --- Internationalisation ---------------------------------------------------------------
# English at the unprefixed addresses (today's links keep working), French under /fr/
# (i18n_patterns, accountability/urls.py). The language comes from the address alone
# (commitments.middleware.UrlLanguageMiddleware), never from Accept-Language or a cookie, so
# a cached public page never varies on them. One catalogue, locale/fr/LC_MESSAGES/
# django.po, compiled on install (make venv, make messages).
LANGUAGE_CODE = "en-gb"
LANGUAGES = [("en-gb", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/London")
USE_I18N = True
USE_TZ = True

# The editors' digest's language (a French newsroom's desk: fr). One of LANGUAGES.
EDITORS_DIGEST_LANGUAGE = env.str("EDITORS_DIGEST_LANGUAGE", LANGUAGE_CODE)
if EDITORS_DIGEST_LANGUAGE not in dict(LANGUAGES):
    raise ImproperlyConfigured(
        f"EDITORS_DIGEST_LANGUAGE must be one of {', '.join(dict(LANGUAGES))} "
        f"(not {EDITORS_DIGEST_LANGUAGE!r})."
    )

# --- Static files (whitenoise) ----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Whitenoise serves from here once `collectstatic` has run (make run and the Dockerfile run
# it). Always the manifest storage (hashed, compressed names, cached for ever), whatever
# DEBUG says, so a `collectstatic` made with DEBUG on serves with DEBUG off too; with DEBUG
# on, Django links the plain names and whitenoise finds them through the finders.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security (the `check --deploy` list is clean when SITE_URL is https) ----------------
# X-Forwarded-Proto is believed only when TRUSTED_PROXY says a proxy in front sets it (and
# overwrites what the client sent): compose's nginx does. Published directly, a client
# could claim https with it.
TRUSTED_PROXY = env.bool("TRUSTED_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY else None
# HTTPS-only settings follow SITE_URL's scheme (https: on, http: off); each can be set.
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", SITE_IS_HTTPS)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", SITE_IS_HTTPS)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", SITE_IS_HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30 if SITE_IS_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SITE_IS_HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", False)
# Preloading is a deliberate, hard-to-undo choice per domain: off unless asked for, and the
# deploy check's reminder about it is silenced while it is off.
# models.W040: SQLite has no INCLUDE; it builds the flag job's covering indexes without it.
SILENCED_SYSTEM_CHECKS = ([] if SECURE_HSTS_PRELOAD else ["security.W021"]) + ["models.W040"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4; accountability.headers adds the two exceptions: the
# admin may use inline style attributes, and the embed card may be framed by any site).
# Nothing inline on public pages: scripts and styles come from /static/ only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Features no page uses, refused for the page and anything it frames.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer", "autoplay", "browsing-topics", "camera", "display-capture",
        "geolocation", "gyroscope", "magnetometer", "microphone", "midi", "payment",
        "publickey-credentials-get", "serial", "usb", "xr-spatial-tracking",
    )
}  # fmt: skip

# --- Email ------------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="tracker@localhost")
# Seconds an SMTP connection, or one command on it, may take before the send fails (and is
# retried later): never a web request or a worker hanging on a mail server.
EMAIL_TIMEOUT = env.positive("EMAIL_TIMEOUT", 10)

# --- Celery -----------------------------------------------------------------------------
# No broker URL: kombu's filesystem transport, which needs no server and works with a
# worker and beat on one machine. Set CELERY_BROKER_URL=redis://... for a real broker.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"
    # Made by accountability/celery.py when the Celery app first reads these settings.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
else:
    # A late-acknowledged task is redelivered after this long; it must outlast the
    # longest task time limit below.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 60 * 60}
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


# The one beat schedule. Intervals are settings so a newsroom can tune them; they take
# decimals, so FLAG_STALLED_EVERY_HOURS=0.01 runs the stall job every 36 seconds.
STALL_AFTER_DAYS = env.int("STALL_AFTER_DAYS", 90)
FLAG_STALLED_EVERY_HOURS = env.positive("FLAG_STALLED_EVERY_HOURS", 24)
CHECK_SOURCES_EVERY_DAYS = env.positive("CHECK_SOURCES_EVERY_DAYS", 7)
EDITORS_DIGEST_EVERY_HOURS = env.positive("EDITORS_DIGEST_EVERY_HOURS", 24)
SNAPSHOT_EVERY_HOURS = env.positive("SNAPSHOT_EVERY_HOURS", 24)
ARCHIVE_SWEEP_EVERY_HOURS = env.positive("ARCHIVE_SWEEP_EVERY_HOURS", 24)
CELERY_BEAT_SCHEDULE: dict = {
    "flag-stalled-commitments": {
        "task": "commitments.tasks.refresh_flags",
        "schedule": FLAG_STALLED_EVERY_HOURS * 60 * 60,
    },
    "check-sources": {
        "task": "commitments.tasks.check_sources",
        "schedule": CHECK_SOURCES_EVERY_DAYS * 24 * 60 * 60,
    },
    "archive-sources": {
        # Catches sources whose archiving was never enqueued (the broker was down when the
        # editor saved) or gave up (e.g. rate limits).
        "task": "commitments.tasks.archive_pending_sources",
        "schedule": ARCHIVE_SWEEP_EVERY_HOURS * 60 * 60,
    },
    "editors-digest": {
        "task": "commitments.tasks.send_editors_digest",
        "schedule": EDITORS_DIGEST_EVERY_HOURS * 60 * 60,
    },
    "data-snapshot": {
        # One dated snapshot a day; a second run on the same day keeps the first.
        "task": "commitments.tasks.write_data_snapshot",
        "schedule": SNAPSHOT_EVERY_HOURS * 60 * 60,
    },
}

# --- Following a promise: email alerts and webhooks (issue 12) ---------------------------
# A confirmation link works for this many hours; an unconfirmed subscription is deleted after.
ALERTS_CONFIRM_MAX_AGE_HOURS = env.positive("ALERTS_CONFIRM_MAX_AGE_HOURS", 72)
# Subscription requests answered per hour for one address, and for one client (IP, as
# sign-in throttling reads it); beyond, the form answers 429. At most one confirmation
# email a day goes to an address with unconfirmed subscriptions, whatever these say.
ALERTS_REQUESTS_PER_ADDRESS_PER_HOUR = env.int("ALERTS_REQUESTS_PER_ADDRESS_PER_HOUR", 5)
ALERTS_REQUESTS_PER_CLIENT_PER_HOUR = env.int("ALERTS_REQUESTS_PER_CLIENT_PER_HOUR", 20)
# Domains refused as subscribers' addresses (and every domain under them): names reserved
# by RFC 2606 and RFC 6761 that cannot receive mail. ".test" stays allowed: tests use it.
ALERTS_REFUSED_DOMAINS = env.list(
    "ALERTS_REFUSED_DOMAINS",
    default=[
        "invalid",
        "localhost",
        "local",
        "example",
        "example.com",
        "example.net",
        "example.org",
    ],  # fmt: skip
)
# A confirmation email that could not be sent (SMTP down, the broker down when it was
# asked for) is tried again by a sweep this often.
ALERTS_CONFIRMATION_SWEEP_MINUTES = env.positive("ALERTS_CONFIRMATION_SWEEP_MINUTES", 10)
ALERTS_PURGE_EVERY_HOURS = env.positive("ALERTS_PURGE_EVERY_HOURS", 24)
CELERY_BEAT_SCHEDULE.update(
    {
        "alerts-confirmations": {
            "task": "commitments.tasks.send_pending_confirmations",
            "schedule": ALERTS_CONFIRMATION_SWEEP_MINUTES * 60,
        },
        "alerts-purge-unconfirmed": {
            # Unconfirmed subscriptions older than a confirmation link lives: deleted.
            "task": "commitments.tasks.purge_unconfirmed_subscriptions",
            "schedule": ALERTS_PURGE_EVERY_HOURS * 60 * 60,
        },
    }
)

# Webhooks (services/webhooks.py): an endpoint must be https and resolve only to public
# addresses. WEBHOOKS_ALLOW_HTTP=1 accepts http too, and WEBHOOKS_ALLOWED_NETWORKS (CIDRs,
# comma-separated) lets addresses in those networks through: for a newsroom's receiver on
# its own private network, and for the tests' receiver on loopback. Off by default.
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", False)
WEBHOOKS_ALLOWED_NETWORKS = env.list("WEBHOOKS_ALLOWED_NETWORKS", default=[])
# Connecting, sending and reading the answer each give up after this many seconds.
WEBHOOKS_TIMEOUT_SECONDS = env.positive("WEBHOOKS_TIMEOUT_SECONDS", 10)
# Certificates of https endpoints are checked against the public authorities (certifi);
# a path here trusts that CA bundle instead (a newsroom's own CA on an allowed network).
WEBHOOKS_CA_BUNDLE = env.str("WEBHOOKS_CA_BUNDLE", default="")
# Seconds to wait after each failed attempt, then give up: the Standard Webhooks (Svix)
# schedule, about a day and a half in eight attempts.
WEBHOOKS_RETRY_SCHEDULE_SECONDS = env.list(
    "WEBHOOKS_RETRY_SCHEDULE_SECONDS",
    default=["5", "300", "1800", "7200", "18000", "36000", "36000"],
)
try:
    WEBHOOKS_RETRY_SCHEDULE_SECONDS = [int(s) for s in WEBHOOKS_RETRY_SCHEDULE_SECONDS]
    for _network in WEBHOOKS_ALLOWED_NETWORKS:
        ipaddress.ip_network(_network, strict=False)
except ValueError as exc:
    raise ImproperlyConfigured(
        "WEBHOOKS_RETRY_SCHEDULE_SECONDS must be whole numbers of seconds and "
        f"WEBHOOKS_ALLOWED_NETWORKS networks such as 10.0.0.0/8 ({exc})"
    ) from exc
# The sweep that posts deliveries whose retry is due (and any a lost task left behind).
WEBHOOKS_SWEEP_EVERY_SECONDS = env.positive("WEBHOOKS_SWEEP_EVERY_SECONDS", 60)
WEBHOOKS_USER_AGENT = env.str(
    "WEBHOOKS_USER_AGENT",
    default="AccountabilityTracker-Webhooks/1.0 (+newsroom commitment tracker)",
)
CELERY_BEAT_SCHEDULE["deliver-webhooks"] = {
    "task": "commitments.tasks.deliver_webhooks",
    "schedule": WEBHOOKS_SWEEP_EVERY_SECONDS,
}

# A mail the server did not take (unreachable, a timeout, a 4xx) is tried again after
# ALERTS_RETRY_FIRST_SECONDS, then a doubling delay, at most ALERTS_RETRY_MAX_SECONDS apart;
# it is never given up for that (only a permanent 5xx refusal fails an alert).
ALERTS_RETRY_FIRST_SECONDS = env.positive("ALERTS_RETRY_FIRST_SECONDS", 30)
ALERTS_RETRY_MAX_SECONDS = env.positive("ALERTS_RETRY_MAX_SECONDS", 60 * 60)
# How long one send_alerts task sends batches before it hands over (the sweep queues more).
ALERTS_SEND_BUDGET_SECONDS = env.positive("ALERTS_SEND_BUDGET_SECONDS", 4 * 60)
# Alerts delivered (or given up) more than this many days ago are deleted by the sweep.
ALERTS_KEEP_DAYS = env.positive("ALERTS_KEEP_DAYS", 30)
# The daily digest goes out at this hour (TIME_ZONE), minute 0: a fixed hour rather than an
# interval, so readers get it at the same time each day whenever the beat was restarted.
ALERTS_DIGEST_HOUR = env.int("ALERTS_DIGEST_HOUR", 7)
if not 0 <= ALERTS_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured(
        f"ALERTS_DIGEST_HOUR must be an hour, 0 to 23 (not {ALERTS_DIGEST_HOUR})."
    )
# The outbox sweep: fans out events whose task was lost, queues due alerts and webhooks.
OUTBOX_SWEEP_EVERY_SECONDS = env.positive("OUTBOX_SWEEP_EVERY_SECONDS", 60)
CELERY_BEAT_SCHEDULE.update(
    {
        "outbox-sweep": {
            "task": "commitments.tasks.sweep_outbox",
            "schedule": OUTBOX_SWEEP_EVERY_SECONDS,
        },
        "alert-digests": {
            "task": "commitments.tasks.send_alert_digests",
            "schedule": crontab(minute=0, hour=ALERTS_DIGEST_HOUR),
        },
    }
)

# --- Data snapshots ---------------------------------------------------------------------
# Dated full snapshots of the public data (CSV, JSON, manifest.json with checksums), one
# folder per day under SNAPSHOT_ROOT, listed at /data/. The newest SNAPSHOT_KEEP are kept.
SNAPSHOT_ROOT = Path(env.str("SNAPSHOT_ROOT", default=str(VAR_DIR / "snapshots")))
SNAPSHOT_KEEP = env.int("SNAPSHOT_KEEP", 30)

# --- Outside services -------------------------------------------------------------------
WAYBACK_SAVE_URL = env.str("WAYBACK_SAVE_URL", default="https://web.archive.org/save/")
LINK_CHECK_TIMEOUT_SECONDS = env.int("LINK_CHECK_TIMEOUT_SECONDS", 15)
LINK_CHECK_USER_AGENT = env.str(
    "LINK_CHECK_USER_AGENT",
    default="AccountabilityTracker-LinkCheck/1.0 (+newsroom commitment tracker)",
)
LINK_CHECK_CONCURRENCY = env.int("LINK_CHECK_CONCURRENCY", 8)
# A source failing this many checks in a row is marked unavailable.
LINK_CHECK_UNAVAILABLE_AFTER = env.int("LINK_CHECK_UNAVAILABLE_AFTER", 3)
# A run skips sources checked more recently than this, so a run cut short resumes.
LINK_CHECK_RECHECK_AFTER_HOURS = env.positive("LINK_CHECK_RECHECK_AFTER_HOURS", 20)
# Ask the Wayback Machine to archive each new source after it is saved.
ARCHIVE_ON_CREATE = env.bool("ARCHIVE_ON_CREATE", True)
WAYBACK_TIMEOUT_SECONDS = env.int("WAYBACK_TIMEOUT_SECONDS", 60)
# Celery rate limit per worker for Save Page Now requests (the service allows a few a minute).
WAYBACK_RATE_LIMIT = env.str("WAYBACK_RATE_LIMIT", default="6/m")
WAYBACK_MAX_ATTEMPTS = env.int("WAYBACK_MAX_ATTEMPTS", 6)

# --- Fault tolerance: a timeout on every network call (issue 9) -------------------------
# PostgreSQL: a connection attempt gives up after DB_CONNECT_TIMEOUT seconds, and a
# statement after DB_STATEMENT_TIMEOUT_MS (web requests). Background work that may run long
# (Celery workers, management commands such as migrate or the stall job run by hand) uses
# DB_JOB_STATEMENT_TIMEOUT_MS instead (0: none; Celery's time limits still bound a task),
# and the stall job sets it for its own transaction as well (services/flags.py).
# A broken pooled connection is dropped before reuse (CONN_HEALTH_CHECKS, above).
DB_CONNECT_TIMEOUT = env.int("DB_CONNECT_TIMEOUT", 5)
DB_STATEMENT_TIMEOUT_MS = env.int("DB_STATEMENT_TIMEOUT_MS", 15000)
DB_JOB_STATEMENT_TIMEOUT_MS = env.int("DB_JOB_STATEMENT_TIMEOUT_MS", 0)
# A web request that still waits on the database after DB_REQUEST_DEADLINE_SECONDS has its
# connection cut and answers 503 (a server frozen under an open connection answers
# nothing, and neither timeout above fires; commitments/db_watchdog.py).
DB_REQUEST_DEADLINE_SECONDS = env.positive("DB_REQUEST_DEADLINE_SECONDS", 20)
_command = Path(sys.argv[0]).name if sys.argv else ""
RUNS_JOBS = (_command == "manage.py" and sys.argv[1:2] != ["runserver"]) or (
    _command == "celery" or sys.argv[0].endswith(os.path.join("celery", "__main__.py"))
)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    _statement_timeout = DB_JOB_STATEMENT_TIMEOUT_MS if RUNS_JOBS else DB_STATEMENT_TIMEOUT_MS
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": DB_CONNECT_TIMEOUT,
            "options": f"-c statement_timeout={_statement_timeout}",
        }
    )

# Redis cache: short socket timeouts, and an error means "no cache" (logged), never a
# failed page; after an error the cache is skipped for CACHE_RETRY_AFTER_SECONDS.
CACHE_SOCKET_TIMEOUT = env.positive("CACHE_SOCKET_TIMEOUT", 0.5)
CACHE_RETRY_AFTER_SECONDS = env.positive("CACHE_RETRY_AFTER_SECONDS", 10)
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "commitments.cache.ForgivingRedisCache"
    CACHES["default"]["OPTIONS"] = {
        "socket_timeout": CACHE_SOCKET_TIMEOUT,
        "socket_connect_timeout": CACHE_SOCKET_TIMEOUT,
        "retry_after": CACHE_RETRY_AFTER_SECONDS,
    }

# Celery broker: publishing a task gives up within a few seconds (an editor's save never
# waits on Redis: services/links.py logs the failure and the archive sweep picks the work
# up). Connect and socket timeouts, one quick retry at most.
CELERY_BROKER_SOCKET_TIMEOUT = env.positive("CELERY_BROKER_SOCKET_TIMEOUT", 2)
CELERY_BROKER_CONNECTION_TIMEOUT = CELERY_BROKER_SOCKET_TIMEOUT
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        {
            "socket_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
            "socket_connect_timeout": CELERY_BROKER_SOCKET_TIMEOUT,
        }
    )
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}

# --- Logging ----------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# The benchmark (bench/web.py) adds a bare reference view to the server it starts.
BENCH_BARE_VIEW = env.bool("BENCH_BARE_VIEW", False)
