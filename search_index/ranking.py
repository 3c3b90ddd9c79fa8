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
from itertools import repeat
from operator import add, itemgetter, mul, neg
from threading import Lock
from typing import Any

from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.util.numeric import byte_to_length
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25FScorer

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


#: The per-process cache of decoded posting lists and what is derived from them, in entries of ~90
#: bytes (a decoded list's dict entry with its numbers; at most ~90 MB a process): decoding a block
#: (unpickling its ids, weights and positions) is most of what reading a posting list costs.
CACHE_POSTINGS = 1_000_000
#: What a scored term costs per posting, in those entries: its documents grouped by (weight, length)
#: (a list slot and the document number, ~36 bytes) and its {docnum: score} dict (~40 bytes; a
#: group's documents share one score object). Measured with tracemalloc: docs/search.md.
GROUPS_COST = 0.4
SCORES_COST = 0.45
#: A larger structure is rebuilt every time rather than pushing everything else out. At campaign
#: scale the commonest words of a query are in over 100,000 documents (合作社 in body: 137,138).
CACHE_LARGEST = 250_000

_cache: OrderedDict[tuple, tuple[Any, float]] = OrderedDict()  # key -> (structure, cost in entries)
_cached = 0.0
_lock = Lock()


def _get(key: tuple) -> Any:
    with _lock:
        found = _cache.get(key)
        if found is None:
            return None
        _cache.move_to_end(key)
        return found[0]


def _put(key: tuple, value: Any, cost: float) -> None:
    """Keep `value` unless it alone would cost more than CACHE_LARGEST; drop the least recently used
    structures while over CACHE_POSTINGS."""
    global _cached
    if cost > CACHE_LARGEST:
        return
    with _lock:
        if key in _cache:
            return
        _cache[key] = (value, cost)
        _cached += cost
        while _cached > CACHE_POSTINGS and len(_cache) > 1:
            _cached -= _cache.popitem(last=False)[1][1]


def _segment_id(reader: Any) -> Any:
    segment = getattr(getattr(reader, "_segment", None), "segment_id", None)
    return segment() if segment is not None else None


def _postings(subsearcher: Any, fieldname: str, btext: bytes, keep: bool = True) -> tuple[dict[int, float], frozenset[int]]:
    """({segment docnum: weight} for a term, the segment's deleted documents to leave out).

    A segment's posting lists never change (new documents go to new segments, deletions are a set
    of their own), so a decoded list is kept by segment id, field and term, in a bounded LRU
    (`keep`: a scored term keeps its groups instead)."""
    reader = subsearcher.reader()
    if (fieldname, btext) not in reader:
        return {}, frozenset()
    segment = _segment_id(reader)
    key = ("postings", segment, fieldname, btext) if segment is not None else None
    deleted = _deleted(reader)
    if key is not None:
        found = _get(key)
        if found is not None:
            return found, deleted
    m = reader.postings(fieldname, btext)
    if isinstance(m, FilterMatcher) and m._exclude:
        m = m.child  # the deleted documents: `deleted`
    elif isinstance(m, FilterMatcher):
        return _generic(m), frozenset()
    out = _blocks(m) if type(m) is W3LeafMatcher else _generic(m)
    if key is not None and keep:
        _put(key, out, len(out))
    return out, deleted


def _deleted(reader: Any) -> frozenset[int]:
    return reader.deleted_docs_set if hasattr(reader, "deleted_docs_set") else frozenset()


def clear_cache() -> None:
    global _cached
    with _lock:
        _cache.clear()
        _cached = 0.0
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
    """A term of the query in one segment: its documents' scores, grouped best first."""

    __slots__ = ("members", "boost", "impacts")

    def __init__(self, members, boost, impacts=None):
        # members: {docnum: score} (scored; deleted documents included) or {docnum: weight} (a filter)
        self.members, self.boost, self.impacts = members, boost, impacts


class _Posting:
    """What WeightScorer.score reads from a matcher."""

    __slots__ = ("_id", "_weight")

    def __init__(self, docnum, weight):
        self._id, self._weight = docnum, weight

    def id(self):
        return self._id

    def weight(self):
        return self._weight


def _params(scorer: Any) -> tuple | None:
    """What a BM25F score depends on besides weight and length, or None for another scorer. idf and
    the average length are the whole index's: a new generation gives new parameters (and new keys)."""
    if type(scorer) is not BM25FScorer:
        return None
    return (scorer.idf, scorer.avgfl, scorer.B, scorer.K1)


