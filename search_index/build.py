"""Building a new index in parallel: worker processes each analyse parts of the documents.

Analysing is most of what indexing costs (jieba's segmentation, then Whoosh sorting the
postings), and it is CPU-bound Python: one process indexes a few hundred documents a second
whatever the machine.  Whoosh allows one writer per index, but its own multiprocess writer
(``whoosh.multiproc.MpWriter``) shows the way round that: sub-writers that do not lock the
index each write a segment's per-document files and a sorted run of postings, and one writer
then merges the runs into a single segment and commits once.  We use that final step as it
is, but not ``MpWriter`` itself: it pickles every document in the parent and spreads batches
round-robin, so the parent still reads the whole database alone and the document order (hence
document numbers and the order of equal scores) depends on which worker was quicker.

Here the documents come in *parts*: zero-argument callables, each returning an iterable of
documents (the application reads a range of ids in each).  Forked workers take parts from a
queue, read and analyse each into a sub-segment of its own, and the parent merges the
sub-segments in the parts' order.  The result is the index a single writer adding the parts'
documents one after another builds: the same documents under the same numbers, the same terms
and postings, one segment.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import queue
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import _lenfield
from whoosh.externalsort import imerge
from whoosh.multiproc import MpWriter, finish_subsegment
from whoosh.writing import PostingPool, SegmentWriter

__all__ = ["BuildFailed", "DEFAULT_PROCS", "build_in_parts"]

#: Worker processes when the caller does not say: one per core.
DEFAULT_PROCS = os.cpu_count() or 1

# Postings a worker keeps in memory per part before spilling a sorted run to disk (Whoosh's
# limitmb): a part is a few thousand documents, which fit.
_WORKER_LIMIT_MB = 128

# Postings pickled together in a run file.
_RUN_BATCH = 4096

# A worker reports progress every this many documents.
_REPORT_EVERY = 500

# Seconds the parent waits for a message before checking that its workers are alive.
_POLL_SECONDS = 1.0

Part = Callable[[], Iterable[Mapping[str, Any]]]


class BuildFailed(RuntimeError):
    """A worker failed (its traceback is the message) or died."""


class _BatchedPool(PostingPool):
    """Whoosh's posting pool, its sorted runs written as pickled lists of postings.

    Whoosh pickles each posting on its own; the parent reads every posting of every part back
    from those runs, alone, while nothing else runs: a load per posting was a quarter of the
    merge.  A list of a few thousand at a time loads several times faster.
    """

    def _write_run(self, f: Any, items: Sequence[Any]) -> None:
        for first in range(0, len(items), _RUN_BATCH):
            pickle.dump(items[first:first + _RUN_BATCH], f, pickle.HIGHEST_PROTOCOL)
        f.close()

    def _read_run(self, path: str) -> Iterator[Any]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    batch = pickle.load(f)
                except EOFError:
                    return
                yield from batch
        finally:
            f.close()
            self._remove_run(path)


def _writer(ix: Any, cls: type[SegmentWriter] = SegmentWriter, **kwargs: Any) -> SegmentWriter:
    writer = cls(ix, limitmb=_WORKER_LIMIT_MB, **kwargs)
    writer.pool = _BatchedPool(writer.temp_storage(), writer.newsegment, limitmb=_WORKER_LIMIT_MB)
    return writer


class _MergingWriter(SegmentWriter):
    """The last step of Whoosh's multiprocess writer: merge sub-segments into one, commit once."""

    _read_and_renumber_run = MpWriter._read_and_renumber_run

    def _merge_subsegments(self, results: Sequence[tuple[Any, Any, Any]]) -> None:
        """``MpWriter._merge_subsegments`` (whoosh3 3.54), made as fast as a single writer's commit.

        Whoosh reads the length of every posting's document through a reader over all the
        segments, which has no fast per-field accessor and looks for a length file on disk each
        time for fields without lengths: the merge cost as much as analysing the documents.  The
        merged segment's own per-document reader holds every length (Whoosh's multi-reader
        resolved every document number to it anyway) and has that accessor.
        """
        schemanames = set(self.schema.names())
        sources = []
        for runname, fieldnames, segment in results:
            pdr = self.codec.per_document_reader(self.storage, segment)
            for fieldname in schemanames:  # known absent: not looked for on disk per document
                lengths = _lenfield(fieldname)
                if not pdr.has_column(lengths):
                    pdr._readers[lengths] = None
            basedoc = self.docnum
            try:
                self.write_per_doc(set(fieldnames) | schemanames, pdr)  # no deletions: no renumbering
            finally:
                pdr.close()
            if runname is not None:  # a part without postings has no run
                sources.append(self._read_and_renumber_run(runname, basedoc))
        self.perdocwriter.close()
        lengths = self.per_document_reader()
        try:
            self.fieldwriter.add_postings(self.schema, lengths, imerge(sources))
        finally:
            lengths.close()
        self._added = True

    def commit_subsegments(self, results: Sequence[tuple[Any, Any, Any]]) -> None:
        self._merge_subsegments(results)
        # Whoosh re-adds each document's field lengths as read back from the sub-segment, which
        # keeps them in a byte (approximately): the totals grew, and with them the average
        # lengths that BM25 scores with.  The sub-segments' exact totals are the right ones.
        totals: dict[str, int] = {}
        for _run, _fieldnames, segment in results:
            for fieldname, length in segment._fieldlengths.items():
                totals[fieldname] = totals.get(fieldname, 0) + length
        self.get_segment()._fieldlengths = totals
        self._close_segment()
        self._assemble_segment()
        self._commit_toc([self.get_segment()])
        self._finish()


