"""Chinese analyzer for Whoosh built on jieba's search-mode segmentation.

Why our own rather than ``jieba.analyse.ChineseAnalyzer``: that one records
*character offsets* as token positions, so a phrase query ("精准扶贫" in quotes)
never finds adjacent tokens; and because Whoosh pickles the schema into the
index, every process that opens the index re-imports ``jieba.analyse``
(+1.3 s, +160 MB).  ``JiebaTokenizer`` below gives tokens consecutive
positions, keeps character offsets for highlighting and pickles as a plain
class reference to this module.

Segmentation is ``jieba.cut_for_search`` extended: each word of the precise
segmentation plus every dictionary word inside it (中华人民共和国 also yields
中华, 中华人民, 华人, 人民, 人民共和国, 共和, 共和国), so a query for a shorter
word still finds a longer one.  Index and query text go through the same
tokenizer, so both sides produce the same token sequence and phrase queries
line up.

jieba is process-global state: ``configure()`` points its cache at the data
folder and loads the dictionary plus ``DOMAIN_WORDS`` once.  The tokenizer
calls ``ensure_ready()`` itself, so indexing and querying always see the same
dictionary even if ``configure()`` was never called.  Changing
``DOMAIN_WORDS`` changes segmentation: rebuild the index afterwards.
"""

from __future__ import annotations

import functools
import logging
import os
import re
import threading
from collections.abc import Iterator
from typing import Any

import jieba
from whoosh.analysis import Token, Tokenizer

__all__ = [
    "DOMAIN_WORDS",
    "STOP_WORDS",
    "JiebaTokenizer",
    "chinese_analyzer",
    "configure",
    "ensure_ready",
    "normalize",
    "place_aliases",
    "precise_words",
    "segment",
]

#: Campaign vocabulary and produce names that jieba's general dictionary splits
#: badly (万企帮万村 → 万企帮 / 万村) or does not know (苗绣, 沃柑).
DOMAIN_WORDS: tuple[str, ...] = (
    # 万企帮万村 and poverty-alleviation policy terms
    "万企帮万村", "建档立卡", "建档立卡户", "东西部扶贫协作", "东西部协作",
    "消费扶贫", "产业扶贫", "就业扶贫", "教育扶贫", "健康扶贫", "电商扶贫",
    "精准扶贫", "精准脱贫", "脱贫攻坚", "乡村振兴", "易地扶贫搬迁", "结对帮扶",
    "对口帮扶", "驻村第一书记", "第一书记", "驻村工作队", "光荣榜", "贫困村",
    "贫困户", "脱贫户", "监测户", "留守儿童", "留守老人", "农民专业合作社",
    "合作社", "扶贫车间", "公益岗位", "直播带货", "以购代捐", "订单农业",
    "技能培训", "劳务输出", "普工",
    # Produce and crafts the villages sell
    "花椒", "核桃", "茶叶", "脐橙", "猕猴桃", "百香果", "火龙果", "沃柑",
    "砂糖橘", "马铃薯", "苦荞", "荞麦", "红薯", "魔芋", "香菇", "木耳",
    "羊肚菌", "竹笋", "天麻", "党参", "黄芪", "当归", "枸杞", "红枣", "蜂蜜",
    "油茶", "茶油", "牦牛", "黑山羊", "土鸡", "土鸡蛋", "腊肉", "中药材",
    "苗绣", "蜡染", "刺绣", "银饰", "藏毯",
)

#: Words too common to help a search.  Kept short on purpose: single
#: characters such as 村 or 县 matter in place names and must stay.
STOP_WORDS: frozenset[str] = frozenset(
    "的 了 和 是 在 与 及 等 或 之 其 把 被 也 都 就 而 并 对 从 向 由 为 以".split()
    + "a an and are as at be by for from in is it of on or that the this to was were with".split()
)

# A token is kept only if it has a letter, digit or ideograph; jieba emits
# spaces and punctuation as tokens of their own.
_WORDLIKE = re.compile(r"[^\W_]")

# Words split into dictionary sub-words: ideographs only.
_IDEOGRAPHS = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")

