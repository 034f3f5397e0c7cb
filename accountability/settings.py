"""Settings for the commitment tracker.

Every setting that differs between machines comes from an environment variable. With
none set, the project runs on one machine with no servers at all: SQLite in a file under
``var/``, Celery on kombu's filesystem transport, and a file cache there. Set
``DATABASE_URL`` and ``CELERY_BROKER_URL`` (and ``REDIS_URL`` for the cache) and the
same code runs on PostgreSQL and Redis.
"""

import datetime
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from exc


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from exc
    if number <= 0:
        raise ImproperlyConfigured(f"{name} must be more than 0, not {value!r}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -------------------------------------------------------------------------------
# Production by default: DEBUG is off unless DEBUG=1 is set.
DEBUG = env_bool("DEBUG", False)


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
SECRET_KEY = os.environ.get("SECRET_KEY") or secret_key_from(VAR_DIR / "secret_key")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_NAME = "Commitment Tracker"  # page titles, feeds, the API's title
# The address `make run` serves (Procfile), and by default the public address too.
WEB_HOST = os.environ.get("WEB_HOST") or "127.0.0.1"
WEB_PORT = env_int("WEB_PORT", 8000)
_SERVED_HOST = "localhost" if WEB_HOST in {"0.0.0.0", "::", "[::]"} else WEB_HOST
SITE_URL = (os.environ.get("SITE_URL") or f"http://{_SERVED_HOST}:{WEB_PORT}").rstrip("/")
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
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------
DEFAULT_SQLITE = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or DEFAULT_SQLITE,
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache ------------------------------------------------------------------------------
CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL") or ""
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
PUBLIC_CACHE = env_bool("PUBLIC_CACHE", True)
PUBLIC_MAX_AGE = env_int("PUBLIC_MAX_AGE", 60)
PUBLIC_STALE_WHILE_REVALIDATE = env_int("PUBLIC_STALE_WHILE_REVALIDATE", 60)
PUBLIC_VERSION_SECONDS = env_int("PUBLIC_VERSION_SECONDS", 0)

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
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_LOCKOUT_CALLABLE = "commitments.sign_in.lockout_response"
# Behind reverse proxies the address is the proxy's: set TRUSTED_PROXY_COUNT to the number of
# proxies in front that append to X-Forwarded-For (nginx, a load balancer), and the
# client's address is read from there (only the entries those proxies wrote).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "commitments.sign_in.client_ip"
AXES_HTTP_RESPONSE_CODE = 429

# Two-factor sign-in (django-otp, TOTP). With REQUIRE_2FA on, Publishers, Admins and
# superusers cannot use the admin until they have enrolled an authenticator app and
# entered a code this session; Editors may enrol but are not forced. Default: on when
# DEBUG is off (production), off when DEBUG is on (development and tests).
REQUIRE_2FA = env_bool("REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Commitment tracker")

# --- Internationalisation ---------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

# --- Static files (whitenoise) ----------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Whitenoise serves from here once `collectstatic` has run (make run and the Dockerfile run
# it). Always the manifest storage (hashed, compressed names, cached for ever), whatever
# DEBUG says, so a `collectstatic` made with DEBUG on serves with DEBUG off too; with DEBUG
# on, Django links the plain names and whitenoise finds them through the finders.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Security (the `check --deploy` list is clean when SITE_URL is https) ----------------
# X-Forwarded-Proto is believed only when TRUSTED_PROXY says a proxy in front sets it (and
# overwrites what the client sent): compose's nginx does. Published directly, a client
# could claim https with it.
TRUSTED_PROXY = env_bool("TRUSTED_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if TRUSTED_PROXY else None
# HTTPS-only settings follow SITE_URL's scheme (https: on, http: off); each can be set.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", SITE_IS_HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", SITE_IS_HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SITE_IS_HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 30 if SITE_IS_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SITE_IS_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
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
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tracker@localhost")

# --- Celery -----------------------------------------------------------------------------
# No broker URL: kombu's filesystem transport, which needs no server and works with a
# worker and beat on one machine. Set CELERY_BROKER_URL=redis://... for a real broker.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    BROKER_DIR = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "control_folder": str(BROKER_DIR / "control"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "store_processed": False,
    }
    for folder in ("queue", "control", "processed"):
        (BROKER_DIR / folder).mkdir(parents=True, exist_ok=True)
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
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")


# The one beat schedule. Intervals are settings so a newsroom can tune them; they take
# decimals, so FLAG_STALLED_EVERY_HOURS=0.01 runs the stall job every 36 seconds.
STALL_AFTER_DAYS = env_int("STALL_AFTER_DAYS", 90)
FLAG_STALLED_EVERY_HOURS = env_float("FLAG_STALLED_EVERY_HOURS", 24)
CHECK_SOURCES_EVERY_DAYS = env_float("CHECK_SOURCES_EVERY_DAYS", 7)
EDITORS_DIGEST_EVERY_HOURS = env_float("EDITORS_DIGEST_EVERY_HOURS", 24)
SNAPSHOT_EVERY_HOURS = env_float("SNAPSHOT_EVERY_HOURS", 24)
ARCHIVE_SWEEP_EVERY_HOURS = env_float("ARCHIVE_SWEEP_EVERY_HOURS", 24)
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

# --- Data snapshots ---------------------------------------------------------------------
# Dated full snapshots of the public data (CSV, JSON, manifest.json with checksums), one
# folder per day under SNAPSHOT_ROOT, listed at /data/. The newest SNAPSHOT_KEEP are kept.
SNAPSHOT_ROOT = Path(os.environ.get("SNAPSHOT_ROOT", VAR_DIR / "snapshots"))
SNAPSHOT_KEEP = env_int("SNAPSHOT_KEEP", 30)

# --- Outside services -------------------------------------------------------------------
WAYBACK_SAVE_URL = os.environ.get("WAYBACK_SAVE_URL", "https://web.archive.org/save/")
LINK_CHECK_TIMEOUT_SECONDS = env_int("LINK_CHECK_TIMEOUT_SECONDS", 15)
LINK_CHECK_USER_AGENT = os.environ.get(
    "LINK_CHECK_USER_AGENT", "AccountabilityTracker-LinkCheck/1.0 (+newsroom commitment tracker)"
)
LINK_CHECK_CONCURRENCY = env_int("LINK_CHECK_CONCURRENCY", 8)
# A source failing this many checks in a row is marked unavailable.
LINK_CHECK_UNAVAILABLE_AFTER = env_int("LINK_CHECK_UNAVAILABLE_AFTER", 3)
# A run skips sources checked more recently than this, so a run cut short resumes.
LINK_CHECK_RECHECK_AFTER_HOURS = env_float("LINK_CHECK_RECHECK_AFTER_HOURS", 20)
# Ask the Wayback Machine to archive each new source after it is saved.
ARCHIVE_ON_CREATE = env_bool("ARCHIVE_ON_CREATE", True)
WAYBACK_TIMEOUT_SECONDS = env_int("WAYBACK_TIMEOUT_SECONDS", 60)
# Celery rate limit per worker for Save Page Now requests (the service allows a few a minute).
WAYBACK_RATE_LIMIT = os.environ.get("WAYBACK_RATE_LIMIT", "6/m")
WAYBACK_MAX_ATTEMPTS = env_int("WAYBACK_MAX_ATTEMPTS", 6)

# --- Fault tolerance: a timeout on every network call (issue 9) -------------------------
# PostgreSQL: a connection attempt gives up after DB_CONNECT_TIMEOUT seconds, and a
# statement after DB_STATEMENT_TIMEOUT_MS (web requests). Background work that may run long
# (Celery workers, management commands such as migrate or the stall job run by hand) uses
# DB_JOB_STATEMENT_TIMEOUT_MS instead (0: none; Celery's time limits still bound a task),
# and the stall job sets it for its own transaction as well (services/flags.py).
# A broken pooled connection is dropped before reuse (CONN_HEALTH_CHECKS, above).
DB_CONNECT_TIMEOUT = env_int("DB_CONNECT_TIMEOUT", 5)
DB_STATEMENT_TIMEOUT_MS = env_int("DB_STATEMENT_TIMEOUT_MS", 15000)
DB_JOB_STATEMENT_TIMEOUT_MS = env_int("DB_JOB_STATEMENT_TIMEOUT_MS", 0)
# A web request that still waits on the database after DB_REQUEST_DEADLINE_SECONDS has its
# connection cut and answers 503 (a server frozen under an open connection answers
# nothing, and neither timeout above fires; commitments/db_watchdog.py).
DB_REQUEST_DEADLINE_SECONDS = env_float("DB_REQUEST_DEADLINE_SECONDS", 20)
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
CACHE_SOCKET_TIMEOUT = env_float("CACHE_SOCKET_TIMEOUT", 0.5)
CACHE_RETRY_AFTER_SECONDS = env_float("CACHE_RETRY_AFTER_SECONDS", 10)
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
CELERY_BROKER_SOCKET_TIMEOUT = env_float("CELERY_BROKER_SOCKET_TIMEOUT", 2)
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
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# The benchmark (bench/web.py) adds a bare reference view to the server it starts.
BENCH_BARE_VIEW = env_bool("BENCH_BARE_VIEW", False)

# --- Tests ------------------------------------------------------------------------------
if os.environ.get("PYTEST_VERSION") or os.environ.get("DJANGO_TESTING"):
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Test clients sign in without a request (client.login), which django-axes refuses;
    # as axes' documentation advises, it is off in tests and its own tests turn it on.
    # Two-factor sign-in likewise: the tests of it turn it on.
    AXES_ENABLED = False
    REQUIRE_2FA = False
    # Pages render in tests without a `collectstatic` first (pytest-django turns DEBUG off).
    STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
