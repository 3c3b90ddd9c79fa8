"""Exact relevance ranking for word queries, with posting lists read a block at a time.

The parser turns words into an And/Or tree of Terms (每个词 in title OR body OR place, every word
ANDed). Whoosh's matchers walk that tree one posting at a time in Python: a skip_to on one side
steps through the other side's block entry by entry, so a query costs every posting of its
commonest word (花椒 合作社 at 9,500 documents: 3 ms for 111 matches, most of it stepping through
2,350 postings of 合作社 in body). Here each term's postings are read whole blocks at a time (the
block's ids and weights are decoded by Whoosh's own codec, then copied into a dict in C), the
boolean tree is evaluated on sets, and only the matching documents are scored.

Scoring is Whoosh's own: the segment's BM25F scorer for each term (the same idf, average length
and B/K1), `_score(weight, length)`, boosts multiplied in; a document's score adds its terms' in the
query's order. That score depends only on each term's (weight, field length), both fixed in a
segment, so every word (a term, or an OR of terms: the word in title, body or place) keeps its
documents grouped by that signature, and the signatures ordered by score for the index's current
statistics: each word's documents best first, with the exact score of each. The total is counted
on bitmaps (Python ints, one & per AND); the page comes from the threshold algorithm walking the
words best first until the page's last score beats the sum of the words' best scores left — or,
when the matches are few, from scoring them all. The ranking, the ties (lower document number first)
and the total are those of scoring every match; `tests/search/test_search_queries.py` compares them
with Whoosh's collector on random corpora, and checks that a bound set too low is caught.

Queries of any other shape (phrases, NOT, coordination) return None: the caller collects them
with Whoosh as before.
"""

from __future__ import annotations

import heapq
import sys
from collections import OrderedDict
from itertools import compress, filterfalse, repeat
from operator import add, itemgetter, neg
from threading import Lock
from typing import Any

from whoosh import query
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3LeafMatcher, _lenfield
from whoosh.util.numeric import byte_to_length
from whoosh.matching.wrappers import FilterMatcher
from whoosh.scoring import BM25FScorer, WeightLengthScorer, WeightScorer

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
#: What a word costs per document, in those entries: {docnum: signature} and its documents listed
#: by signature, 95 bytes a document with the document number's int (tracemalloc, campaign scale:
#: 花椒 合作社 村 电商 培训, 888,043 documents, 84.5 MB). A word's bitmap is 1 bit per document of
#: the segment; the signatures' scores a few hundred numbers.
SIGNATURES_COST = 1.05
#: A larger structure is rebuilt every time rather than pushing everything else out. At campaign
#: scale (539,630 documents) 村 is in 416,036 documents (437,000 entries, ~40 MB): a word in every
#: document fits, at up to 60 % of the cache.
CACHE_LARGEST = 600_000

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


_lengths_cache: OrderedDict[tuple, tuple] = OrderedDict()
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
    # A tuple, not a list: the garbage collector stops tracking a tuple of numbers after the first collection
    # that sees it, whereas a full collection traverses a list's half a million items every time (a
    # 15-30 ms pause in the worker at campaign scale: docs/performance.md, eighth session).
    lengths = tuple(byte_to_length(b) if b else None for b in (column[i] for i in range(reader.doc_count_all())))
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
    """A filter's term in one segment: {docnum: weight}, deleted documents included."""

    __slots__ = ("members",)

    def __init__(self, members):
        self.members = members


class _Unit:
    """A word of the query in one segment — a term, or an OR of terms (the word in title, body or
    place) — for the index's current statistics.

    `members`: {docnum: signature} for every document that has the word (deleted ones included),
    a signature being what its score depends on: its (weight, field length) in each of the terms.
    `docs[sig]`: the documents of a signature. Neither depends on the statistics, so they are kept
    by segment id and terms (`_signatures`). `scores[sig]`: a signature's score (`scores[-1]` is 0.0,
    for documents without the word), `order`: the signatures best first, `heads`: their scores —
    a few hundred numbers, recomputed when the statistics change (`_ranked`)."""

    __slots__ = ("members", "docs", "terms", "scores", "order", "heads", "absent")

    def __init__(self, members, docs, terms, scores, order, heads):
        self.members, self.docs, self.terms = members, docs, terms
        self.scores, self.order, self.heads = scores, order, heads
        self.absent = len(scores) - 1


