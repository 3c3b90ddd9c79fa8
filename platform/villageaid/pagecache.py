"""Spike mode for 10·17: what anonymous visitors see of the busiest pages, served from a short-lived cache.

On National Poverty Alleviation Day most visitors are anonymous and open the same few pages (home,
the needs list, the honor roll). For them a page is rendered once and kept for PAGE_CACHE_SECONDS
(default 10; 0 turns the cache off) in Redis, shared by every web worker (fakeredis in-process on
the embedded default), keyed by language and full URL.

Invalidation: a generation number is stored with every page. Any commit that changes a need, pledge,
delivery, village or organisation — through the ORM or a bulk UPDATE such as the race-safe pledge
totals — bumps it, so the next visitor gets a fresh page; the TTL bounds what any other change (say,
a new honor-roll entry) can leave stale. A hit is one round trip: the generation and the page are
read together (MGET), and a page stored under another generation is not served.

Never cached: signed-in users (or a remember-me cookie that would sign them in), a pending flash
message, `?lang=` (it sets the session), anything but a 200 GET, and a page that made a CSRF token
or a flash message for its visitor. Redis down: pages are rendered as if there were no cache.
"""
import logging
import time

from flask import current_app, g, has_app_context, request, session
from redis.exceptions import RedisError
from sqlalchemy import event

from . import queue

log = logging.getLogger(__name__)

CACHEABLE = {"main.home", "needs.index"}  # features add theirs with `cacheable()`
WATCHED_TABLES = {"need", "pledge", "delivery", "village", "organization"}
GENERATION_KEY = "villageaid:page:generation"
BACKOFF_SECONDS = 5.0  # after a Redis error, don't try again for this long (each try may wait 0.5 s)

_down_until = 0.0


def cacheable(*endpoints):
    CACHEABLE.update(endpoints)


def register(app):
    app.before_request(_serve_cached)
    app.after_request(_store)


def _enabled():
    return current_app.config.get("PAGE_CACHE_SECONDS", 0) > 0 and time.monotonic() >= _down_until


def _failed(error, what):
    global _down_until
    _down_until = time.monotonic() + BACKOFF_SECONDS
    log.warning("page cache: %s (%s); off for %.0f s", what, error, BACKOFF_SECONDS)


def _eligible():
    return (_enabled() and request.method == "GET" and request.endpoint in CACHEABLE
            and "lang" not in request.args and "_user_id" not in session and "_flashes" not in session
            and "remember_token" not in request.cookies)


def _key():
    language = session.get("lang") or current_app.config["BABEL_DEFAULT_LOCALE"]
    return f"villageaid:page:{language}:{request.full_path}"


def _serve_cached():
    if not _eligible():
        return None
    try:
        generation, stored = queue.redis_connection().mget(GENERATION_KEY, _key())
    except RedisError as error:
        _failed(error, "not read")
        return None
    generation = int(generation or 0)
    request.environ["villageaid.page_generation"] = generation
    if stored is None:
        return None
    stored_generation, _newline, body = stored.partition(b"\n")
    if stored_generation != b"%d" % generation:  # stored before the last change: render it again
        return None
    response = current_app.response_class(body, mimetype="text/html")
    response.headers["X-Page-Cache"] = "hit"
    return response


def _store(response):
    generation = request.environ.get("villageaid.page_generation")
    if generation is None or response.headers.get("X-Page-Cache") == "hit":
        return response
    # The body must be the same for every anonymous visitor: no CSRF token made for this session, no
    # flash message. (Flask-Login marks even anonymous sessions, so `session.modified` can't tell.)
    if (response.status_code != 200 or response.mimetype != "text/html" or response.is_streamed
            or g.get(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")) is not None
            or "_flashes" in session):
        return response
    try:
        queue.redis_connection().set(_key(), b"%d\n" % generation + response.get_data(),
                                     ex=current_app.config["PAGE_CACHE_SECONDS"])
        response.headers["X-Page-Cache"] = "miss"
    except RedisError as error:
        _failed(error, "not stored")
    return response


def bump():
    """A change visitors should see at once: every cached page is stale from now on."""
    try:
        queue.redis_connection().incr(GENERATION_KEY)
    except RedisError as error:  # the TTL still bounds staleness
        _failed(error, "generation not bumped")


# -- noticing changes -----------------------------------------------------------------------------

def register_session_events(session):
    """Notice commits that change what cached pages show (once per session factory)."""
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_flush", _after_flush)
        event.listen(session, "do_orm_execute", _on_execute)
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)


def _touches(tables):
    return bool(WATCHED_TABLES & set(tables))


def _after_flush(sess, _context):
    changed = {obj.__table__.name for obj in (*sess.new, *sess.dirty, *sess.deleted) if hasattr(obj, "__table__")}
    if _touches(changed):
        sess.info["villageaid.pages_stale"] = True


def _on_execute(state):
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if table is not None and _touches([table.name]):
            state.session.info["villageaid.pages_stale"] = True


def _after_commit(sess):
    if sess.info.pop("villageaid.pages_stale", False):
        if has_app_context() and _enabled():
            bump()


def _after_rollback(sess, _previous_transaction):
    sess.info.pop("villageaid.pages_stale", None)
