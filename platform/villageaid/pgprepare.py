"""PostgreSQL through psycopg: a transaction only for what writes, prepared statements that last, no
round trip to check a pooled connection.

A request that only reads runs its SELECTs outside any transaction (psycopg's autocommit), and a
transaction begins at the first statement that writes or locks (`_begin_at_write`): what is not a
plain SELECT (INSERT, UPDATE, DELETE, SAVEPOINT, SET, a CTE, which may write) or is a SELECT that
holds something until the end of its transaction (`FOR UPDATE`/`FOR SHARE`, an `_xact_lock`
function). After the transaction's COMMIT or ROLLBACK the connection reads outside one again. Before,
psycopg sent BEGIN before a request's first SELECT and the session's end sent COMMIT or ROLLBACK:
two round trips on every page, a third of what a need page sent the server. Under READ COMMITTED,
PostgreSQL's default and the only level this application uses, every statement inside a transaction
reads its own fresh snapshot anyway, so a SELECT outside one sees exactly what it would have seen
inside; what a transaction adds — its own uncommitted writes, and locks held until it ends — begins
with the first write or locking read, which is where it now begins. A connection given another
isolation level through SQLAlchemy (`execution_options(isolation_level=…)`: REPEATABLE READ, or
AUTOCOMMIT for a migration's VACUUM) is left as it was asked to be.

psycopg prepares a statement on the server once a connection has run it five times
(`prepare_threshold`), and forgets every prepared statement at each ROLLBACK. Reads outside a
transaction are never rolled back, so a page's statements stay prepared (the server parsed and
planned each of a need page's seven SELECTs on every request before: 3.2–3.4 ms of server CPU a page
on the small data set, 0.8–1.0 ms prepared, docs/performance.md).

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
import re
import select

from psycopg import IsolationLevel
from psycopg.pq import ConnStatus, TransactionStatus
from sqlalchemy import event


def register(engine):
    """Install the listeners on `engine` (PostgreSQL through psycopg only)."""
    if engine.dialect.name != "postgresql" or engine.dialect.driver != "psycopg":
        return
    dialect = engine.dialect
    if dialect.isolation_level is None:  # the engine's own isolation level would be PostgreSQL's to keep
        event.listen(engine, "checkout", _read_outside_transactions)
        event.listen(engine, "before_cursor_execute", _begin_at_write)
        dialect.do_commit = _then_outside_transactions(dialect.do_commit)
        dialect.do_rollback = _then_outside_transactions(dialect.do_rollback)
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
    return statement[:64].lstrip()[:6].upper() == "SELECT"


_HOLDS = re.compile(r"\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b|_xact_lock", re.IGNORECASE)


def needs_transaction(statement):
    """Whether a statement must run inside a transaction: it may write, or it holds a lock until the end."""
    return not is_read(statement) or bool(_HOLDS.search(statement))


def _needs_transaction(statement, context):
    """needs_transaction(), read once per compiled statement: SQLAlchemy reuses a statement's compiled
    form, and searching a long SELECT's text on every run would cost more than the round trips saved."""
    if not is_read(statement):
        return True
    compiled = getattr(context, "compiled", None)
    if compiled is None:  # SQL given to the driver as it is
        return needs_transaction(statement)
    try:
        return compiled.villageaid_holds
    except AttributeError:
        compiled.villageaid_holds = holds = bool(_HOLDS.search(compiled.string))
        return holds


def _may_read_outside(dbapi_connection):
    """Idle, at psycopg's default READ COMMITTED (not a level a caller set through SQLAlchemy), and
    not in autocommit already."""
    return (not dbapi_connection.autocommit and dbapi_connection.isolation_level in _DEFAULT_LEVELS
            and dbapi_connection.pgconn.transaction_status == TransactionStatus.IDLE)


_DEFAULT_LEVELS = (None, IsolationLevel.READ_COMMITTED)  # None: psycopg's default, the server's (READ COMMITTED)


def _read_outside_transactions(dbapi_connection, _record, _proxy):
    """A connection checked out of the pool reads outside transactions (a new one comes in with psycopg's default)."""
    if _may_read_outside(dbapi_connection):
        dbapi_connection.autocommit = True


def _begin_at_write(conn, _cursor, statement, _parameters, context, _executemany):
    dbapi_connection = conn.connection.dbapi_connection
    if (dbapi_connection.autocommit and _needs_transaction(statement, context)
            and "isolation_level" not in context.execution_options):  # AUTOCOMMIT asked for (VACUUM in a migration)
        dbapi_connection.autocommit = False  # psycopg sends BEGIN before this statement


def _then_outside_transactions(end):
    """The dialect's commit or rollback, after which the connection reads outside transactions again."""
    def do_end(connection):
        end(connection)
        dbapi_connection = getattr(connection, "dbapi_connection", connection)  # the pool's proxy, or psycopg's
        if dbapi_connection is not None and _may_read_outside(dbapi_connection):
            dbapi_connection.autocommit = True

    return do_end