_EMPTY_UNIT = _Unit({}, [], (), [0.0], [], [])


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
    """What a score depends on besides weight and length, or None for a scorer we do not know. BM25F's
    idf and average length are the whole index's: a new generation gives new parameters."""
    if type(scorer) is BM25FScorer:
        return (scorer.idf, scorer.avgfl, scorer.B, scorer.K1)
    if type(scorer) is WeightScorer:
        return ("weight",)
    return None


def _mode(scorer: Any) -> str:
    """How a term's postings are grouped for its scorer: by (weight, length), by weight, or one by one."""
    if isinstance(scorer, WeightLengthScorer) and hasattr(scorer, "dfl"):
        return "length"
    return "weight" if isinstance(scorer, WeightScorer) else "document"


def _unit(subsearcher: Any, weighting: Any, terms: list[tuple[str, bytes, float]]) -> _Unit:
    """The _Unit of (field, term, boost) triples.

    BM25F's score depends only on a posting's weight and its document's field length, both fixed in
    a segment: a word's documents grouped by their pairs in its terms (`_signatures`) are kept per
    segment. What the index's statistics change —
    each signature's score, the signatures in score order — is a few hundred numbers (`_ranked`).
    A document's score in a word is its terms' boost × score added in the terms' order; its
    signatures best first are what the threshold algorithm walks (the exact bound of a word)."""
    if not terms:
        return _EMPTY_UNIT
    terms = tuple(terms)
    segment = _segment_id(subsearcher.reader())
    scorers = [weighting.scorer(subsearcher, fieldname, btext, qf=1) for fieldname, btext, _ in terms]
    members, docs, signatures = _signatures(subsearcher, segment, terms, scorers)
    scores, order, heads = _ranked(segment, terms, scorers, signatures)
    return _Unit(members, docs, terms, scores, order, heads)


def _signatures(subsearcher: Any, segment: Any, terms: tuple, scorers: list) -> tuple:
    """({docnum: signature id}, [[docnum, ...] per signature], [(pair or None per term) per
    signature]) of a word in a segment, kept by segment id and terms."""
    modes = tuple(_mode(scorer) for scorer in scorers)
    key = ("signatures", segment, terms, modes) if segment is not None else None
    if key is not None:
        found = _get(key)
        if found is not None:
            return found
    groups = [_groups(subsearcher, fieldname, btext, scorer) for (fieldname, btext, _), scorer in zip(terms, scorers)]
    if len(groups) == 1:
        signatures = [(pair,) for pair in groups[0]]
        docs = list(groups[0].values())
    else:
        pairs = []  # per term: {docnum: (weight, length)}
        for term_groups in groups:
            of: dict[int, tuple] = {}
            for pair, term_docs in term_groups.items():
                of.update(zip(term_docs, repeat(pair)))
            pairs.append(of)
        union = list(set().union(*pairs))
        grouped: dict[tuple, list[int]] = {}
        for docnum, signature in zip(union, zip(*[map(of.get, union) for of in pairs])):
            found = grouped.get(signature)
            if found is None:
                grouped[signature] = [docnum]
            else:
                found.append(docnum)
        signatures = list(grouped)
        docs = list(grouped.values())
    members: dict[int, int] = {}
    for sig, sig_docs in enumerate(docs):
        members.update(zip(sig_docs, repeat(sig)))  # one int object per signature
    # Kept as tuples, as everything in the cache: the garbage collector stops tracking a tuple of numbers
    # (and a dict of them) once a collection has seen it, but traverses each item of a list in every full
    # collection, which paused a worker for every document the cache held (performance.md, eighth session).
    found = (members, tuple(map(tuple, docs)), tuple(signatures))
    if key is not None:
        _put(key, found, len(members) * SIGNATURES_COST)
    return found


