"""Explainer's one settings file.

Everything that differs between a laptop and production comes from the environment;
the defaults are safe for local development (SQLite file, local-memory cache, debug on).
"""

import logging
import os
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# The origin readers reach the site on ("https://explainer.example"): canonical URLs, the
# feed, the sitemap and robots.txt use it, never the Host a request gave. Unset (`make
# run`), they use the origin each request was made on.
SITE_URL = os.environ.get("DJANGO_SITE_URL", "").strip().rstrip("/")
_site = urlsplit(SITE_URL)
if SITE_URL and (_site.scheme not in {"http", "https"} or not _site.netloc or _site.path):
    raise ImproperlyConfigured("DJANGO_SITE_URL must be an origin, like https://explainer.example.")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_prose_editor",
    "template_partials",
    "axes",
    "reversion",
    "django_tasks",
    "django_tasks_db",
    "django_rq",
    "explainer",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "explainer.middleware.ResourcePolicyMiddleware",
    "explainer.middleware.ReaderGZipMiddleware",
    "explainer.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before anything that may query the database (sessions, log-in, axes, the views).
    "explainer.middleware.RefuseNulMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETags for every GET, answering If-None-Match with 304.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "explainer.middleware.RelinkBatchMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Turns a database outage escaping a view into a 503 page.
    "explainer.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: it turns a lock-out into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "explainer.urls"

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
            ],
        },
    },
]

WSGI_APPLICATION = "explainer.wsgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker share the file: readers never wait for a writer (WAL),
    # and a writer waits its turn (IMMEDIATE, with a timeout) instead of failing at once
    # with "database is locked". Each connection caches up to 64 MB of pages (SQLite's
    # default is 2 MB): with 100,000 stories the default cache lost the indexes' inner pages
    # between requests, and relinking one story cost a fifth more than with 1,000.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-65536;"
        ),
    }
    DATABASES["default"]["TEST"] = {
        # A file, not memory, so that a real worker process can share the test database;
        # one per test run, so that runs side by side never share one.
        "NAME": os.path.join(tempfile.gettempdir(), f"explainer-test-{os.getpid()}.sqlite3"),
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that stops answering costs a request seconds and a 503 page
    # (explainer.middleware.DatabaseUnavailableMiddleware), not a worker held for minutes.
    # The statement timeout is for the web server (explainer/wsgi.py sets 5000 ms unless
    # told otherwise): migrations and the relink worker may run long statements on purpose.
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    _options.setdefault("connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3")))
    _statement_timeout_ms = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS") or "0")
    if _statement_timeout_ms:
        _options["options"] = " ".join(
            [_options.get("options", ""), f"-c statement_timeout={_statement_timeout_ms}"]
        ).strip()

# PostgreSQL: the story page's one query is a prepared statement (explainer.stories):
# planning it took three times as long as running it. Off behind a pooler that cannot keep
# prepared statements (PgBouncer before 1.21, or without max_prepared_statements).
DATABASE_PREPARED_STATEMENTS = env_bool("DATABASE_PREPARED_STATEMENTS", True)

REDIS_URL = os.environ.get("REDIS_URL", "")
# A cache is a cache (explainer/caching.py): a Redis that is down or stops answering costs
# a request at most this long, to connect or for a reply; after a failure the cache is
# left alone for DJANGO_CACHE_RETRY_SECONDS, and pages are built from the database.
CACHE_TIMEOUT_SECONDS = float(os.environ.get("DJANGO_CACHE_TIMEOUT_SECONDS", "0.25"))
CACHE_RETRY_SECONDS = float(os.environ.get("DJANGO_CACHE_RETRY_SECONDS", "5"))
if env_bool("DJANGO_CACHE_DISABLED", False):
    # For measuring the cold path (make bench) and for debugging: nothing is ever cached.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
