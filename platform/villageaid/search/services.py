"""Index maintenance and queries: the app's side of `search_index`.

Changes are collected as the session flushes and, just before commit, turned into one
index job per kind in the job outbox — so the index only ever sees committed data, a rollback
indexes nothing, and every write goes through the "search" queue (one worker: one writer).
"""
import logging
import os
import threading
import time
from contextlib import contextmanager
from functools import partial
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

import search_index
from search_index import EmptyQuery, IndexUnavailable, SearchIndex

from .. import queue
from ..extensions import db
from .documents import SOURCES, kind_of, source_for_table, with_stamp

log = logging.getLogger(__name__)
CHANGES = "villageaid.search.changes"
HELD = "villageaid.search.held"
BATCH = 500


def get_index():
    """The app's index under DATA_DIR (jieba's dictionary cache lives there too)."""
    app = current_app._get_current_object()
    index = app.extensions.get("villageaid.search_index")
    if index is None:
        data_dir = Path(app.config["DATA_DIR"])
        search_index.configure(data_dir)
        index = SearchIndex(data_dir / "search_index")
        app.extensions["villageaid.search_index"] = index
    return index


# Collecting changes --------------------------------------------------------------------------

def register_session_events(session):
    if not event.contains(session, "before_flush", _collect):
        event.listen(session, "before_flush", _collect)
        event.listen(session, "do_orm_execute", _collect_statement)
        event.listen(session, "before_commit", _defer_index_jobs)
        event.listen(session, "after_rollback", _forget)


def _collect(sess, _context, _instances):
    changes = sess.info.setdefault(CHANGES, set())
    for obj in list(sess.new) + list(sess.dirty) + list(sess.deleted):
        if kind_of(obj) is not None:
            changes.add((kind_of(obj), obj))


def _collect_statement(state):
    """An UPDATE or DELETE statement bypasses the flush: collect the rows it is about to touch.

    The need lifecycle moves a status with a conditional UPDATE and the pledges feature adds to
    a need's total the same way; neither leaves the object dirty for `_collect` to see. The rows
    are selected with the statement's own WHERE before it runs (a row it then misses, because
    another transaction moved it first, is only re-indexed as it is).
    """
    if not (state.is_update or state.is_delete):
        return
    source = source_for_table(state.statement.table)
    if source is None:
        return
    ids = select(source.model.id)
    if state.statement.whereclause is not None:
        ids = ids.where(state.statement.whereclause)
    changes = state.session.info.setdefault(CHANGES, set())
    changes.update((source.kind, row_id) for row_id in state.session.scalars(ids))


def _defer_index_jobs(sess):
    # before_commit runs before the commit's own flush: flush here, so changes made since the last
    # flush are collected too, and new rows have their ids.
    sess.flush()
    if not sess.info.get(CHANGES):
        return
    by_kind = {}
    for kind, obj in sess.info.pop(CHANGES, set()):
        row_id = obj if isinstance(obj, int) else obj.id
        if row_id is not None:
            by_kind.setdefault(kind, set()).add(row_id)
    for kind, ids in list(by_kind.items()):
        for dependent, ids_of in SOURCES[kind].dependents.items():
            by_kind.setdefault(dependent, set()).update(sess.scalars(ids_of(sorted(ids))))
    held = sess.info.get(HELD)
    if held is not None:  # held_indexing(): indexed once, when the block ends
        for kind, ids in by_kind.items():
            held.setdefault(kind, set()).update(ids)
        return
    for kind, ids in sorted(by_kind.items()):
        queue.defer("jobs.search.index_objects", kind, sorted(ids), queue="search")


@contextmanager
def held_indexing():
    """Index what a long run of commits changed once, at its end, instead of after each commit.

    For bulk work with nobody searching meanwhile (the demo seed: some 200 commits, each an index
    write of tens of milliseconds). The rows are read when the job runs, so it indexes them as they
    are then; if the block fails, what it had committed is indexed all the same.
    """
    sess = db.session()
    if HELD in sess.info:  # already holding: the outer block indexes
        yield
        return
    sess.info[HELD] = {}
    try:
        yield
    finally:
        held = sess.info.pop(HELD, {})
        for kind, ids in sorted(held.items()):
            ids = sorted(ids)
            for first in range(0, len(ids), BATCH):
                queue.defer("jobs.search.index_objects", kind, ids[first:first + BATCH], queue="search")
        if held:
            queue.commit()


