"""Full-text search for VillageAid: Whoosh with a jieba analyzer, over plain dict documents.

Knows nothing of the application's models: a job turns a row into a
document (see ``schema.make_schema`` for the fields) and calls
``SearchIndex.update``; the search page calls ``search``.  See docs/search.md.
"""

from search_index.analyzer import configure
from search_index.errors import EmptyQuery, IndexLocked, IndexUnavailable, SearchIndexError
from search_index.index import SearchIndex, document_fields
from search_index.schema import FILTER_FIELDS, KINDS, TEXT_FIELDS, make_schema
from search_index.searcher import SORTS, SearchResults, search

__all__ = [
    "FILTER_FIELDS",
    "KINDS",
    "SORTS",
    "TEXT_FIELDS",
    "EmptyQuery",
    "IndexLocked",
    "IndexUnavailable",
    "SearchIndex",
    "SearchIndexError",
    "SearchResults",
    "configure",
    "document_fields",
    "make_schema",
    "search",
]
