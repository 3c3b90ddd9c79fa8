"""VillageAid settings, read from the environment with safe embedded defaults.

The embedded default needs nothing but `pip install`: SQLite, the search index, uploads and
the mail outbox all live under DATA_DIR, and jobs run in-process. Production sets
DATABASE_URL, REDIS_URL and SECRET_KEY (see README, "Production").
"""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


class Config:
    ENV_NAME = "development"
    DATA_DIR = os.environ.get("DATA_DIR", str(ROOT / "instance"))
    # None means "SQLite file in DATA_DIR"; create_app fills it in once DATA_DIR is final.
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL")
    # pool_use_lifo: the connection used last is reused, so a worker's statements keep reaching the one
    # connection that has them prepared (pgprepare.py) and spare connections idle out.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "pool_use_lifo": True}
    REDIS_URL = os.environ.get("REDIS_URL")  # unset: jobs run in-process
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-not-secret")
    SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:5000")

    # Mail: with no MAIL_SERVER, messages are written to DATA_DIR/outbox as .eml files.
    MAIL_SERVER = os.environ.get("MAIL_SERVER")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "25"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS")
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_SENDER = os.environ.get("MAIL_SENDER", "万企帮万村平台 <noreply@villageaid.local>")

    DISPLAY_TIMEZONE = "Asia/Shanghai"
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")

    PASSWORD_HASH_METHOD = "scrypt"

    # `flask search rebuild` (and the repair job) read and analyse the documents in this many
    # forked processes (empty: one per core), in parts of this many rows each.
    SEARCH_BUILD_PROCS = int(os.environ.get("SEARCH_BUILD_PROCS") or 0) or None
    SEARCH_BUILD_PART_SIZE = 5000

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    MAX_CONTENT_LENGTH = 40 * 1024 * 1024

    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI")  # default: Redis if set, else memory
    RATELIMIT_HEADERS_ENABLED = True
    # A Redis outage must not turn sign-in into a 500: count in memory until Redis is back.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "20 per 10 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "5 per 10 minutes")
    RESET_LIMIT = os.environ.get("RESET_LIMIT", "5 per hour")
    REPORT_LIMIT = os.environ.get("REPORT_LIMIT", "10 per hour")  # 投诉举报 filed per IP address

    BOOTSTRAP_SERVE_LOCAL = True  # the site must work with no internet
    BOOTSTRAP_BTN_STYLE = "primary"

    API_TITLE = "VillageAid API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_TOKEN_DAYS = int(os.environ.get("API_TOKEN_DAYS", "90"))

    # Jobs: an in-process scheduler thread runs periodic work under `flask serve`;
    # production runs `flask jobs scheduler` beside `rq worker`.
    SCHEDULER_INTERVAL_SECONDS = int(os.environ.get("SCHEDULER_INTERVAL_SECONDS", "30"))
    # Workers (jobs/worker.py): a running job is reported alive every JOB_HEARTBEAT_SECONDS; one not reported
    # for JOB_ABANDONED_AFTER_SECONDS lost its worker (killed, machine gone) and is retried, or shown failed
    # once its retries are used up. Workers look for such jobs that often too (rq's defaults: 10 minutes).
    JOB_HEARTBEAT_SECONDS = int(os.environ.get("JOB_HEARTBEAT_SECONDS", "10"))
    JOB_ABANDONED_AFTER_SECONDS = int(os.environ.get("JOB_ABANDONED_AFTER_SECONDS", "60"))

    # Spike mode: anonymous visitors' home and needs list served from a shared cache this long (0: off).
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "10"))


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    RATELIMIT_ENABLED = True
    SCHEDULER_INTERVAL_SECONDS = 0
    PAGE_CACHE_SECONDS = 0  # tests/test_pagecache.py turns it on
    # Not for production: scrypt costs ~60 ms a hash, and the suite creates hundreds of users.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    SQLITE_SYNCHRONOUS = "OFF"  # a test's database is thrown away: no fsync per commit


def config_for(env_name=None):
    """The settings class for VILLAGEAID_ENV (development, production or test)."""
    name = (env_name or os.environ.get("VILLAGEAID_ENV") or "development").lower()
    return {"production": ProductionConfig, "test": TestConfig}.get(name, Config)
