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
from django.core.exceptions import ImproperlyConfigured

from nbaudit import startup

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

# The public development key only for the embedded default; with DATABASE_URL set, refused.
SECRET_KEY = startup.secret_key()
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
    "axes",
    "logs",
    "billing",
    "gateways",
    "alerts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # the language: the cookie (the switch), else Accept-Language; then the user's own below
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "logs.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "nbaudit.middleware.ContentSecurityPolicyMiddleware",
    "logs.middleware.UserTimezoneMiddleware",
    "nbaudit.db.ReplicaReadsMiddleware",
    # last: turns a login refused for a lock into the login page saying so
    "axes.middleware.AxesMiddleware",
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
                "alerts.context_processors.bell",
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
            # Kept per thread for a minute, as on PostgreSQL: opening the file and running the
            # PRAGMAs below on every request was a share of each cached page's time.
            "CONN_MAX_AGE": int(os.environ.get("NBAUDIT_SQLITE_CONN_MAX_AGE", "60")),
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
# A streaming replica for the dashboard's reads (nbaudit.db); in tests it mirrors the primary.
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(os.environ["DATABASE_REPLICA_URL"], conn_max_age=60)
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["nbaudit.db.PrimaryReplicaRouter"]
NBAUDIT_REPLICA_VIEWS = ("logs:overview", "logs:calls", "logs:call", "api:calls", "api:call")
NBAUDIT_REPLICA_MODELS = ("logs.call", "logs.hourlyrollup", "logs.ingestconflict", "logs.pricerow")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "logs.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
]

# --- cache ----------------------------------------------------------------------------
# The Overview's figures, keyed by the rollup version they were read at (never stale), shared by
# every web process and the worker (which warms them after a rollup write). Default: files under
# the data folder (the embedded default runs several web processes: a per-process cache would
# miss in each). NBAUDIT_CACHE_URL=redis://host:6379/1 (production: a DB of its own, not the
# broker's, since clearing a cache empties its DB); locmem:// one process only (the test suite);
# dummy:// turns caching off.
_cache_url = os.environ.get("NBAUDIT_CACHE_URL", "")
if _cache_url.startswith(("redis://", "rediss://", "unix://")):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url,
                          "KEY_PREFIX": "nbaudit"}}
elif _cache_url.startswith("dummy:"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
elif _cache_url.startswith("locmem:"):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "nbaudit",
                          "OPTIONS": {"MAX_ENTRIES": 2000}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(DATA_DIR / "cache"), "OPTIONS": {"MAX_ENTRIES": 5000}}}
NBAUDIT_OVERVIEW_CACHE_SECONDS = int(os.environ.get("NBAUDIT_OVERVIEW_CACHE_SECONDS", "3600"))
# After a rollup write the worker computes the default Overview pages ahead (logs.tasks.overview_warm).
NBAUDIT_OVERVIEW_WARM = env_bool("NBAUDIT_OVERVIEW_WARM", True)