# 民族 names that occur in the names of autonomous prefectures, counties,
# banners and regions (自治州/县/旗/区).
_ETHNIC_GROUPS = (
    "蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|"
    "拉祜|水|东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|"
    "普米|塔吉克|怒|乌孜别克|鄂温克|德昂|保安|裕固|京|独龙|鄂伦春|赫哲|门巴|珞巴|基诺"
)
_AUTONOMOUS = re.compile(
    rf"(?P<base>[\u4e00-\u9fff]{{2,}}?)(?:(?:{_ETHNIC_GROUPS})族?)*自治(?P<level>州|县|旗|区)"
)

# Full-width ASCII (ＡＰＰ, ２０) and the ideographic space, as typed with a
# Chinese IME, mapped one character to one character so offsets stay valid.
_HALF_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_HALF_WIDTH[0x3000] = 0x20

# jieba cuts text block by block: runs of ideographs, letters and digits (its own pattern,
# jieba.re_han_default) and the text between them, each segmented without looking at the others.
_BLOCK = jieba.re_han_default

#: Blocks whose segmentation is kept per process.  Documents repeat a lot of them: every need of a
#: village names the same province, prefecture, county, township and village, and campaign texts
#: share their phrases (消费扶贫, 农民专业合作社).  An entry is ~1 KB.
SEGMENT_CACHE_BLOCKS = 50_000

_log = logging.getLogger(__name__)
_init_lock = threading.Lock()
_ready = False


def normalize(text: str) -> str:
    """Map full-width ASCII and the ideographic space to half-width (same length)."""
    return text.translate(_HALF_WIDTH)


def configure(data_dir: str | os.PathLike[str] | None = None) -> None:
    """Keep jieba's dictionary cache in ``data_dir`` and load jieba once.

    Without it jieba writes ``jieba.cache`` to /tmp with mode 0600, which a
    second service user can neither read nor replace, so that user rebuilds
    the prefix dictionary at every start.  Call it before forking workers
    (gunicorn ``--preload``) so the dictionary (~100 MB) is shared
    copy-on-write.
    """
    if data_dir is not None:
        data_dir = os.fspath(data_dir)
        os.makedirs(data_dir, exist_ok=True)
        jieba.dt.tmp_dir = data_dir
    ensure_ready()


def ensure_ready() -> None:
    """Initialise jieba and add ``DOMAIN_WORDS`` exactly once per process."""
    global _ready
    if _ready:
        return
    with _init_lock:
        if _ready:
            return
        # jieba logs "Building prefix dict ..." at DEBUG on its own stderr
        # handler; in a web server log that is noise, not information.
        jieba.setLogLevel(logging.WARNING)
        jieba.dt.initialize()
        _share_cache_file()
        for word in DOMAIN_WORDS:
            jieba.dt.add_word(word)
        _ready = True
        _log.debug("jieba ready, cache folder %s", jieba.dt.tmp_dir)


def _share_cache_file() -> None:
    """Make jieba's cache readable by other service users (it is created 0600).

    The cache is derived from jieba's public dictionary, nothing secret; a
    worker running as another user would otherwise rebuild it at each start.
    """
    folder = jieba.dt.tmp_dir
    if folder is None:
        return
    path = os.path.join(folder, jieba.dt.cache_file or "jieba.cache")
    try:
        os.chmod(path, 0o644)
    except OSError:
        pass  # not ours, or no cache written: jieba still works


def precise_words(text: str) -> list[tuple[str, int, int]]:
    """jieba's precise segmentation of ``text`` as ``(word, start, end)``, words only."""
    ensure_ready()
    return [w for w in jieba.dt.tokenize(text) if _WORDLIKE.search(w[0])]


def segment(text: str) -> list[tuple[str, int, int]]:
    """Search-mode segmentation: each precise word with its dictionary sub-words.

    Like ``jieba.cut_for_search``, but sub-words of every length, not only
    two and three characters: 建档立卡户 also yields 建档立卡, so a search
    for 建档立卡 finds it.  Only words made of ideographs are split (jieba's
    dictionary would find "oo" in "book").

    Each word's group is ordered by start offset, shortest first:
    技能培训 → 技能, 技能培训, 培训.  Its leading sub-word comes right after
    the previous word and its trailing sub-word right before the next one,
    so a quoted phrase that begins or ends inside a compound word still
    finds consecutive positions ("苗绣技能" in 苗绣技能培训, "扶贫工作" in
    精准扶贫工作).  Start offsets never decrease, which Whoosh's highlighter
    needs to merge overlapping matches (otherwise 黔东南 would come out as
    黔<mark>东南</mark>).
    """
    ensure_ready()
    out: list[tuple[str, int, int]] = []
    offset = 0
    for block in _BLOCK.split(text):
        if not block:
            continue
        words = _segment_block(block)
        out.extend(words if not offset else [(w, start + offset, end + offset) for w, start, end in words])
        offset += len(block)
    return out


