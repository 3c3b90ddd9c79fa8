"""PostgreSQL: a transaction that only read ends with COMMIT, not ROLLBACK, so prepared statements last.

psycopg prepares a statement on the server once a connection has run it five times
(`prepare_threshold`), and forgets every prepared statement at each ROLLBACK (what they named may be
gone). Every request ended with one — Flask-SQLAlchemy closes the session, which rolls back — so no
statement was ever prepared: the server parsed and planned each of a need page's seven SELECTs on
every request (3.2–3.4 ms of server CPU a page on the small data set; 0.8–1.0 ms with them prepared,
docs/performance.md). A transaction that ran nothing but SELECTs changes nothing whichever way it
ends, so it is committed instead. Any other statement through the engine (INSERT, UPDATE, DELETE,
SAVEPOINT, SET, a CTE that writes) marks the connection, and then it rolls back as before; so does a
transaction in error.

A prepared statement is planned once for all parameters (a generic plan) only when that plan is no
costlier than planning each call with its values; with `LIMIT $1` the planner cannot tell a page of
20 from a million rows, so every statement with a LIMIT was planned again on every call (the home
page's latest deliveries: 0.8-2 ms of planning, 0.005 with the LIMIT written in). LIMIT and OFFSET
are therefore written into the SQL as numbers (SQLAlchemy's "literal execute": the compiled form is
still cached once); they are integers by construction (`Select.limit` coerces them).

`pool_pre_ping` (config.py) sent an empty query each time a request checked a connection out of the
pool, and psycopg opened the transaction for it: two round trips (BEGIN, then the ping) before the
page's first SELECT. A connection PostgreSQL has dropped — a restart, a backend terminated, a proxy's
idle timeout — has something to read on its socket (the server's FATAL message, or the end of the
stream) while it sits idle in the pool; a healthy idle one has nothing. So the ping looks at the
socket first and sends the query only when there is something there or the connection is not idle
and well (`_ping`): the usual checkout costs no round trip, a dropped connection is still found and
replaced before the request uses it.
"""
import select

from psycopg.pq import ConnStatus, TransactionStatus
from sqlalchemy import event

WROTE = "villageaid_wrote"  # key in the pooled connection's info: this transaction ran more than SELECTs


def register(engine):
    """Install the listeners on `engine` (PostgreSQL through psycopg only)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    event.listen(engine, "before_cursor_execute", _note_statement)
    event.listen(engine, "commit", _forget)
    event.listen(engine, "rollback", _before_rollback)
    event.listen(engine, "reset", _before_reset)
    engine.dialect.statement_compiler = _literal_limits(engine.dialect.statement_compiler)
    engine.dialect.do_ping = _ping(engine.dialect.do_ping)


def _ping(round_trip):
    """The dialect's ping, sent only when the connection may be gone (module docstring)."""
    def do_ping(dbapi_connection):
        if _idle_and_quiet(dbapi_connection.pgconn):
            return True
        return round_trip(dbapi_connection)

    return do_ping


def _idle_and_quiet(pgconn):
    """Connected, outside a transaction, and nothing from the server waiting on the socket."""
    if pgconn.status != ConnStatus.OK or pgconn.transaction_status != TransactionStatus.IDLE:
        return False
    try:
        poller = select.poll()
        poller.register(pgconn.socket, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except Exception:  # no socket any more: let the round trip report it
        return False


def _literal_limits(compiler_class):
    class LiteralLimitCompiler(compiler_class):
        def limit_clause(self, select, **kw):
            return super().limit_clause(select, **{**kw, "literal_execute": True})

    return LiteralLimitCompiler


def is_read(statement):
    """Whether a statement only reads: it starts with SELECT (a CTE, `WITH …`, may write: it counts as a write)."""
    return statement.lstrip()[:6].upper() == "SELECT"


def _note_statement(conn, _cursor, statement, _parameters, _context, _executemany):
    if not is_read(statement):
        conn.info[WROTE] = True


def _forget(conn):
    conn.info.pop(WROTE, None)


def _before_rollback(conn):
    """Session close, or an explicit rollback: commit first when nothing but SELECTs ran. psycopg's
    rollback() then finds no transaction and sends nothing, so its prepared statements are kept."""
    if not conn.info.pop(WROTE, False):
        _commit_if_only_read(conn.connection.dbapi_connection)


def _before_reset(dbapi_connection, record, _state):
    """A connection going back to the pool with its transaction open (the pool rolls it back)."""
    if not record.info.pop(WROTE, False):
        _commit_if_only_read(dbapi_connection)


def _commit_if_only_read(dbapi_connection):
    if dbapi_connection is None or dbapi_connection.info.transaction_status != TransactionStatus.INTRANS:
        return  # no transaction, or one in error: the rollback goes ahead
    try:
        dbapi_connection.commit()
    except Exception:  # a broken connection: the rollback that follows reports it, as before
        pass
