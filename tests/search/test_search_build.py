"""A rebuild in worker processes builds the index a single process builds, and fails as loudly."""

from __future__ import annotations

import os
import random

import pytest
from search_corpus import CORPUS

from search_index import SearchIndex, search
from search_index.build import BuildFailed

WORDS = ("花椒 茶叶 核桃 马铃薯 蜂蜜 苗绣 培训 电商 销售 采购 留守儿童 图书 冷链 物流 合作社 "
         "岗位 招聘 扶贫 产业 志愿者 建档立卡户 农民专业合作社 精准扶贫工作").split()
PLACES = (["四川省", "凉山彝族自治州", "昭觉县", "竹核乡", "大营村"], ["贵州省", "黔东南苗族侗族自治州", "雷山县"],
          ["湖北省", "恩施土家族苗族自治州", "利川市", "谋道镇"], ["甘肃省", "定西市", "渭源县"])


def documents() -> list[dict]:
    """The search corpus and a few hundred random needs: repeated places, words and phrases."""
    rng = random.Random(11)
    docs = list(CORPUS)
    for n in range(1000, 1700):
        body = "，".join(rng.choice(WORDS) + rng.choice(["", "的", "和", "。"]) for _ in range(rng.randint(2, 30)))
        docs.append({"doc_id": f"need:{n}", "kind": "need", "obj_id": n, "title": "".join(rng.sample(WORDS, 2)),
                     "body": body, "place": rng.choice(PLACES), "province": rng.choice(["510000000000", "520000000000"]),
                     "status": rng.choice(["published", "completed"]), "progress": rng.randint(0, 10000),
                     "stamp": f"s{n}"})
    return docs


def parts_of(docs: list[dict], sizes: list[int]) -> list:
    parts, first = [], 0
    for size in sizes:
        chunk = docs[first:first + size]
        parts.append(lambda chunk=chunk: iter(chunk))
        first += size
    assert first == len(docs)
    return parts


def contents(index: SearchIndex) -> dict:
    """Everything the index holds, by document number: stored fields, columns, every posting with
    its weight and positions (the raw posting values), field lengths; and its segments."""
    with index.searcher() as s:
        reader = s.reader()
        postings = {}
        for fieldname, text in reader.all_terms():
            matcher = reader.postings(fieldname, text)
            postings[(fieldname, text)] = list(matcher.all_items())
        columns = {name: list(reader.column_reader(name, translate=False)) for name in ("doc_id", "stamp", "created", "deadline", "progress", "people")
                   if reader.has_column(name)}
        return {
            "segments": len(reader.leaf_readers()),
            "count": reader.doc_count_all(),
            "field_lengths": {f: (reader.field_length(f), reader.min_field_length(f), reader.max_field_length(f))
                              for f in ("title", "body", "place")},
            "stored": [reader.stored_fields(n) for n in range(reader.doc_count_all())],
            "columns": columns,
            "postings": postings,
            "lengths": {f: [reader.doc_field_length(n, f) for n in range(reader.doc_count_all())]
                        for f in ("title", "body", "place")},
        }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The same documents built by one process and by three workers in uneven parts."""
    docs = documents()
    folder = tmp_path_factory.mktemp("build")
    single = SearchIndex(folder / "single")
    parallel = SearchIndex(folder / "parallel")
    assert single.rebuild(docs) == len(docs)
    reported = []
    count = parallel.rebuild(parts=parts_of(docs, [100, 7, 0, 400, len(docs) - 507]), procs=3,
                             total=len(docs), progress=lambda done, total: reported.append((done, total)))
    assert count == len(docs)
    assert reported[-1] == (len(docs), len(docs))
    yield single, parallel
    single.close()
    parallel.close()


def test_a_parallel_build_holds_exactly_what_a_single_process_build_holds(built):
    single, parallel = built
    expected, actual = contents(single), contents(parallel)
    assert actual["segments"] == expected["segments"] == 1
    assert actual["count"] == expected["count"]
    assert actual["field_lengths"] == expected["field_lengths"]
    assert actual["stored"] == expected["stored"]
    assert actual["columns"] == expected["columns"]
    assert actual["lengths"] == expected["lengths"]
    assert actual["postings"].keys() == expected["postings"].keys()
    assert actual["postings"] == expected["postings"]


@pytest.mark.parametrize("q, kwargs", [
    ("花椒", {}), ("花椒 合作社", {}), ("合作社", {"sort": "progress"}), ("凉山州", {}), ("\"精准扶贫\"", {}),
    ("电商 OR 冷链", {"filters": {"province": "510000000000"}}), ("建档立卡", {"kinds": ["need"], "page": 2}),
    ("苗绣 -培训", {}), ("昭觉县 花椒", {"sort": "newest"}),
])
def test_a_parallel_build_finds_exactly_what_a_single_process_build_finds(built, q, kwargs):
    single, parallel = built
    expected = search(single, q, per_page=10, **kwargs)
    actual = search(parallel, q, per_page=10, **kwargs)
    assert expected.total > 0 or q == "苗绣 -培训"
    assert actual.total == expected.total
    assert actual.items == expected.items  # the same documents, order, scores and snippets


def test_a_failing_worker_fails_the_build_and_keeps_the_old_index(tmp_path):
    index = SearchIndex(tmp_path / "search")
    index.rebuild(CORPUS)

    def broken():
        yield {"doc_id": "need:1", "kind": "need", "title": "花椒"}
        raise RuntimeError("the database went away")

    with pytest.raises(BuildFailed, match="the database went away"):
        index.rebuild(parts=[lambda: iter(CORPUS[:3]), broken], procs=2)
    assert index.doc_count() == len(CORPUS)  # the old index still serves
    assert [p.name for p in tmp_path.iterdir() if p.name != "search" and p.name != os.path.basename(
        os.path.realpath(index.path))] == []  # the half-built directory is gone
    index.close()


def test_a_document_in_two_parts_fails_the_build(tmp_path):
    index = SearchIndex(tmp_path / "search")
    with pytest.raises(ValueError, match="duplicate doc_id"):
        index.rebuild(parts=[lambda: iter(CORPUS[:5]), lambda: iter(CORPUS[4:8])], procs=2)
    assert not index.exists()