def _scored(subsearcher: Any, fieldname: str, btext: bytes, scorer: Any) -> tuple[dict[int, float], list]:
    """({docnum: score}, [(score, [docnum, ...]), ...] best first) for a term in a segment.

    BM25F's score depends only on a posting's weight and its document's field length, both fixed in
    a segment, so the postings are grouped by (weight, length) once (kept by segment id, field and
    term) and each group scored once for the index's current statistics (kept with them in the key):
    the groups in score order are what the threshold algorithm walks — an exact bound per term — and
    the scores a dict that C-level maps read for every match."""
    reader = subsearcher.reader()
    segment = _segment_id(reader)
    params = _params(scorer)
    key = ("scores", segment, fieldname, btext, params) if segment is not None and params is not None else None
    if key is not None:
        found = _get(key)
        if found is not None:
            return found
    groups = _groups(subsearcher, segment, fieldname, btext, scorer)
    scores: dict[int, float] = {}
    impacts = []
    if hasattr(scorer, "_score") and hasattr(scorer, "dfl"):
        for (weight, length), docs in groups.items():
            score = scorer._score(weight, length)
            impacts.append((score, docs))
            scores.update(zip(docs, repeat(score)))
    else:  # an unscorable field (Whoosh's WeightScorer) or another model: one document at a time
        for (weight, _), docs in groups.items():
            for docnum in docs:
                score = scorer.score(_Posting(docnum, weight))
                impacts.append((score, [docnum]))
                scores[docnum] = score
    impacts.sort(key=itemgetter(0), reverse=True)
    found = (scores, impacts)
    if key is not None:
        _put(key, found, len(scores) * SCORES_COST)
    return found


def _groups(subsearcher: Any, segment: Any, fieldname: str, btext: bytes, scorer: Any) -> dict[tuple, list[int]]:
    """{(weight, field length): [docnum, ...]} of a term's postings in a segment (deleted included)."""
    key = ("groups", segment, fieldname, btext) if segment is not None else None
    if key is not None:
        found = _get(key)
        if found is not None:
            return found
    postings = _postings(subsearcher, fieldname, btext, keep=False)[0]
    groups: dict[tuple, list[int]] = {}
    if hasattr(scorer, "dfl"):
        length = _length_reader(subsearcher, fieldname, scorer.dfl)
        for docnum, weight in postings.items():
            group = (weight, length(docnum))
            found = groups.get(group)
            if found is None:
                groups[group] = [docnum]
            else:
                found.append(docnum)
    else:
        for docnum, weight in postings.items():
            groups.setdefault((weight, None), []).append(docnum)
    if key is not None:
        _put(key, groups, len(postings) * GROUPS_COST)
    return groups


def _tree(q: Any, subsearcher: Any, weighting: Any, boost: float, leaves: list, scored: bool) -> Any:
    """("term", leaf) / ("and", children) / ("or", children), boosts pushed down to the terms."""
    boost = boost * q.boost
    if type(q) is query.Term:
        field = subsearcher.schema[q.fieldname] if q.fieldname in subsearcher.schema else None
        try:
            btext = field.to_bytes(q.text) if field is not None else None
        except ValueError:
            btext = None
        if btext is None or (q.fieldname, btext) not in subsearcher.reader():
            leaf = _Leaf({}, boost, [])
        elif scored:
            scores, impacts = _scored(subsearcher, q.fieldname, btext, weighting.scorer(subsearcher, q.fieldname, btext, qf=1))
            leaf = _Leaf(scores, boost, impacts)
        else:
            leaf = _Leaf(_postings(subsearcher, q.fieldname, btext)[0], boost)
        leaves.append(leaf)
        return ("term", leaf)
    kind = "and" if type(q) is query.And else "or"
    return (kind, [_tree(child, subsearcher, weighting, boost, leaves, scored) for child in q.subqueries])


def _size(node: Any) -> int:
    """How many documents a node can match at most: what an AND evaluates first."""
    kind, value = node
    if kind == "term":
        return len(value.members)
    sizes = [_size(child) for child in value]
    return min(sizes) if kind == "and" else sum(sizes)


def _docs(node: Any, within: set[int] | None = None) -> set[int]:
    """The documents of `node` (within `within`, if given; deleted ones included), by set operations
    in C that each cost the smaller side: an AND evaluates its smallest child, then looks its
    documents up in the others, so 花椒 合作社 never builds the 137,138 documents of 合作社."""
    kind, value = node
    if kind == "term":
        members = value.members
        if within is None:
            return set(members)
        # Iterate the smaller side, looking its documents up in the other.
        if len(members) <= len(within):
            return within.intersection(members)
        return set(filter(members.__contains__, within))
    if kind == "and":
        out = within
        for child in sorted(value, key=_size):
            out = _docs(child, out)
            if not out:
                return set()
        return out if out is not None else set()
    out = set()
    for child in value:
        out |= _docs(child, within)
    return out


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
        docs -= _deleted(subsearcher.reader())
        out.update(d + offset for d in docs) if offset else out.update(docs)
    return out


