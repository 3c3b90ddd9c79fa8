"""Fixtures: a fresh database per test (SQLite always; PostgreSQL and Redis when CI provides them).

SQLite tests copy a template database built once per session (schema + the national division
table), so a fresh database costs a file copy. PostgreSQL tests share one schema per session and
truncate everything but the reference data between tests. With TEST_DATABASE_URL or
TEST_REDIS_URL set, a skipped database or queue test is a failure (see pytest_runtest_makereport).
"""
import os
import re
import shutil

import pytest
from sqlalchemy import text

from villageaid import create_app
from villageaid.extensions import db

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


def _build_schema(app):
    from villageaid.regions.pairing import load_table
    from villageaid.regions.services import load_national_divisions

    with app.app_context():
        db.drop_all()
        db.create_all()
        load_national_divisions()
        load_table()  # the East-West pairing table: reference data, like the divisions
        db.session.commit()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    app = create_app({"ENV_NAME": "test", "DATA_DIR": str(path.parent), "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    _build_schema(app)
    with app.app_context():
        db.engine.dispose()
    return path


# One statement cache for every app the tests build ------------------------------------------
# SQLAlchemy caches each statement's compiled SQL per engine, keyed by the engine's dialect object;
# the suite builds an app (and so an engine) per test, so every test compiled every statement it ran
# afresh: 7 ms for a query with its eager loads, a quarter of the security matrix's time. The engines
# of one kind (same driver and engine options, as in production where one engine serves every
# request) share one dialect object and one cache: the same SQL, compiled once per test process.
_STATEMENT_CACHES = {}


def share_statement_cache(app):
    from sqlalchemy.util import LRUCache

    with app.app_context():
        for engine in db.engines.values():
            options = {k: v for k, v in app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}).items() if k != "connect_args"}
            key = (engine.url.drivername, repr(sorted(options.items())))
            if key not in _STATEMENT_CACHES:
                with engine.connect():  # the first connection initialises the dialect (server version, features)
                    pass
                _STATEMENT_CACHES[key] = (engine.dialect, LRUCache(5000))
            dialect, cache = _STATEMENT_CACHES[key]
            engine.dialect, engine._compiled_cache = dialect, cache
    return app


def make_app(tmp_path, database_url, **overrides):
    config = {
        "ENV_NAME": "test",
        "DATA_DIR": str(tmp_path / "data"),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SITE_URL": "http://localhost",
        "SERVER_NAME": None,
    }
    config.update(overrides)
    return share_statement_cache(create_app(config))


@pytest.fixture
def app_factory(tmp_path, sqlite_template):
    """Build an app on a fresh copy of the SQLite template; extra config as keyword arguments."""
    made = []

    def factory(**overrides):
        path = tmp_path / f"test-{len(made)}.sqlite"
        shutil.copy(sqlite_template, path)
        app = make_app(tmp_path, f"sqlite:///{path}", **overrides)
        made.append(app)
        return app

    yield factory
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


def _pg_options(schema):
    # Each test session works in its own schema, so concurrent runs never clobber each other.
    return {"pool_pre_ping": True, "pool_use_lifo": True, "connect_args": {"options": f"-csearch_path={schema}"}}


@pytest.fixture(scope="session")
def pg_schema():
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped (CI sets it)")
    import sqlalchemy

    schema = f"va_test_{os.getpid()}"
    admin = sqlalchemy.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    app = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": TEST_DATABASE_URL,
                      "SQLALCHEMY_ENGINE_OPTIONS": _pg_options(schema)})
    _build_schema(app)
    with app.app_context():
        db.engine.dispose()
    yield schema
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    admin.dispose()


@pytest.fixture
def pg_app(tmp_path, pg_schema):
    app = make_app(tmp_path, TEST_DATABASE_URL, SQLALCHEMY_ENGINE_OPTIONS=_pg_options(pg_schema))
    with app.app_context():
        tables = [t.name for t in db.metadata.sorted_tables if t.name not in ("region", "pairing_rule")]
        db.session.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        db.session.execute(text("DELETE FROM region WHERE level IN ('TOWNSHIP', 'VILLAGE')"))
        db.session.commit()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_app(request):
    """The same test on SQLite and on PostgreSQL (skipped locally without TEST_DATABASE_URL)."""
    name = "app" if request.param == "sqlite" else "pg_app"
    return request.getfixturevalue(name)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(autouse=True)
def _fresh_g_per_request():
    """Every test-client request starts with an empty `g`, as it does in production.

    The `app` fixture keeps an app context pushed, and Flask reuses it for test-client requests,
    so without this `g` outlives a request: Flask-Login's cached user (g._login_user) and
    Flask-Babel's cached locale would leak from one request, and one client, into the next.
    """
    from flask import g, request_started

    def _clear(_sender, **_extra):
        vars(g._get_current_object()).clear()

    request_started.connect(_clear, weak=False)
    yield
    request_started.disconnect(_clear)


# Forms with CSRF, as a browser sends them ---------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token(client, url):
    html = client.get(url).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {url}"
    return match.group(1) or match.group(2)


def post_form(client, url, data=None, *, page=None, follow=False):
    """POST `data` to `url` with the CSRF token read from `page` (default: `url` itself)."""
    payload = dict(data or {})
    payload["csrf_token"] = csrf_token(client, page or url)
    return client.post(url, data=payload, follow_redirects=follow)


def login(client, email, password="password-123"):
    response = post_form(client, "/auth/login", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


@pytest.fixture
def as_user(client):
    """Log the test client in as `user` (created by the factories with their default password)."""

    def _as(user):
        client.get("/?lang=zh_CN")
        login(client, user.email)
        return client

    return _as


# A skipped database or queue test is a failure where CI provides the services --------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if not report.skipped:
        return
    wants_pg = "pg_app" in item.fixturenames or "pg_schema" in item.fixturenames
    wants_redis = "redis_url" in item.fixturenames
    if (wants_pg and TEST_DATABASE_URL) or (wants_redis and TEST_REDIS_URL):
        report.outcome = "failed"
        report.longrepr = f"skipped although the service is configured: {report.longrepr}"


@pytest.fixture
def redis_url(worker_id):
    """TEST_REDIS_URL, on a database of this xdist worker's own: the fixture flushes it, and a
    flush on a database another worker's test is using would drop that test's jobs."""
    if not TEST_REDIS_URL:
        pytest.skip("TEST_REDIS_URL is not set: Redis queue tests skipped (CI sets it)")
    import redis
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(TEST_REDIS_URL)
    base = int(parts.path.strip("/") or 0)
    offset = int(worker_id[2:]) if worker_id.startswith("gw") else 0
    url = urlunsplit(parts._replace(path=f"/{(base - offset) % 16}"))
    conn = redis.Redis.from_url(url)
    conn.flushdb()
    yield url
    conn.flushdb()


# `--dist loadgroup` keeps a module's expensive shared fixture on one worker ------------------

@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """xdist groups tests by a suffix it writes into each grouped node id; pytest 9.2 ignores the
    write, and the groups then silently spread over every worker (the demo seed ran four times,
    two minutes of the suite). Refuse to run rather than lose the grouping without a word."""
    if not getattr(config.option, "loadgroup", False):
        return
    lost = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup did not group {len(lost)} tests (first: {lost[0]}); "
            "this pytest and pytest-xdist do not work together, see requirements-dev.txt")
