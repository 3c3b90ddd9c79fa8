"""Queries against the fixed corpus: what a visitor types and what they should find."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import threading

import pytest
from search_corpus import CORPUS, CORPUS_IDS, GANSU, GUIZHOU, HUBEI, LIANGSHAN, SICHUAN, ZHAOJUE

from search_index import EmptyQuery, search
from search_index.searcher import MAX_QUERY_CHARS, SearchResults


def hit_ids(index, q, **kwargs) -> set[str]:
    results = search(index, q, per_page=100, **kwargs)
    assert len(results.items) == results.total  # everything fits on one page here
    return {item["doc_id"] for item in results.items}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # products
        ("花椒", {"need:1", "village:101", "organization:205"}),
        ("茶叶", {"need:3", "need:13", "need:14", "village:103", "village:106", "organization:202"}),
        ("马铃薯", {"need:5", "village:101", "village:104", "organization:206"}),
        ("核桃", {"need:9", "need:11", "organization:205"}),
        # industries
        ("电子", {"need:4", "organization:201"}),
        ("普工", {"need:4"}),
        # place names: county, prefecture (full, short, abbreviated), village
        ("昭觉县", {"need:1", "need:11", "need:18", "village:101", "organization:201"}),
        ("黔东南", {"need:2", "need:7", "need:12", "need:13", "village:102"}),
        ("凉山州", {"need:1", "need:6", "need:11", "need:16", "need:18", "village:101",
                   "village:105", "organization:205"}),
        ("怒江州", {"need:4", "need:9", "village:106"}),
        ("三河村", {"need:1", "need:11", "village:101"}),
        # unspaced Chinese spread over title and place
        ("昭觉县花椒", {"need:1", "village:101"}),
        ("恩施州茶叶", {"need:3", "need:14", "village:103", "organization:202"}),
        # mixed Chinese and English, any case, spaced or not
        ("iPhone 捐赠", {"need:7"}),
        ("iphone捐赠", {"need:7"}),
        ("APP 开发", {"need:8", "organization:203"}),
        ("app开发", {"need:8", "organization:203"}),
        ("PYTHON", {"need:8", "organization:203"}),
        # digits
        ("20 人", {"need:4"}),
        ("50 人", {"need:17"}),
        ("2026", {"need:17"}),
        # campaign vocabulary
        ("万企帮万村", {"need:18", "organization:201"}),
        ("建档立卡", {"need:1"}),
        ("东西部扶贫协作", {"need:18", "organization:206"}),
        # every word must match (AND), operators work
        ("精准 扶贫", {"need:9", "need:10"}),
        ("茶叶 雷山县", {"need:13", "organization:202"}),
        ("花椒 OR 蜂蜜", {"need:1", "need:15", "village:101", "organization:205",
                        "organization:206"}),
        ("茶叶 NOT 恩施", {"need:13", "village:106"}),
        ("花椒 马铃薯 蜂蜜", set()),
    ],
)
def test_query_finds_the_expected_documents(corpus_index, q, expected):
    assert hit_ids(corpus_index, q) == expected


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('"精准扶贫"', {"need:9"}),  # need:10 has 精准 and 扶贫 apart
        ("“精准扶贫”", {"need:9"}),  # Chinese quotes
        ('"精准 扶贫"', {"need:9"}),  # spaces inside Chinese are not word breaks
        ('"苗绣技能"', {"need:2"}),  # the phrase ends inside 技能培训
        ('"企业以购代捐"', {"need:1"}),
        ('"技能苗绣"', set()),
        ('"花椒丰收"', set()),  # both words are in need:1, not next to each other
    ],
)
def test_quoted_phrases_need_the_words_next_to_each_other(corpus_index, q, expected):
    assert hit_ids(corpus_index, q) == expected


def test_filters_by_province_category_status_and_kind(corpus_index):
    assert hit_ids(corpus_index, "茶叶", filters={"province": HUBEI}) == {
        "need:3", "need:14", "village:103",
    }
    assert hit_ids(corpus_index, "茶叶", filters={"province": GUIZHOU}) == {"need:13"}
    assert hit_ids(corpus_index, "茶叶", filters={"category": "消费"}) == {"need:3", "need:14"}
    assert hit_ids(corpus_index, "茶叶", filters={"category": "消费", "status": "published"}) == {
        "need:3",
    }
    assert hit_ids(corpus_index, "茶叶", kinds=["village"]) == {"village:103", "village:106"}
    assert hit_ids(corpus_index, "茶叶", kinds="organization") == {"organization:202"}
    assert hit_ids(corpus_index, "昭觉县", kinds=["need"], filters={"county": ZHAOJUE}) == {
        "need:1", "need:11", "need:18",
    }


def test_a_filter_value_may_be_a_list_of_accepted_values(corpus_index):
    assert hit_ids(corpus_index, "马铃薯", filters={"province": [GANSU, SICHUAN]}) == {
        "need:5", "village:101", "village:104",
    }
    # An empty choice (a blank multi-select) restricts nothing.
    assert hit_ids(corpus_index, "扶贫", filters={"prefecture": LIANGSHAN, "category": []}) == {
        "need:1", "need:18",
    }


def test_unknown_filters_sorts_and_kinds_are_programming_errors(corpus_index):
    with pytest.raises(ValueError):
        search(corpus_index, "茶叶", filters={"title": "茶叶"})
    with pytest.raises(ValueError):
        search(corpus_index, "茶叶", sort="popular")
    with pytest.raises(ValueError):
        search(corpus_index, "茶叶", kinds=["pledge"])


def test_relevance_puts_title_matches_first(corpus_index):
    items = search(corpus_index, "茶叶").items
    assert items[0]["doc_id"] in {"need:3", "need:13", "need:14"}
    scores = [item["score"] for item in items]
    assert scores == sorted(scores, reverse=True) and scores[-1] > 0


def test_sort_newest(corpus_index):
    items = search(corpus_index, "茶叶", sort="newest").items
    created = [item["created"] for item in items]
    assert created == sorted(created, reverse=True)
    assert items[0]["doc_id"] == "need:3" and items[0]["score"] is None


def test_sort_deadline_soonest_first_and_none_last(corpus_index):
    items = search(corpus_index, "雷山县", kinds=["need"], sort="deadline").items
    assert [item["doc_id"] for item in items[:2]] == ["need:2", "need:12"]
    assert {item["doc_id"] for item in items[2:]} == {"need:7", "need:13"}
    assert [item["deadline"] for item in items[2:]] == [None, None]


def test_sort_progress_highest_first_and_documents_without_progress_last(corpus_index):
    items = search(corpus_index, "茶叶", sort="progress").items
    progress = [item["progress"] for item in items]
    assert progress[:3] == [10000, 8000, 500]
    assert progress[3:] == [None, None, None]


def test_sort_least_pledged_lowest_first_and_documents_without_progress_last(corpus_index):
    items = search(corpus_index, "茶叶", sort="least_pledged").items
    assert [item["progress"] for item in items] == [500, 8000, 10000, None, None, None]


def test_sort_most_beneficiaries_first_and_documents_without_people_last(corpus_index):
    items = search(corpus_index, "茶叶", sort="most_beneficiaries").items
    assert [item["doc_id"] for item in items[:3]] == ["need:14", "need:13", "need:3"]
    assert [item["people"] for item in items] == [140, 130, 30, None, None, None]


def test_pagination(corpus_index):
    everything = search(corpus_index, "凉山州", per_page=100)
    assert everything.total == 8
    pages = [search(corpus_index, "凉山州", page=n, per_page=3) for n in (1, 2, 3)]
    assert [len(p.items) for p in pages] == [3, 3, 2]
    assert all(p.total == 8 and p.pages == 3 and p.per_page == 3 for p in pages)
    assert [i["doc_id"] for p in pages for i in p.items] == [i["doc_id"] for i in everything.items]
    past_the_end = search(corpus_index, "凉山州", page=9, per_page=3)
    assert past_the_end.items == [] and past_the_end.total == 8 and past_the_end.page == 9


def test_a_blank_query_lists_everything_that_passes_the_filters_newest_first(corpus_index):
    results = search(corpus_index, "  ", per_page=100)
    assert results.total == len(CORPUS)
    assert {i["doc_id"] for i in results.items} == CORPUS_IDS
    created = [i["created"] for i in results.items]
    assert created == sorted(created, reverse=True)
    assert search(corpus_index, None, filters={"province": GANSU}, kinds="need").total == 4


def test_items_carry_the_stored_fields(corpus_index):
    (item,) = search(corpus_index, "渭源县马铃薯滞销求助").items
    assert item["doc_id"] == "need:5" and item["kind"] == "need" and item["obj_id"] == 5
    assert item["title"] == "渭源县马铃薯滞销求助"
    assert item["place"] == "甘肃省定西市渭源县元古堆村"  # stored joined, indexed spaced
    assert item["province"] == GANSU and item["category"] == "消费"
    assert item["status"] == "published" and item["unit"] == "goods"
    assert item["created"] == dt.datetime(2026, 3, 15)
    assert item["deadline"] == dt.datetime(2026, 4, 15)
    assert item["progress"] == 0 and item["stamp"] == "need-5-v1"
    assert "body" not in item


def test_snippets_mark_matches_and_escape_the_document_text(corpus_index):
    (item,) = search(corpus_index, "纯天然").items
    assert item["snippet"] == (
        "百花蜂蜜 &lt;b&gt;<mark>纯天然</mark>&lt;/b&gt; &amp; 无添加，欢迎采购蜂蜜。"
    )
    (item,) = search(corpus_index, "script").items  # matched in the title only
    assert "<mark>" not in item["snippet"] and "<b>" not in item["snippet"]
    assert item["title"] == "蜂蜜<script>alert(1)</script>销售"  # the template escapes titles


def test_snippets_mark_every_word_and_merge_adjacent_ones(corpus_index):
    items = {i["doc_id"]: i["snippet"] for i in search(corpus_index, "精准 扶贫").items}
    assert "<mark>精准扶贫</mark>" in items["need:9"]
    assert items["need:10"].count("<mark>") == 2
    (item,) = search(corpus_index, "app 开发", kinds="organization").items
    assert item["snippet"].startswith("提供 <mark>APP</mark> <mark>开发</mark>和")


def test_snippets_do_not_mark_words_the_query_excludes(corpus_index):
    items = {i["doc_id"]: i["snippet"] for i in search(corpus_index, "茶叶 NOT 恩施").items}
    assert all("<mark>茶叶</mark>" in s and "恩施</mark>" not in s for s in items.values())


def test_long_bodies_are_cut_around_the_first_match(corpus_index, index):
    body = "前言" * 100 + "花椒丰收" + "后记" * 100
    index.update([{"doc_id": "need:1", "kind": "need", "obj_id": 1, "title": "长文", "body": body}])
    (item,) = search(index, "花椒").items
    assert item["snippet"].startswith("…") and item["snippet"].endswith("…")
    assert "<mark>花椒</mark>丰收" in item["snippet"]
    assert len(item["snippet"].replace("<mark>", "").replace("</mark>", "")) <= 122


@pytest.mark.parametrize("q", ["的", "的 了 和", "the of and", "，。！", "AND", "OR", '"', '""', "*", "(", "()"])
def test_queries_of_stop_words_or_punctuation_raise_empty_query(corpus_index, q):
    with pytest.raises(EmptyQuery):
        search(corpus_index, q)


@pytest.mark.parametrize(
    "q",
    ['"花椒', "花椒)", "(花椒", "花椒 AND", "NOT", "title:花椒", "花*", "[a TO b]", "花椒^3",
     "\\", "{}", "~2", "\x00花椒\ud800", "花椒" * 500, "a " * 1000, "😀 花椒", "ＡＮＤ"],
)
def test_odd_input_never_raises_anything_but_empty_query(corpus_index, q):
    try:
        results = search(corpus_index, q)
    except EmptyQuery:
        return
    assert isinstance(results, SearchResults)


def test_syntax_characters_around_words_are_ignored(corpus_index):
    assert hit_ids(corpus_index, '"花椒') == hit_ids(corpus_index, "花椒")
    assert hit_ids(corpus_index, "花椒)") == hit_ids(corpus_index, "花椒")
    assert hit_ids(corpus_index, "title:花椒") == set()  # no field syntax for the public


def test_very_long_queries_are_cut(corpus_index):
    q = "花椒" + " 花椒" * 300
    assert len(q) > MAX_QUERY_CHARS
    assert hit_ids(corpus_index, q) == hit_ids(corpus_index, "花椒")


def test_a_misspelt_english_word_gets_a_suggestion(corpus_index):
    results = search(corpus_index, "pyhton")
    assert results.total == 0 and results.suggestion == "python"
    assert search(corpus_index, "volunter 支教").suggestion == "volunteer 支教"


def test_no_suggestion_when_nothing_would_match_or_the_query_matched(corpus_index):
    assert search(corpus_index, "python").suggestion is None
    assert search(corpus_index, "pyhton 茶叶").suggestion is None  # python 茶叶: nothing
    assert search(corpus_index, "花淑").suggestion is None  # no edit-distance guesses in Chinese


def test_the_searcher_is_shared_until_the_index_changes(index):
    index.update([{"doc_id": "need:1", "kind": "need", "obj_id": 1, "title": "花椒"}])
    with index.searcher() as first:
        pass
    assert search(index, "花椒").total == 1
    with index.searcher() as second:
        assert second is first
    index.update([{"doc_id": "need:2", "kind": "need", "obj_id": 2, "title": "花椒"}])
    assert search(index, "花椒").total == 2
    with index.searcher() as third:
        assert third is not first


def test_concurrent_searches_and_writes(index):
    index.update(
        {"doc_id": f"need:{n}", "kind": "need", "obj_id": n, "title": "花椒", "stamp": "v1"}
        for n in range(50)
    )
    errors: list[BaseException] = []
    totals: list[int] = []

    def searching():
        try:
            for _ in range(30):
                totals.append(search(index, "花椒", per_page=5).total)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def writing():
        try:
            for n in range(50, 60):
                index.update([{"doc_id": f"need:{n}", "kind": "need", "obj_id": n, "title": "花椒"}])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=searching) for _ in range(4)]
    threads.append(threading.Thread(target=writing))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(totals) == 120 and all(50 <= t <= 60 for t in totals)
    assert search(index, "花椒").total == 60


def test_top_results_and_totals_are_exact(index):
    """Regression: Whoosh's default top-N pruning dropped documents from the top.

    With whoosh3 3.54's default collector, 9 of these 90 rankings differed
    from ranking every match; ``search`` scores every match instead.
    """
    from search_index.searcher import _parse

    words = ("花椒 茶叶 核桃 马铃薯 蜂蜜 苗绣 培训 电商 销售 采购 留守儿童 图书 冷链 物流 合作社 "
             "岗位 招聘 扶贫 产业 志愿者").split()
    rng = random.Random(2)
    docs = []
    for n in range(600):
        body = "，".join(rng.choice(words) + rng.choice(["", "的", "和"])
                        for _ in range(rng.randint(3, 25)))
        docs.append({"doc_id": f"need:{n}", "kind": "need", "obj_id": n,
                     "title": "".join(rng.sample(words, 2)), "body": body})
    index.rebuild(docs)
    for a, b in itertools.combinations(words[:10], 2):
        q = f"{a} {b}"
        with index.searcher() as searcher:
            everything = searcher.search(_parse(searcher.schema, q), limit=None)
            expected = [round(hit.score, 6) for hit in everything[:5]]
            expected_total = len(everything)
        for per_page in (5, 10):
            results = search(index, q, per_page=per_page)
            assert results.total == expected_total, q
            assert [round(i["score"], 6) for i in results.items[:5]] == expected, q


@pytest.mark.parametrize("walk", ["default", "threshold", "threshold, a group at a time"])
def test_block_ranking_equals_whoosh_across_segments_deletions_filters_and_pages(index, monkeypatch, walk):
    """search_index.ranking (posting blocks, sets, pruned exact scoring, decoded lists cached per
    segment) gives the results, order, ties and totals of Whoosh's collector scoring every match,
    also after updates added segments and deleted documents, with filters and on deeper pages;
    "threshold" takes the threshold algorithm (broad queries) everywhere."""
    import search_index.ranking as ranking

    ranking.clear_cache()
    if walk != "default":  # the default: set operations (few documents), then every match scored
        monkeypatch.setattr(ranking, "FEW", 0)
        monkeypatch.setattr(ranking, "EXHAUSTIVE", 0)
        monkeypatch.setattr(ranking, "EXHAUSTIVE_PER_RESULT", 0)
    if walk.endswith("a group at a time"):
        monkeypatch.setattr(ranking, "_take", lambda limit, taken: 1)

    words = "花椒 茶叶 核桃 马铃薯 蜂蜜 苗绣 培训 电商 销售 合作社 冷链 物流".split()
    provinces = ["510000000000", "520000000000", "420000000000"]
    rng = random.Random(7)

    def doc(n):
        body = "，".join(rng.choice(words) for _ in range(rng.randint(2, 30)))
        return {"doc_id": f"need:{n}", "kind": "need", "obj_id": n, "title": "".join(rng.sample(words, 2)),
                "body": body, "province": rng.choice(provinces), "status": rng.choice(["published", "completed"])}

    index.rebuild([doc(n) for n in range(800)])
    queries = ["花椒", "花椒 茶叶", "电商 培训 销售", "合作社 OR 冷链", "(花椒 OR 核桃) 销售"]

    def compare():
        for q in queries:
            for kwargs in ({}, {"filters": {"province": "510000000000"}},
                           {"filters": {"status": ["published"]}, "kinds": ["need"]}):
                for page in (1, 3):
                    fast = search(index, q, page=page, per_page=10, **kwargs)
                    with monkeypatch.context() as patched:
                        patched.setattr(ranking, "supported", lambda parsed: False)
                        slow = search(index, q, page=page, per_page=10, **kwargs)
                    assert fast.total == slow.total, (q, kwargs)
                    assert [i["doc_id"] for i in fast.items] == [i["doc_id"] for i in slow.items], (q, kwargs, page)
                    assert [round(i["score"], 9) for i in fast.items] == [round(i["score"], 9) for i in slow.items]

    compare()
    index.update([doc(n) for n in range(0, 800, 7)])  # replaced: deletions in the old segment
    index.update([doc(n) for n in range(800, 900)])  # new documents: another segment
    index.delete([f"need:{n}" for n in range(1, 800, 11)])
    compare()
    ranking.clear_cache()
    compare()


def _skewed_corpus(rng, n=150):
    """Documents where weight and score disagree and the best matches are nobody's best term.

    - heavy but long: 花椒 five times in a long body (the heaviest postings, scoring low);
    - light but short: 花椒 or 合作社 once in a two-word body (scoring high, for one word only);
    - both words, moderately: the top of 花椒 合作社, below the heads of either word's list;
    - identical twins (same text, so the same score) straddling page boundaries: ties in
      document order.
    """
    fill = "销售 培训 物流 冷链 茶叶 核桃 蜂蜜 电商".split()
    docs = []

    def add(title, body):
        n = len(docs)
        docs.append({"doc_id": f"need:{n}", "kind": "need", "obj_id": n, "title": title, "body": body})

    for _ in range(n):
        kind = rng.randrange(6)
        if kind == 0:
            add(rng.choice(fill), "，".join(["花椒"] * 5 + rng.choices(fill, k=rng.randint(40, 90))))
        elif kind == 1:
            add(rng.choice(fill), f"{rng.choice(['花椒', '合作社'])}，{rng.choice(fill)}")
        elif kind == 2:
            add(rng.choice(["花椒", "合作社"]) + rng.choice(fill), "，".join(rng.choices(fill, k=rng.randint(1, 30))))
        elif kind == 3:
            words = ["花椒", "合作社"] + rng.choices(fill, k=rng.randint(3, 25))
            rng.shuffle(words)
            add(rng.choice(fill), "，".join(words))
        elif kind == 4:
            add("花椒合作社", "，".join(["合作社"] * rng.randint(1, 4) + rng.choices(fill, k=rng.randint(5, 60))))
        else:
            add(rng.choice(fill), "，".join(rng.choices(fill, k=rng.randint(2, 20))))
    twin = "花椒，合作社，销售，培训，物流"
    for _ in range(25):  # 25 equal scores over pages of 7
        add("冷链", twin)
    rng.shuffle(docs)
    for n, d in enumerate(docs):
        d.update(doc_id=f"need:{n}", obj_id=n)
    return docs


def _compare_with_whoosh(index, monkeypatch, queries, pages=range(1, 14), per_page=7) -> list:
    """[(query, page)] where search_index.ranking and Whoosh's collector disagree."""
    import search_index.ranking as ranking

    differences = []
    for q in queries:
        for page in pages:
            fast = search(index, q, page=page, per_page=per_page)
            with monkeypatch.context() as patched:
                patched.setattr(ranking, "supported", lambda parsed: False)
                slow = search(index, q, page=page, per_page=per_page)
            if (fast.total, [(i["doc_id"], round(i["score"], 9)) for i in fast.items]) != (
                    slow.total, [(i["doc_id"], round(i["score"], 9)) for i in slow.items]):
                differences.append((q, page))
    return differences


