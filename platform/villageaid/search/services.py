"""Index maintenance and queries: the app's side of `search_index`.

Changes are collected as the session flushes and, just before commit, turned into one
index job per kind in the job outbox — so the index only ever sees committed data, a rollback
indexes nothing, and every write goes through the "search" queue (one worker: one writer).
"""
import logging
from pathlib import Path

from flask import current_app
from sqlalchemy import event, func, select

import search_index
from search_index import EmptyQuery, IndexUnavailable, SearchIndex

from .. import queue
from ..extensions import db
from .documents import SOURCES, kind_of, with_stamp

log = logging.getLogger(__name__)
CHANGES = "villageaid.search.changes"
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
        event.listen(session, "before_commit", _defer_index_jobs)
        event.listen(session, "after_rollback", _forget)


def _collect(sess, _context, _instances):
    changes = sess.info.setdefault(CHANGES, set())
    for obj in list(sess.new) + list(sess.dirty) + list(sess.deleted):
        if kind_of(obj) is not None:
            changes.add(obj)


def _defer_index_jobs(sess):
    if not sess.info.get(CHANGES):
        return
    sess.flush()  # new rows get their ids
    by_kind = {}
    for obj in sess.info.pop(CHANGES, set()):
        if obj.id is not None:
            by_kind.setdefault(kind_of(obj), set()).add(obj.id)
    for kind, ids in sorted(by_kind.items()):
        queue.defer("jobs.search.index_objects", kind, sorted(ids), queue="search")


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
    index.update(with_stamp(source.to_document(obj)) for obj in public)
    gone = set(ids) - {obj.id for obj in public}
    if gone:
        index.delete(f"{kind}:{i}" for i in sorted(gone))


def all_documents():
    for source in SOURCES.values():
        last_id = 0
        while True:
            rows = db.session.scalars(
                select(source.model).where(source.public(), source.model.id > last_id).order_by(source.model.id).limit(BATCH)
            ).all()
            if not rows:
                break
            for obj in rows:
                yield with_stamp(source.to_document(obj))
            last_id = rows[-1].id
            db.session.expunge_all()


def count_public():
    return sum(db.session.scalar(select(func.count()).select_from(s.model).where(s.public())) for s in SOURCES.values())


def rebuild(progress=None):
    """Recreate the index from the database in a new directory and swap it in."""
    return get_index().rebuild(all_documents(), total=count_public(), progress=progress)


def verify():
    """(missing, stale, extra) doc ids comparing the index with the database."""
    expected = {doc["doc_id"]: doc["stamp"] for doc in all_documents()}
    actual = get_index().stamps() if get_index().check() else {}
    missing = sorted(set(expected) - set(actual))
    stale = sorted(d for d in set(expected) & set(actual) if expected[d] != actual[d])
    extra = sorted(set(actual) - set(expected))
    return missing, stale, extra


def ensure_index():
    """Start-up check: a missing or corrupted index is rebuilt by a job. Returns True if usable now."""
    index = get_index()
    if index.check():
        return True
    log.warning("search index missing or unreadable at %s: rebuilding", index.path)
    queue.defer("jobs.search.rebuild_index", queue="search")
    queue.commit()
    return index.check()


# Querying ------------------------------------------------------------------------------------

class SearchUnavailable(Exception):
    """The index is being rebuilt."""


def query(q, *, kinds=None, filters=None, sort="relevance", page=1, per_page=20):
    """Search the index; EmptyQuery for a query of stop words, SearchUnavailable while rebuilding."""
    app = current_app._get_current_object()
    index = get_index()
    # Checking the index reads every segment: do it once per process, not per query.
    if not app.extensions.get("villageaid.search_ready"):
        if not ensure_index():
            raise SearchUnavailable()
        app.extensions["villageaid.search_ready"] = True
    try:
        return search_index.search(index, q, kinds=kinds, filters=filters, sort=sort, page=page, per_page=per_page)
    except IndexUnavailable as exc:
        app.extensions["villageaid.search_ready"] = False
        raise SearchUnavailable() from exc


__all__ = ["EmptyQuery", "SearchUnavailable", "query", "rebuild", "verify", "index_objects", "ensure_index"]