def _forget(sess):
    sess.info.pop(CHANGES, None)


# Writing the index (called by jobs) ----------------------------------------------------------

def index_objects(kind, ids):
    """Bring the index in line with the database for these rows: update public ones, drop the rest."""
    source = SOURCES[kind]
    index = get_index()
    if not index.exists():
        index.create()
    public = db.session.scalars(select(source.model).where(source.model.id.in_(ids), source.public())).all()
    gone = set(ids) - {obj.id for obj in public}
    try:
        index.update(with_stamp(source.to_document(obj)) for obj in public)
        if gone:
            index.delete(f"{kind}:{i}" for i in sorted(gone))
    except IndexUnavailable:
        # Damaged, or built by an older version. A worker is the index's one writer: it repairs it
        # now (these rows included). Inline, the repair runs in the background thread instead.
        log.warning("search index at %s unreadable while indexing: rebuilding", index.path)
        if queue.is_inline():
            _repair_in_background()
        else:
            repair()


def all_documents():
    """Every public row's document, read in batches through a session of its own.

    Its own session reads committed rows only and, cleared after each batch, keeps memory flat
    without detaching the caller's objects (a rebuild can run inside a request, inline).
    """
    for source in SOURCES.values():
        yield from _documents(source)


def _documents(source, first_id=None, last_id=None):
    """The documents of `source`'s public rows with ids in [first_id, last_id], by id."""
    with Session(db.engine) as session:
        last_seen = 0 if first_id is None else first_id - 1
        while True:
            condition = [source.public(), source.model.id > last_seen]
            if last_id is not None:
                condition.append(source.model.id <= last_id)
            rows = session.scalars(select(source.model).where(*condition).order_by(source.model.id).limit(BATCH)).all()
            if not rows:
                break
            for obj in rows:
                yield with_stamp(source.to_document(obj))
            last_seen = rows[-1].id
            session.expunge_all()


def document_parts(size=None):
    """`all_documents` cut into parts of `size` rows, in its order: (count, [callable → documents])."""
    size = size or current_app.config["SEARCH_BUILD_PART_SIZE"]
    parts = []
    count = 0
    for source in SOURCES.values():
        ids = db.session.scalars(select(source.model.id).where(source.public()).order_by(source.model.id)).all()
        count += len(ids)
        for first in range(0, len(ids), size):
            chunk = ids[first:first + size]
            parts.append(partial(_documents, source, chunk[0], chunk[-1]))
    return count, parts


def count_public():
    return sum(db.session.scalar(select(func.count()).select_from(s.model).where(s.public())) for s in SOURCES.values())


def rebuild(progress=None, procs=None):
    """Recreate the index from the database in a new directory and swap it in.

    The documents are read and analysed in `procs` processes (default SEARCH_BUILD_PROCS, else
    one per core), forked: call it with procs=1 from a process with other threads at work. An
    in-memory database is not shared with forked processes: built in this one.
    """
    procs = procs or current_app.config.get("SEARCH_BUILD_PROCS") or os.cpu_count() or 1
    if db.engine.url.database in (None, "", ":memory:"):
        procs = 1
    total, parts = document_parts()
    engine = db.engine
    return get_index().rebuild(total=total, progress=progress, parts=parts, procs=procs,
                               initializer=lambda: engine.dispose(close=False))


def verify():
    """(missing, stale, extra) doc ids comparing the index with the database."""
    expected = {doc["doc_id"]: doc["stamp"] for doc in all_documents()}
    actual = get_index().stamps() if get_index().check() else {}
    missing = sorted(set(expected) - set(actual))
    stale = sorted(d for d in set(expected) & set(actual) if expected[d] != actual[d])
    extra = sorted(set(actual) - set(expected))
    return missing, stale, extra


def sync():
    """Re-index what `verify` finds missing or stale and drop what is extra; returns how many."""
    missing, stale, extra = verify()
    by_kind = {}
    for doc_id in missing + stale + extra:
        kind, _, row_id = doc_id.partition(":")
        by_kind.setdefault(kind, []).append(int(row_id))
    for kind, ids in sorted(by_kind.items()):
        if kind in SOURCES:
            index_objects(kind, ids)
        else:  # a kind no longer registered
            get_index().delete(f"{kind}:{i}" for i in ids)
    return len(missing) + len(stale) + len(extra)