SKEWED_QUERIES = ["花椒 合作社", "花椒", "合作社", "花椒 OR 合作社", "花椒 合作社 销售", "(花椒 OR 核桃) 合作社"]


@pytest.mark.parametrize("walk", ["every match", "threshold", "threshold, a group at a time", "default"])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_threshold_walk_is_exact_where_weight_order_and_score_order_disagree(index, monkeypatch, walk, seed):
    """The threshold algorithm (for every query; a group at a time, so that the walk stops as soon as
    the bound allows) and scoring every match agree with Whoosh page by page — ranking, ties in
    document order, scores and totals — on a corpus built so that the heaviest postings score
    lowest, each word's best documents lack the other word, and 25 identical documents tie across
    page boundaries (ranks 21–56 of 花椒 合作社, 59–90 of 花椒)."""
    import search_index.ranking as ranking

    ranking.clear_cache()
    if walk != "default":  # the default: set operations (few documents), then every match scored
        monkeypatch.setattr(ranking, "FEW", 0)  # bitmaps
        monkeypatch.setattr(ranking, "EXHAUSTIVE", 10**9 if walk == "every match" else 0)
        monkeypatch.setattr(ranking, "EXHAUSTIVE_PER_RESULT", 10**9 if walk == "every match" else 0)
    if walk.endswith("a group at a time"):
        monkeypatch.setattr(ranking, "_take", lambda limit, taken: 1)
    index.rebuild(_skewed_corpus(random.Random(seed)))
    assert _compare_with_whoosh(index, monkeypatch, SKEWED_QUERIES) == []
    ranking.clear_cache()