def _ranked(segment: Any, terms: tuple, scorers: list, signatures: tuple) -> tuple[tuple, tuple, tuple]:
    """(score per signature + [0.0], signatures best first, their scores) for the scorers' statistics."""
    params = tuple(_params(scorer) for scorer in scorers)
    key = ("ranked", segment, terms, params) if segment is not None and None not in params else None
    if key is not None:
        found = _get(key)
        if found is not None:
            return found
    memo: dict[tuple, float] = {}
    scores = []
    for signature in signatures:
        score = 0.0
        for i, pair in enumerate(signature):
            if pair is None:
                continue
            part = memo.get((i, pair))
            if part is None:
                part = memo[(i, pair)] = terms[i][2] * _pair_score(scorers[i], pair)
            score += part
        scores.append(score)
    order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)
    heads = [scores[sig] for sig in order]
    scores.append(0.0)
    found = (tuple(scores), tuple(order), tuple(heads))  # tuples: see _signatures
    if key is not None:
        _put(key, found, len(scores) / 10)
    return found


def _pair_score(scorer: Any, pair: tuple) -> float:
    weight, length = pair
    if isinstance(length, tuple):  # ("document", docnum): a scorer that reads more than the two
        return scorer.score(_Posting(length[1], weight))
    if length is None:
        return scorer.score(_Posting(None, weight))  # WeightScorer: the weight
    return scorer._score(weight, length)


def _groups(subsearcher: Any, fieldname: str, btext: bytes, scorer: Any) -> dict[tuple, list[int]]:
    """{(weight, field length): [docnum, ...]} of a term's postings in a segment (deleted included);
    (weight, None) for Whoosh's WeightScorer, (weight, ("document", docnum)) for another scorer.
    Not kept: a word's signatures, which are, hold the same (weight, length) pairs and documents."""
    mode = _mode(scorer)
    postings = _postings(subsearcher, fieldname, btext, keep=False)[0]
    groups: dict[tuple, list[int]] = {}
    if mode == "length":
        length = _length_reader(subsearcher, fieldname, scorer.dfl)
        for docnum, weight in postings.items():
            pair = (weight, length(docnum))
            found = groups.get(pair)
            if found is None:
                groups[pair] = [docnum]
            else:
                found.append(docnum)
    elif mode == "weight":
        for docnum, weight in postings.items():
            groups.setdefault((weight, None), []).append(docnum)
    else:
        for docnum, weight in postings.items():
            groups[(weight, ("document", docnum))] = [docnum]
    return groups


def _term(q: Any, subsearcher: Any) -> bytes | None:
    """The term's bytes in its field, or None when the segment does not have it."""
    field = subsearcher.schema[q.fieldname] if q.fieldname in subsearcher.schema else None
    try:
        btext = field.to_bytes(q.text) if field is not None else None
    except ValueError:
        return None
    return btext if btext is not None and (q.fieldname, btext) in subsearcher.reader() else None


def _words_only(q: Any) -> bool:
    """A Term or an Or of such: one word spread over fields (or several words, any of them)."""
    return type(q) is query.Term or (type(q) is query.Or and all(_words_only(child) for child in q.subqueries))


def _scored_tree(q: Any, subsearcher: Any, weighting: Any, boost: float, units: list) -> Any:
    """("unit", _Unit) / ("and", children) / ("or", children): every maximal OR of terms is one
    unit (a word in title, body or place), boosts pushed down to the terms; `units` in tree order."""
    boost = boost * q.boost
    if _words_only(q):
        terms: list[tuple[str, bytes, float]] = []
        _collect(q, subsearcher, boost, terms)
        unit = _unit(subsearcher, weighting, terms)
        units.append(unit)
        return ("unit", unit)
    kind = "and" if type(q) is query.And else "or"
    return (kind, [_scored_tree(child, subsearcher, weighting, boost, units) for child in q.subqueries])


