"""Settings of the EMR summaries ETL. Everything that differs between machines comes from
the environment:

- ``DATABASE_URL``: Django's database, where the summary tables live. Default: the
  embedded SQLite file ``db.sqlite3`` in the project root.
- ``EMR_DATABASE_URL``: the raw EMR database (``emr_*`` tables). Default: the same
  database as Django's. When it names another database, the ETL aggregates there and
  streams the summary rows into Django's database. It takes the same forms as
  ``DATABASE_URL`` (``postgres://``, ``postgresql://``, ``sqlite:///``); ``etl.db`` maps
  them to the drivers installed.
- ``SUMMARY_LOCK_TIMEOUT_SECONDS``: how long a build on PostgreSQL waits for a lock on a
  summary table (a reader in a long transaction holds one) before it fails, keeping the
  old rows. Default 10; 0 waits without limit.
- ``SECRET_KEY``, ``DEBUG``, ``ALLOWED_HOSTS``, ``LOG_LEVEL``.
- ``CELERY_*`` and ``ETL_*``: the broker, delivery guarantees, time limits and the
  schedule (docs/operations.md lists them).

An empty variable counts as unset. A ``DATABASE_URL`` that is not a database URL stops
every command with one line (``manage.py`` prints the ``ImproperlyConfigured`` raised here).
"""
from pathlib import Path
import os
import tempfile

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def _env_number(name: str, default, kind=int):
    """``kind(os.environ[name])``, or ``default`` when unset or empty; a clear error otherwise."""
    value = os.environ.get(name, "").strip()
    try:
        return kind(value) if value else default
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number ({kind.__name__}), not {value!r}") from None


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret-set-SECRET_KEY-in-production")
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "etl",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files with DEBUG off too (the admin's CSS, Chart.js): no web server needed.
    "etl.web.staticfiles.StaticFilesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "etl" / "web" / "templates"],
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


def _database(url: str) -> dict:
    try:
        return dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))
    except ValueError as exc:  # an unknown scheme, a malformed URL or CONN_MAX_AGE
        from django.core.exceptions import ImproperlyConfigured

        first_line = str(exc).split(". ")[0].rstrip(".")
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL this project can use ({first_line}): "
            "use postgres://user@host:5432/name or sqlite:////absolute/path/db.sqlite3"
        ) from None