# --- time and money ---------------------------------------------------------------------
# Two languages, both complete (README, "Languages"): English and Simplified Chinese. A new
# visitor gets the browser's Accept-Language (zh-CN, zh-SG, zh -> zh-hans); the switch in the
# navigation sets the cookie and, for a logged-in user, User.language, which wins from then on.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
# Dates and numbers per language: nbaudit/formats/<locale>/formats.py over Django's own
# (2026年11月 month names in Chinese, thousands grouped by 3 with "," in both languages).
FORMAT_MODULE_PATH = ["nbaudit.formats"]
USE_THOUSAND_SEPARATOR = True
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
LANGUAGE_COOKIE_SAMESITE = "Lax"
USE_TZ = True
TIME_ZONE = "UTC"  # storage; pages use the user's zone, billing uses NBAUDIT_BILLING_TZ
NBAUDIT_BILLING_TZ = os.environ.get("NBAUDIT_BILLING_TZ", "Asia/Shanghai")
NBAUDIT_STORE_PROMPTS = env_bool("NBAUDIT_STORE_PROMPTS", False)
NBAUDIT_EXPORT_MAX_ROWS = int(os.environ.get("NBAUDIT_EXPORT_MAX_ROWS", "1048575"))
NBAUDIT_EXPORT_TTL_DAYS = int(os.environ.get("NBAUDIT_EXPORT_TTL_DAYS", "7"))
NBAUDIT_HOLIDAYS = env_dates("NBAUDIT_HOLIDAYS")
NBAUDIT_PLAN_START = datetime.date(2026, 5, 1)
# Calls: billing months kept (the current month and this many before it; empty: all), and, on
# PostgreSQL, monthly partitions made this many months ahead and on demand from this month on
# (a call outside lands in the default partition and is reported: `manage.py partitions`).
NBAUDIT_RETENTION_MONTHS = int(os.environ["NBAUDIT_RETENTION_MONTHS"]) if os.environ.get("NBAUDIT_RETENTION_MONTHS") else None
NBAUDIT_PARTITIONS_AHEAD = int(os.environ.get("NBAUDIT_PARTITIONS_AHEAD", "3"))
NBAUDIT_PARTITIONS_FROM = datetime.date.fromisoformat(os.environ.get("NBAUDIT_PARTITIONS_FROM", "2025-01") + "-01")
NBAUDIT_PLAN_MIN_SPEND = Decimal(os.environ.get("NBAUDIT_PLAN_MIN_SPEND", "1000"))
NBAUDIT_PLAN_REPEAT_LIMIT = int(os.environ.get("NBAUDIT_PLAN_REPEAT_LIMIT", "3"))
NBAUDIT_PLAN_DUE_BUSINESS_DAYS = 5
NBAUDIT_REFUSAL_THRESHOLDS = {}  # family code -> output tokens; defaults in logs/families.py
NBAUDIT_API_MAX_BYTES = 10 * 1024 * 1024
NBAUDIT_API_MAX_ENVELOPES = 10_000
# An XLSX input (gateway export, local log) is refused past this many bytes decompressed, or a
# member of it over 16 MB compressed more than this ratio (a zip bomb; an export is about 20 to 1);
# rows after this many a sheet are rejected with the reason (Excel's own maximum). A 1,048,576-row
# export of the 12 usual columns is about 750 MB decompressed.
NBAUDIT_XLSX_MAX_BYTES = int(os.environ.get("NBAUDIT_XLSX_MAX_BYTES", str(1536 * 1024 * 1024)))
NBAUDIT_XLSX_MAX_RATIO = int(os.environ.get("NBAUDIT_XLSX_MAX_RATIO", "100"))
NBAUDIT_XLSX_MAX_ROWS = int(os.environ.get("NBAUDIT_XLSX_MAX_ROWS", "1048576"))

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

# --- celery -------------------------------------------------------------------------
_BROKER_DIR = DATA_DIR / "broker"
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
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
    # Partitions for the coming months, then retention (a month past NBAUDIT_RETENTION_MONTHS).
    "calls-partitions": {"task": "logs.tasks.calls_partitions", "schedule": crontab(minute=45, hour=3)},
    "jobs-reap": {"task": "logs.tasks.jobs_reap", "schedule": 60.0},
    # Staff's all-customers rollups: the hours written since summed again (also before each warming).
    "rollups-fold": {"task": "logs.tasks.all_customers_fold", "schedule": 60.0},
    "reconciliations-reap": {"task": "billing.tasks.reconciliations_reap", "schedule": 60.0},
    "tally-runs-reap": {"task": "billing.tasks.tally_runs_reap", "schedule": 60.0},
    "gateways-sync": {"task": "gateways.tasks.gateways_sync", "schedule": 60.0},
    "alerts-evaluate": {"task": "alerts.tasks.alerts_evaluate", "schedule": 60.0},
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

