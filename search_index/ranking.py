"""Exact relevance ranking for word queries, with posting lists read a block at a time.

The parser turns words into an And/Or tree of Terms (每个词 in title OR body OR place, every word
ANDed). Whoosh's matchers walk that tree one posting at a time in Python: a skip_to on one side
steps through the other side's block entry by entry, so a query costs every posting of its
commonest word (花椒 合作社 at 9,500 documents: 3 ms for 111 matches, most of it stepping through
2,350 postings of 合作社 in body). Here each term's postings are read whole blocks at a time (the
block's ids and weights are decoded by Whoosh's own codec, then copied into a dict in C), the
boolean tree is evaluated on sets, and only the matching documents are scored.

Scoring is Whoosh's own: the segment's BM25F scorer for each term (the same idf, average length
and B/K1), `_score(weight, length)` summed over the terms a document matches, boosts multiplied in.
Only the top `limit` are scored exactly, in the order of an upper bound of their score (each term's
score at its shortest document, which BM25 cannot exceed): the ranking stops when no document left
can reach the limit-th score. The ranking, the ties (lower document number first) and the total are
those of scoring every match; `tests/search/test_search_queries.py` compares them on random corpora.

Queries of any other shape (phrases, NOT, coordination) return None: the caller collects them
with Whoosh as before.
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from threading import Lock
from typing import Any

from whoosh import query
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher

#: Trees with more terms than this are left to Whoosh (the parser caps queries at 200 characters).
MAX_TERMS = 64


def supported(q: Any) -> bool:
    """An And/Or tree of Terms without coordination bonuses or minimum matches."""
    return _count_terms(q) is not None


def _count_terms(q: Any) -> int | None:
    kind = type(q)
    if kind is query.Term:
        return 1
    if kind in (query.And, query.Or):
        if kind is query.Or and (q.scale or q.minmatch):
            return None
        total = 0
        for child in q.subqueries:
            n = _count_terms(child)
            if n is None:
                return None
            total += n
        return total if 0 < total <= MAX_TERMS else None
    return None


#: Decoded posting lists kept per process, in postings (a dict entry each, ~100 bytes): decoding a
#: block (unpickling its ids, weights and positions) is most of what reading a posting list costs.
CACHE_POSTINGS = 400_000
#: A longer posting list is decoded every time rather than pushing everything else out.
CACHE_LARGEST = 100_000

_cache: OrderedDict[tuple, dict[int, float]] = OrderedDict()
_cached = 0
_lock = Lock()


def _postings(subsearcher: Any, fieldname: str, btext: bytes) -> tuple[dict[int, float], frozenset[int]]:
    """({segment docnum: weight} for a term, the segment's deleted documents to leave out).

    A segment's posting lists never change (new documents go to new segments, deletions are a set
    of their own), so a decoded list is kept by segment id, field and term, in a bounded LRU."""
    reader = subsearcher.reader()
    if (fieldname, btext) not in reader:
        return {}, frozenset()
    segment = getattr(getattr(reader, "_segment", None), "segment_id", None)
    key = (segment(), fieldname, btext) if segment is not None else None
    deleted = reader.deleted_docs_set if hasattr(reader, "deleted_docs_set") else frozenset()
    if key is not None:
        with _lock:
            found = _cache.get(key)
            if found is not None:
                _cache.move_to_end(key)
                return found, deleted
    m = reader.postings(fieldname, btext)
    if isinstance(m, FilterMatcher) and m._exclude:
        m = m.child  # the deleted documents: `deleted`
    elif isinstance(m, FilterMatcher):
        return _generic(m), frozenset()
    out = _blocks(m) if type(m) is W3LeafMatcher else _generic(m)
    if key is not None and len(out) <= CACHE_LARGEST:
        global _cached
        with _lock:
            if key not in _cache:
                _cache[key] = out
                _cached += len(out)
                while _cached > CACHE_POSTINGS and _cache:
                    _cached -= len(_cache.popitem(last=False)[1])
    return out, deleted


def clear_cache() -> None:
    global _cached
    with _lock:
        _cache.clear()
        _cached = 0
        _stored.clear()


#: Stored fields of this many documents kept per process (a result page reads 20).
CACHE_STORED = 4096
_stored: OrderedDict[tuple, dict[str, Any]] = OrderedDict()


def stored_fields(searcher: Any, docnum: int) -> dict[str, Any]:
    """searcher.stored_fields(docnum), kept by segment id and segment docnum: a segment's stored
    documents never change (an update deletes the old document and adds a new one elsewhere)."""
    for subsearcher, offset in searcher.leaf_searchers():
        reader = subsearcher.reader()
        local = docnum - offset
        if 0 <= local < reader.doc_count_all():
            segment = getattr(getattr(reader, "_segment", None), "segment_id", None)
            if segment is None:
                return reader.stored_fields(local)
            key = (segment(), local)
            with _lock:
                found = _stored.get(key)
                if found is not None:
                    _stored.move_to_end(key)
                    return dict(found)
            found = reader.stored_fields(local)
            with _lock:
                _stored[key] = found
                while len(_stored) > CACHE_STORED:
                    _stored.popitem(last=False)
            return dict(found)
    return searcher.stored_fields(docnum)


def _blocks(m: W3LeafMatcher) -> dict[int, float]:
    out: dict[int, float] = {}
    while m.is_active():
        if m._ids is None:
            m._read_ids()
        if m._weights is None:
            m._read_weights()
        start = m._i
        out.update(zip(m._ids[start:], m._weights[start:]))
        m._next_block()
    return out


def _generic(m: Any) -> dict[int, float]:
    out: dict[int, float] = {}
    while m.is_active():
        out[m.id()] = m.weight()
        m.next()
    return out


class _Leaf:
    __slots__ = ("postings", "deleted", "scorer", "boost", "bound", "dfl")

    def __init__(self, postings, deleted, scorer, boost):
        self.postings, self.deleted, self.scorer, self.boost = postings, deleted, scorer, boost
        self.bound = {}  # weight -> the score at the term's shortest document
        self.dfl = scorer.dfl if scorer is not None and hasattr(scorer, "dfl") else None

    def upper(self, weight):
        bound = self.bound.get(weight)
        if bound is None:
            if self.dfl is None:
                bound = self.boost * self.scorer.max_quality()
            else:
                bound = self.boost * self.scorer._score(weight, self.scorer._minlength)
            self.bound[weight] = bound
        return bound

    def exact(self, docnum, weight):
        if self.dfl is None:  # an unscorable field: Whoosh's WeightScorer
            return self.boost * self.scorer.score(_Posting(docnum, weight))
        return self.boost * self.scorer._score(weight, self.dfl(docnum))


class _Posting:
    """What WeightScorer.score reads from a matcher."""

    __slots__ = ("_id", "_weight")

    def __init__(self, docnum, weight):
        self._id, self._weight = docnum, weight

    def id(self):
        return self._id

    def weight(self):
        return self._weight


def _tree(q: Any, subsearcher: Any, weighting: Any, boost: float, leaves: list, scored: bool) -> Any:
    """("term", leaf) / ("and", children) / ("or", children), boosts pushed down to the terms."""
    boost = boost * q.boost
    if type(q) is query.Term:
        field = subsearcher.schema[q.fieldname] if q.fieldname in subsearcher.schema else None
        try:
            btext = field.to_bytes(q.text) if field is not None else None
        except ValueError:
            btext = None
        postings, deleted = _postings(subsearcher, q.fieldname, btext) if btext is not None else ({}, frozenset())
        scorer = None
        if scored and postings:
            scorer = weighting.scorer(subsearcher, q.fieldname, btext, qf=1)
            if hasattr(scorer, "dfl"):
                scorer._minlength = subsearcher.term_info(q.fieldname, btext).min_length()
        leaf = _Leaf(postings, deleted, scorer, boost)
        leaves.append(leaf)
        return ("term", leaf)
    kind = "and" if type(q) is query.And else "or"
    return (kind, [_tree(child, subsearcher, weighting, boost, leaves, scored) for child in q.subqueries])


def _docs(node: Any) -> set[int]:
    kind, value = node
    if kind == "term":
        return set(value.postings).difference(value.deleted) if value.deleted else set(value.postings)
    sets = [_docs(child) for child in value]
    if kind == "and":
        sets.sort(key=len)
        out = sets[0]
        for other in sets[1:]:
            out = out & other
            if not out:
                break
        return out
    return set().union(*sets)


def matching(searcher: Any, q: Any) -> frozenset[int]:
    """The global docnums matching an (unscored) And/Or tree of Terms: a filter. Kept on the
    searcher (a snapshot of the index: a new generation gets a new searcher), 32 filters at most."""
    cache = searcher.__dict__.setdefault("_villageaid_filters", {})
    key = repr(q)
    found = cache.get(key)
    if found is None:
        if len(cache) >= 32:
            cache.clear()
        found = cache[key] = frozenset(_matching(searcher, q))
    return found


def _matching(searcher: Any, q: Any) -> set[int]:
    out: set[int] = set()
    for subsearcher, offset in searcher.leaf_searchers():
        docs = _docs(_tree(q, subsearcher, None, 1.0, [], scored=False))
        out.update(d + offset for d in docs) if offset else out.update(docs)
    return out


def top(searcher: Any, q: Any, limit: int, allowed: set[int] | None = None) -> tuple[int, list[tuple[float, int]]]:
    """(total, [(score, global docnum)] best first) for `q`, ties in document order; `allowed`: a
    filter's global docnums. The same as scoring every match with Whoosh's TopCollector."""
    weighting = searcher.weighting
    total = 0
    candidates: list[tuple] = []  # (-upper bound, global docnum, segment docnum, [(leaf, weight)])
    for subsearcher, offset in searcher.leaf_searchers():
        leaves: list[_Leaf] = []
        tree = _tree(q, subsearcher, weighting, 1.0, leaves, scored=True)
        docs = _docs(tree)
        if allowed is not None:
            docs = {d for d in docs if d + offset in allowed}
        total += len(docs)
        if not docs or limit <= 0:
            continue
        for docnum in docs:
            hits = [(leaf, leaf.postings[docnum]) for leaf in leaves if docnum in leaf.postings]
            bound = sum(leaf.upper(weight) for leaf, weight in hits)
            candidates.append((-bound, docnum + offset, docnum, hits))
    if limit <= 0 or not candidates:
        return total, []
    heapq.heapify(candidates)
    best: list[tuple[float, int]] = []  # a min-heap of (score, -docnum): the current top `limit`
    while candidates:
        negbound, globalnum, docnum, hits = heapq.heappop(candidates)
        if len(best) >= limit and -negbound < best[0][0]:
            break  # nothing left can reach the limit-th score
        score = 0.0
        for leaf, weight in hits:
            score += leaf.exact(docnum, weight)
        item = (score, -globalnum)
        if len(best) < limit:
            heapq.heappush(best, item)
        elif item > best[0]:
            heapq.heapreplace(best, item)
    best.sort(reverse=True)
    return total, [(score, -neg) for score, neg in best]
