"""Settings of the telemetry platform, all taken from the environment (see README)."""
import os
import tempfile
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_float, env_int, env_list, env_networks, env_rate, env_str
from config.replica import replica_database

BASE_DIR = Path(__file__).resolve().parent.parent
REPO_DIR = BASE_DIR.parent

# A development default only: config.settings_production refuses to start with it.
INSECURE_DEFAULT_SECRET_KEY = "dev-insecure-secret-key-change-me"
SECRET_KEY = env_str("DJANGO_SECRET_KEY", INSECURE_DEFAULT_SECRET_KEY)
DEBUG = env_bool("DJANGO_DEBUG", True)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])

INSTALLED_APPS = [
    # django.contrib.admin, its views reading on the primary (a read replica may lag).
    "config.admin_site.PrimaryReadsAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "corsheaders",
    "devices",
    "telemetry",
    # Before background_task: its `process_tasks` command overrides the library's.
    "alerts",
    "config.background_task_app.BackgroundTaskConfig",
    "health",
    "notifications",
    "api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses the API's JSON (a 100-device fleet poll: 31 kB -> 3 kB). WhiteNoise,
    # above, serves the dashboard's files precompressed already. Django masks its CSRF
    # token per response, which is what keeps compression from leaking it (BREACH).
    "django.middleware.gzip.GZipMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "config.limits.RequestLimitsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, ingest and worker share one SQLite file. WAL lets readers run beside the
    # writer; IMMEDIATE transactions take the write lock up front, so a transaction
    # waits for the busy timeout instead of failing with "database is locked" when
    # it upgrades from read to write. synchronous=NORMAL is safe in WAL mode: a power
    # cut may lose the last commits, never corrupt the file. The ingest's writer, whose
    # commit is what lets it ack a batch, switches its own connection to
    # SQLITE_SYNCHRONOUS (FULL: an fsync per commit; NORMAL for comparison).
    SQLITE_SYNCHRONOUS = env_str("SQLITE_SYNCHRONOUS", "FULL").upper()
    if SQLITE_SYNCHRONOUS not in {"NORMAL", "FULL", "EXTRA"}:
        raise ImproperlyConfigured(f"SQLITE_SYNCHRONOUS={SQLITE_SYNCHRONOUS!r} is not NORMAL, FULL or EXTRA")
    DATABASES["default"]["OPTIONS"] = {
        "timeout": env_float("SQLITE_BUSY_TIMEOUT_SECONDS", 30.0, minimum=0),
        "transaction_mode": "IMMEDIATE",
        "init_command": (
            "PRAGMA journal_mode=WAL;"
            "PRAGMA synchronous=NORMAL;"
            "PRAGMA temp_store=MEMORY;"
            "PRAGMA cache_size=-16384;"
            # Checkpoint every ~40 MB of WAL rather than 4 MB: readings of many devices
            # dirty the same index pages commit after commit, and each checkpoint
            # copies a page once however often it changed (measured: -30 % write time).
            "PRAGMA wal_autocheckpoint=10000;"
        ),
    }
    # A persistent SQLite connection would keep an old WAL snapshot alive; the
    # connection is cheap to open.
    DATABASES["default"]["CONN_MAX_AGE"] = 0

# Database timeouts (docs/security.md, "Database timeouts"): SQLite waits for its lock up
# to SQLITE_BUSY_TIMEOUT_SECONDS (above). On PostgreSQL a host that does not answer would hold a process for libpq's 130 s; every process gives
# up after this instead, and the ingest and the worker retry as for any database error.
DATABASE_CONNECT_TIMEOUT_SECONDS = env_int("DATABASE_CONNECT_TIMEOUT_SECONDS", 5, minimum=2)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT_SECONDS)

# A PostgreSQL streaming replica for the API's reads (docs/operations.md, "Read replicas"):
# built like default, with default's options (its connect_timeout too, so an unreachable
# replica fails fast and reads fall back to the primary); writes, the admin, the ingest and the worker
# stay on the primary (config/routers.py).
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
# After a connection error on the replica, API reads go to the primary for this long.
DATABASE_REPLICA_RETRY_SECONDS = env_float("DATABASE_REPLICA_RETRY_SECONDS", 5.0, minimum=0.1)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = replica_database(DATABASE_REPLICA_URL, DATABASES["default"])
    DATABASE_ROUTERS = ["config.routers.PrimaryReplicaRouter"]
    MIDDLEWARE.append("config.routers.ReplicaReadsMiddleware")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# The dashboard's build (npm run build), served at / by WhiteNoise; Vite's hashed