#: Up to this many score look-ups (matches × terms) in a segment, every match is scored (by C-level
#: maps over the terms' score dicts); above it, the threshold algorithm walks the terms' documents
#: best first and stops when nothing unseen can reach the page.
EXHAUSTIVE = 60_000

#: Documents scored exactly by the last top() in this thread-unsafe counter (the benchmarks read it).
STATS = {"scored": 0, "groups": 0}


def top(searcher: Any, q: Any, limit: int, allowed: frozenset[int] | None = None) -> tuple[int, list[tuple[float, int]]]:
    """(total, [(score, global docnum)] best first) for `q`, ties in document order; `allowed`: a
    filter's global docnums. The same as scoring every match with Whoosh's TopCollector."""
    weighting = searcher.weighting
    total = 0
    STATS["scored"] = STATS["groups"] = 0
    best: list[tuple[float, int]] = []  # a min-heap of (score, -global docnum): the top `limit` so far
    for subsearcher, offset in searcher.leaf_searchers():
        leaves: list[_Leaf] = []
        tree = _tree(q, subsearcher, weighting, 1.0, leaves, scored=True)
        within = None
        if allowed is not None:
            if offset:
                end = offset + subsearcher.reader().doc_count_all()
                within = {a - offset for a in allowed if offset <= a < end}
            else:
                within = allowed
        docs = _docs(tree, within)
        deleted = _deleted(subsearcher.reader())
        if deleted and docs:
            docs -= deleted
        total += len(docs)
        if not docs or limit <= 0:
            continue
        leaves = [leaf for leaf in leaves if leaf.members]
        if len(docs) * len(leaves) <= EXHAUSTIVE or any(leaf.boost <= 0 for leaf in leaves):
            _everything(leaves, list(docs), offset, limit, best)
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


def _scores(leaves: list[_Leaf], docs: list[int]) -> list[float]:
    """The exact scores of `docs`: each term's boost × score, added in the terms' order (0.0 for a
    term a document lacks adds nothing: x + 0.0 == x), by C-level maps over the score dicts."""
    STATS["scored"] += len(docs)
    total: list[float] | None = None
    for leaf in leaves:
        part = map(leaf.members.get, docs, repeat(0.0))
        if leaf.boost != 1.0:
            part = map(mul, repeat(leaf.boost), part)
        total = list(part) if total is None else list(map(add, total, part))
    return total if total is not None else [0.0] * len(docs)


def _keep(best: list, limit: int, scores: list[float], docs: list[int], offset: int) -> None:
    """Offer (score, document) pairs to the heap of the best `limit`."""
    negatives = map(neg, map(offset.__add__, docs)) if offset else map(neg, docs)
    pairs = zip(scores, negatives)
    if len(docs) > limit:
        pairs = heapq.nlargest(limit, pairs)
    for item in pairs:
        if len(best) < limit:
            heapq.heappush(best, item)
        elif item > best[0]:
            heapq.heapreplace(best, item)


def _everything(leaves: list[_Leaf], docs: list[int], offset: int, limit: int, best: list) -> None:
    """Score every match."""
    _keep(best, limit, _scores(leaves, docs), docs, offset)


def _head(leaf: _Leaf, position: int) -> float:
    """The most a document not yet seen can score in this term: the score of its best group left."""
    return leaf.boost * leaf.impacts[position][0]


def _threshold(leaves: list[_Leaf], docs: set[int], offset: int, limit: int, best: list) -> None:
    """Fagin's threshold algorithm with sorted access by exact partial score: take the group of
    documents with the best remaining score of any term, score its unseen matches exactly, and stop
    when the limit-th score beats the sum of the terms' best remaining scores (an unseen document
    scores at most that sum: each of its terms' scores is in a group not taken yet)."""
    positions = [0] * len(leaves)
    seen: set[int] = set()
    while True:
        bound = 0.0
        pick = -1
        highest = -1.0
        for i, leaf in enumerate(leaves):
            position = positions[i]
            if position < len(leaf.impacts):
                head = _head(leaf, position)
                bound += head
                if head > highest:
                    pick, highest = i, head
        if pick < 0 or (len(best) >= limit and best[0][0] > bound):
            return
        group = leaves[pick].impacts[positions[pick]][1]
        positions[pick] += 1
        STATS["groups"] += 1
        new = docs.intersection(group)
        if seen:
            new -= seen
        if new:
            seen |= new
            new = list(new)
            _keep(best, limit, _scores(leaves, new), new, offset)