@functools.lru_cache(maxsize=SEGMENT_CACHE_BLOCKS)
def _segment_block(text: str) -> tuple[tuple[str, int, int], ...]:
    """``segment`` of one of jieba's blocks, offsets from its start: jieba cuts a text as the
    concatenation of its blocks' cuts, so segmenting block by block gives the same words."""
    freq = jieba.dt.FREQ
    out: list[tuple[str, int, int]] = []
    for word, start, end in jieba.dt.tokenize(text):
        length = end - start
        if length < 3 or not _IDEOGRAPHS.fullmatch(word):
            out.append((word, start, end))
            continue
        group = [(word, start, end)]
        for size in range(length - 1, 1, -1):
            for i in range(length - size + 1):
                # jieba's prefix dictionary holds every prefix with frequency
                # 0: only a positive frequency is a real word.
                if freq.get(word[i : i + size]):
                    group.append((word[i : i + size], start + i, start + i + size))
        group.sort(key=lambda w: (w[1], w[2]))
        out.extend(group)
    return tuple(out)


def place_aliases(place: str) -> list[str]:
    """Short names of autonomous divisions found in ``place``, as people write them.

    凉山彝族自治州 is 凉山州 in speech and in most texts, 恩施土家族苗族自治州 is
    恩施州, 广西壮族自治区 is 广西.  Indexing these with the place lets a search
    for 凉山州 find every village there.
    """
    return list(_place_aliases(place))


@functools.lru_cache(maxsize=SEGMENT_CACHE_BLOCKS)
def _place_aliases(place: str) -> tuple[str, ...]:
    """place_aliases, remembered: the same places recur in thousands of documents."""
    aliases = []
    for word, _start, _end in precise_words(place):
        match = _AUTONOMOUS.fullmatch(word)
        if match:
            level = match["level"]
            aliases.append(match["base"] + ("" if level == "区" else level))
    return tuple(aliases)


class JiebaTokenizer(Tokenizer):
    """Whoosh tokenizer: jieba search-mode words, lowercased, stop words removed.

    Positions are consecutive over the tokens kept, so the same text always
    yields the same position sequence and phrase queries match.  Character
    offsets point into the original text.  Punctuation and whitespace are
    dropped.  With ``removestops=False`` (Whoosh's highlighter asks for that)
    stop words are yielded with ``stopped=True``.
    """

    def __init__(self, stoplist: frozenset[str] = STOP_WORDS):
        # The stop list is pickled into the index with the schema, so queries
        # against an index use the list it was built with.
        self.stoplist = frozenset(stoplist)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.stoplist == self.stoplist

    def __hash__(self) -> int:
        return hash((type(self), self.stoplist))

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        """Yield one reused ``Token`` per word, as every Whoosh tokenizer does."""
        assert isinstance(value, str), f"{value!r} is not a str"
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        text = normalize(value)

        if not tokenize:
            # Whole-value terms (e.g. range endpoints): same normalisation.
            t.original = value
            t.text = text.lower()
            t.boost = 1.0
            if positions:
                t.pos = start_pos
            if chars:
                t.startchar = start_char
                t.endchar = start_char + len(value)
            yield t
            return

        pos = start_pos
        stoplist = self.stoplist
        for word, start, end in segment(text):
            if not _WORDLIKE.search(word):
                continue
            word = word.lower()
            stopped = word in stoplist
            if stopped and removestops:
                continue
            t.text = word
            t.stopped = stopped
            t.boost = 1.0
            if keeporiginal:
                t.original = value[start:end]
            if positions:
                t.pos = pos
            pos += 1
            if chars:
                t.startchar = start_char + start
                t.endchar = start_char + end
            yield t


def chinese_analyzer() -> JiebaTokenizer:
    """The analyzer of every text field: a tokenizer that does all the work.

    One pass instead of tokenizer | LowercaseFilter | StopFilter: Whoosh's
    StopFilter also drops tokens shorter than two characters by default, and
    single characters (村, 县, 茶) carry meaning in Chinese.
    """
    return JiebaTokenizer()