DATABASES = {"default": _database(os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL: readers keep reading the last committed summaries while a build writes; wait
    # up to 20 s for the write lock instead of failing at once. Transactions take the
    # write lock when they begin (BEGIN IMMEDIATE): a deferred one that reads, then writes
    # while another process committed in between fails at once with "database is locked",
    # whatever the timeout (WAL cannot upgrade a stale read snapshot to a write).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20, "transaction_mode": "IMMEDIATE"}
    )
# None means "the same database as Django's default".
EMR_DATABASE_URL = os.environ.get("EMR_DATABASE_URL") or None
# PostgreSQL's lock_timeout inside a build's transaction: a full rebuild's TRUNCATE waits
# behind every open reader, and while it waits it blocks every new reader.
SUMMARY_LOCK_TIMEOUT_SECONDS = float(os.environ.get("SUMMARY_LOCK_TIMEOUT_SECONDS", "10"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
# Summary days and raw timestamps are clinic wall-clock values without a time zone.
USE_TZ = False
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "etl" / "web" / "static"]
# WhiteNoise serves straight from the apps' static folders as well, so `runserver` and
# the tests work with DEBUG off before any `collectstatic`.
WHITENOISE_USE_FINDERS = True
# Files served at the site's root (favicon.ico, which browsers ask for on every page).
WHITENOISE_ROOT = BASE_DIR / "etl" / "web" / "root"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# Small-cell suppression (docs/web.md): counts of patients or visits from 1 to
# SUPPRESS_BELOW - 1, and the values that give them back, are hidden from users without
# the permission etl.view_small_counts.
SUPPRESS_BELOW = int(os.environ.get("SUPPRESS_BELOW", "11"))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "COERCE_DECIMAL_TO_STRING": False,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "EMR summaries API",
    "DESCRIPTION": "Read-only summaries, limited to the caller's granted locations, small counts suppressed.",
    "VERSION": "1",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery: broker, delivery guarantees, time limits, schedule (docs/operations.md) ------
# Every value can be overridden from the environment; the names are in docs/operations.md.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/1")
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = _env_number("CELERY_RESULT_EXPIRES", 86400)
CELERY_TIMEZONE = os.environ.get("CELERY_TIMEZONE", TIME_ZONE)
# One queue for beat's tasks; a second deployment on the same Redis database names its own.
CELERY_TASK_DEFAULT_QUEUE = os.environ.get("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Acknowledge a task when it ends, not when it starts, and put it back on the queue when
# its worker process dies (without reject_on_worker_lost it would be marked failed and
# never run again); take one task at a time, so a long build holds back no other.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Redis hands an unacknowledged task to another worker once visibility_timeout seconds have
# passed since it was delivered. Both time limits must end a task before that, or a long
# build would be delivered again while it still runs (checked below).
ETL_VISIBILITY_TIMEOUT = _env_number("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_TASK_SOFT_TIME_LIMIT = _env_number("CELERY_TASK_SOFT_TIME_LIMIT", 3000)
CELERY_TASK_TIME_LIMIT = _env_number("CELERY_TASK_TIME_LIMIT", 3300)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": ETL_VISIBILITY_TIMEOUT,
    # Look for tasks of dead workers every second, and scan on every look (kombu's
    # defaults, 10 s x every 10th look, return them ~100 s after the timeout).
    "unacked_restore_interval": _env_number("CELERY_UNACKED_RESTORE_INTERVAL", 1),
    "unacked_restore_throttle": 1,
    # The sweep's Redis lock lasts milliseconds; if its holder dies, the next sweep may run
    # after 10 s instead of kombu's 300 (restoring is safe twice: it is a Redis transaction).
    "unacked_mutex_expire": 10,
}
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {"visibility_timeout": ETL_VISIBILITY_TIMEOUT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_SEND_TASK_EVENTS = True
CELERY_TASK_SEND_SENT_EVENT = True
# Tasks retry only when the database or broker is unreachable (etl/engine/transient.py):
# at most this many times, waiting 2, 4, 8 ... seconds, never more than the cap.
ETL_TASK_MAX_RETRIES = _env_number("ETL_TASK_MAX_RETRIES", 5)
ETL_RETRY_BACKOFF_MAX = _env_number("ETL_RETRY_BACKOFF_MAX", 300.0, float)
if not 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < ETL_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        "need 0 < CELERY_TASK_SOFT_TIME_LIMIT < CELERY_TASK_TIME_LIMIT < CELERY_VISIBILITY_TIMEOUT, got "
        f"{CELERY_TASK_SOFT_TIME_LIMIT} < {CELERY_TASK_TIME_LIMIT} < {ETL_VISIBILITY_TIMEOUT}: a build "
        "still running at the visibility timeout is delivered again and runs twice"
    )

# The schedule. Beat keeps its state in a file outside the source tree (any writable path;
# the systemd example uses /var/lib/emr-etl/). Each entry expires: a message no worker
# started in time is dropped, as the next run does the same work.
ETL_BUILD_EVERY = _env_number("ETL_BUILD_EVERY", 5.0, float)  # minutes between incremental builds
# BUILD_SCHEDULE_SECONDS, the older name, still wins when set (seconds; used by the tests).
ETL_BUILD_EVERY_SECONDS = _env_number("BUILD_SCHEDULE_SECONDS", ETL_BUILD_EVERY * 60, float)
ETL_NIGHTLY_HOUR = _env_number("ETL_NIGHTLY_HOUR", 2)  # the full reconcile, hour in CELERY_TIMEZONE
ETL_QUALITY_HOUR = _env_number("ETL_QUALITY_HOUR", 3)  # the data-quality report
CELERY_BEAT_SCHEDULE_FILENAME = os.environ.get("CELERY_BEAT_SCHEDULE_FILENAME") or os.path.join(
    tempfile.gettempdir(), "emr-etl-celerybeat-schedule"
)
CELERY_BEAT_SCHEDULE = {
    "build-summaries": {
        "task": "etl.tasks.build_summaries",
        "schedule": ETL_BUILD_EVERY_SECONDS,
        "kwargs": {"trigger": "schedule"},
        "options": {"expires": ETL_BUILD_EVERY_SECONDS},
    },
    "reconcile-summaries": {
        "task": "etl.tasks.reconcile_summaries",
        "schedule": crontab(minute=0, hour=ETL_NIGHTLY_HOUR),
        "options": {"expires": 6 * 3600},
    },
    "record-data-quality": {
        "task": "etl.tasks.record_data_quality",
        "schedule": crontab(minute=30, hour=ETL_QUALITY_HOUR),
        "options": {"expires": 6 * 3600},
    },
}

# Fanned-out builds (build_summaries --fan-out; docs/operations.md, "Fan-out"): days per
# batch; how long the publish waits for the build lock; after how long a run whose batches
# are all done but that was never published counts as having lost its chord callback; and
# after how long an unfinished run is abandoned (beyond redelivery of a dead worker's batch).
# Full rebuilds on PostgreSQL run side by side, one connection each, up to this many at
# once (etl/engine/lanes.py; 1: one after the other). Summaries that read others wait for them.
ETL_BUILD_CONCURRENCY = _env_number("ETL_BUILD_CONCURRENCY", 3)
ETL_FANOUT_BATCH_DAYS = _env_number("ETL_FANOUT_BATCH_DAYS", 31)
ETL_FANOUT_PUBLISH_WAIT = _env_number("ETL_FANOUT_PUBLISH_WAIT", 60.0, float)
ETL_FANOUT_GRACE_SECONDS = _env_number("ETL_FANOUT_GRACE_SECONDS", 60.0, float)
ETL_FANOUT_TIMEOUT_SECONDS = _env_number("ETL_FANOUT_TIMEOUT_SECONDS", 2 * ETL_VISIBILITY_TIMEOUT, float)
# Tests only: the fan-out batch with this number fails (0: none).
ETL_FANOUT_FAIL_BATCH = _env_number("ETL_FANOUT_FAIL_BATCH", 0)

# Tests only: seconds each summary's build sleeps inside its transaction, after writing its
# rows, so a test can kill a worker mid-build (docs/operations.md). 0 in production.
ETL_BUILD_PAUSE_SECONDS = _env_number("ETL_BUILD_PAUSE_SECONDS", 0.0, float)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"etl": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")}},
}

# models.W047: SQLite has no NULLS NOT DISTINCT; migration 0002 creates an equivalent
# unique expression index there, so the grain is unique on both backends.
# models.W040: SQLite has no INCLUDE columns; the web's covering indexes (migrations 0011,
# 0012) are built there on their key columns alone, which still serve the same filters.
SILENCED_SYSTEM_CHECKS = ["models.W047", "models.W040"]
