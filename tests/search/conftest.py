"""Fixtures for the search tests: jieba set up once, the corpus index, a fresh index."""

from __future__ import annotations

import pytest
from search_corpus import CORPUS

from search_index import SearchIndex, configure


@pytest.fixture(scope="session", autouse=True)
def jieba_ready(tmp_path_factory):
    """Load jieba once for the session, with its cache in a temporary data folder."""
    folder = tmp_path_factory.mktemp("jieba")
    configure(folder)
    return folder


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory):
    """The corpus indexed once; tests using it must not write to it."""
    index = SearchIndex(tmp_path_factory.mktemp("corpus") / "search")
    index.rebuild(CORPUS, total=len(CORPUS))
    yield index
    index.close()


@pytest.fixture
def index(tmp_path):
    """A fresh empty index for a test that writes."""
    index = SearchIndex(tmp_path / "search", write_timeout=1.0)
    index.create()
    yield index
    index.close()