def _collect(q: Any, subsearcher: Any, boost: float, terms: list) -> None:
    boost = boost * q.boost
    if type(q) is query.Term:
        btext = _term(q, subsearcher)
        if btext is not None:
            terms.append((q.fieldname, btext, boost))
        return
    for child in q.subqueries:
        _collect(child, subsearcher, boost, terms)


def _tree(q: Any, subsearcher: Any) -> Any:
    """("unit", _Leaf) / ("and", children) / ("or", children) of a filter (unscored)."""
    if type(q) is query.Term:
        btext = _term(q, subsearcher)
        return ("unit", _Leaf(_postings(subsearcher, q.fieldname, btext)[0] if btext is not None else {}))
    kind = "and" if type(q) is query.And else "or"
    return (kind, [_tree(child, subsearcher) for child in q.subqueries])


def _size(node: Any) -> int:
    """How many documents a node can match at most: what an AND evaluates first."""
    kind, value = node
    if kind == "unit":
        return len(value.members)
    sizes = [_size(child) for child in value]
    return min(sizes) if kind == "and" else sum(sizes)


def _docs(node: Any, within: Any = None) -> Any:
    """The documents of a filter's tree (deleted ones included), by set operations in C that cost
    the smaller side: an AND evaluates its smallest child, then looks its documents up in the others."""
    kind, value = node
    if kind == "unit":
        members = value.members
        if within is None:
            return members.keys()  # a view: the next & reads it without a copy
        return members.keys() & within  # iterates the smaller side
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
        docs = set(_docs(_tree(q, subsearcher)))
        docs -= _deleted(subsearcher.reader())
        out.update(d + offset for d in docs) if offset else out.update(docs)
    return out


#: Up to this many matches in a segment, or this many per result asked for, every match is listed
#: (set operations that cost the smallest word) and scored (C-level maps over the words' score
#: dicts). Above, the threshold algorithm walks the words' documents best first and stops when
#: nothing unseen can reach the page: with few matches per result it would walk nearly everything.
EXHAUSTIVE = 1_000
EXHAUSTIVE_PER_RESULT = 5

#: Up to this many documents in the smallest word of an AND (in the words of an OR), the matches are
#: found by set operations and all scored; beyond, the total is counted on bitmaps.
FEW = 2_000

#: What the last top() did, for the benchmarks (not thread-safe): documents scored exactly, and
#: documents taken by the threshold walk.
STATS = {"scored": 0, "walked": 0}


def top(searcher: Any, q: Any, limit: int, allowed: frozenset[int] | None = None) -> tuple[int, list[tuple[float, int]]]:
    """(total, [(score, global docnum)] best first) for `q`, ties in document order; `allowed`: a
    filter's global docnums. The same as scoring every match with Whoosh's TopCollector."""
    weighting = searcher.weighting
    total = 0
    STATS["scored"] = STATS["walked"] = 0
    best: list[tuple[float, int]] = []  # a min-heap of (score, -global docnum): the top `limit` so far
    for subsearcher, offset in searcher.leaf_searchers():
        units: list[_Unit] = []
        tree = _scored_tree(q, subsearcher, weighting, 1.0, units)
        reader = subsearcher.reader()
        size = reader.doc_count_all()
        deleted = _deleted(reader)
        if _size(tree) <= FEW:
            # Selective words: their matches by set operations that cost the smallest word.
            docs = _docs(tree)
            docs = list(docs - deleted if deleted else docs)
            if allowed is not None:
                docs = list(compress(docs, map(allowed.__contains__, map(offset.__add__, docs) if offset else docs)))
            total += len(docs)
            if docs and limit > 0:
                _keep(best, limit, _scores(units, docs), docs, offset)
            continue
        # The total, exactly, from bitmaps (Python ints: an AND of two words over 540,000
        # documents is one & of 67 kB in C, and bit_count() counts it).
        segment = _segment_id(reader)
        bits = _bits(tree, segment, size)
        if deleted:
            bits &= ~_bitmap_on(searcher, ("deleted", segment), lambda: deleted, size)
        if allowed is not None:
            bits &= _bitmap_on(searcher, ("allowed", id(allowed), offset),
                               lambda: (a - offset for a in allowed if offset <= a < offset + size), size, allowed)
        count = bits.bit_count()
        total += count
        if not count or limit <= 0:
            continue
        if (count <= EXHAUSTIVE or count <= EXHAUSTIVE_PER_RESULT * limit
                or any(unit.heads and unit.heads[-1] < 0 for unit in units)):
            # (A negative score — a negative boost — would make the walk's sum no upper bound.)
            docs = _listed(bits, size)
            _keep(best, limit, _scores(units, docs), docs, offset)
        else:
            _threshold(units, _admission(tree, deleted, allowed, offset), offset, limit, best)
    best.sort(reverse=True)
    return total, [(score, -neg) for score, neg in best]


