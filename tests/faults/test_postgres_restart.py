"""PostgreSQL restarted under a running site: the site answers again without being restarted.

A private PostgreSQL 15 cluster (initdb on a free port, never the shared server) holds the schema,
built as tests/conftest.py builds it for PostgreSQL; the site runs under gunicorn the production way
(bench/run.py's helpers, VILLAGEAID_ENV=production: the engine options config.py sets, pool_pre_ping
among them). A signed-in donor reads pages and pledges, then `pg_ctl restart -m fast` cuts every
pooled connection. The same gunicorn workers (same pids) must answer the very next requests with
200 — the pool notices the dead connections and reconnects — and a pledge made after the restart
must be stored.
"""
import os
import re
import sys
from pathlib import Path

import pytest
import sqlalchemy
from sqlalchemy import text

from tests.conftest import _build_schema, make_app
from tests.faults.services import PrivatePostgres, children, require
from villageaid import create_app
from villageaid.extensions import db

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import load  # noqa: E402  bench/load.py: a browser with cookies and form fields
import run as bench  # noqa: E402  bench/run.py: gunicorn the production way

PAGES = ("/", "/needs", "/stats", "/me")


@pytest.fixture
def postgres():
    require(PrivatePostgres.available(), "PostgreSQL 15 (initdb, pg_ctl under /usr/lib/postgresql/15/bin)")
    server = PrivatePostgres().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def site(postgres, tmp_path):
    """The schema and a world (a published ¥30,000 need, a donor) in the private cluster, and gunicorn on it."""
    from tests.pledges.builders import World

    builder = create_app({"ENV_NAME": "test", "SQLALCHEMY_DATABASE_URI": postgres.url})
    _build_schema(builder)
    with builder.app_context():
        db.engine.dispose()
    app = make_app(tmp_path, postgres.url)
    with app.app_context():
        world = World()
        need = world.published()
        facts = {"need": need.id, "donor": world.donor.email}
        db.session.remove()
        db.engine.dispose()
    env = dict(os.environ, VILLAGEAID_ENV="production", SECRET_KEY="fault-test-" + "k" * 40, DATABASE_URL=postgres.url,
               DATA_DIR=str(tmp_path / "site"), SCHEDULER_INTERVAL_SECONDS="0", PYTHONPATH=str(bench.ROOT))
    env.pop("REDIS_URL", None)
    server = bench._server(env, 2)
    entered = server.__enter__()
    base = getattr(entered, "base", entered)  # bench/run.py's _server gives itself, with .base (or the URL)
    try:
        yield base, facts, server.process.pid
    finally:
        server.__exit__(None, None, None)


def _pledge(client, need_id, yuan):
    path = f"/needs/{need_id}/pledge"
    status, _headers, page = client.get(path)
    assert status == 200, status
    fields = load.form_fields(page, path)
    fields.update(quantity=str(yuan), organization_id="", note="重启前后各认捐一次")
    status, headers, page = client.post_form(path, fields)
    assert status == 302, (status, page[:2000])
    return int(re.search(r"/pledges/(\d+)$", headers["Location"]).group(1))


def test_the_site_recovers_from_a_postgres_restart_without_being_restarted(postgres, site):
    base, facts, master = site
    client = load.Client(base)
    assert load.log_in(client, facts["donor"], "password-123") == 302
    for _round in range(6):  # every worker has pooled connections by now
        for path in PAGES + (f"/needs/{facts['need']}",):
            assert client.get(path)[0] == 200, path
    before = _pledge(client, facts["need"], 100)
    workers = sorted(children(master))

    postgres.restart()  # every pooled connection of both workers is now dead

    answers = [(path, client.get(path)[0]) for _round in range(6) for path in PAGES + (f"/needs/{facts['need']}",)]
    assert all(status == 200 for _path, status in answers), answers
    after = _pledge(client, facts["need"], 200)
    assert sorted(children(master)) == workers  # the same gunicorn workers: the app was not restarted

    engine = sqlalchemy.create_engine(postgres.url)
    with engine.connect() as conn:
        stored = dict(conn.execute(text("SELECT id, quantity FROM pledge WHERE id IN (:a, :b)"), {"a": before, "b": after}).all())
        pledged = conn.execute(text("SELECT pledged FROM need WHERE id = :id"), {"id": facts["need"]}).scalar()
    engine.dispose()
    assert stored == {before: 10_000, after: 20_000} and pledged == 30_000
