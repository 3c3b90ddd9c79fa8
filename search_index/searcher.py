"""Parse a user's query, search the shared searcher, and return one page of results.

Every word must match (AND), in the title, the body or the place name.
Chinese is typed without spaces, so before Whoosh spreads each word over the
three fields, a parser filter splits unspaced Chinese into jieba's words:
"昭觉县花椒" becomes "昭觉县 花椒", so a need titled 花椒销售 in 昭觉县 matches
even though no single field holds both words.  Quoted text ("精准扶贫", with
straight or Chinese quotes) is a phrase.  AND, OR, NOT and parentheses work;
field names, wildcards, ranges and boosts are not offered to the public
(``status:draft`` or ``*`` would be a way round the filters, or a slow query).
"""

from __future__ import annotations

import html
import operator
import re
import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from whoosh import collectors, query, sorting
from whoosh.qparser import QueryParser, plugins, syntax
from whoosh.searching import Results
from whoosh.spelling import MultiCorrector

from search_index import ranking
from search_index.analyzer import normalize, precise_words
from search_index.errors import EmptyQuery, IndexUnavailable
from search_index.index import READ_ERRORS, SearchIndex, release_failure
from search_index.schema import FILTER_FIELDS, KINDS, TEXT_FIELDS

__all__ = ["EmptyQuery", "SORTS", "SearchResults", "search"]

#: Accepted values of ``search(sort=...)``.
SORTS = ("relevance", "newest", "deadline", "progress", "least_pledged", "most_beneficiaries")

#: Longer queries are cut: nobody types more, and each word costs a lookup.
MAX_QUERY_CHARS = 200
#: Largest page size honoured.
MAX_PER_PAGE = 100
#: Results beyond this rank are not served (deep pages cost a full sort).
MAX_RESULT_WINDOW = 10000
#: Length of a snippet (characters of the body shown in a result).
SNIPPET_CHARS = 120
# Context kept before the first match in a snippet.
_SNIPPET_LEAD = 20

# Stored fields copied into each result item; ``body`` is replaced by ``snippet``.
_ITEM_FIELDS = (
    "doc_id", "kind", "obj_id", "title", "place", "category", "status", "unit",
    "province", "prefecture", "county", "created", "deadline", "progress", "people", "stamp",
)

_LATIN = re.compile(r"[a-z]")
_ALNUM_EDGE = re.compile(r"[a-z0-9]", re.IGNORECASE)
_QUOTED = re.compile(r'"[^"]*"')
_IDEOGRAPH_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")

_PAST_THE_END = 2**64

_OPERATORS = frozenset({"AND", "OR", "NOT", "ANDNOT", "ANDMAYBE"})

# Quotes typed with a Chinese IME; the parser only knows the ASCII double quote.
_QUOTES = str.maketrans({c: '"' for c in "“”„‟「」『』＂"})


@dataclass(frozen=True)
class SearchResults:
    """One page of results.

    ``items`` are dicts with the stored fields listed in ``_ITEM_FIELDS``
    (``None`` when a document has none), ``snippet`` (safe HTML: matches in
    ``<mark>``, everything else escaped) and ``score`` (``None`` when sorted
    by something other than relevance).  ``suggestion`` is a corrected query
    string when nothing matched and a correction would match something.
    """

    items: list[dict[str, Any]]
    total: int
    page: int
    per_page: int
    suggestion: str | None = None
    pages: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", -(-self.total // self.per_page) if self.total else 0)


class _JiebaWordsPlugin(plugins.Plugin):
    """Split unspaced Chinese words into jieba words before fields are assigned."""

    def filters(self, parser: QueryParser) -> list[tuple[Any, int]]:
        # After field names (100) would be applied, before MultifieldPlugin (110)
        # copies each word into an OR over the fields.
        return [(self.split_words, 105)]

    def split_words(self, parser: QueryParser, group: syntax.GroupNode) -> syntax.GroupNode:
        for i, node in enumerate(group):
            if isinstance(node, syntax.GroupNode):
                group[i] = self.split_words(parser, node)
            elif type(node) is syntax.WordNode:
                parts = precise_words(node.text)
                if len(parts) > 1:
                    base = node.startchar or 0
                    words = []
                    for text, start, end in parts:
                        word = syntax.WordNode(text)
                        word.startchar, word.endchar = base + start, base + end
                        word.boost = node.boost
                        words.append(word)
                    group[i] = syntax.AndGroup(words)
        return group


