"""The jieba analyzer: positions, offsets, normalisation, stop words, pickling, jieba set-up."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import jieba
import pytest

from search_index import SearchIndex
from search_index.analyzer import (
    JiebaTokenizer,
    chinese_analyzer,
    place_aliases,
    precise_words,
    segment,
)


def tokens(text: str, **kwargs) -> list[tuple[str, int, int, int]]:
    return [
        (t.text, t.pos, t.startchar, t.endchar)
        for t in chinese_analyzer()(text, positions=True, chars=True, **kwargs)
    ]


def test_positions_are_consecutive_and_offsets_point_into_the_text():
    text = "昭觉县花椒销售帮扶，急需企业采购"
    result = tokens(text)
    assert [pos for _t, pos, _s, _e in result] == list(range(len(result)))
    for word, _pos, start, end in result:
        assert text[start:end] == word
    assert [w for w, *_ in result] == [
        "昭觉", "昭觉县", "花椒", "销售", "帮扶", "急需", "企业", "采购",
    ]


def test_compound_words_bring_their_sub_words_shortest_first():
    # 建档立卡户 → 建档立卡 (4 characters: jieba's own search mode stops at 3).
    words = [w for w, *_ in tokens("建档立卡户")]
    assert words[0] == "建档"
    assert "建档立卡" in words and "建档立卡户" in words
    starts = [s for _w, _p, s, _e in tokens("黔东南州苗绣技能培训")]
    assert starts == sorted(starts)


def test_english_is_lowercased_digits_kept_punctuation_and_spaces_dropped():
    assert [w for w, *_ in tokens("iPhone 捐赠！20 人。APP——开发")] == [
        "iphone", "捐赠", "20", "人", "app", "开发",
    ]


def test_full_width_letters_and_digits_are_normalised_without_moving_offsets():
    text = "ＡＰＰ开发２０人"
    result = tokens(text)
    assert [w for w, *_ in result] == ["app", "开发", "20", "人"]
    assert [(s, e) for _w, _p, s, e in result] == [(0, 3), (3, 5), (5, 7), (7, 8)]


def test_stop_words_are_dropped_and_positions_stay_consecutive():
    result = tokens("花椒的销售和 the 采购")
    assert [w for w, *_ in result] == ["花椒", "销售", "采购"]
    assert [p for _w, p, _s, _e in result] == [0, 1, 2]
    assert tokens("的 了 和 是 the a of") == []


def test_stop_words_are_kept_but_marked_when_the_highlighter_asks():
    marked = [
        (t.text, t.stopped)
        for t in chinese_analyzer()("花椒的销售", removestops=False)
    ]
    assert marked == [("花椒", False), ("的", True), ("销售", False)]


def test_single_characters_are_kept():
    # Whoosh's StopFilter drops one-character tokens by default; 村 matters.
    assert [w for w, *_ in tokens("西江村")] == ["西江", "村"]


def test_domain_words_segment_whole():
    assert [w for w, *_ in precise_words("万企帮万村东西部扶贫协作光荣榜")] == [
        "万企帮万村", "东西部扶贫协作", "光荣榜",
    ]


def test_precise_words_leave_out_punctuation():
    assert [w for w, *_ in precise_words("昭觉县花椒，iPhone 捐赠")] == [
        "昭觉县", "花椒", "iPhone", "捐赠",
    ]


def test_segment_lists_each_word_before_the_next():
    words = [w for w, *_ in segment("精准扶贫工作")]
    assert words == ["精准", "精准扶贫", "扶贫", "工作"]


@pytest.mark.parametrize(
    ("place", "aliases"),
    [
        ("四川省凉山彝族自治州昭觉县", ["凉山州"]),
        ("湖北省 恩施土家族苗族自治州 利川市", ["恩施州"]),
        ("贵州省黔东南苗族侗族自治州", ["黔东南州"]),
        ("重庆市石柱土家族自治县", ["石柱县"]),
        ("广西壮族自治区百色市", ["广西"]),
        ("甘肃省定西市渭源县", []),
    ],
)
def test_autonomous_divisions_get_their_short_names(place, aliases):
    assert place_aliases(place) == aliases


def test_the_tokenizer_pickles_as_a_reference_to_this_package():
    analyzer = chinese_analyzer()
    data = pickle.dumps(analyzer)
    assert b"search_index.analyzer" in data and b"jieba" not in data
    assert pickle.loads(data) == analyzer
    assert JiebaTokenizer(frozenset({"x"})) != analyzer


def test_a_fresh_process_keeps_jiebas_cache_in_the_data_folder_and_skips_jieba_analyse(
    tmp_path,
):
    """Start-up as a worker sees it: configure(), then open and search the index."""
    index = SearchIndex(tmp_path / "search")
    index.create()
    index.update([{"doc_id": "need:1", "kind": "need", "obj_id": 1, "title": "花椒"}])
    index.close()
    code = (
        "import os, sys\n"
        "from search_index import SearchIndex, configure, search\n"
        f"configure({str(tmp_path / 'data')!r})\n"
        f"index = SearchIndex({str(tmp_path / 'search')!r})\n"
        "assert search(index, '花椒').total == 1\n"
        f"mode = os.stat({str(tmp_path / 'data' / 'jieba.cache')!r}).st_mode\n"
        "print(oct(mode & 0o777), 'jieba.analyse' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env,
        cwd=tmp_path, timeout=60, check=True,
    )
    # Readable by other service users (jieba creates it 0600), and the
    # pickled schema did not pull in jieba.analyse (+1.3 s, +160 MB).
    assert out.stdout.split() == ["0o644", "False"]


def test_configure_points_jieba_at_the_data_folder(jieba_ready):
    assert jieba.dt.tmp_dir == str(jieba_ready)
