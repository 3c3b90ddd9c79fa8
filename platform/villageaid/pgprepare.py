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
"""
from psycopg.pq import TransactionStatus
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