def repair(procs=None):
    """Rebuild the index unless it reads well, then catch up with rows changed meanwhile.

    Idempotent: several processes may each have found the index broken and asked for a repair;
    the first rebuilds, the others find it readable. Returns the number of documents rebuilt.
    """
    if get_index().check():
        return 0
    count = rebuild(procs=procs)
    sync()  # rows committed while the rebuild read the table
    return count


REPAIR_THREAD = "villageaid.search_repair"
REPAIR_WAIT_SECONDS = 2.0  # a small site's index is rebuilt before the first search notices
RECHECK_SECONDS = 10.0


def _repair_in_background():
    """The embedded default runs jobs inline; a rebuild of a large index must not hold a request."""
    app = current_app._get_current_object()
    running = app.extensions.get(REPAIR_THREAD)
    if running is not None and running.is_alive():
        return running

    def work():
        with app.app_context():
            try:
                repair(procs=1)  # a web process's threads: no forking here
            except Exception:  # a thread has nobody to raise to
                log.exception("search index repair failed")
            finally:
                db.session.remove()

    thread = threading.Thread(target=work, name="search-repair", daemon=True)
    app.extensions[REPAIR_THREAD] = thread
    thread.start()
    return thread


def ensure_index(thorough=False):
    """Is the index usable? A missing, damaged or outdated one is repaired by a job meanwhile.

    Checked when a process first searches (`thorough=False` reads only the table of contents),
    and thoroughly after a search failed to read it. With a worker, the repair job goes to the
    search queue; inline, it runs in a background thread, waited for a moment.
    """
    index = get_index()
    if index.check(thorough=thorough):
        return True
    log.warning("search index missing or unreadable at %s: rebuilding", index.path)
    if queue.is_inline():
        thread = _repair_in_background()
        thread.join(REPAIR_WAIT_SECONDS)
        return not thread.is_alive() and index.check(thorough=False)
    queue.defer("jobs.search.repair_index", queue="search")
    queue.commit()
    return False


# Querying ------------------------------------------------------------------------------------

class SearchUnavailable(Exception):
    """The index is being rebuilt."""


# What a page or the API says instead of results (a query of stop words is not an error page).
PROBLEMS = {
    "empty_query": lambda: _("搜索词只包含常用虚词或标点，请换一个更具体的词，如村名、产品或行业。"),
    "rebuilding": lambda: _("搜索索引正在重建，请稍后再试。"),
}


def attempt(q, **kwargs):
    """(results, None), or (None, problem) with a key of PROBLEMS; arguments as for `query`."""
    try:
        return query(q, **kwargs), None
    except EmptyQuery:
        return None, "empty_query"
    except SearchUnavailable:
        return None, "rebuilding"


def query(q, *, kinds=None, filters=None, sort="relevance", page=1, per_page=20):
    """Search the index; EmptyQuery for a query of stop words, SearchUnavailable while rebuilding."""
    app = current_app._get_current_object()
    index = get_index()
    state = app.extensions.setdefault("villageaid.search_state", {"ready": False, "failed": False, "checked": None})
    if not state["ready"]:
        # A repair is under way (a thread here, or a job in the worker): no check at every search.
        repairing = app.extensions.get(REPAIR_THREAD)
        if repairing is not None and repairing.is_alive():
            raise SearchUnavailable()
        if repairing is None and state["checked"] and time.monotonic() - state["checked"] < RECHECK_SECONDS:
            raise SearchUnavailable()
        state["checked"] = time.monotonic()
        if not ensure_index(thorough=state["failed"]):
            raise SearchUnavailable()
        state.update(ready=True, failed=False)
    try:
        return search_index.search(index, q, kinds=kinds, filters=filters, sort=sort, page=page, per_page=per_page)
    except IndexUnavailable as exc:
        state.update(ready=False, failed=True, checked=None)
        raise SearchUnavailable() from exc


__all__ = ["EmptyQuery", "PROBLEMS", "SearchUnavailable", "attempt", "query", "rebuild", "verify", "sync", "repair",
           "index_objects", "ensure_index"]
