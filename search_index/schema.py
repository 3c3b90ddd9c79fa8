"""The one Whoosh schema shared by every kind of document (need, village, organization)."""

from __future__ import annotations

from whoosh.fields import DATETIME, ID, NUMERIC, TEXT, Schema

from search_index.analyzer import chinese_analyzer

__all__ = ["FILTER_FIELDS", "KINDS", "TEXT_FIELDS", "make_schema"]

#: Document kinds; ``doc_id`` is ``"<kind>:<obj_id>"``.
KINDS = ("need", "village", "organization")

#: Fields a free-text query searches.
TEXT_FIELDS = ("title", "body", "place")

#: Exact-match fields ``search(filters=...)`` accepts.
FILTER_FIELDS = ("province", "prefecture", "county", "category", "status", "unit")


def _exact(field: NUMERIC) -> NUMERIC:
    """A number indexed as one term, without the lower-precision terms of range queries.

    Whoosh indexes a 64-bit number as 16 terms (a date as 8) so that ranges can be searched by
    prefixes; nothing here searches a range of them (they are shown and sorted by, from stored
    fields and columns), and those terms were some 40 of a need's postings, against ~125 words.
    """
    field.shift_step = 0
    return field


def make_schema() -> Schema:
    """Build the schema.

    ``doc_id`` and ``stamp`` are also columns (``sortable``) so that
    ``SearchIndex.stamps()`` reads two compact columns instead of unpickling
    every stored document.  ``progress`` defaults to -1 for documents without
    one (villages, organisations), so they sort after every need when sorting
    by progress, highest first (and lowest first: the sort maps -1 past the
    end); ``people`` (beneficiaries) likewise; ``deadline`` defaults to the largest date, so
    documents without one sort last when sorting by deadline, soonest first.
    """
    return Schema(
        doc_id=ID(unique=True, stored=True, sortable=True),
        kind=ID(stored=True),
        obj_id=_exact(NUMERIC(int, bits=64, stored=True)),
        title=TEXT(analyzer=chinese_analyzer(), stored=True, field_boost=2.0),
        body=TEXT(analyzer=chinese_analyzer(), stored=True),
        place=TEXT(analyzer=chinese_analyzer(), stored=True),
        province=ID(stored=True),
        prefecture=ID(stored=True),
        county=ID(stored=True),
        category=ID(stored=True),
        status=ID(stored=True),
        unit=ID(stored=True),
        created=_exact(DATETIME(stored=True, sortable=True)),
        deadline=_exact(DATETIME(stored=True, sortable=True)),
        progress=_exact(NUMERIC(int, bits=32, stored=True, sortable=True, default=-1)),
        people=_exact(NUMERIC(int, bits=32, stored=True, sortable=True, default=-1)),
        stamp=ID(stored=True, sortable=True),
    )