# --- login throttling (django-axes) ------------------------------------------------------
# After NBAUDIT_LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that
# pair is locked for NBAUDIT_LOGIN_LOCK_MINUTES (each further try starts the wait again); a
# good login clears the count. NBAUDIT_LOGIN_LOCK_BY lists what is counted, "+" joining the
# parts of one count: "username+ip_address" (default) locks a pair, so an attacker can lock
# neither a whole office behind one address nor a victim's account from elsewhere; add
# ",ip_address" to also lock an address spraying many usernames. Staff see and clear locks in
# the admin (Axes: Access attempts). API tokens are not logins and are not counted.
AUTHENTICATION_BACKENDS = [
    "nbaudit.auth.LoginThrottleBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("NBAUDIT_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=float(os.environ.get("NBAUDIT_LOGIN_LOCK_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [
    part.split("+") if "+" in part else part
    for part in os.environ.get("NBAUDIT_LOGIN_LOCK_BY", "username+ip_address").replace(" ", "").split(",")
    if part
]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "nbaudit.auth.lockout_response"
AXES_CLIENT_IP_CALLABLE = "nbaudit.auth.client_address"
AXES_HTTP_RESPONSE_CODE = 429
AXES_DISABLE_ACCESS_LOG = not env_bool("NBAUDIT_LOGIN_ACCESS_LOG", False)  # a row per good login
AXES_VERBOSE = False

# --- HTTPS and browser protections -------------------------------------------------------
# NBAUDIT_HTTPS=1: cookies only over HTTPS, plain HTTP redirected, HSTS for a year (with
# subdomains and the preload flag, as `check --deploy` asks; NBAUDIT_HSTS_SECONDS=0 and
# NBAUDIT_HSTS_PRELOAD=0 relax them). NBAUDIT_PROXY_COUNT=N: nbaudit sits behind N reverse
# proxies of your own that set X-Forwarded-Proto and append to X-Forwarded-For; then HTTPS is
# read from X-Forwarded-Proto and the client's address (for login locks) from X-Forwarded-For.
# Never set it without such a proxy: clients could then claim any address and protocol.
NBAUDIT_HTTPS = env_bool("NBAUDIT_HTTPS", False)
NBAUDIT_PROXY_COUNT = int(os.environ.get("NBAUDIT_PROXY_COUNT", "0"))
if NBAUDIT_HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = int(os.environ.get("NBAUDIT_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("NBAUDIT_HSTS_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("NBAUDIT_HSTS_PRELOAD", True)
if NBAUDIT_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Every page: scripts and styles only from our own static files (plotly.js included), no
# inline script or event handler. Style attributes are allowed: plotly.js sets them on its SVG
# (and progress bars carry their width); they run nothing, and img-src keeps their url()s
# home. Inline style elements are not, save two of plotly.js's by hash: the empty one it
# fills through the CSSOM (its chart styles) and the map stylesheet its bundle injects
# (plotly 7.1.0; a new plotly.js changes that hash: the browser tests then name the refusal).
NBAUDIT_CSP = os.environ.get("NBAUDIT_CSP") or (
    "default-src 'self'; "
    "script-src 'self'; "
    "style-src 'self' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' "
    "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='; "
    "style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; "
    "font-src 'self' data:; "
    "connect-src 'self'; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

# --- the data folder ---------------------------------------------------------------------
# Made (if missing) and probed now, so that a read-only or full folder stops the start with
# the folder named, not with a traceback at the first write.
startup.require_writable(
    [("the data folder (NBAUDIT_DATA_DIR)", DATA_DIR), ("static files", STATIC_ROOT),
     ("uploads", MEDIA_ROOT), ("exports", NBAUDIT_EXPORT_DIR)]
    + ([("the filesystem broker", _BROKER_DIR / sub) for sub in ("queue", "processed", "control")]
       if CELERY_BROKER_URL.startswith("filesystem://") else []),
    [("the SQLite database", DATABASES["default"]["NAME"])]
    if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else [],
)

# --- alerts: email and webhooks -------------------------------------------------------------
def _email_settings(url: str) -> dict:
    """EMAIL_URL: smtp://[user:password@]host:port[?tls=1|ssl=1], or console:// (the default)."""
    from urllib.parse import parse_qs, unquote, urlsplit

    parts = urlsplit(url or "console://")
    if parts.scheme in ("", "console"):
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parts.scheme not in ("smtp", "smtps"):
        raise ImproperlyConfigured(f"EMAIL_URL: use smtp://host:port or console://, not {parts.scheme}://")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parts.hostname or "localhost",
        "EMAIL_PORT": parts.port or (465 if parts.scheme == "smtps" else 25),
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": query.get("tls") in ("1", "true"),
        "EMAIL_USE_SSL": parts.scheme == "smtps" or query.get("ssl") in ("1", "true"),
    }


_email_url = os.environ.get("EMAIL_URL") or (
    f"smtp://{os.environ['NBAUDIT_EMAIL_HOST']}:{os.environ.get('NBAUDIT_EMAIL_PORT', '25')}"
    if os.environ.get("NBAUDIT_EMAIL_HOST") else "console://")
globals().update(_email_settings(_email_url))
EMAIL_TIMEOUT = int(os.environ.get("NBAUDIT_EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("NBAUDIT_EMAIL_FROM", "nbaudit <nbaudit@localhost>")
NBAUDIT_WEBHOOK_ALLOW_PRIVATE = env_bool("NBAUDIT_WEBHOOK_ALLOW_PRIVATE", False)
NBAUDIT_WEBHOOK_TIMEOUT = float(os.environ.get("NBAUDIT_WEBHOOK_TIMEOUT", "10"))
NBAUDIT_ALERT_DELIVERY_ATTEMPTS = int(os.environ.get("NBAUDIT_ALERT_DELIVERY_ATTEMPTS", "5"))