def _whole_word(texts: Sequence[str]) -> str | None:
    """The word itself when ``texts`` are one word and its dictionary sub-words.

    The analyzer emits a word's sub-words wherever it emits the word, so a
    document holding 建档立卡 always holds 建档 and 立卡 too: asking for all
    three finds the same documents as asking for 建档立卡 alone, only slower.
    """
    longest = max(texts, key=len)
    return longest if all(t in longest for t in texts) else None


class _ChineseQueryParser(QueryParser):
    """Query parser that asks for a Chinese word once, not with each of its sub-words."""

    def multitoken_query(self, spec, texts, fieldname, termclass, boost):
        word = _whole_word(texts)
        if word is not None:
            return termclass(fieldname, word, boost=boost)
        return super().multitoken_query(spec, texts, fieldname, termclass, boost)


def _phrase(fieldname: str, words: Sequence[str], **kwargs: Any) -> query.Query:
    """A phrase query, or a term query when the "phrase" is a single word.

    "消费扶贫" in quotes analyses to 消费, 消费扶贫, 扶贫; as a term it also
    matches where the word sits inside a longer one, and costs no position
    checks.
    """
    word = _whole_word(words) if words else None
    if word is not None:
        return query.Term(fieldname, word, boost=kwargs.get("boost", 1.0))
    return query.Phrase(fieldname, list(words), **kwargs)


def _make_parser(schema: Any) -> QueryParser:
    """AND over title/body/place; phrases, groups and operators only."""
    return _ChineseQueryParser(
        None,
        schema,
        plugins=[
            plugins.PhrasePlugin(),
            plugins.GroupPlugin(),
            plugins.OperatorsPlugin(),
            _JiebaWordsPlugin(),
            plugins.MultifieldPlugin(TEXT_FIELDS),
        ],
        phraseclass=_phrase,
        group=syntax.AndGroup,
    )


def _clean(text: str) -> str:
    """Drop control characters and lone surrogates, unify width and quotes, cut to length.

    Inside quotes, spaces between Chinese characters go: Chinese is written
    without them, so "精准 扶贫" means the phrase 精准扶贫, and only the
    unspaced form segments as it does in the documents.
    """
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text)
    text = normalize(text).translate(_QUOTES)[:MAX_QUERY_CHARS].strip()
    return _QUOTED.sub(lambda m: _IDEOGRAPH_GAP.sub("", m.group()), text)


def _is_empty(q: query.Query) -> bool:
    return q is query.NullQuery or isinstance(q, query.qcore._NullQuery) or not list(q.leaves())


def _with_chars(q: query.Query) -> query.Query:
    """Give every term the query-string offsets of the word it came from.

    A word the analyzer turns into several terms that are not one word and
    its sub-words (e.g. "e-mail") becomes an ``And`` with offsets on the
    ``And`` only; spelling correction rewrites the query string by term
    offsets and fails on terms without them.
    """
    for child in q.children():
        if getattr(child, "startchar", None) is None and q.startchar is not None:
            child.startchar, child.endchar = q.startchar, q.endchar
        _with_chars(child)
    return q


def _parse_text(schema: Any, text: str) -> query.Query:
    return _with_chars(_make_parser(schema).parse(text, normalize=False)).normalize()


def _parse(schema: Any, text: str) -> query.Query:
    """Parse ``text``; a query Whoosh cannot make sense of is retried as plain words."""
    try:
        q = _parse_text(schema, text)
    except Exception:  # noqa: BLE001 - user input must never surface a parser error
        q = query.NullQuery
    if _is_empty(q):
        # Unbalanced quotes or a lone operator ("AND", '"花椒') can leave the
        # parser with nothing although real words are there: try them plainly.
        plain = "".join(" " if ch in '"()' else ch for ch in text)
        words = [w for w in plain.split() if w not in _OPERATORS]
        q = _parse_text(schema, " ".join(words)) if words else query.NullQuery
    if _is_empty(q):
        raise EmptyQuery(f"nothing to search for in {text!r}")
    return q


