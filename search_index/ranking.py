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
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.util.numeric import byte_to_length
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


#: Decoded posting lists kept per process, in entries (a posting list's dict entry or its by-weight
#: list's tuple, ~90 bytes each with their numbers: at most ~90 MB a process): decoding a block
#: (unpickling its ids, weights and positions) is most of what reading a posting list costs.
CACHE_POSTINGS = 1_000_000
#: A longer posting list is decoded every time rather than pushing everything else out. At campaign
#: scale the commonest words of a query are in over 100,000 documents (合作社 in body: 137,138); with
#: the bound at 100,000 they were decoded and sorted on every search (花椒 合作社: 230 ms of CPU, 57–80
#: with them kept).
CACHE_LARGEST = 250_000

_cache: OrderedDict[tuple, dict[int, float]] = OrderedDict()
_cached = 0
_lock = Lock()


def _postings(subsearcher: Any, fieldname: str, btext: bytes) -> tuple[dict[int, float], frozenset[int], tuple | None]:
    """({segment docnum: weight} for a term, the segment's deleted documents to leave out).

    A segment's posting lists never change (new documents go to new segments, deletions are a set
    of their own), so a decoded list is kept by segment id, field and term, in a bounded LRU."""
    global _cached
    reader = subsearcher.reader()
    if (fieldname, btext) not in reader:
        return {}, frozenset(), None
    segment = getattr(getattr(reader, "_segment", None), "segment_id", None)
    key = (segment(), fieldname, btext) if segment is not None else None
    deleted = reader.deleted_docs_set if hasattr(reader, "deleted_docs_set") else frozenset()
    if key is not None:
        with _lock:
            found = _cache.get(key)
            if found is not None:
                _cache.move_to_end(key)
                return found, deleted, key
    m = reader.postings(fieldname, btext)
    if isinstance(m, FilterMatcher) and m._exclude:
        m = m.child  # the deleted documents: `deleted`
    elif isinstance(m, FilterMatcher):
        return _generic(m), frozenset(), None
    out = _blocks(m) if type(m) is W3LeafMatcher else _generic(m)
    if key is not None and len(out) <= CACHE_LARGEST:
        with _lock:
            if key not in _cache:
                _cache[key] = out
                _cached += len(out)
                _evict()
    return out, deleted, key


def _evict() -> None:
    """Drop the least recently used lists (of either kind) while over CACHE_POSTINGS (under _lock)."""
    global _cached
    while _cached > CACHE_POSTINGS and (_cache or _sorted):
        victim = _sorted if _sorted and (not _cache or len(_sorted) >= len(_cache)) else _cache
        _cached -= len(victim.popitem(last=False)[1])


_sorted: OrderedDict[tuple, list[tuple[float, int]]] = OrderedDict()


def _by_weight(key: tuple | None, postings: dict[int, float]) -> list[tuple[float, int]]:
    """A term's [(-weight, docnum)], heaviest first and ties in document order: what the threshold
    algorithm walks. Kept like the postings (same key, same budget)."""
    global _cached
    if key is not None:
        with _lock:
            found = _sorted.get(key)
            if found is not None:
                _sorted.move_to_end(key)
                return found
    entries = sorted([(-weight, docnum) for docnum, weight in postings.items()])
    if key is not None and len(entries) <= CACHE_LARGEST:
        with _lock:
            if key not in _sorted:
                _sorted[key] = entries
                _cached += len(entries)
                _evict()
    return entries


def clear_cache() -> None:
    global _cached
    with _lock:
        _cache.clear()
        _sorted.clear()
        _cached = 0
        _stored.clear()
        _lengths_cache.clear()


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


_lengths_cache: OrderedDict[tuple, list] = OrderedDict()
CACHE_LENGTHS = 64  # (segment, field) columns


