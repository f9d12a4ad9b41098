"""nbaudit settings: everything that varies comes from the environment.

Embedded default (nothing set): SQLite in WAL mode and Celery's filesystem broker, all
under the data folder (`NBAUDIT_DATA_DIR`, default `./data`, ignored by git).
Production: `DATABASE_URL` (PostgreSQL, psycopg 3) and `CELERY_BROKER_URL` (Redis or
RabbitMQ).
"""
import datetime
import os
from decimal import Decimal
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_dates(name: str) -> list[datetime.date]:
    raw = os.environ.get(name, "")
    return [datetime.date.fromisoformat(p.strip()) for p in raw.replace(";", ",").split(",") if p.strip()]


DATA_DIR = Path(os.environ.get("NBAUDIT_DATA_DIR") or BASE_DIR / "data").resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = os.environ.get("NBAUDIT_SECRET_KEY", "nbaudit-dev-only-not-secret")
DEBUG = env_bool("NBAUDIT_DEBUG", False)
ALLOWED_HOSTS = [h for h in os.environ.get("NBAUDIT_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_tables2",
    "django_filters",
    "logs",
    "billing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "logs.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "nbaudit.urls"
WSGI_APPLICATION = "nbaudit.wsgi.application"

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
                "logs.context_processors.nbaudit",
            ],
        },
    },
]

# --- database -------------------------------------------------------------------------
if os.environ.get("DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"].setdefault("OPTIONS", {})
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "nbaudit.sqlite3",
            "OPTIONS": {
                # Web, worker and beat share the file: WAL lets readers run beside a writer,
                # IMMEDIATE transactions and the busy timeout make writers queue, not fail.
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 30,
            },
        }
    }
if os.environ.get("NBAUDIT_TEST_DB_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["NBAUDIT_TEST_DB_NAME"]}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "logs.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

# --- cache ----------------------------------------------------------------------------
# The Overview's figures, keyed by the rollup version they were read at (never stale). Default:
# in memory, per process. NBAUDIT_CACHE_URL=redis://host:6379/1 shares one cache between web
# processes; dummy:// turns caching off.
_cache_url = os.environ.get("NBAUDIT_CACHE_URL", "")
if _cache_url.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url,
                          "KEY_PREFIX": "nbaudit"}}
elif _cache_url.startswith("dummy:"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "nbaudit",
                          "OPTIONS": {"MAX_ENTRIES": 2000}}}
NBAUDIT_OVERVIEW_CACHE_SECONDS = int(os.environ.get("NBAUDIT_OVERVIEW_CACHE_SECONDS", "3600"))

# --- time and money ---------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
USE_I18N = False
USE_TZ = True
TIME_ZONE = "UTC"  # storage; pages use the user's zone, billing uses NBAUDIT_BILLING_TZ
NBAUDIT_BILLING_TZ = os.environ.get("NBAUDIT_BILLING_TZ", "Asia/Shanghai")
NBAUDIT_STORE_PROMPTS = env_bool("NBAUDIT_STORE_PROMPTS", False)
NBAUDIT_EXPORT_MAX_ROWS = int(os.environ.get("NBAUDIT_EXPORT_MAX_ROWS", "1048575"))
NBAUDIT_EXPORT_TTL_DAYS = int(os.environ.get("NBAUDIT_EXPORT_TTL_DAYS", "7"))
NBAUDIT_HOLIDAYS = env_dates("NBAUDIT_HOLIDAYS")
NBAUDIT_PLAN_START = datetime.date(2026, 5, 1)
NBAUDIT_PLAN_MIN_SPEND = Decimal(os.environ.get("NBAUDIT_PLAN_MIN_SPEND", "1000"))
NBAUDIT_PLAN_REPEAT_LIMIT = int(os.environ.get("NBAUDIT_PLAN_REPEAT_LIMIT", "3"))
NBAUDIT_PLAN_DUE_BUSINESS_DAYS = 5
NBAUDIT_REFUSAL_THRESHOLDS = {}  # family code -> output tokens; defaults in logs/families.py
NBAUDIT_API_MAX_BYTES = 10 * 1024 * 1024
NBAUDIT_API_MAX_ENVELOPES = 10_000

DATA_UPLOAD_MAX_MEMORY_SIZE = NBAUDIT_API_MAX_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
MEDIA_ROOT = DATA_DIR / "files"
MEDIA_URL = "/files/"

STATIC_URL = "/static/"
# plotly.js comes from the plotly package's own file, never a CDN.
import plotly as _plotly  # noqa: E402

STATICFILES_DIRS = [BASE_DIR / "static", ("plotly", Path(_plotly.__file__).parent / "package_data")]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# --- celery -------------------------------------------------------------------------
_BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (_BROKER_DIR / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_BROKER_DIR / "queue"),
        "data_folder_out": str(_BROKER_DIR / "queue"),
        "data_folder_processed": str(_BROKER_DIR / "processed"),
        "store_processed": False,
        "control_folder": str(_BROKER_DIR / "control"),
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_RESULT_BACKEND = None
CELERY_TIMEZONE = NBAUDIT_BILLING_TZ
CELERY_ENABLE_UTC = True
CELERY_TASK_ALWAYS_EAGER = env_bool("NBAUDIT_CELERY_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
CELERY_TASK_ROUTES = {"logs.tasks.export_run": {"queue": "exports"}}
CELERY_TASK_DEFAULT_QUEUE = "celery"
from celery.schedules import crontab  # noqa: E402

CELERY_BEAT_SCHEDULE = {
    "tally-previous-month": {
        "task": "billing.tasks.tally_month_end",
        "schedule": crontab(minute=30, hour=0, day_of_month=1),  # in CELERY_TIMEZONE (UTC+8)
    },
    "exports-expire": {"task": "logs.tasks.exports_expire", "schedule": crontab(minute=15)},
    "jobs-reap": {"task": "logs.tasks.jobs_reap", "schedule": 60.0},
    "reconciliations-reap": {"task": "billing.tasks.reconciliations_reap", "schedule": 60.0},
}

DJANGO_TABLES2_TEMPLATE = "tables/table.html"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("NBAUDIT_LOG_LEVEL", "WARNING")},
}
NBAUDIT_EXPORT_DIR = DATA_DIR / 'exports'

# The rollup covering index (INCLUDE columns) is a PostgreSQL speed-up; on SQLite it is a plain index.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