# assets are cached for good, index.html is revalidated.
SPA_DIST_DIR = REPO_DIR / "frontend" / "dist"
WHITENOISE_ROOT = SPA_DIST_DIR if SPA_DIST_DIR.is_dir() else None
WHITENOISE_INDEX_FILE = True
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_IMMUTABLE_FILE_TEST = r"^.+[.-][0-9a-zA-Z_-]{8,12}\..+$"

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["api.parsers.BoundedJSONParser"],
    # Session first: a request without credentials then gets 403 (the session scheme
    # sends no WWW-Authenticate challenge), as docs/api.md says. Tokens need no CSRF.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "rest_framework.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["api.permissions.ReadOnlyOrStaff"],
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    # One bucket per client address (anonymous) or per user. A dashboard tab polls about
    # eight endpoints every 3 s (160 requests/min), so the defaults leave room for many
    # tabs behind one address while a runaway client is cut off.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "3000/min"),
        "user": env_rate("API_THROTTLE_USER", "6000/min"),
    },
    # How many proxies in front of Django append to X-Forwarded-For. With 0 the header
    # is ignored: trusting it blindly would let a client pick a fresh bucket per request.
    "NUM_PROXIES": env_int("API_NUM_PROXIES", 0, minimum=0),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
# Request size bounds (config/limits.py): larger bodies get 413 before anything reads
# them, longer query strings 414. The API reads at most one body of this size per request.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024, minimum=1024)
MAX_QUERY_STRING_BYTES = env_int("MAX_QUERY_STRING_BYTES", 4096, minimum=256)

# Reads are open unless this is on; then they need a signed-in user (session or token).
API_READ_AUTH = env_bool("API_READ_AUTH", False)

# The OpenAPI schema at /api/schema/, browsable at /api/docs/; readable by whoever may read the API.
SPECTACULAR_SETTINGS = {
    "TITLE": "Telemetry platform API",
    "DESCRIPTION": "Devices, their readings, statistics and alerts. Errors are "
    '`{"error": "...", "field": "..."}`; writes need a staff user (session or token).',
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["api.permissions.ReadOnlyOrStaff"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.optional_query_parameters_may_be_empty",
    ],
    "ENUM_NAME_OVERRIDES": {
        "DeviceStatusEnum": "devices.models.Device.Status",
        "AlertTypeEnum": "alerts.models.Alert.Type",
        "ConnectionStateEnum": ["connected", "disconnected"],
    },
}

