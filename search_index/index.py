"""The on-disk index: create, update, delete, rebuild-and-swap, verify, and one shared searcher.

Layout.  ``SearchIndex(path)`` keeps ``path`` as a symbolic link to a sibling
directory named ``<name>.<UTC time>-<6 hex>`` that holds the Whoosh files::

    instance/search -> search.20260517T021500-3fa9c1
    instance/search.20260517T021500-3fa9c1/MAIN_*.toc, *.seg, MAIN_WRITELOCK

``rebuild()`` writes a complete index into a new sibling and then replaces the
link with ``os.replace`` (an atomic rename), so readers see either the old
index or the new one, never a half-built one.  A ``path`` that is a plain
directory holding a Whoosh index (made by hand) is also read, and replaced by
the link on the first rebuild.

Writers.  Whoosh allows one writer per index and raises LockError at once on
a second.  The application sends every write through one queue, so this
should be rare; ``update``/``delete`` still wait up to ``write_timeout``
seconds for a lock held briefly, re-resolving the link while they wait so a
write that was queued behind a rebuild lands in the new index.  ``rebuild``
holds the live index's lock for its whole run for that reason.

Readers.  One Whoosh searcher per ``SearchIndex`` is shared and reopened only
when the index changed (a new generation, or a new directory after a swap);
it is reopened rather than ``refresh()``-ed, which whoosh3 3.54 gets wrong.
Searches on it are serialised by a lock: Whoosh searchers are not documented
as thread-safe, and searching is CPU-bound Python, so under the GIL threads
gain next to nothing from running searches in parallel.

The index is derived data and Whoosh never fsyncs: after a crash, ``check()``
tells whether it is readable, and ``rebuild()`` recreates it from the database.
"""

from __future__ import annotations

import datetime as dt
import gc
import itertools
import logging
import os
import pickle
import re
import secrets
import shutil
import struct
import threading
import time
import traceback
import warnings
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import StorageError
from whoosh.index import FileIndex, LockError
from whoosh.index import IndexError as WhooshIndexError
from whoosh.reading import CorruptIndexError, ReaderClosed
from whoosh.searching import Searcher
from whoosh.util.filelock import FileLock, try_for
from whoosh.writing import IndexWriter

from search_index.analyzer import place_aliases
from search_index.build import Part, build_in_parts
from search_index.errors import IndexLocked, IndexUnavailable
from search_index.schema import KINDS, make_schema

__all__ = [
    "DEFAULT_WRITE_TIMEOUT", "READ_ERRORS", "SearchIndex", "document_fields", "release_failure",
]

_log = logging.getLogger(__name__)

# Whoosh's default index name: files are MAIN_*.seg, _MAIN_<gen>.toc, MAIN_WRITELOCK.
_INDEX_NAME = "MAIN"
_TOC_NAME = re.compile(rf"_{_INDEX_NAME}_\d+\.toc")

#: Seconds ``update``/``delete``/``rebuild`` wait for another writer's lock.
DEFAULT_WRITE_TIMEOUT = 10.0

# Each wait is short so the link is re-read often while a rebuild swaps.
_LOCK_POLL = 0.25

# Progress is reported every this many documents during a rebuild.
_PROGRESS_EVERY = 500

# A build directory left by a killed rebuild is removed by a later rebuild
# once it is this old and nobody holds its write lock.
_STALE_BUILD_SECONDS = 3600

#: What reading a damaged index raises (seen: truncated and garbled segment
#: files).  Other errors, such as TypeError, are bugs and are not disguised.
READ_ERRORS: tuple[type[BaseException], ...] = (
    OSError, EOFError, ValueError, KeyError, IndexError, OverflowError, MemoryError,
    struct.error, pickle.UnpicklingError, zlib.error,
    CorruptIndexError, ReaderClosed, WhooshIndexError, StorageError,
)

_FIELD_NAMES = frozenset(make_schema().names())
_MAX_PROGRESS = 10000