@pytest.mark.parametrize("wrong", ["one group too low", "2 % too low"])
def test_the_threshold_test_catches_a_bound_that_is_not_an_upper_bound(index, monkeypatch, wrong):
    """The comparison above has teeth: with each word's bound taken one group too far down, or 2 %
    below its best score left (bounds that are not upper bounds), the walk stops early and some
    page differs from Whoosh's."""
    import search_index.ranking as ranking

    monkeypatch.setattr(ranking, "FEW", 0)
    monkeypatch.setattr(ranking, "EXHAUSTIVE", 0)
    monkeypatch.setattr(ranking, "EXHAUSTIVE_PER_RESULT", 0)
    monkeypatch.setattr(ranking, "_take", lambda limit, taken: 1)

    def one_group_too_low(unit, group):
        return unit.heads[group + 1] if group + 1 < len(unit.heads) else 0.0

    def scaled(unit, group):
        return unit.heads[group] * 0.98

    differences = []
    for seed in (1, 2):
        ranking.clear_cache()
        index.rebuild(_skewed_corpus(random.Random(seed)))
        assert _compare_with_whoosh(index, monkeypatch, SKEWED_QUERIES, pages=range(1, 5)) == []
        with monkeypatch.context() as patched:
            patched.setattr(ranking, "_head", one_group_too_low if wrong == "one group too low" else scaled)
            differences += _compare_with_whoosh(index, monkeypatch, SKEWED_QUERIES, pages=range(1, 5))
    assert differences
    ranking.clear_cache()


