"""GridGov settings, read from the environment.

Everything that differs between a laptop demo, CI and a county deployment is an
environment variable; nothing here needs editing to deploy.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config import jobs, queues

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# pytest (8.2+) announces itself in PYTEST_VERSION; tests get fast hashing and eager jobs.
TESTING = env_bool("GRIDGOV_TESTING") or "PYTEST_VERSION" in os.environ
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING:
        SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105
    else:
        raise ImproperlyConfigured("SECRET_KEY must be set (DEBUG is off).")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "ninja",
    "gridgov.core",
    "gridgov.audit",
    "gridgov.units",
    "gridgov.access",
    "gridgov.geo",
    "gridgov.notify",
    "gridgov.scheduling",
    "gridgov.residents",
    "gridgov.cases",
    "gridgov.cases.public",
    "gridgov.deliberation",
    "gridgov.notices",
    "gridgov.workforce",
    "gridgov.visits",
    "gridgov.mediation",
    "gridgov.processes",
    "gridgov.insights",
    "gridgov.interfaces.staff",
    "gridgov.interfaces.public",
    "gridgov.interfaces.api",
    "gridgov.interfaces.jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "gridgov.core.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "gridgov.core.middleware.RequestContextMiddleware",
    "gridgov.core.metrics.MetricsMiddleware",
    "gridgov.core.replica.ReplicaPinMiddleware",  # a user who just saved reads the primary for a while
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "gridgov.interfaces.public.middleware.PublicBodyLimitMiddleware",  # before CSRF reads the upload
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "gridgov.interfaces.session_policy.SessionTimeoutMiddleware",
    "gridgov.interfaces.two_factor.TwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gridgov.interfaces.file_errors.FileStoreErrorMiddleware",  # object store down or file gone: Chinese page
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "gridgov" / "interfaces" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gridgov.interfaces.staff.context.navigation",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------
# SQLite (WAL) is the embedded default; PostgreSQL when DATABASE_URL names one.
DEFAULT_SQLITE = f"sqlite:///{BASE_DIR / 'var' / 'gridgov.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", DEFAULT_SQLITE), conn_max_age=0
    )
}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.sqlite3":
    (BASE_DIR / "var").mkdir(exist_ok=True)
    _db["OPTIONS"] = {
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
            "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON;"
        ),
        "transaction_mode": "IMMEDIATE",
    }
elif _db["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True) and not TESTING:
    # Pool connections: granian's threads must never exhaust PostgreSQL.
    _db["OPTIONS"] = {
        "pool": {
            "min_size": int(os.environ.get("DATABASE_POOL_MIN", "2")),
            "max_size": int(os.environ.get("DATABASE_POOL_MAX", "10")),
            "timeout": 10,
        }
    }
    _db["CONN_MAX_AGE"] = 0

# Behind PgBouncer in transaction mode (docs/deploy.md): a client's consecutive transactions may run on different
# server connections, so nothing may outlive a transaction on the server: no server-side cursors (`.iterator()`
# would declare a WITH HOLD cursor in one and fetch it in another) and no server-side prepared statements (psycopg
# prepares a query it has run five times; PgBouncer before 1.21, Debian 12's 1.18, cannot carry them).
# tests/deploy/test_pgbouncer.py runs the app's reads and writes through a real PgBouncer both ways.
if _db["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_PGBOUNCER"):
    _db["DISABLE_SERVER_SIDE_CURSORS"] = True
    _db.setdefault("OPTIONS", {})["prepare_threshold"] = None

# A streaming replica for the read-only pages (gridgov/core/replica.py, docs/scale.md): dashboards, maps and searches
# read there; everything else, and a user's pages for GRIDGOV_REPLICA_PIN_SECONDS after they saved something, read
# the primary. Same pool and PgBouncer settings as the primary.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
if DATABASE_REPLICA_URL:
    _replica = dj_database_url.parse(DATABASE_REPLICA_URL, conn_max_age=0)
    for _key in ("OPTIONS", "CONN_MAX_AGE", "DISABLE_SERVER_SIDE_CURSORS"):
        if _key in _db:
            _replica[_key] = copy.deepcopy(_db[_key])  # type: ignore[literal-required]
    _replica["TEST"] = {"MIRROR": "default"}
    DATABASES["replica"] = _replica
DATABASE_ROUTERS = ["gridgov.core.replica.ReplicaRouter"]
GRIDGOV_REPLICA_PIN_SECONDS = int(os.environ.get("GRIDGOV_REPLICA_PIN_SECONDS", "30"))

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "access.User"

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if env_bool("GRIDGOV_FAST_HASHER", TESTING):
    # Tests create hundreds of users; Argon2 on each would dominate the run.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "gridgov.access.passwords.ComplexityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "gridgov.access.passwords.PasswordHistoryValidator"},
]

LOGIN_URL = "staff:login"
LOGIN_REDIRECT_URL = "staff:home"
LOGOUT_REDIRECT_URL = "staff:login"

SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_ENGINE = "gridgov.core.sessions"  # database sessions; a lost connection stays a 5xx, not a 400
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG and not TESTING)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HSTS in production (TLS ends at nginx, which also redirects http → https).
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG or TESTING else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# nginx redirects http to https before a request reaches Django (deploy/nginx/gridgov.conf).
SILENCED_SYSTEM_CHECKS = ["security.W008"]

# --- Language and time ----------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "gridgov" / "interfaces" / "static"]
# Front-end libraries come from the npm registry (package-lock.json). `make install` copies the few
# files the pages use into var/vendor/ (echarts' dist alone is 50 MB); without it, the dist folders.
_vendor = BASE_DIR / "var" / "vendor"
if _vendor.is_dir():
    STATICFILES_DIRS.append(_vendor)
else:
    _node = BASE_DIR / "node_modules"
    for _pkg_dir in ("htmx.org/dist", "leaflet/dist", "echarts/dist"):
        if (_node / _pkg_dir).is_dir():
            STATICFILES_DIRS.append((_pkg_dir.split("/")[0].replace(".org", ""), _node / _pkg_dir))
STORAGES: dict[str, dict[str, Any]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and not TESTING
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING
# Compress only what browsers fetch: source maps are big and brotli on them took minutes.
WHITENOISE_KEEP_ONLY_HASHED_FILES = True
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [
    "jpg", "jpeg", "png", "gif", "webp", "zip", "gz", "tgz", "bz2", "tbz", "xz", "br", "woff", "woff2", "map",
]
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
# Object storage (docs/deploy.md): with a bucket, photos, attachments, exports, reports and audit archives go to an
# S3-compatible store every app server and worker shares (gridgov/core/storage.py); without one, MEDIA_ROOT.
GRIDGOV_S3_BUCKET = os.environ.get("GRIDGOV_S3_BUCKET", "")
if GRIDGOV_S3_BUCKET:
    from botocore.config import Config as _BotoConfig

    _s3 = {
        "bucket_name": GRIDGOV_S3_BUCKET,
        "endpoint_url": os.environ.get("GRIDGOV_S3_ENDPOINT_URL", "") or None,
        "access_key": os.environ.get("GRIDGOV_S3_ACCESS_KEY_ID", "") or None,
        "secret_key": os.environ.get("GRIDGOV_S3_SECRET_ACCESS_KEY", "") or None,
        "region_name": os.environ.get("GRIDGOV_S3_REGION", "") or None,
        # Path-style addresses (http://host/bucket/key) work on MinIO and Ceph without DNS for each bucket.
        "file_overwrite": False,  # never replace a file under a name already given out
        "default_acl": None,  # the bucket stays private: files are served only through the app's scoped views
        "querystring_auth": True,
        # A store that does not answer must fail a request within seconds, not hang a worker thread.
        "client_config": _BotoConfig(
            connect_timeout=3, read_timeout=20, retries={"max_attempts": 2, "mode": "standard"},
            signature_version="s3v4",
            s3={"addressing_style": os.environ.get("GRIDGOV_S3_ADDRESSING_STYLE", "path")},
        ),
    }
    STORAGES["default"] = {"BACKEND": "gridgov.core.storage.ObjectStorage", "OPTIONS": _s3}
    STORAGES["audit_archive"] = {"BACKEND": "gridgov.core.storage.ObjectStorage",
                                 "OPTIONS": {**_s3, "location": "audit-archive"}}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Cache (point-in-grid index, rate limits) ------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    # Django's RedisCache, with one client per pool instead of one per call (gridgov/core/redis_cache.py).
    CACHES = {"default": {"BACKEND": "gridgov.core.redis_cache.DegradingRedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# With a shared cache, sessions are read from Redis and written through to the database (one
# PostgreSQL query less per request). A per-process cache would let a signed-out session live on
# in the other workers, so without Redis they stay in the database only.
if REDIS_URL:
    SESSION_ENGINE = "gridgov.core.cached_sessions"

# --- Celery ---------------------------------------------------------------
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", REDIS_URL or None)
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A job whose worker vanished without a word is handed out again after this long: it must exceed the longest job,
# or Redis hands a running job to a second worker (a year's day facts at size L take 20-25 min). Two hours.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "7200"))}
CELERY_TIMEZONE = TIME_ZONE
# One queue per job kind (config/queues.py): an import or a report never delays the deadline sweep or
# the SMS outbox. A worker started without -Q consumes every queue (one machine).
GRIDGOV_QUEUES = queues.QUEUES
CELERY_TASK_DEFAULT_QUEUE = queues.DEFAULT_QUEUE
CELERY_TASK_QUEUES = queues.task_queues()
CELERY_TASK_ROUTES = queues.ROUTES

METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
# The reverse proxies whose X-Real-IP / X-Forwarded-For are believed (comma-separated addresses or
# CIDRs; the shipped deploy/gridgov.env.example sets nginx's loopback). Empty: the peer's address is
# the client's, whatever headers it sends (gridgov.core.middleware.client_ip). Checked at start-up.
GRIDGOV_TRUSTED_PROXIES = env_list("GRIDGOV_TRUSTED_PROXIES")
# /api/docs and /api/openapi.json only for a signed-in user (session or API token); off opens them.
GRIDGOV_API_DOCS_LOGIN = env_bool("GRIDGOV_API_DOCS_LOGIN", True)
for _cidr in GRIDGOV_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_cidr, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"GRIDGOV_TRUSTED_PROXIES: not an address or CIDR: {_cidr}") from _exc
# Outbound channels, as JSON: {"sms": {"type": "sms", "url": "https://…", "token": "…"},
# "wecom": {"type": "wecom", "url": "https://qyapi…"}} (see gridgov/notify/channels.py).
GRIDGOV_CHANNELS = json.loads(os.environ.get("GRIDGOV_CHANNELS", "{}"))
# Open311 clients' keys, as JSON: {"key": "client name"} or {"key": {"name": "12345热线", "township":
# "<12-digit division code>"}} (the township whose office takes reports placed by address alone).
GRIDGOV_OPEN311_KEYS = json.loads(os.environ.get("GRIDGOV_OPEN311_KEYS", "{}"))
if not isinstance(GRIDGOV_OPEN311_KEYS, dict):
    raise ImproperlyConfigured("GRIDGOV_OPEN311_KEYS must be a JSON object of key → client.")
# Two-factor sign-in for admin and office roles. On in deployments; `make demo` turns it off so a
# newcomer can try every role, and tests turn it on where they test it.
GRIDGOV_REQUIRE_TOTP = env_bool("GRIDGOV_REQUIRE_TOTP", not TESTING)

# --- GridGov --------------------------------------------------------------
# Audit rows must be kept at least 184 days (网络安全法 Art. 21: six months).
GRIDGOV_AUDIT_RETENTION_DAYS = int(os.environ.get("GRIDGOV_AUDIT_RETENTION_DAYS", "184"))
if GRIDGOV_AUDIT_RETENTION_DAYS < 184:
    raise ImproperlyConfigured("GRIDGOV_AUDIT_RETENTION_DAYS must be at least 184 (six months).")
# Days after the deadline sweep archived an unrated case during which staff may still record a
# follow-up call or visit (回访) that rates or reopens it (cases/states.py, issue #15).
GRIDGOV_FOLLOW_UP_AFTER_AUTO_CLOSE_DAYS = int(os.environ.get("GRIDGOV_FOLLOW_UP_AFTER_AUTO_CLOSE_DAYS", "15"))
# The audit log's chain key, kept outside the database (and outside its backups): "id:secret" pairs,
# comma-separated; the first seals new rows and checkpoints, the others still verify what they sealed
# (rotation: put the new pair first, keep the old ones). audit/chain.py refuses to seal without it.
GRIDGOV_AUDIT_KEY = os.environ.get(
    "GRIDGOV_AUDIT_KEY", "test:gridgov-test-audit-key-not-for-deployments-000" if TESTING else "")
# Audit rows older than the retention are moved here, with their hash chain (audit.archive, daily).
# Under the media directory by default, so backup_create takes them along (media is never served);
# each file's SHA-256 is recorded in audit.AuditArchive.
GRIDGOV_AUDIT_ARCHIVE_DIR = Path(os.environ.get("GRIDGOV_AUDIT_ARCHIVE_DIR", MEDIA_ROOT / "audit-archive"))
# An uploaded workbook is parsed in a child process with this much address space and CPU time
# (core.untrusted): whatever the file does, the web server or Celery worker survives it.
GRIDGOV_PARSE_MEMORY_MB = int(os.environ.get("GRIDGOV_PARSE_MEMORY_MB", "2048"))
GRIDGOV_PARSE_CPU_SECONDS = int(os.environ.get("GRIDGOV_PARSE_CPU_SECONDS", "120"))
# Where residents reach this deployment: printed into QR codes on grid boards and cards.
GRIDGOV_PUBLIC_BASE_URL = os.environ.get("GRIDGOV_PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
# Printed on supervision cards (监督卡): where residents complain about grid staff.
# A form posted without its CSRF cookie gets a plain Chinese page (residents' phones drop cookies).
CSRF_FAILURE_VIEW = "gridgov.interfaces.public.views.csrf_failure"
GRIDGOV_SUPERVISION_PHONE = os.environ.get("GRIDGOV_SUPERVISION_PHONE", "12345")
GRIDGOV_DIVISIONS_DIR = Path(
    os.environ.get("GRIDGOV_DIVISIONS_DIR", BASE_DIR / "gridgov" / "units" / "data" / "divisions")
)

# The base map under grid boundaries: "none" (offline, boundaries on a plain background) or
# "tianditu" with GRIDGOV_TIANDITU_KEY (天地图 serves CGCS2000 tiles, no coordinate offset).
GRIDGOV_MAP_TILES = os.environ.get("GRIDGOV_MAP_TILES", "none")
# Dashboards keep a unit's figures this long (a county with a year of cases takes seconds to compute).
GRIDGOV_INSIGHTS_CACHE_SECONDS = int(os.environ.get("GRIDGOV_INSIGHTS_CACHE_SECONDS", "0" if TESTING else "120"))
GRIDGOV_TIANDITU_KEY = os.environ.get("GRIDGOV_TIANDITU_KEY", "")
if GRIDGOV_MAP_TILES == "tianditu" and GRIDGOV_TIANDITU_KEY:
    CONTENT_SECURITY_POLICY = (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob: https://*.tianditu.gov.cn; font-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
        },
    },
    "filters": {"request": {"()": "gridgov.core.middleware.RequestIdLogFilter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": os.environ.get("LOG_FORMAT", "plain"),  # "json" in deployments
            "filters": ["request"],
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
# Periodic jobs: the schedule is defined once in config/jobs.py. Celery beat sends each job to its queue;
# the embedded mode's job runner (`manage.py run_jobs`, `manage.py serve`) runs the same jobs in process.
# Each job is idempotent and takes its lease row in the database, so an overlap, a rerun, a second beat
# or a second runner does no harm.
CELERY_BEAT_SCHEDULE = jobs.beat_schedule()
# How often the embedded job runner looks for due jobs (seconds).
GRIDGOV_JOB_TICK = float(os.environ.get("GRIDGOV_JOB_TICK", "5"))

# Bench-only URLs (/bench/insert, the bare-INSERT baseline of `make bench`); never in a deployment.
GRIDGOV_BENCH_ENDPOINTS = env_bool("GRIDGOV_BENCH_ENDPOINTS", False)
