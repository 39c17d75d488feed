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
- ``SECRET_KEY``, ``DEBUG``, ``ALLOWED_HOSTS``, ``CELERY_BROKER_URL``,
  ``CELERY_RESULT_BACKEND``, ``BUILD_SCHEDULE_SECONDS``, ``LOG_LEVEL``.

An empty variable counts as unset. A ``DATABASE_URL`` that is not a database URL stops
every command with one line (``manage.py`` prints the ``ImproperlyConfigured`` raised here).
"""
from pathlib import Path
import os

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def _env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret-set-SECRET_KEY-in-production")
DEBUG = _env_bool("DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "etl",
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

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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
    # up to 20 s for the write lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL;", "timeout": 20}
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
LOGIN_URL = "/admin/login/"

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/1")
CELERY_RESULT_EXPIRES = 86400
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BEAT_SCHEDULE = {
    "build-summaries": {
        "task": "etl.tasks.build_summaries",
        "schedule": float(os.environ.get("BUILD_SCHEDULE_SECONDS", "300")),
        "kwargs": {"trigger": "schedule"},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {"etl": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")}},
}

# models.W047: SQLite has no NULLS NOT DISTINCT; migration 0002 creates an equivalent
# unique expression index there, so the grain is unique on both backends.
SILENCED_SYSTEM_CHECKS = ["models.W047"]