# The built SPA is same-origin and needs neither. The Vite dev server (port 5173)
# proxies /api and /admin to runserver, so its unsafe requests carry Origin
# http://localhost:5173, which CSRF must trust; a page calling runserver directly
# from 5173 also needs CORS, with cookies for a session login. Only /api/ answers CORS.
CORS_ALLOWED_ORIGINS = env_list(
    "CORS_ALLOWED_ORIGINS", ["http://localhost:5173", "http://127.0.0.1:5173"]
)
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = True
# Paged lists say where the next page is in a Link header, which the dashboard must read.
CORS_EXPOSE_HEADERS = ["Link"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", CORS_ALLOWED_ORIGINS)

MQTT_HOST = env_str("MQTT_HOST", "localhost")
MQTT_PORT = env_int("MQTT_PORT", 1883, minimum=1)
MQTT_USERNAME = env_str("MQTT_USERNAME", "")
MQTT_PASSWORD = env_str("MQTT_PASSWORD", "")
MQTT_TOPIC = env_str("MQTT_TOPIC", "devices/+/telemetry")
MQTT_CLIENT_ID = env_str("MQTT_CLIENT_ID", "telemetry-ingest")
# The dynamic security plugin's admin on the device listener, for
# devices.broker_dynsec.DynamicSecurityAccounts (docs/security.md).
MQTT_ADMIN_USERNAME = env_str("MQTT_ADMIN_USERNAME", "")
MQTT_ADMIN_PASSWORD = env_str("MQTT_ADMIN_PASSWORD", "")
MQTT_ADMIN_HOST = env_str("MQTT_ADMIN_HOST", "") or MQTT_HOST
MQTT_ADMIN_PORT = env_int("MQTT_ADMIN_PORT", 1883, minimum=1)
# TLS to the broker: the CA that signed its certificate (the system's when empty), and
# a client certificate and key for a listener that requires one.
MQTT_TLS = env_bool("MQTT_TLS", False)
MQTT_CA_FILE = env_str("MQTT_CA_FILE", "")
MQTT_CERT_FILE = env_str("MQTT_CERT_FILE", "")
MQTT_KEY_FILE = env_str("MQTT_KEY_FILE", "")
# `ingest --shared-group` members: client id MQTT_CLIENT_ID-<slot>, each claiming the
# lowest free slot through lock files here, or MQTT_CLIENT_ID-<INGEST_MEMBER_ID> if set.
INGEST_MEMBER_ID = env_str("INGEST_MEMBER_ID", "")
INGEST_RUNTIME_DIR = Path(env_str("INGEST_RUNTIME_DIR", str(REPO_DIR / ".data" / "ingest")))

# --- Rejected messages (telemetry.rejections; see docs/reliability.md) ------------------
# Every rejection is counted; only a sample is stored: per hour, at most
# REJECTIONS_SAMPLE_PER_DEVICE per device and reason, and REJECTIONS_SAMPLE_PER_HOUR in all.
REJECTIONS_SAMPLE_PER_DEVICE = env_int("REJECTIONS_SAMPLE_PER_DEVICE", 10, minimum=0)
REJECTIONS_SAMPLE_PER_HOUR = env_int("REJECTIONS_SAMPLE_PER_HOUR", 1000, minimum=0)
# The worker deletes stored rejections older than this; 0 keeps them forever.
REJECTIONS_RETENTION_DAYS = env_int("REJECTIONS_RETENTION_DAYS", 7, minimum=0)
# The worker deletes readings older than this (whole partitions with pg_partman); 0 keeps them.
RETENTION_DAYS = env_int("RETENTION_DAYS", 0, minimum=0)
# Minutes of per-device minute rollups kept (the fleet stats' windows up to this read them);
# the fleet's per-minute stored counts are kept FLEET_RATE_RETENTION_HOURS.
ROLLUP_RETENTION_MINUTES = env_int("ROLLUP_RETENTION_MINUTES", 60, minimum=5)
FLEET_RATE_RETENTION_HOURS = env_int("FLEET_RATE_RETENTION_HOURS", 24, minimum=1)
# --- end of the rejected messages section ----------------------------------------------

# --- Device registry and HTTP ingestion (docs/api.md, "Devices", "HTTP ingestion") -----
# true: the first reading of an unknown id creates its device; false: it is rejected
# with the reason "unknown device" (MQTT and HTTP alike).
AUTO_REGISTER_DEVICES = env_bool("AUTO_REGISTER_DEVICES", True)
# The HMAC key device API keys are hashed under; empty: DJANGO_SECRET_KEY. Changing it
# invalidates every device key.
DEVICE_KEY_PEPPER = env_str("DEVICE_KEY_PEPPER", "")
# Told of every device key registered, rotated or removed (devices/broker_accounts.py).
DEVICE_BROKER_ACCOUNTS = env_str("DEVICE_BROKER_ACCOUNTS", "devices.broker_accounts.NoBrokerAccounts")
# POST /api/devices/{id}/telemetry/ requests, per device key and per client address
# (API_NUM_PROXIES), counted in the "api" cache that every web worker shares.
INGEST_THROTTLE_DEVICE = env_rate("INGEST_THROTTLE_DEVICE", "600/min")
INGEST_THROTTLE_ADDRESS = env_rate("INGEST_THROTTLE_ADDRESS", "6000/min")
# --- end of the device registry section ------------------------------------------------

HIGH_TEMP_THRESHOLD = env_float("HIGH_TEMP_THRESHOLD", 30.0)
OFFLINE_AFTER_SECONDS = env_float("OFFLINE_AFTER_SECONDS", 10.0, minimum=0.1)

# --- Alert rules (docs/alerts.md): defaults that device types and devices may override ---
# A HIGH_TEMP episode ends at a reading at or below HIGH_TEMP_THRESHOLD minus this.
HIGH_TEMP_HYSTERESIS = env_float("HIGH_TEMP_HYSTERESIS", 0.0, minimum=0)
# A battery below this (percent) starts a LOW_BATTERY episode; it ends at or above it plus the hysteresis.
LOW_BATTERY_PERCENT = env_float("LOW_BATTERY_PERCENT", 15.0, minimum=0)
LOW_BATTERY_HYSTERESIS = env_float("LOW_BATTERY_HYSTERESIS", 5.0, minimum=0)
# ANOMALY: a reading more than ANOMALY_Z standard deviations from the device's recent
# (exponentially weighted, weight ANOMALY_ALPHA) mean, once ANOMALY_WARMUP readings are
# in; ANOMALY_CLEAR_AFTER normal readings in a row end it. The std is at least ANOMALY_MIN_STD.
ANOMALY_Z = env_float("ANOMALY_Z", 4.0, minimum=0.1)
ANOMALY_WARMUP = env_int("ANOMALY_WARMUP", 30, minimum=2)
ANOMALY_CLEAR_AFTER = env_int("ANOMALY_CLEAR_AFTER", 5, minimum=1)
ANOMALY_ALPHA = env_float("ANOMALY_ALPHA", 0.05, minimum=0.001)
ANOMALY_MIN_STD = env_float("ANOMALY_MIN_STD", 0.1, minimum=0)
# --- end of the alert rules section ------------------------------------------------------

# A heartbeat older than this means its process is gone (docs/contract.md, "Health").
HEARTBEAT_STALE_SECONDS = env_float("HEARTBEAT_STALE_SECONDS", 15.0, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Tests start real ingest and worker processes, which need a file, not :memory:;
    # one file per test run, so two runs never share a database.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"telemetry-test-{os.getpid()}.sqlite3")
    }

# --- Alert worker (alerts app on django-background-tasks; see docs/alerts.md) ---------
# A task locked by a worker that died is handed to another worker after MAX_RUN_TIME
# (the library's default is an hour). The alert pass takes well under a second and is
# safe to run twice (compare-and-set), so a short lock costs nothing.
MAX_RUN_TIME = env_int("BACKGROUND_TASK_MAX_RUN_TIME", 15, minimum=5)
# Tasks run in the worker's main thread, so SIGTERM finds no task half-way in a pool.
BACKGROUND_TASK_RUN_ASYNC = False
# The library logs two lines per task run at INFO, i.e. two a second; alerts log their own.
LOGGING["loggers"]["background_task"] = {"level": "WARNING"}
# --- end of the alert worker section ---------------------------------------------------

# --- Admin login (docs/security.md, "The admin login") --------------------------------
# createsuperuser and the admin's password forms refuse weak passwords.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes counts failed logins in the database (shared by every web worker) and
# refuses a locked-out login before the password is checked. It locks out a username
# from one client address only, so nobody can lock the real admin out from everywhere.
INSTALLED_APPS += ["axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Last, as Axes asks: it turns a refused login into its 429 answer.
MIDDLEWARE += ["axes.middleware.AxesMiddleware"]
AXES_FAILURE_LIMIT = env_int("ADMIN_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("ADMIN_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# The client address as the API's throttles see it (API_NUM_PROXIES), never a raw X-Forwarded-For.
AXES_CLIENT_IP_CALLABLE = "config.admin_login.client_address"
AXES_RESET_ON_SUCCESS = True
# Failures and lockouts are warnings; the start banner and bookkeeping lines are not
# wanted in every process's log.
LOGGING["loggers"]["axes"] = {"level": "WARNING"}
# --- end of the admin login section ---------------------------------------------------

# --- Database timeouts (docs/security.md, "Database timeouts") ------------------------
# The web's queries only (config/wsgi.py applies it): PostgreSQL cancels a statement
# running longer, so a request gunicorn kills at GUNICORN_TIMEOUT leaves no query behind.
GUNICORN_TIMEOUT_SECONDS = env_int("GUNICORN_TIMEOUT", 20, minimum=1)
WEB_STATEMENT_TIMEOUT_SECONDS = env_float(
    "WEB_STATEMENT_TIMEOUT_SECONDS", GUNICORN_TIMEOUT_SECONDS * 0.75, minimum=0.1
)
# --- end of the database timeouts section ---------------------------------------------

# --- Cached heavy reads (docs/api.md, "Cached reads") ---------------------------------
from config.caches import shared_cache  # noqa: E402

CACHES = {
    # Per process, as before: DRF's throttles write to it on every request, which in a
    # database cache would contend with the ingest for SQLite's write lock.
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Shared by every web worker, for the fleet stats, series and long-window averages only.
    "api": shared_cache(env_str("REDIS_URL", "")),
}
# Seconds those answers are reused; 0 turns the cache off.
API_CACHE_SECONDS = env_int("API_CACHE_SECONDS", 2, minimum=0)
# --- end of the cached heavy reads section --------------------------------------------

# --- Notifications (notifications app; see docs/notifications.md) ---------------------
# E-mail goes through Django's backend: printed to the worker's output in development,
# SMTP with the EMAIL_* variables otherwise (or any backend EMAIL_BACKEND names).
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0, minimum=0.1)
NOTIFY_FROM_EMAIL = env_str("NOTIFY_FROM_EMAIL", "telemetry@localhost")
# Per socket operation of one webhook POST; a delivery's lease (30 s) must outlast it.
NOTIFY_WEBHOOK_TIMEOUT_SECONDS = env_float("NOTIFY_WEBHOOK_TIMEOUT_SECONDS", 5.0, minimum=0.1)
if NOTIFY_WEBHOOK_TIMEOUT_SECONDS > 10:
    raise ImproperlyConfigured(f"NOTIFY_WEBHOOK_TIMEOUT_SECONDS={NOTIFY_WEBHOOK_TIMEOUT_SECONDS} must be at most 10")
# Deliveries in flight at once, never two to the same subscription.
NOTIFY_CONCURRENCY = env_int("NOTIFY_CONCURRENCY", 4, minimum=1)
# Retries: BASE x 2^(attempt-1) seconds (jittered), at most MAX apart, for RETRY_HOURS.
NOTIFY_RETRY_BASE_SECONDS = env_float("NOTIFY_RETRY_BASE_SECONDS", 10.0, minimum=0.1)
NOTIFY_RETRY_MAX_SECONDS = env_float("NOTIFY_RETRY_MAX_SECONDS", 3600.0, minimum=1)
NOTIFY_RETRY_HOURS = env_float("NOTIFY_RETRY_HOURS", 24.0, minimum=0)
# The worker deletes delivered and failed deliveries older than this; 0 keeps them.
NOTIFY_LOG_RETENTION_DAYS = env_int("NOTIFY_LOG_RETENTION_DAYS", 30, minimum=0)
# --- end of the notifications section --------------------------------------------------

# --- Metrics (docs/monitoring.md) -----------------------------------------------------
# The web's request counts and latencies per view (django-prometheus) at /metrics,
# answered only to clients in METRICS_ALLOWED_NETWORKS (the address as the throttles
# see it, API_NUM_PROXIES included): anyone else gets a 403.
INSTALLED_APPS += ["django_prometheus"]
MIDDLEWARE = ["django_prometheus.middleware.PrometheusBeforeMiddleware", *MIDDLEWARE]
# Before Axes, which must stay last (see the admin login section).
MIDDLEWARE.insert(MIDDLEWARE.index("axes.middleware.AxesMiddleware"),
                  "django_prometheus.middleware.PrometheusAfterMiddleware")
METRICS_ALLOWED_NETWORKS = env_networks("METRICS_ALLOWED_NETWORKS", ["127.0.0.0/8", "::1/128"])
# The ingest's and the worker's own /metrics ports; 0 (the default) serves none.
INGEST_METRICS_PORT = env_int("INGEST_METRICS_PORT", 0, minimum=0)
WORKER_METRICS_PORT = env_int("WORKER_METRICS_PORT", 0, minimum=0)
# --- end of the metrics section -------------------------------------------------------
