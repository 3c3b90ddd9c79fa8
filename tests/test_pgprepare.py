"""PostgreSQL: read-only transactions end with COMMIT so that psycopg's prepared statements last
(pgprepare.py), and nothing that wrote is ever committed by it."""
import tempfile
import time

import pytest
import sqlalchemy
from sqlalchemy import event, func, select, text

from tests import factories
from tests.conftest import TEST_DATABASE_URL
from villageaid.accounts.models import User
from villageaid.extensions import db
from villageaid.pgprepare import is_read


@pytest.mark.parametrize("statement, read", [
    ("SELECT 1", True), ("  select id FROM need", True), ("\nSELECT … FOR UPDATE", True),
    ("INSERT INTO need VALUES (1)", False), ("UPDATE need SET x = 1", False), ("DELETE FROM need", False),
    ("WITH gone AS (DELETE FROM need RETURNING id) SELECT count(*) FROM gone", False),
    ("SAVEPOINT sa_savepoint_1", False), ("SET LOCAL work_mem = '128MB'", False),
])
def test_only_selects_count_as_reads(statement, read):
    assert is_read(statement) is read


def _prepared():
    return db.session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar()


def test_pages_read_by_prepared_statements_after_a_few_requests(pg_app):
    client = pg_app.test_client()
    for _ in range(8):  # psycopg prepares a statement at its sixth run on a connection
        assert client.get("/needs").status_code == 200
        # The end of a request in production (here the fixture's app context outlives the requests).
        db.session.remove()
    # The fixture's session takes the pooled connection the requests used (the pool reuses the last).
    assert _prepared() > 0


def test_uncommitted_writes_still_roll_back(pg_app):
    person = factories.user("留名者")
    db.session.commit()
    # An ORM change flushed, then reads: the session closes without a commit.
    person.name = "改了没提交"
    db.session.flush()
    db.session.execute(select(func.count()).select_from(User)).scalar()
    db.session.remove()
    assert db.session.get(User, person.id).name == "留名者"
    db.session.remove()
    # A bulk statement through the session, then a rollback.
    db.session.execute(text("UPDATE \"user\" SET name = 'bulk' WHERE id = :id"), {"id": person.id})
    db.session.rollback()
    assert db.session.get(User, person.id).name == "留名者"


def test_a_failed_read_rolls_back_and_the_connection_works_on(pg_app):
    with pytest.raises(Exception):
        db.session.execute(text("SELECT no_such_column FROM \"user\"")).all()
    db.session.rollback()
    assert db.session.execute(text("SELECT 1")).scalar() == 1
    db.session.remove()
    assert db.session.execute(select(func.count()).select_from(User)).scalar() == 0


def test_committed_writes_are_kept_and_the_next_read_only_transaction_commits(pg_app):
    person = factories.user("提交者")
    db.session.commit()
    assert db.session.get(User, person.id).name == "提交者"
    db.session.remove()
    for _ in range(7):
        db.session.execute(select(User.name).where(User.id == person.id)).scalar()
        db.session.remove()
    assert _prepared() > 0


def test_statements_with_a_limit_get_a_generic_plan(pg_app):
    """LIMIT is written into the SQL: with `LIMIT $1` PostgreSQL planned the statement on every call."""
    from villageaid.pledges.services import recent_verified

    executed = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cu, statement, *_a: executed.append(statement))
    for _ in range(12):
        recent_verified(limit=6)
        db.session.remove()
    assert "LIMIT 6" in executed[-1]
    plans = db.session.execute(text(
        "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE '%FROM delivery%'")).all()
    assert plans and plans[0].generic_plans > 0, plans


def _sent(dbapi_connection, action):
    """The protocol messages the client sent the server while `action` ran (libpq's trace)."""
    from psycopg.pq import Trace

    pgconn = dbapi_connection.pgconn
    with tempfile.TemporaryFile() as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS)
        try:
            action()
        finally:
            pgconn.untrace()
        trace.seek(0)
        return [line.split("\t")[2] for line in trace.read().decode().splitlines() if line.startswith("F\t")]


def test_a_healthy_pooled_connection_is_checked_out_without_a_round_trip(pg_app):
    """pool_pre_ping looks at the idle connection's socket: nothing there, nothing sent."""
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1")).scalar()
        dbapi_connection = conn.connection.dbapi_connection

    def checkout():
        with db.engine.connect() as again:
            assert again.connection.dbapi_connection is dbapi_connection  # the pool's same connection

    assert _sent(dbapi_connection, checkout) == []
    # The dialect's own ping sends a query (and psycopg a BEGIN before it): what the check saves.
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

    assert "Query" in _sent(dbapi_connection, lambda: PGDialect_psycopg.do_ping(db.engine.dialect, dbapi_connection))


def test_a_connection_the_server_dropped_is_replaced_at_checkout(pg_app):
    """A backend terminated while its connection sat in the pool (as a restart does): the next
    checkout sees the server's message on the socket, pings, and gets a new connection."""
    with db.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        conn.commit()
    killer = sqlalchemy.create_engine(TEST_DATABASE_URL, poolclass=sqlalchemy.pool.NullPool, isolation_level="AUTOCOMMIT")
    with killer.connect() as other:
        assert other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
        deadline = time.monotonic() + 5
        while other.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar():
            assert time.monotonic() < deadline, "the backend did not exit"
            time.sleep(0.02)
    killer.dispose()
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
