"""Every setting of AML Console, read from the environment with a safe embedded default.

The embedded defaults run the whole console on one machine with no services: SQLite under the
data folder, files stored locally, and Celery carried by kombu's filesystem transport. Set
DATABASE_URL, CELERY_BROKER_URL and AML_STORAGE=s3 for the production shape (docker-compose.yml).
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import timedelta
from pathlib import Path

from console.env import (
    ImproperSetting,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_paths,
    env_str,
)
from console.private_files import make_private_folder, use_private_umask

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("AML_DATA_DIR", str(BASE_DIR / "data"))).expanduser().resolve()
# Every process of the console reads this first: what it writes from here on is private to its
# user (password hashes, sessions, uploads, models); see console.private_files.
use_private_umask()
make_private_folder(DATA_DIR)


def _embedded_secret_key() -> str:
    """A key made once per data folder, so the default is safe and survives restarts."""
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))  # 0600: the umask above
    return key_file.read_text().strip()


SECRET_KEY = env_str("SECRET_KEY", "") or _embedded_secret_key()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "axes",
    "console",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # first after it, so every response (API answers and static files too) carries the policy
    "console.csp.ContentSecurityPolicyMiddleware",
    # AML API calls (X-Amz-Target) are answered here: signed by SigV4, not sessions and CSRF
    "console.api.views.AmlApiMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into console.login_lockout's page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "console.urls"
WSGI_APPLICATION = "console.wsgi.application"

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

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'db.sqlite3'}"), base_dir=BASE_DIR
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write the same file; wait for a lock instead of failing.
    DATABASES["default"]["OPTIONS"] = {"timeout": 30, "transaction_mode": "IMMEDIATE"}
    # Opening the file costs ~0.65 ms a request (a quarter of a Predict's server time); a
    # thread keeps its connection, which holds no lock between requests in autocommit.
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("AML_SQLITE_CONN_MAX_AGE", 600, minimum=0)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "console:dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- Sign-in attempts (django-axes): 5 failures per username and address lock it for 15 minutes
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AML_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AML_LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # the page's "15 minutes" stays true
AXES_DISABLE_ACCESS_LOG = True  # failures are what it counts; successful sign-ins are not kept
AXES_LOCKOUT_CALLABLE = "console.login_lockout.locked_out_response"
AXES_CLIENT_IP_CALLABLE = "console.login_lockout.client_address"
# its banner on every manage.py command and worker start tells an operator nothing
AXES_VERBOSE = False

LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = DATA_DIR / "staticfiles"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing root
# Serve straight from the source folders: no collectstatic step for the embedded run.
WHITENOISE_USE_FINDERS = True

# --- File storage: uploads, logs, statistics -------------------------------------------------
AML_STORAGE = env_str("AML_STORAGE", "local")
MEDIA_ROOT = DATA_DIR / "files"
MEDIA_URL = "/files/"
if AML_STORAGE == "local":
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT)},
    }
elif AML_STORAGE == "s3":
    _bucket = env_str("AML_S3_BUCKET", "")
    if not _bucket:
        raise ImproperSetting("AML_STORAGE=s3 needs AML_S3_BUCKET")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": _bucket,
            "endpoint_url": env_str("AML_S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("AWS_DEFAULT_REGION", "us-east-1"),
            "location": env_str("AML_S3_PREFIX", "console"),
            "file_overwrite": False,
            "default_acl": None,
            "querystring_auth": True,
        },
    }
else:
    raise ImproperSetting(f"AML_STORAGE={AML_STORAGE!r}: use 'local' or 's3'")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Endpoint for reading s3:// datasources (MinIO, moto or AWS); empty means boto3's default.
AML_DATA_S3_ENDPOINT_URL = env_str("AML_DATA_S3_ENDPOINT_URL", env_str("AML_S3_ENDPOINT_URL", ""))

# Server-side folders a datasource may read from; nothing outside them is ever opened.
AML_DATA_ROOTS = [
    p.resolve()
    for p in env_paths(
        "AML_DATA_ROOTS", [DATA_DIR / "datasets", BASE_DIR.parent / "shared" / "data"]
    )
]

# The server's own base address: the URL a real-time endpoint reports (boto3's Predict goes there).
# Empty: the address each request came to. AML_PUBLIC_BASE_URL is this setting's former name.
AML_PUBLIC_BASE_URL = env_str("AML_PUBLIC_URL", env_str("AML_PUBLIC_BASE_URL", "")).rstrip("/")

# The 12-digit AWS account the API's ARNs name (CreatedByIamUser: arn:aws:iam::<account>:user/<name>).
AML_ACCOUNT_ID = env_str("AML_ACCOUNT_ID", "000000000000").strip()
# Encrypts API access keys' secrets at rest; empty: derived from SECRET_KEY (console.api.keys)
AML_ACCESS_KEY_ENCRYPTION_KEY = env_str("AML_ACCESS_KEY_ENCRYPTION_KEY", "")
if not re.fullmatch(r"[0-9]{12}", AML_ACCOUNT_ID):
    raise ImproperSetting(f"AML_ACCOUNT_ID={AML_ACCOUNT_ID!r} must be 12 digits")

# --- SQL sources (CreateDataSourceFromRDS / FromRedshift, the wizard's "SQL query") -------------
SQL_CONNECTION_SCHEMES = ("postgresql", "postgres", "sqlite")


def _sql_connections(raw: str) -> dict[str, str]:
    """{"name": "postgresql://user:pass@host:5432/db" or "sqlite:///abs/path.db", ...}.

    A message about a bad entry names the connection, never its URL: the URL holds a password.
    """
    try:
        parsed = json.loads(raw or "{}")
    except ValueError:
        raise ImproperSetting('AML_SQL_CONNECTIONS is not JSON: use {"name": "url", ...}') from None
    if not isinstance(parsed, dict):
        raise ImproperSetting('AML_SQL_CONNECTIONS must be a JSON object {"name": "url", ...}')
    for name, url in parsed.items():
        scheme = url.split("://", 1)[0] if isinstance(url, str) and "://" in url else ""
        if not name.strip() or scheme not in SQL_CONNECTION_SCHEMES:
            raise ImproperSetting(
                f"AML_SQL_CONNECTIONS: connection {name!r} needs a postgresql:// or sqlite:/// URL"
            )
    return dict(parsed)


AML_SQL_CONNECTIONS = _sql_connections(env_str("AML_SQL_CONNECTIONS", ""))
# A query that runs longer is cancelled (PostgreSQL's statement_timeout; SQLite is interrupted).
AML_SQL_QUERY_TIMEOUT_SECONDS = env_int("AML_SQL_QUERY_TIMEOUT_SECONDS", 300, minimum=1)

# --- Uploads: streamed to disk past 2.5 MB, refused past the limit ------------------------------
AML_UPLOAD_MAX_BYTES = env_int("AML_UPLOAD_MAX_BYTES", 2 * 1024**3, minimum=1)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_TEMP_DIR = None
FILE_UPLOAD_HANDLERS = [
    "console.uploads.SizeLimitedUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
# Stored files and their folders are private to the console's user, whatever the umask.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

# --- Celery ----------------------------------------------------------------------------------
_broker_dir = DATA_DIR / "broker"
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
        "polling_interval": 0.5,
    }
CELERY_RESULT_BACKEND = None  # the database row is the truth, never the result backend
CELERY_TASK_ALWAYS_EAGER = env_bool("AML_CELERY_EAGER", False)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# How often beat runs the sweep of stale jobs; with AML_STALE_JOB_SECONDS it bounds how long a
# job whose worker died can stay In progress.
AML_SWEEP_INTERVAL_SECONDS = env_int("AML_SWEEP_INTERVAL_SECONDS", 60, minimum=1)
CELERY_BEAT_SCHEDULE = {
    "sweep-stale-jobs": {
        "task": "console.sweep_stale_jobs",
        "schedule": float(AML_SWEEP_INTERVAL_SECONDS),
    },
}
CELERY_BEAT_SCHEDULE_FILENAME = str(DATA_DIR / "celerybeat-schedule")
# A job whose worker has not reported for this long is failed by the sweep.
AML_STALE_JOB_SECONDS = env_int("AML_STALE_JOB_SECONDS", 600, minimum=10)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# --- Browser security: headers, cookies, HTTPS (docs/browser-security.md) ---------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # the upload script reads it to send X-CSRFToken
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# AML_HTTPS=true: browsers reach the console over HTTPS only (TLS here or at a proxy). Off by
# default, not tied to DEBUG: `make run` and the tests serve plain http://127.0.0.1 with DEBUG off,
# where secure cookies, a redirect to https and HSTS would lock the browser out.
AML_HTTPS = env_bool("AML_HTTPS", False)
SESSION_COOKIE_SECURE = AML_HTTPS
CSRF_COOKIE_SECURE = AML_HTTPS
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", AML_HTTPS)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000 if AML_HTTPS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", AML_HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", AML_HTTPS)
AML_BEHIND_PROXY = env_bool("AML_BEHIND_PROXY", AML_HTTPS)
if AML_BEHIND_PROXY:
    # The proxy terminates TLS and must set X-Forwarded-Proto itself, never pass a client's on;
    # it appends the client's address to X-Forwarded-For, which the sign-in lock then counts by.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (console.csp): every script and style is our own file, so no inline
# script, handler, style element or attribute, and no eval. data: images: the favicon; blob:
# images: Plotly's PNG export (the modebar's camera) draws its SVG through a blob: URL.
AML_CONTENT_SECURITY_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "blob:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
AML_CSP_REPORT_ONLY = env_bool("AML_CSP_REPORT_ONLY", False)

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "console.staticfinders.PlotlyFinder",
]

# Tests that run a real worker process need a database file both processes can open.
DATABASES["default"].setdefault("TEST", {})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"]["NAME"] = env_str("AML_TEST_DATABASE", "") or None