def _length_reader(subsearcher: Any, fieldname: str, fallback: Any) -> Any:
    """docnum -> the field's length in a segment, as `doc_field_length` gives it (0 bytes: None),
    from the whole length column decoded once per segment: ~0.1 µs a document instead of ~4."""
    reader = subsearcher.reader()
    segment = getattr(getattr(reader, "_segment", None), "segment_id", None)
    perdoc = getattr(reader, "_perdoc", None)
    if segment is None or perdoc is None or not hasattr(perdoc, "_cached_reader"):
        return fallback
    key = (segment(), fieldname)
    with _lock:
        lengths = _lengths_cache.get(key)
        if lengths is not None:
            _lengths_cache.move_to_end(key)
            return lengths.__getitem__
    column = perdoc._cached_reader(_lenfield(fieldname), LENGTHS_COLUMN)
    if column is None:
        return fallback
    lengths = [byte_to_length(b) if b else None for b in (column[i] for i in range(reader.doc_count_all()))]
    with _lock:
        _lengths_cache[key] = lengths
        while len(_lengths_cache) > CACHE_LENGTHS:
            _lengths_cache.popitem(last=False)
    return lengths.__getitem__


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
    __slots__ = ("postings", "deleted", "scorer", "boost", "bound", "dfl", "key")

    def __init__(self, postings, deleted, scorer, boost, key=None):
        self.postings, self.deleted, self.scorer, self.boost, self.key = postings, deleted, scorer, boost, key
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

    def by_weight(self):
        """[(-weight, docnum)] heaviest first (ties in document order), kept with the postings."""
        return _by_weight(self.key, self.postings)

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
        postings, deleted, key = _postings(subsearcher, q.fieldname, btext) if btext is not None else ({}, frozenset(), None)
        scorer = None
        if scored and postings:
            scorer = weighting.scorer(subsearcher, q.fieldname, btext, qf=1)
            if hasattr(scorer, "dfl"):
                scorer._minlength = subsearcher.term_info(q.fieldname, btext).min_length()
        leaf = _Leaf(postings, deleted, scorer, boost, key)
        if leaf.dfl is not None:
            leaf.dfl = _length_reader(subsearcher, q.fieldname, leaf.dfl)
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


#: Above this many matches in a segment, the top is found from each term's postings by descending
#: weight (the threshold algorithm) instead of bounding every match.
EXHAUSTIVE = 2000


def top(searcher: Any, q: Any, limit: int, allowed: frozenset[int] | None = None) -> tuple[int, list[tuple[float, int]]]:
    """(total, [(score, global docnum)] best first) for `q`, ties in document order; `allowed`: a
    filter's global docnums. The same as scoring every match with Whoosh's TopCollector."""
    weighting = searcher.weighting
    total = 0
    best: list[tuple[float, int]] = []  # a min-heap of (score, -global docnum): the top `limit` so far
    for subsearcher, offset in searcher.leaf_searchers():
        leaves: list[_Leaf] = []
        tree = _tree(q, subsearcher, weighting, 1.0, leaves, scored=True)
        docs = _docs(tree)
        if allowed is not None:
            if offset:
                end = offset + subsearcher.reader().doc_count_all()
                docs &= {a - offset for a in allowed if offset <= a < end}
            else:
                docs &= allowed
        total += len(docs)
        if not docs or limit <= 0:
            continue
        if len(docs) <= EXHAUSTIVE:
            _bounded(leaves, docs, offset, limit, best)
        else:
            _threshold(leaves, docs, offset, limit, best)
    best.sort(reverse=True)
    return total, [(score, -neg) for score, neg in best]


def _offer(best: list, limit: int, score: float, globalnum: int) -> None:
    item = (score, -globalnum)
    if len(best) < limit:
        heapq.heappush(best, item)
    elif item > best[0]:
        heapq.heapreplace(best, item)


def _exact(leaves: list[_Leaf], docnum: int) -> float:
    score = 0.0
    for leaf in leaves:
        weight = leaf.postings.get(docnum)
        if weight is not None:
            score += leaf.exact(docnum, weight)
    return score


def _bounded(leaves: list[_Leaf], docs: set[int], offset: int, limit: int, best: list) -> None:
    """Score the matches in the order of their upper bounds until none left can reach the top."""
    candidates = []
    for docnum in docs:
        bound = 0.0
        for leaf in leaves:
            weight = leaf.postings.get(docnum)
            if weight is not None:
                bound += leaf.upper(weight)
        candidates.append((-bound, docnum))
    heapq.heapify(candidates)
    while candidates:
        negbound, docnum = heapq.heappop(candidates)
        if len(best) >= limit and -negbound < best[0][0]:
            return  # nothing left can reach the limit-th score
        _offer(best, limit, _exact(leaves, docnum), docnum + offset)


def _threshold(leaves: list[_Leaf], docs: set[int], offset: int, limit: int, best: list) -> None:
    """Fagin's threshold algorithm: walk every term's postings from its heaviest weight down, in
    turn, scoring each matching document the first time it is seen; stop when the limit-th score
    beats the sum of the bounds at the terms' current positions (no unseen document can reach it)."""
    lists = [leaf.by_weight() for leaf in leaves]
    positions = [0] * len(leaves)
    seen: set[int] = set()
    while True:
        moved = False
        for i, entries in enumerate(lists):
            position = positions[i]
            if position >= len(entries):
                continue
            positions[i] = position + 1
            moved = True
            docnum = entries[position][1]
            if docnum in seen or docnum not in docs:
                continue
            seen.add(docnum)
            _offer(best, limit, _exact(leaves, docnum), docnum + offset)
        if not moved:
            return
        if len(best) >= limit:
            bound = 0.0
            for leaf, entries, position in zip(leaves, lists, positions):
                if position < len(entries):
                    bound += leaf.upper(-entries[position][0])
            if best[0][0] > bound:
                return