_PARSED: OrderedDict[tuple, query.Query] = OrderedDict()
_PARSED_LIMIT = 1024
_PARSED_LOCK = threading.Lock()


def _parse_cached(schema: Any, text: str) -> query.Query:
    """_parse, remembered for the last 1,024 query strings: segmenting the words with jieba and
    running Whoosh's parser is a tenth of a search, and visitors type the same few things. Parsed
    queries are only read afterwards (matchers and corrections are built from them, not in them)."""
    key = (tuple(schema.names()), text)
    with _PARSED_LOCK:
        found = _PARSED.get(key)
        if found is not None:
            _PARSED.move_to_end(key)
            return found
    found = _parse(schema, text)  # EmptyQuery is raised, not remembered
    with _PARSED_LOCK:
        _PARSED[key] = found
        while len(_PARSED) > _PARSED_LIMIT:
            _PARSED.popitem(last=False)
    return found


def _filter_query(kinds: Iterable[str] | None, filters: Mapping[str, Any] | None) -> query.Query | None:
    """``And`` of the requested kinds and field filters; a list value means any of them.

    ``None``, ``""`` and an empty list leave a field unrestricted.
    """
    parts: list[query.Query] = []
    if kinds:
        kinds = [kinds] if isinstance(kinds, str) else list(kinds)
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown kinds {sorted(unknown)}; expected some of {KINDS}")
        parts.append(query.Or([query.Term("kind", k) for k in kinds]))
    for name, value in (filters or {}).items():
        if name not in FILTER_FIELDS:
            raise ValueError(f"cannot filter on {name!r}; expected one of {FILTER_FIELDS}")
        values = list(value) if isinstance(value, (list, tuple, set, frozenset)) else [value]
        values = [v for v in values if v is not None and v != ""]
        if not values:
            continue  # an empty choice means no restriction, as in a blank form field
        parts.append(query.Or([query.Term(name, str(v)) for v in values]))
    return query.And(parts) if parts else None


