"""PostgreSQL (pgprepare.py): reads run outside transactions and a transaction begins at the first
write or locking read, so pages send no BEGIN or COMMIT and psycopg's prepared statements last;
nothing uncommitted is ever kept; a pooled connection is checked without a round trip."""
import tempfile
import time

import pytest
import sqlalchemy
from sqlalchemy import event, func, select, text

from tests import factories
from tests.conftest import TEST_DATABASE_URL
from villageaid.accounts.models import User
from villageaid.extensions import db
from villageaid.pgprepare import is_read, needs_transaction


@pytest.mark.parametrize("statement, read", [
    ("SELECT 1", True), ("  select id FROM need", True), ("\nSELECT … FOR UPDATE", True),
    ("INSERT INTO need VALUES (1)", False), ("UPDATE need SET x = 1", False), ("DELETE FROM need", False),
    ("WITH gone AS (DELETE FROM need RETURNING id) SELECT count(*) FROM gone", False),
    ("SAVEPOINT sa_savepoint_1", False), ("SET LOCAL work_mem = '128MB'", False),
])
def test_only_selects_count_as_reads(statement, read):
    assert is_read(statement) is read


@pytest.mark.parametrize("statement, needed", [
    ("SELECT id FROM need", False), ("SELECT id FROM need WHERE title = 'FOR UPDATE'", True),
    ("SELECT id FROM need FOR UPDATE", True), ("select id from need for no key update", True),
    ("SELECT id FROM need FOR SHARE SKIP LOCKED", True), ("SELECT id FROM need\nFOR KEY SHARE", True),
    ("SELECT pg_advisory_xact_lock(42)", True), ("SELECT formula FROM report", False),
    ("INSERT INTO need VALUES (1)", True), ("WITH x AS (SELECT 1) SELECT * FROM x", True),
])
def test_writes_and_locking_reads_need_a_transaction(statement, needed):
    """A quoted 'FOR UPDATE' also counts: erring that way costs a BEGIN, never a lock released early."""
    assert needs_transaction(statement) is needed


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
        # Lines like 'F\t13\tQuery\t "BEGIN"': the message's type, then what it carried.
        return [" ".join(line.split("\t")[2:]) for line in trace.read().decode().splitlines() if line.startswith("F\t")]


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

    assert any(m.startswith("Query") for m in _sent(
        dbapi_connection, lambda: PGDialect_psycopg.do_ping(db.engine.dialect, dbapi_connection)))


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


def _pooled():
    """The connection the next checkout gets (the pool is last in, first out)."""
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        return conn.connection.dbapi_connection


def _transaction_commands(messages):
    return [m for m in messages if any(word in m for word in ('"BEGIN"', '"COMMIT"', '"ROLLBACK"'))]


def test_a_page_that_only_reads_sends_no_begin_or_commit(pg_app):
    from tests.pledges.builders import World

    world = World()
    need_id = world.pledge(world.published()).need_id
    db.session.commit()
    db.session.remove()
    client = pg_app.test_client()
    dbapi_connection = _pooled()

    def read_pages():
        for path in ("/needs", "/", f"/needs/{need_id}"):
            assert client.get(path).status_code == 200
            db.session.remove()  # the end of a request in production

    sent = _sent(dbapi_connection, read_pages)
    assert any("SELECT" in m for m in sent)  # the pages did read through this connection
    assert _transaction_commands(sent) == []


def test_a_transaction_begins_at_the_first_write_and_ends_with_it(pg_app):
    person_id = factories.user("读后写").id
    db.session.commit()
    db.session.remove()
    dbapi_connection = _pooled()
    outside = sqlalchemy.create_engine(TEST_DATABASE_URL, poolclass=sqlalchemy.pool.NullPool,
                                       connect_args={"options": f"-csearch_path={_schema()}"})

    def read_write_read():
        assert db.session.get(User, person_id).name == "读后写"
        db.session.execute(text('UPDATE "user" SET name = :n WHERE id = :id'), {"n": "写了", "id": person_id})
        # Inside the transaction its own write is seen; from another connection it is not, yet.
        assert db.session.execute(select(User.name).where(User.id == person_id)).scalar() == "写了"
        with outside.connect() as other:
            assert other.execute(text('SELECT name FROM "user" WHERE id = :id'), {"id": person_id}).scalar() == "读后写"
        db.session.commit()
        assert db.session.execute(select(User.name).where(User.id == person_id)).scalar() == "写了"
        db.session.remove()

    sent = _sent(dbapi_connection, read_write_read)
    outside.dispose()
    assert [c.split()[-1] for c in _transaction_commands(sent)] == ['"BEGIN"', '"COMMIT"']
    begin = next(i for i, m in enumerate(sent) if '"BEGIN"' in m)
    assert "UPDATE" in " ".join(sent[begin:begin + 3]) and not any("UPDATE" in m for m in sent[:begin])


def test_a_locking_read_holds_its_lock_until_the_commit(pg_app):
    from psycopg.errors import LockNotAvailable

    person_id = factories.user("上锁").id
    db.session.commit()
    db.session.remove()
    db.session.execute(select(User.id).where(User.id == person_id).with_for_update()).scalar()
    outside = sqlalchemy.create_engine(TEST_DATABASE_URL, poolclass=sqlalchemy.pool.NullPool,
                                       connect_args={"options": f"-csearch_path={_schema()}"})
    locked = text('SELECT id FROM "user" WHERE id = :id FOR UPDATE NOWAIT')
    with outside.connect() as other:
        with pytest.raises(sqlalchemy.exc.OperationalError) as refused:
            other.execute(locked, {"id": person_id})
        assert isinstance(refused.value.orig, LockNotAvailable)
        other.rollback()
        db.session.commit()
        assert other.execute(locked, {"id": person_id}).scalar() == person_id
    outside.dispose()


def _schema():
    return db.session.execute(text("SELECT current_schema()")).scalar()


def test_an_isolation_level_asked_for_is_kept(pg_app):
    """AUTOCOMMIT (a migration's VACUUM cannot run in a transaction) and REPEATABLE READ (one snapshot
    for every statement of a transaction, and of the next one on the same connection)."""
    person_id = factories.user("快照").id
    db.session.commit()
    db.session.remove()
    with db.engine.connect() as conn:
        conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text('VACUUM ANALYZE "user"'))
    outside = sqlalchemy.create_engine(TEST_DATABASE_URL, poolclass=sqlalchemy.pool.NullPool,
                                       connect_args={"options": f"-csearch_path={_schema()}"})
    name = text('SELECT name FROM "user" WHERE id = :id')

    def rename(to):
        with outside.begin() as other:
            other.execute(text('UPDATE "user" SET name = :n WHERE id = :id'), {"n": to, "id": person_id})

    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="REPEATABLE READ")
        for round_ in ("一", "二"):  # the second transaction on the connection too
            seen = conn.execute(name, {"id": person_id}).scalar()
            rename("改" + round_)
            assert conn.execute(name, {"id": person_id}).scalar() == seen
            conn.commit()
    outside.dispose()