def _bitmap(docs: Any, size: int) -> int:
    """The documents below `size` as the bits of an int (bit d: document d). A filter's set holds
    the whole index's documents, so the first segment's has the later segments' too."""
    buffer = bytearray((size >> 3) + 1)
    for docnum in docs:
        if docnum < size:
            buffer[docnum >> 3] |= 1 << (docnum & 7)
    return int.from_bytes(buffer, "little")


def _bits(node: Any, segment: Any, size: int) -> int:
    """The bitmap of a scored tree's matches (deleted documents included). A word's bitmap depends
    on its terms only, not on the index's statistics: kept by segment id and terms (67 kB a word
    at 540,000 documents)."""
    kind, value = node
    if kind == "unit":
        if not value.members:
            return 0
        key = ("bits", segment, value.terms) if segment is not None else None
        found = _get(key) if key is not None else None
        if found is None:
            found = _bitmap(value.members, size)
            if key is not None:
                _put(key, found, size / 8 / 90)
        return found
    children = [_bits(child, segment, size) for child in value]
    out = children[0]
    for other in children[1:]:
        out = out & other if kind == "and" else out | other
    return out


def _bitmap_on(searcher: Any, key: tuple, docs: Any, size: int, owner: Any = None) -> int:
    """A bitmap of a segment's deleted documents, or of a filter's (`docs()` lists them), kept on the
    searcher (a snapshot of the index) with the filter's set itself (`owner`), so that its id cannot
    be reused while the entry lives."""
    cache = searcher.__dict__.setdefault("_villageaid_bitmaps", {})
    found = cache.get(key)
    if found is not None and found[0] is owner:
        return found[1]
    if len(cache) >= 64:
        cache.clear()
    bits = _bitmap(docs(), size)
    cache[key] = (owner, bits)
    return bits


def _listed(bits: int, size: int) -> list[int]:
    """The documents of a bitmap, in order: its nonzero 64-bit words picked out in C, then each
    word's bits — a pass over size / 64 words plus a few steps per matching document."""
    n = (size >> 6) + 1
    words = memoryview(bits.to_bytes(n * 8, sys.byteorder)).cast("Q")
    out: list[int] = []
    for i in compress(range(n), words):
        word = words[i]
        base = i << 6
        while word:
            low = word & -word
            out.append(base + low.bit_length() - 1)
            word ^= low
    return out


def _admission(tree: Any, deleted: Any, allowed: Any, offset: int) -> Any:
    """A function: which documents of a list match the tree (and are not deleted, and are allowed),
    by C-level filters over the words' dicts; None when every document of a one-word query does."""
    single = tree[0] == "unit"
    if single and not deleted and allowed is None:
        return None

    def admit(docs: list[int]) -> list[int]:
        if not single:
            docs = _admit(tree, docs)
        if deleted:
            docs = list(filterfalse(deleted.__contains__, docs))
        if allowed is not None:
            global_numbers = map(offset.__add__, docs) if offset else docs
            docs = list(compress(docs, map(allowed.__contains__, global_numbers)))
        return docs

    return admit