def _sort_facet(sort: str, browsing: bool, schema: Any) -> sorting.FacetType | None:
    """Facet for ``sort``; ties keep relevance order.

    newest: ``created`` latest first.  deadline: soonest first, none last.
    progress: highest share pledged first (nearest to done), none last.
    least_pledged: lowest share pledged first (who still needs help), none
    last.  most_beneficiaries: most people first, none last.  Browsing
    without words has no relevance, so it means newest.
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; expected one of {SORTS}")
    if sort == "relevance":
        if not browsing:
            return None
        sort = "newest"
    if sort == "least_pledged":
        # Column keys are offset integers; a document without progress (-1)
        # is keyed below the key of 0: send it past the end instead.
        zero = schema["progress"].to_column_value(0)
        facet: sorting.FacetType = sorting.TranslateFacet(
            lambda key: key if key >= zero else _PAST_THE_END, sorting.FieldFacet("progress")
        )
    else:
        facet = {
            "newest": sorting.FieldFacet("created", reverse=True),
            "deadline": sorting.FieldFacet("deadline"),
            "progress": sorting.FieldFacet("progress", reverse=True),
            "most_beneficiaries": sorting.FieldFacet("people", reverse=True),
        }[sort]
    # Without words there is no relevance to break ties with (and scoring every match costs).
    return facet if browsing else sorting.MultiFacet([facet, sorting.ScoreFacet()])


def _positive_terms(q: query.Query) -> Iterator[str]:
    """Texts of the terms ``q`` looks for in the text fields, leaving out NOT-ed ones."""
    if isinstance(q, query.Not):
        return
    if q.is_leaf():
        for fieldname, text in q.terms(phrases=True):
            if fieldname in TEXT_FIELDS and isinstance(text, str):
                yield text
        return
    for child in q.children():
        yield from _positive_terms(child)


def _term_pattern(terms: Iterable[str]) -> re.Pattern[str] | None:
    """One regex finding any of the terms, longest first, Latin words whole.

    Snippets mark term occurrences found by this regex in the stored body
    instead of re-running jieba over every result (Whoosh's highlighter
    does that, and it was half of the query time).  A Latin or digit term
    must not be part of a longer word: "app" is not marked inside "apple".
    """
    alternatives = []
    for term in sorted(set(terms), key=len, reverse=True):
        escaped = re.escape(term)
        if _ALNUM_EDGE.match(term[0]):
            escaped = r"(?<![a-z0-9])" + escaped
        if _ALNUM_EDGE.match(term[-1]):
            escaped += r"(?![a-z0-9])"
        alternatives.append(escaped)
    if not alternatives:
        return None
    return re.compile("|".join(alternatives), re.IGNORECASE)


def _snippet(body: str, pattern: re.Pattern[str] | None) -> str:
    """Up to ``SNIPPET_CHARS`` of ``body`` around its first match, matches in ``<mark>``.

    Everything is HTML-escaped, matches included; adjacent matches share one
    mark.  Without a match, the start of the body.
    """
    # The analyzer maps full-width letters to ASCII without changing lengths,
    # so offsets found in the normalised text are offsets in the body.
    spans: list[list[int]] = []
    if pattern is not None:
        for match in pattern.finditer(normalize(body)):
            if spans and match.start() <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], match.end())
            else:
                spans.append([match.start(), match.end()])
    start = 0
    if spans and len(body) > SNIPPET_CHARS:
        start = max(0, min(spans[0][0] - _SNIPPET_LEAD, len(body) - SNIPPET_CHARS))
    end = min(len(body), start + SNIPPET_CHARS)
    out = ["…"] if start > 0 else []
    pos = start
    for span_start, span_end in spans:
        if span_end <= start:
            continue
        if span_start >= end:
            break
        span_start, span_end = max(span_start, start), min(span_end, end)
        out.append(html.escape(body[pos:span_start]))
        out.append("<mark>" + html.escape(body[span_start:span_end]) + "</mark>")
        pos = span_end
    out.append(html.escape(body[pos:end]))
    if end < len(body):
        out.append("…")
    return "".join(out)


class _RankedHit:
    """What _item reads of a Whoosh Hit, for a document ranked by search_index.ranking."""

    __slots__ = ("_searcher", "docnum", "score")

    def __init__(self, searcher: Any, docnum: int, score: float) -> None:
        self._searcher, self.docnum, self.score = searcher, docnum, score

    def fields(self) -> dict[str, Any]:
        return ranking.stored_fields(self._searcher, self.docnum)


def _item(hit: Any, pattern: re.Pattern[str] | None, scored: bool) -> dict[str, Any]:
    # Stored fields only (hit.fields()): reading a missing value from a
    # column instead would decode its placeholder (deadline: the largest
    # date), which whoosh3 cannot even turn back into a datetime.
    stored = hit.fields()
    item = {name: stored.get(name) for name in _ITEM_FIELDS}
    item["snippet"] = _snippet(stored.get("body") or "", pattern)
    # With a sort, Whoosh's "score" is the sort key: not worth showing.
    item["score"] = hit.score if scored else None
    return item


def _suggest(searcher: Any, q: query.Query, text: str, filter_q: query.Query | None) -> str | None:
    """A corrected query string from Whoosh's spelling correction, if it finds anything.

    Only words in Latin letters found in none of the text fields are
    corrected: every two-character Chinese word is within two edits of every
    other, so edit distance suggests nonsense for them (培训 → 自治).
    """
    reader = searcher.reader()
    unknown = {
        token.text
        for token in q.all_tokens()
        if token.fieldname in TEXT_FIELDS
        and _LATIN.search(token.text)
        and not any((field, token.text) in reader for field in TEXT_FIELDS)
    }
    if not unknown:
        return None
    terms = [(f, t) for t in sorted(unknown) for f in TEXT_FIELDS]
    # One corrector over all three fields, so a word gets one suggestion,
    # not three that compete for the same place in the query string.
    merged = MultiCorrector([reader.corrector(f) for f in TEXT_FIELDS], operator.add)
    correction = searcher.correct_query(
        q, text, correctors={f: merged for f in TEXT_FIELDS}, terms=terms
    )
    suggestion = (correction.string or "").strip()
    if not suggestion or suggestion == text:
        return None
    if searcher.search(correction.query, limit=1, filter=filter_q).is_empty():
        return None
    return suggestion


def _run(
    searcher: Any,
    q: query.Query,
    limit: int,
    facet: sorting.FacetType | None,
    filter_q: query.Query | None,
) -> Results:
    """Collect the top ``limit`` matches and count them all, in one pass.

    Whoosh's default top-N collector prunes the matcher tree against the
    lowest score still in the top N and skips low-quality blocks.  In whoosh3
    3.54 that pruning dropped documents that belonged in the top 20 of
    two-word AND queries, and the total then needs a second pass over every
    match.  Scoring every match is exact, counts as it goes, and costs about
    the same (see docs/search.md).
    """
    if facet is None:
        collector: collectors.Collector = collectors.TopCollector(limit, usequality=False, replace=0)
    else:
        collector = collectors.SortingCollector(facet, limit=limit)
    if filter_q is not None:
        collector = collectors.FilterCollector(collector, filter_q)
    searcher.search_with_collector(q, collector)
    return collector.results()


def search(
    index: SearchIndex,
    q: str | None,
    *,
    kinds: Sequence[str] | str | None = None,
    filters: Mapping[str, Any] | None = None,
    sort: str = "relevance",
    page: int = 1,
    per_page: int = 20,
) -> SearchResults:
    """Search ``index`` and return page ``page`` of the results.

    ``q`` None or blank lists every document that passes the filters (newest
    first unless another sort is asked for); a ``q`` with nothing searchable
    in it (only stop words or punctuation) raises ``EmptyQuery``.
    ``filters`` maps province/prefecture/county/category/status/unit to a
    value or a list of accepted values.  A page past the end is empty.
    Raises ``IndexUnavailable`` when the index is missing or unreadable.
    """
    page = max(1, int(page))
    per_page = min(max(1, int(per_page)), MAX_PER_PAGE)
    text = _clean(q or "")
    browsing = not text
    filter_q = _filter_query(kinds, filters)
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; expected one of {SORTS}")
    start = (page - 1) * per_page
    end = min(start + per_page, MAX_RESULT_WINDOW)

    with index.searcher() as searcher:
        facet = _sort_facet(sort, browsing, searcher.schema)
        parsed = query.Every() if browsing else _parse_cached(searcher.schema, text)
        try:
            # Past the window only the total is wanted: collect one document.
            if (not browsing and facet is None and ranking.supported(parsed)
                    and (filter_q is None or ranking.supported(filter_q))):
                # Words by relevance: exact, from whole posting blocks (search_index/ranking.py).
                allowed = ranking.matching(searcher, filter_q) if filter_q is not None else None
                total, ranked = ranking.top(searcher, parsed, end if start < end else 0, allowed)
                hits = [_RankedHit(searcher, docnum, score) for score, docnum in ranked[start:end]]
            else:
                if browsing and filter_q is not None:
                    # Without words, the filters are the query: only their documents are read
                    # (Every with a filter collector steps through them all).
                    results = _run(searcher, filter_q, end if start < end else 1, facet, None)
                else:
                    results = _run(searcher, parsed, end if start < end else 1, facet, filter_q)
                total = len(results)
                hits = results[start:end] if start < end else []
            pattern = None if browsing else _term_pattern(_positive_terms(parsed))
            items = [_item(hit, pattern, scored=facet is None) for hit in hits]
            suggestion = None
            if total == 0 and not browsing:
                suggestion = _suggest(searcher, parsed, text, filter_q)
        except READ_ERRORS as exc:
            # Drop the shared searcher so the next search reopens the index
            # (a rebuild may have replaced it by then).
            index.close()
            message = release_failure(exc)
            raise IndexUnavailable(f"cannot read the index at {index.path}: {message}") from None
    return SearchResults(items=items, total=total, page=page, per_page=per_page, suggestion=suggestion)