def test_bitmaps_list_back_the_documents_they_were_made_of():
    """The totals are counted on bitmaps and few matches listed from them: every document comes back,
    in order, at byte boundaries, at the ends and in runs."""
    import search_index.ranking as ranking

    rng = random.Random(5)
    for size in (1, 7, 8, 9, 1000, 70_001):
        for docs in ([], [0], [size - 1], list(range(size)), sorted(rng.sample(range(size), min(size, 300)))):
            bits = ranking._bitmap(docs + [size, size + 9], size)  # past the segment: left out
            assert bits.bit_count() == len(docs)
            assert ranking._listed(bits, size) == docs


def test_a_negative_boost_is_ranked_by_scoring_every_match(index, monkeypatch):
    """A negative score makes the sum of the words' best scores left no upper bound: such a query is
    scored match by match even where the threshold walk would otherwise be taken (the public parser
    offers no boosts; this guards the module's own contract)."""
    import search_index.ranking as ranking
    from whoosh import query

    for name in ("FEW", "EXHAUSTIVE", "EXHAUSTIVE_PER_RESULT"):
        monkeypatch.setattr(ranking, name, 0)
    monkeypatch.setattr(ranking, "_take", lambda limit, taken: 1)
    ranking.clear_cache()
    index.rebuild(_skewed_corpus(random.Random(4)))
    def word(text, boost=1.0):
        return query.Or([query.Term(f, text, boost=boost) for f in ("title", "body")])

    # Documents with 花椒 and 销售 but not 合作社 score more than the walk's sum, which adds
    # 合作社's (negative) best score left: without the guard, the 9th result of 10 is wrong.
    q = query.Or([query.And([word("花椒"), word("销售")]), word("合作社", -5.0)])
    with index.searcher() as searcher:
        everything = searcher.search(q, limit=None)
        expected = [(round(hit.score, 9), hit.docnum) for hit in everything]
        total, ranked = ranking.top(searcher, q, 10)
    assert total == len(expected)
    assert [(round(score, 9), docnum) for score, docnum in ranked] == expected[:10]
    assert any(score < 0 for score, _ in expected)
    ranking.clear_cache()