def _current_schema(ix: FileIndex) -> bool:
    """Whether ``ix`` was built with this version's fields (an older index wants a rebuild)."""
    return frozenset(ix.schema.names()) == _FIELD_NAMES


def _as_utc_naive(value: dt.datetime | dt.date) -> dt.datetime:
    """Whoosh stores naive datetimes: store UTC (time is kept in UTC throughout)."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    raise TypeError(f"expected a datetime or date, got {value!r}")


def document_fields(doc: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a plain document and turn it into Whoosh ``add_document`` keywords.

    ``None`` values are left out (a need without a deadline).  ``place`` may be
    a string or a sequence of division names (province … village): the parts
    are indexed separated by spaces, so jieba segments each name on its own,
    exactly as it segments a user typing that name, and stored joined.  The
    short names of autonomous divisions (凉山州) are indexed with the place.
    """
    unknown = set(doc) - _FIELD_NAMES
    if unknown:
        raise ValueError(f"unknown document fields: {sorted(unknown)}")
    doc_id = doc.get("doc_id")
    if not doc_id or not isinstance(doc_id, str):
        raise ValueError(f"a document needs a string doc_id, got {doc_id!r}")
    kind = doc.get("kind")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"{doc_id}: kind must be one of {KINDS}, got {kind!r}")

    fields: dict[str, Any] = {}
    for name, value in doc.items():
        if value is None:
            continue
        if name in ("created", "deadline"):
            fields[name] = _as_utc_naive(value)
        elif name == "place":
            parts = [str(p) for p in value if p] if isinstance(value, (list, tuple)) else [str(value)]
            # Short names (凉山州 for 凉山彝族自治州) are indexed, not shown.
            fields["place"] = " ".join(parts + place_aliases(" ".join(parts)))
            fields["_stored_place"] = "".join(parts)
        elif name in ("obj_id", "progress", "people"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{doc_id}: {name} must be an int, got {value!r}")
            if name == "progress" and not 0 <= value <= _MAX_PROGRESS:
                raise ValueError(f"{doc_id}: progress is in basis points 0..10000, got {value}")
            if name == "people" and not 0 <= value < 2**31:
                raise ValueError(f"{doc_id}: people must be 0 or more, got {value}")
            fields[name] = value
        else:
            # ID and TEXT fields alike take strings.
            fields[name] = str(value)
    return fields


class SearchIndex:
    """A Whoosh index of plain dict documents kept at ``path``."""

    def __init__(self, path: str | os.PathLike[str], *, write_timeout: float = DEFAULT_WRITE_TIMEOUT):
        self.path = os.path.abspath(os.fspath(path))
        self.write_timeout = write_timeout
        self._parent, self._name = os.path.split(self.path)
        self._build_re = re.compile(re.escape(self._name) + r"\.\d{8}T\d{6}-[0-9a-f]{6}")
        # Guards the shared searcher and every search made with it.
        self._lock = threading.RLock()
        self._ix: FileIndex | None = None
        self._ix_dir: str | None = None
        self._searcher: Searcher | None = None
        self._searcher_key: tuple[str, int] | None = None

    def __repr__(self) -> str:
        return f"<SearchIndex {self.path}>"

    # -- locating and opening ------------------------------------------------

    def _live_dir(self) -> str | None:
        """The directory the index lives in now (the link resolved), or None."""
        live = os.path.realpath(self.path)
        return live if os.path.isdir(live) else None

    def _index_at(self, live: str) -> FileIndex:
        """A (cached) Whoosh index object for ``live``; it reads the TOC lazily."""
        with self._lock:
            if self._ix is None or self._ix_dir != live:
                try:
                    ix = whoosh_index.open_dir(live)
                except Exception as exc:  # noqa: BLE001 - missing, or a damaged TOC
                    message = release_failure(exc)
                    raise IndexUnavailable(f"no readable index in {live}: {message}") from None
                if not _current_schema(ix):
                    raise IndexUnavailable(f"the index in {live} was built with another schema: rebuild it")
                self._ix, self._ix_dir = ix, live
            return self._ix

    def exists(self) -> bool:
        """True when ``path`` holds a Whoosh index, readable or not (see ``check``).

        Looks for a table of contents file without opening it, so a damaged
        index still "exists" (and wants a rebuild, not a create).
        """
        live = self._live_dir()
        if live is None:
            return False
        try:
            return any(_TOC_NAME.fullmatch(name) for name in os.listdir(live))
        except OSError:
            return False

    def open(self) -> FileIndex:
        """Return the Whoosh index object; raise ``IndexUnavailable`` when missing."""
        live = self._live_dir()
        if live is None:
            raise IndexUnavailable(f"no index at {self.path}")
        return self._index_at(live)

    def create(self) -> None:
        """Create an empty index, replacing any index at ``path`` (atomically)."""
        self.rebuild(())

    def check(self, *, thorough: bool = True) -> bool:
        """True when the index opens, has today's schema, and its files can be read end to end.

        Reads the table of contents, every stored document, every field's term
        list and every column: enough to notice a truncated or garbled segment
        file without reading every posting (which would take minutes at 300k
        documents).  With ``thorough=False``, only the table of contents, the
        schema and the document count (milliseconds at any size: what a
        process checks when it starts; a damaged segment then shows at the
        first search that reads it).  Never raises.
        """
        live = self._live_dir()
        if live is None:
            return False
        try:
            ix = whoosh_index.open_dir(live)
            if not _current_schema(ix):
                return False
            with ix.reader() as reader:
                reader.doc_count_all()
                if not thorough:
                    return True
                for _ in reader.iter_docs():
                    pass
                for fieldname in reader.indexed_field_names():
                    for _ in reader.lexicon(fieldname):
                        pass
                for fieldname, field in ix.schema.items():
                    if field.column_type and reader.has_column(fieldname):
                        for _ in reader.column_reader(fieldname, translate=False):
                            pass
                # Read one posting list per text field to touch the postings.
                for fieldname in ("title", "body", "place", "kind"):
                    for term in reader.lexicon(fieldname):
                        for _ in reader.postings(fieldname, term).all_ids():
                            pass
                        break
            return True
        except Exception as exc:  # noqa: BLE001 - corruption surfaces as any error type
            release_failure(exc)
            return False

    # -- writing -------------------------------------------------------------

    def _acquire(self, lock_only: bool = False) -> tuple[str, Any]:
        """Take the live index's write lock; return ``(live dir, writer or lock)``.

        Waits up to ``write_timeout`` for another writer, re-reading the link
        between tries: if a rebuild swapped the index meanwhile, the lock to
        take is the new directory's.  With ``lock_only`` the bare lock is
        returned (a rebuild only needs to keep others out of the old index).
        """
        deadline = time.monotonic() + self.write_timeout
        while True:
            live = self._live_dir()
            if live is None:
                raise IndexUnavailable(f"no index at {self.path}")
            held = None
            try:
                if lock_only:
                    # The lock file alone, without reading the TOC: a rebuild
                    # must work on a damaged index, that is when it is needed.
                    lock = FileLock(os.path.join(live, f"{_INDEX_NAME}_WRITELOCK"))
                    if try_for(lock.acquire, timeout=_LOCK_POLL, delay=0.05):
                        held = lock
                else:
                    held = self._index_at(live).writer(timeout=_LOCK_POLL, delay=0.05)
            except LockError:
                pass
            except Exception as exc:  # noqa: BLE001 - see below
                # The directory vanished under us (a swap finished): try the
                # new one.  Otherwise the index is broken; waiting won't help.
                if self._live_dir() == live:
                    if isinstance(exc, IndexUnavailable):
                        raise
                    message = release_failure(exc)
                    raise IndexUnavailable(f"cannot write the index at {self.path}: {message}") from None
            if held is not None:
                if self._live_dir() == live:
                    return live, held
                # Swapped between resolving the link and taking the lock.
                _release_quietly(held)
            if time.monotonic() >= deadline:
                raise IndexLocked(f"{self.path} is locked by another writer")

    def _write(self, apply: Callable[[IndexWriter], int]) -> int:
        """Run ``apply(writer)`` under the write lock and commit it."""
        _live, writer = self._acquire()
        try:
            result = apply(writer)
            writer.commit()
        except READ_ERRORS as exc:
            # update_document reads the segments to find the old version:
            # on a damaged index that fails.  (Documents were validated first.)
            _release_quietly(writer)
            message = release_failure(exc)
            raise IndexUnavailable(f"cannot write the index at {self.path}: {message}") from None
        except BaseException:
            _release_quietly(writer)
            raise
        return result

    def update(self, docs: Iterable[Mapping[str, Any]]) -> int:
        """Add or replace documents (matched on ``doc_id``) in one commit; return how many were written.

        A document carrying a ``stamp`` that the index already holds under its ``doc_id`` is the
        same document: it is not written again, and with nothing to write there is no commit. Most
        changes to a row change nothing the index holds (a need's verified total, its updated_at),
        and a commit costs tens of milliseconds of segment writing and merging.
        """
        prepared = self._changed([document_fields(doc) for doc in docs])
        if not prepared:
            return 0

        def apply(writer: IndexWriter) -> int:
            for fields in prepared:
                writer.update_document(**fields)
            return len(prepared)

        return self._write(apply)

    def _changed(self, prepared: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The prepared documents whose stamp differs from the indexed one (all of them without stamps,
        or when the index cannot be read: the write then reports what is wrong)."""
        if not prepared or not all(fields.get("stamp") for fields in prepared):
            return prepared
        try:
            with self.searcher() as s:
                return [fields for fields in prepared
                        if (s.document(doc_id=fields["doc_id"]) or {}).get("stamp") != fields["stamp"]]
        except (IndexUnavailable, *READ_ERRORS):
            return prepared  # a damaged index: the write finds it out and says so (and the app repairs it)

    def delete(self, doc_ids: Iterable[str]) -> int:
        """Delete documents by ``doc_id`` in one commit; return how many were found."""
        ids = [str(i) for i in doc_ids]
        try:  # nothing to delete, no commit (most ids given are of rows that were never public)
            with self.searcher() as s:
                ids = [i for i in ids if s.document_number(doc_id=i) is not None]
        except (IndexUnavailable, *READ_ERRORS):
            pass
        if not ids:
            return 0
        return self._write(lambda writer: sum(writer.delete_by_term("doc_id", i) or 0 for i in ids))

    def rebuild(
        self,
        docs: Iterable[Mapping[str, Any]] = (),
        total: int | None = None,
        progress: Callable[[int, int | None], Any] | None = None,
        *,
        parts: Sequence[Part] | None = None,
        procs: int = 1,
        initializer: Callable[[], Any] | None = None,
    ) -> int:
        """Build a fresh index from ``docs`` in a new directory, then swap it in.

        Or from ``parts`` instead: zero-argument callables each returning an iterable of
        documents, indexed in order.  With ``procs`` > 1 they are read and analysed in that
        many forked processes (see ``search_index.build``; ``initializer`` runs first in
        each), which builds the same index as one process does, sooner where there are cores to spare
        (the merge runs in the parent alone: about 1.2x on two cores).  Fork
        only from a process without other threads at work.

        ``progress(done, total)`` is called every few hundred documents and
        once at the end.  The live index keeps serving searches meanwhile; its
        write lock is held throughout, so writes arriving during the rebuild
        wait (and fail with ``IndexLocked`` after ``write_timeout``, for the
        queue to retry against the new index) instead of being lost with the
        old directory.  Documents must have distinct ``doc_id``s.  Returns the
        number of documents indexed.
        """
        if parts is not None and procs > 1:
            def build(directory: str) -> int:
                return build_in_parts(
                    directory, parts, document_fields, procs=procs, initializer=initializer,
                    progress=None if progress is None else (lambda done: progress(done, total)),
                )
        else:
            if parts is not None:
                docs = itertools.chain.from_iterable(part() for part in parts)

            def build(directory: str) -> int:
                return self._add_all(directory, docs, total, progress)

        if self._live_dir() is None:
            return self._build_and_swap(build, total, progress)
        _live, lock = self._acquire(lock_only=True)
        try:
            return self._build_and_swap(build, total, progress)
        finally:
            _release_quietly(lock)

    @staticmethod
    def _add_all(
        directory: str,
        docs: Iterable[Mapping[str, Any]],
        total: int | None,
        progress: Callable[[int, int | None], Any] | None,
    ) -> int:
        """Index ``docs`` into the new, empty index in ``directory`` in this process."""
        writer = whoosh_index.open_dir(directory).writer(limitmb=256)
        seen: set[str] = set()
        done = 0
        try:
            for doc in docs:
                fields = document_fields(doc)
                if fields["doc_id"] in seen:
                    raise ValueError(f"duplicate doc_id in rebuild: {fields['doc_id']}")
                seen.add(fields["doc_id"])
                # add_document, not update_document: the index is new,
                # so there is nothing to replace and no lookup to pay for.
                writer.add_document(**fields)
                done += 1
                if progress is not None and done % _PROGRESS_EVERY == 0:
                    progress(done, total)
        except BaseException:
            _release_quietly(writer)
            raise
        writer.commit()
        return done

    def _build_and_swap(
        self,
        build_into: Callable[[str], int],
        total: int | None,
        progress: Callable[[int, int | None], Any] | None,
    ) -> int:
        os.makedirs(self._parent, exist_ok=True)
        self._remove_stale_builds()
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        build = os.path.join(self._parent, f"{self._name}.{stamp}-{secrets.token_hex(3)}")
        os.mkdir(build)
        try:
            whoosh_index.create_in(build, make_schema())
            done = build_into(build)
            old = self._swap_in(build)
        except BaseException:
            shutil.rmtree(build, ignore_errors=True)
            raise
        if old is not None:
            # Readers that have the old index open keep their open files
            # (POSIX unlink semantics); the shared searcher notices the new
            # directory at its next search.
            shutil.rmtree(old, ignore_errors=True)
        if progress is not None:
            progress(done, total)
        return done

    def _swap_in(self, build: str) -> str | None:
        """Point ``path`` at ``build`` atomically; return the directory it replaced."""
        previous = self._live_dir()
        link = os.path.join(self._parent, f".{self._name}.link-{secrets.token_hex(4)}")
        # A relative link keeps working if the data folder is moved or mounted elsewhere.
        os.symlink(os.path.basename(build), link)
        try:
            if os.path.isdir(self.path) and not os.path.islink(self.path):
                # A plain directory cannot be replaced by a link in one
                # rename: move it aside first (a moment without an index).
                aside = f"{self.path}.old-{secrets.token_hex(3)}"
                os.rename(self.path, aside)
                previous = aside
            os.replace(link, self.path)
        except BaseException:
            with _suppress_os_error():
                os.unlink(link)
            raise
        return previous if previous != build else None

    def _remove_stale_builds(self) -> None:
        """Delete build directories left by killed rebuilds (old and unlocked)."""
        live = self._live_dir()
        try:
            names = os.listdir(self._parent)
        except OSError:
            return
        now = time.time()
        for name in names:
            if not self._build_re.fullmatch(name):
                continue
            candidate = os.path.join(self._parent, name)
            if candidate == live or not os.path.isdir(candidate):
                continue
            with _suppress_os_error():
                if now - os.path.getmtime(candidate) < _STALE_BUILD_SECONDS:
                    continue
                lock = whoosh_index.open_dir(candidate).lock("WRITELOCK") if whoosh_index.exists_in(
                    candidate
                ) else None
                if lock is not None:
                    if not lock.acquire(blocking=False):
                        continue  # a rebuild is still writing it
                    lock.release()
                shutil.rmtree(candidate, ignore_errors=True)

    # -- reading -------------------------------------------------------------

    def _current_searcher(self) -> Searcher:
        """The shared searcher, reopened if the index changed. Call with ``_lock`` held."""
        for attempt in (1, 2):
            live = self._live_dir()
            if live is None:
                self._close_searcher()
                raise IndexUnavailable(f"no index at {self.path}")
            try:
                ix = self._index_at(live)
                key = (live, ix.latest_generation())
                if self._searcher is not None and self._searcher_key == key:
                    return self._searcher
                # A fresh searcher, not old.refresh(): in whoosh3 3.54
                # refresh() reuses segment readers by segment id, so a reader
                # keeps its old deletions (a deleted or updated document is
                # still found; see docs/search.md).  Nobody else is using the
                # old searcher (we hold the lock), so it can be closed now.
                self._close_searcher()
                searcher = ix.searcher()
                # Key on what was opened: a commit may have landed meanwhile.
                self._searcher = searcher
                self._searcher_key = (live, searcher.reader().generation())
                return searcher
            except Exception as exc:  # noqa: BLE001 - see below
                # The directory can vanish between resolving the link and
                # reading it when a rebuild swaps: try once more.  Anything
                # still failing means the index cannot be read.
                self._close_searcher()
                if attempt == 2 or self._live_dir() == live:
                    if isinstance(exc, IndexUnavailable):
                        raise
                    message = release_failure(exc)
                    raise IndexUnavailable(f"cannot read the index at {self.path}: {message}") from None
        raise AssertionError("unreachable")

    @contextmanager
    def searcher(self) -> Iterator[Searcher]:
        """Lend the shared, up-to-date Whoosh searcher; other searches wait meanwhile."""
        with self._lock:
            yield self._current_searcher()

    def doc_count(self) -> int:
        """Number of live (not deleted) documents."""
        with self.searcher() as s:
            return s.doc_count()

    def stamps(self) -> dict[str, str]:
        """Map every ``doc_id`` to its ``stamp``, for comparing with the database."""
        with self.searcher() as s:
            reader = s.reader()
            if reader.doc_count() == 0:
                return {}  # an empty index has no segments, hence no columns
            ids = reader.column_reader("doc_id")
            stamps = reader.column_reader("stamp")
            return {ids[n]: stamps[n] for n in reader.all_doc_ids()}

    def close(self) -> None:
        """Close the shared searcher; the next search reopens it."""
        with self._lock:
            self._close_searcher()

    def _close_searcher(self) -> None:
        if self._searcher is not None:
            _close_quietly(self._searcher)
        self._searcher = self._searcher_key = None


def release_failure(exc: BaseException) -> str:
    """Free what a failed read of a damaged index left open; return the error text.

    Whoosh leaves segment files open when it fails half-way through parsing
    one.  They are reachable only from the traceback's frames: clearing those
    closes them here, quietly, instead of as a ResourceWarning at some random
    later moment (an error under ``-W error``).  The caller then raises its
    own exception ``from None`` so the traceback is not kept alive.
    """
    message = f"{type(exc).__name__}: {exc}"
    # Logged as text: a record holding exc_info would keep the frames alive.
    _log.warning("search index read failed\n%s", "".join(traceback.format_exception(exc)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        traceback.clear_frames(exc.__traceback__)
        exc.__traceback__ = None
        gc.collect()
    return message


@contextmanager
def _suppress_os_error() -> Iterator[None]:
    try:
        yield
    except OSError:
        pass


def _release_quietly(held: Any) -> None:
    """Cancel a writer or release a lock, even if its directory is gone."""
    try:
        if isinstance(held, IndexWriter):
            held.cancel()
        else:
            held.release()
    except Exception:  # noqa: BLE001 - best effort on an index being discarded
        lock = getattr(held, "writelock", None)
        if lock is not None:
            with _suppress_os_error():
                lock.release()


def _close_quietly(searcher: Searcher) -> None:
    try:
        searcher.close()
    except Exception:  # noqa: BLE001 - closing a reader of a deleted directory
        pass
