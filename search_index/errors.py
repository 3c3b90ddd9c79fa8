"""Exceptions raised by ``search_index``, so callers never need to import Whoosh."""

from __future__ import annotations

__all__ = ["EmptyQuery", "IndexLocked", "IndexUnavailable", "SearchIndexError"]


class SearchIndexError(Exception):
    """Base class of every error this package raises on purpose."""


class EmptyQuery(SearchIndexError, ValueError):
    """The query has nothing to search for (only stop words or punctuation)."""


class IndexUnavailable(SearchIndexError):
    """The index is missing or cannot be read: rebuild it from the database."""


class IndexLocked(SearchIndexError):
    """Another writer held the index lock for longer than the write timeout."""