def test_the_ranking_caches_hold_nothing_a_full_collection_walks(index):
    """The per-process caches of decoded postings, signatures and field lengths grow to a million
    entries in a worker; a full garbage collection traverses every item of a list it tracks, and
    pausing a worker for it added tens of milliseconds to whatever page it was serving. The caches
    hold tuples and dicts of numbers, which the collector stops tracking once it has seen them, and
    no list or set (not calling the collector here: in a test process's heap it takes seconds)."""
    import search_index.ranking as ranking

    ranking.clear_cache()
    index.rebuild(_skewed_corpus(random.Random(1)))
    for q in SKEWED_QUERIES:
        search(index, q, per_page=10)
    assert ranking._cache and ranking._lengths_cache, "the queries filled the caches"

    def walked(value, path):
        if isinstance(value, (list, set)):
            return [f"{path}: a {type(value).__name__} of {len(value)}"]
        items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, tuple) else ()
        return [where for key, item in items for where in walked(item, f"{path}[{key!r}]"[:120])]

    cached = [(key, value) for key, (value, _cost) in ranking._cache.items()] + list(ranking._lengths_cache.items())
    found = [where for key, value in cached for where in walked(value, str(key[0]))]
    assert found == [], "\n".join(found[:20])
    ranking.clear_cache()