def build_in_parts(
    directory: str,
    parts: Sequence[Part],
    prepare: Callable[[Mapping[str, Any]], dict[str, Any]],
    *,
    procs: int,
    progress: Callable[[int], Any] | None = None,
    initializer: Callable[[], Any] | None = None,
) -> int:
    """Index ``parts`` into the empty index in ``directory`` with ``procs`` worker processes.

    ``prepare`` turns a document into ``add_document`` keywords (it validates: a bad document
    fails the build).  ``initializer`` runs first in each worker (a forked process must not
    use its parent's database connections).  ``progress(done)`` is called in this process as
    workers report.  Duplicate ``doc_id``s across parts raise ``ValueError``.  Returns the
    number of documents.  The workers are forked: the parts need not be picklable, and
    whatever this process has loaded (jieba's dictionary) is shared until written to.
    """
    ix = whoosh_index.open_dir(directory)
    writer = _writer(ix, _MergingWriter)
    context = multiprocessing.get_context("fork")
    tasks = context.Queue()
    messages = context.Queue()
    for number in range(len(parts)):
        tasks.put(number)
    workers = []
    try:
        for _ in range(max(1, min(procs, len(parts)))):
            tasks.put(None)
            worker = context.Process(
                target=_work, args=(directory, parts, prepare, tasks, messages, initializer), daemon=True
            )
            worker.start()
            workers.append(worker)
        results: dict[int, tuple[Any, Any, Any]] = {}
        seen: set[str] = set()
        done = 0
        while len(results) < len(parts):
            try:
                message = messages.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                if not any(w.is_alive() for w in workers) or any(w.exitcode for w in workers):
                    raise BuildFailed("an index worker died") from None
                continue
            if message[0] == "progress":
                done += message[1]
                if progress is not None:
                    progress(done)
            elif message[0] == "failed":
                raise BuildFailed(message[1])
            else:
                _, number, result, doc_ids = message
                duplicates = seen.intersection(doc_ids)
                if duplicates or len(set(doc_ids)) != len(doc_ids):
                    raise ValueError(f"duplicate doc_id in rebuild: {sorted(duplicates)[:1] or doc_ids}")
                seen.update(doc_ids)
                results[number] = result
        for worker in workers:
            worker.join()
        writer.commit_subsegments([results[n] for n in range(len(parts))])
        return len(seen)
    except BaseException:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
            worker.join()
        writer.cancel()
        raise
    finally:
        tasks.close()
        messages.close()


def _work(directory, parts, prepare, tasks, messages, initializer) -> None:
    """A worker: index the parts it is given, each into a sub-segment of its own."""
    try:
        if initializer is not None:
            initializer()
        ix = whoosh_index.open_dir(directory)
        while (number := tasks.get()) is not None:
            # No lock: the parent holds the index's lock, and a sub-segment is ours alone.
            writer = _writer(ix, _lk=False)
            doc_ids = []
            unreported = 0
            for doc in parts[number]():
                fields = prepare(doc)
                writer.add_document(**fields)
                doc_ids.append(fields["doc_id"])
                unreported += 1
                if unreported == _REPORT_EVERY:
                    messages.put(("progress", unreported))
                    unreported = 0
            if unreported:
                messages.put(("progress", unreported))
            messages.put(("part", number, finish_subsegment(writer), doc_ids))
    except BaseException:
        messages.put(("failed", traceback.format_exc()))
        raise