def _admit(node: Any, docs: list[int]) -> list[int]:
    kind, value = node
    if kind == "unit":
        return list(filter(value.members.__contains__, docs))
    if kind == "and":
        for child in sorted(value, key=_size):
            docs = _admit(child, docs)
            if not docs:
                break
        return docs
    out: set[int] = set()
    for child in value:
        out.update(_admit(child, docs))
    return list(out)


def _scores(units: list[_Unit], docs: list[int]) -> list[float]:
    """The exact scores of `docs`: their words' scores added in the words' order (0.0 for a word a
    document lacks adds nothing: x + 0.0 == x), by C-level maps: document -> signature -> score."""
    STATS["scored"] += len(docs)
    total: list[float] | None = None
    for unit in units:
        if not unit.members:
            continue
        part = map(unit.scores.__getitem__, map(unit.members.get, docs, repeat(unit.absent)))
        total = list(part) if total is None else list(map(add, total, part))
    return total if total is not None else [0.0] * len(docs)


def _keep(best: list, limit: int, scores: list[float], docs: list[int], offset: int) -> None:
    """Offer (score, -global docnum) pairs to `best`, the min-heap of the best `limit` so far."""
    negatives = map(neg, map(offset.__add__, docs)) if offset else map(neg, docs)
    pairs = zip(scores, negatives)
    ranked = len(docs) > limit
    if ranked:
        pairs = heapq.nlargest(limit, pairs)
    for item in pairs:
        if len(best) < limit:
            heapq.heappush(best, item)
        elif item > best[0]:
            heapq.heapreplace(best, item)
        elif ranked:
            break  # nlargest's pairs come best first: none after this one gets in either


def _take(limit: int, taken: int) -> int:
    """How many documents to take from a word at once (whole signatures, at least one): `limit`,
    then as many as taken so far — few steps of Python for a long walk, at most twice the documents."""
    return max(limit, taken)


def _threshold(units: list[_Unit], admit: Any, offset: int, limit: int, best: list) -> None:
    """Fagin's threshold algorithm with sorted access by exact partial score: take the next
    documents of the word with the best score left (at least `limit`, then as many as taken from it
    so far, whole signatures), score those that match (`admit`: the matching ones among them, None
    when all do) exactly, and stop when the limit-th score beats the sum of the words' best scores
    left. An unseen document scores at most that sum — in each word it has, its score is that of a
    signature not taken yet — and the sum adds the same words in the same order as its score, so
    no rounding can put it above."""
    positions = [0] * len(units)
    taken = [0] * len(units)
    seen: set[int] | None = set() if len(units) > 1 else None
    while True:
        bound = 0.0
        pick = -1
        highest = -1.0
        for i, unit in enumerate(units):
            position = positions[i]
            if position < len(unit.heads):
                head = _head(unit, position)
                bound += head
                if head > highest:
                    pick, highest = i, head
        if pick < 0 or (len(best) >= limit and best[0][0] > bound):
            return
        unit = units[pick]
        order, docs = unit.order, unit.docs
        position = positions[pick]
        want = _take(limit, taken[pick])
        chunk = list(docs[order[position]])
        position += 1
        while len(chunk) < want and position < len(order):
            chunk += docs[order[position]]
            position += 1
        positions[pick] = position
        taken[pick] += len(chunk)
        STATS["walked"] += len(chunk)
        new = admit(chunk) if admit is not None else chunk
        if seen is not None:
            new = list(filterfalse(seen.__contains__, new))
            seen.update(new)
        if new:
            _keep(best, limit, _scores(units, new), new, offset)


def _head(unit: _Unit, position: int) -> float:
    """The most a document not yet taken from this word can score in it: its best signature left."""
    return unit.heads[position]