elif REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "explainer",
            # Passed to redis-py's connection pool.
            "OPTIONS": {
                "socket_connect_timeout": CACHE_TIMEOUT_SECONDS,
                "socket_timeout": CACHE_TIMEOUT_SECONDS,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Background work (relinking stories) runs on django-tasks. "db" (the default) keeps the
# queue in the database: `make run` starts one worker beside the web server. "rq" puts it on
# Redis (REDIS_URL) for many workers on many machines. "immediate" runs each task at once,
# inside the request (tests, one-off scripts).
TASKS_BACKEND = os.environ.get("DJANGO_TASKS_BACKEND", "db")
_TASK_BACKENDS = {
    "db": "django_tasks_db.DatabaseBackend",
    "rq": "django_tasks_rq.RQBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
if TASKS_BACKEND not in _TASK_BACKENDS:
    raise ImproperlyConfigured(
        f"DJANGO_TASKS_BACKEND must be one of {', '.join(_TASK_BACKENDS)}, not {TASKS_BACKEND!r}."
    )
if TASKS_BACKEND == "rq" and not REDIS_URL:
    raise ImproperlyConfigured("DJANGO_TASKS_BACKEND=rq needs REDIS_URL.")
TASKS = {"default": {"BACKEND": _TASK_BACKENDS[TASKS_BACKEND]}}
RQ_QUEUES = {
    "default": {
        "URL": REDIS_URL or "redis://127.0.0.1:6379/0",
        # A worker's job may run for minutes (a chunk of long stories).
        "DEFAULT_TIMEOUT": 60 * 30,
        "SOCKET_TIMEOUT": 5,
        "SOCKET_CONNECT_TIMEOUT": 2,
    }
}
# A story a worker claimed and has not finished after this long is handed to another
# worker (the first was killed); stories never claimed, once the queue is empty.
RELINK_STALE_SECONDS = float(os.environ.get("DJANGO_RELINK_STALE_SECONDS", "120"))

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_URL = os.environ.get("DJANGO_MEDIA_URL", "media/")
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

# A story body is editor HTML; allow a generous request size but refuse anything absurd
# with a 400 rather than letting it reach the database.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024


def as_one_line_warning(record: logging.LogRecord) -> bool:
    """A logging filter: the record as a warning, without its traceback."""
    record.exc_info = record.exc_text = None
    record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
    return True


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line_warning": {"()": lambda: as_one_line_warning}},
    "handlers": {"console": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {
        # One line per task is noise at the rate relinking runs them; failures still show.
        "django_tasks": {"level": os.environ.get("DJANGO_TASKS_LOG_LEVEL", "WARNING")},
        # Requests for a host we do not serve are scanners' background noise, not our error:
        # one line each, not a traceback (and no mail to ADMINS).
        "django.security.DisallowedHost": {"filters": ["one_line_warning"]},
    },
}

# Security. HTTPS is assumed whenever debug is off: TLS ends at the load balancer, which
# says so in X-Forwarded-Proto. `make serve` turns it off to run production settings over
# plain http on the loopback.
HTTPS = env_bool("DJANGO_HTTPS", not DEBUG)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]  # load balancers probe over plain http
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Set by explainer.middleware.ResourcePolicyMiddleware, on every response.
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=()"
CROSS_ORIGIN_RESOURCE_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp 4). Reader pages: our own scripts and styles only,
# nothing inline, nothing from elsewhere.
_media_origin = "{0.scheme}://{0.netloc}".format(urlsplit(MEDIA_URL)) if "://" in MEDIA_URL else ""
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [NONE],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *([_media_origin] if _media_origin else [])],
        "connect-src": [SELF],
        "font-src": [SELF],
        "form-action": [SELF],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
    }
}
# The Django admin is staff-only and ships a few inline style attributes; its scripts are
# still our own origin's only, and one inline block: the import map the rich-text editor's
# modules are found by (browsers read no import map from a file), let in by a nonce that
# only a page with the editor asks for (``rich_text.RichTextAdminMixin``).
ADMIN_CONTENT_SECURITY_POLICY = {
    **CONTENT_SECURITY_POLICY["DIRECTIVES"],
    "default-src": [SELF],
    "script-src": [SELF, NONCE],
    "style-src": [SELF, UNSAFE_INLINE],
}

# The admin dashboard lists an entry as due for review when nobody has checked its facts
# for this many months (or ever).
EXPLAINER_REVIEW_DUE_MONTHS = int(os.environ.get("EXPLAINER_REVIEW_DUE_MONTHS", "6"))

# Admin log-in: lock a username and address out after repeated failures (django-axes).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 0.25  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# How many proxies in front of the app append to X-Forwarded-For (the TLS proxy of
# docs/deploy.md is one). Without one, the connecting address is the client's; with one,
# the address the outermost proxy saw. Anything further left is the client's own say.
TRUSTED_PROXY_COUNT = int(os.environ.get("DJANGO_TRUSTED_PROXY_COUNT", "0"))
AXES_CLIENT_IP_CALLABLE = "explainer.addresses.client_address"
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
