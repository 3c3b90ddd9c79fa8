"""Benchmark the search index: Whoosh + our jieba analyzer against a SQLite FTS5 baseline.

Generates N synthetic need documents in Chinese (~200 characters, category
vocabularies, real place names), indexes them with ``search_index`` and
reports indexing rate, index size and query latency (median and p95 over a
fixed set of queries, with the shared searcher, with a province filter, and
opening a searcher per query).  The same corpus goes into SQLite FTS5 for
comparison: CJK is handled by indexing jieba-segmented text (the same
search-mode segmentation, words joined by spaces, ``unicode61`` tokenizer),
and queries are segmented the same way and AND-ed.

    PYTHONPATH=. python bench/search_bench.py --docs 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator

from search_index import SearchIndex, configure, document_fields, search
from search_index.analyzer import precise_words, segment

# province code → (province, [(prefecture, [counties])])
PLACES = {
    "510000000000": ("四川省", [
        ("凉山彝族自治州", ["昭觉县", "布拖县", "美姑县", "金阳县", "喜德县", "越西县"]),
        ("甘孜藏族自治州", ["理塘县", "色达县", "石渠县"]),
    ]),
    "520000000000": ("贵州省", [
        ("黔东南苗族侗族自治州", ["雷山县", "从江县", "榕江县", "台江县"]),
        ("毕节市", ["威宁彝族回族苗族自治县", "纳雍县", "赫章县"]),
    ]),
    "530000000000": ("云南省", [
        ("怒江傈僳族自治州", ["福贡县", "贡山独龙族怒族自治县", "兰坪白族普米族自治县"]),
        ("昭通市", ["镇雄县", "彝良县", "大关县"]),
    ]),
    "420000000000": ("湖北省", [
        ("恩施土家族苗族自治州", ["利川市", "建始县", "巴东县", "鹤峰县"]),
    ]),
    "620000000000": ("甘肃省", [
        ("定西市", ["渭源县", "岷县", "通渭县"]),
        ("临夏回族自治州", ["东乡族自治县", "积石山保安族东乡族撒拉族自治县"]),
    ]),
    "450000000000": ("广西壮族自治区", [
        ("百色市", ["凌云县", "乐业县", "隆林各族自治县"]),
        ("河池市", ["都安瑶族自治县", "大化瑶族自治县"]),
    ]),
    "630000000000": ("青海省", [("玉树藏族自治州", ["杂多县", "治多县"])]),
    "150000000000": ("内蒙古自治区", [("兴安盟", ["科尔沁右翼中旗", "扎赉特旗"])]),
}
PROVINCE_CODES = list(PLACES)

VILLAGE_FIRST = "三河 乐安 团结 红星 新民 和平 高峰 龙泉 石门 白云 青山 金沙 马鞍 清水 松林 桃园 柳树 大坪 小寨 中心".split()
VILLAGE_LAST = ["村", "村", "村", "社区"]

PRODUCTS = "花椒 核桃 茶叶 脐橙 猕猴桃 马铃薯 苦荞 香菇 木耳 蜂蜜 红枣 苹果 魔芋 天麻 党参 油茶 腊肉 土鸡蛋 羊肚菌 百香果".split()
CRAFTS = "苗绣 蜡染 银饰 竹编 刺绣 藏毯".split()
SKILLS = "电商运营 直播带货 家政服务 电工 焊工 厨师 养殖技术 种植技术 汽车维修 护理".split()
JOBS = "电子厂普工 服装厂缝纫工 物流分拣员 快递员 保安 酒店服务员 建筑工 食品厂操作工".split()
GOODS = "图书 课桌椅 校服 冬衣 棉被 电脑 投影仪 净水设备 篮球架".split()
VOLUNTEER = ("支教", "义诊", "APP 开发", "网店设计", "法律咨询", "心理辅导", "摄影宣传")

CATEGORIES = {
    "消费": ("{product}滞销求助", "{product}销售帮扶", "{product}消费扶贫", "采购{village}{product}"),
    "产业": ("{product}种植基地建设", "{product}加工设备", "{product}合作社冷库", "{product}产业项目"),
    "就业": ("{job}招聘 {n} 人", "{job}岗位 {n} 个", "劳务输出{job} {n} 人"),
    "技能": ("{skill}技能培训", "{craft}技能培训", "{skill}培训班"),
    "公益": ("捐赠{goods}", "村小学{goods}捐建", "留守儿童{goods}"),
    "志愿": ("{volunteer}志愿者", "暑期{volunteer}", "{volunteer}志愿服务"),
}
SENTENCES = (
    "{village}位于{county}，全村建档立卡户{n}户，{people}人。",
    "今年{product}丰收，产量约{n}万斤，但受物流和销路限制，大量积压。",
    "希望爱心企业以购代捐，通过消费扶贫帮助群众增收。",
    "村里成立了农民专业合作社，带动{n}户脱贫户发展{product}产业。",
    "需要{job}岗位{n}个，包吃住，月薪{wage}元以上。",
    "计划开展{skill}培训，培训{people}人，提升就业能力。",
    "村小学有留守儿童{people}名，急需{goods}。",
    "欢迎参与万企帮万村行动，开展东西部扶贫协作和结对帮扶。",
    "驻村第一书记和驻村工作队负责项目实施，资金使用全程公开。",
    "项目完成后将惠及{people}名群众，巩固脱贫攻坚成果，助力乡村振兴。",
    "{craft}是当地传统手工艺，希望通过电商和直播带货打开市场。",
    "招募{volunteer}志愿者，服务时间不少于{n}小时。",
)

# Queries: products, places, industries, mixed Chinese+English, digits, phrases.
QUERIES = (
    "花椒", "茶叶", "核桃 销售", "猕猴桃", "苗绣", "电子厂", "普工 招聘", "电商 培训",
    "昭觉县", "黔东南", "凉山州", "恩施州 茶叶", "雷山县 苗绣", "APP 开发",
    "留守儿童 图书", "20 人", '"消费扶贫"', '"技能培训"', "马铃薯 滞销", "建档立卡",
)

STATUSES = ("published",) * 8 + ("fully_pledged", "completed")
UNITS = {"消费": "goods", "产业": "cny_fen", "就业": "jobs", "技能": "volunteer_hours",
         "公益": "goods", "志愿": "volunteer_hours"}


def synthetic_docs(count: int, seed: int = 17) -> Iterator[dict]:
    """Yield ``count`` need documents, the same ones for the same seed."""
    rng = random.Random(seed)
    start = dt.datetime(2025, 1, 1)
    for n in range(1, count + 1):
        code = rng.choice(PROVINCE_CODES)
        province, prefectures = PLACES[code]
        p_index = rng.randrange(len(prefectures))
        prefecture, counties = prefectures[p_index]
        c_index = rng.randrange(len(counties))
        county = counties[c_index]
        village = rng.choice(VILLAGE_FIRST) + rng.choice(VILLAGE_LAST)
        category = rng.choice(list(CATEGORIES))
        words = {
            "product": rng.choice(PRODUCTS), "craft": rng.choice(CRAFTS),
            "skill": rng.choice(SKILLS), "job": rng.choice(JOBS), "goods": rng.choice(GOODS),
            "volunteer": rng.choice(VOLUNTEER), "village": village, "county": county,
            "n": rng.randint(2, 200), "people": rng.randint(10, 900),
            "wage": rng.choice((3500, 4000, 4500, 5000, 6000)),
        }
        title = rng.choice(CATEGORIES[category]).format(**words)
        body = ""
        while len(body) < 190:
            body += rng.choice(SENTENCES).format(**words)
        created = start + dt.timedelta(minutes=rng.randrange(500 * 24 * 60))
        yield {
            "doc_id": f"need:{n}", "kind": "need", "obj_id": n, "title": title, "body": body,
            "place": [province, prefecture, county, village],
            "province": code, "prefecture": f"{code[:2]}{p_index + 1:02d}00000000",
            "county": f"{code[:2]}{p_index + 1:02d}{c_index + 1:02d}000000",
            "category": category, "status": rng.choice(STATUSES), "unit": UNITS[category],
            "created": created,
            "deadline": (created + dt.timedelta(days=rng.randint(20, 200))).date()
            if rng.random() < 0.8 else None,
            "progress": rng.randint(0, 10000), "people": words["people"], "stamp": f"v{rng.randint(1, 9)}",
        }


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


class Timings:
    """Wall-clock and CPU milliseconds of each run.

    CPU time is what the work costs; on a busy machine wall-clock time also
    holds the time spent waiting for a core, so both are reported.
    """

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def line(self) -> str:
        return (f"median {statistics.median(self.wall):7.2f} ms (CPU {statistics.median(self.cpu):7.2f})   "
                f"p95 {percentile(self.wall, 0.95):7.2f} ms (CPU {percentile(self.cpu, 0.95):7.2f})")


def time_queries(run: Callable[[str], object], queries: tuple[str, ...], rounds: int) -> Timings:
    """Latency of each query, ``rounds`` times after one warm-up round."""
    for q in queries:
        run(q)
    timings = Timings()
    for _ in range(rounds):
        for q in queries:
            t0, c0 = time.perf_counter(), time.process_time()
            run(q)
            timings.cpu.append((time.process_time() - c0) * 1000)
            timings.wall.append((time.perf_counter() - t0) * 1000)
    return timings


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports kilobytes)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def folder_size(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _dirs, names in os.walk(path) for name in names
    )


def fts_text(text: str) -> str:
    """The search-mode words of ``text`` joined by spaces, for FTS5's unicode61."""
    return " ".join(word.lower() for word, _s, _e in segment(text) if word.strip())


def fts_match(q: str) -> str:
    """An FTS5 MATCH expression: every word of ``q`` (jieba precise) must occur."""
    q = q.replace('"', " ")
    return " AND ".join('"' + w.lower().replace('"', "") + '"' for w, _s, _e in precise_words(q))


def build_fts(db_path: str, count: int, seed: int) -> tuple[sqlite3.Connection, float, float]:
    conn = sqlite3.connect(db_path)
    conn.executescript(
        """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE TABLE doc (rowid INTEGER PRIMARY KEY, doc_id TEXT, title TEXT, body TEXT,
                          place TEXT, province TEXT, category TEXT, created TEXT, progress INT);
        CREATE VIRTUAL TABLE doc_fts USING fts5(title, body, place, content='',
                                                tokenize='unicode61');
        CREATE INDEX doc_province ON doc (province);
        """
    )
    t0, c0 = time.perf_counter(), time.process_time()
    with conn:
        for n, d in enumerate(synthetic_docs(count, seed), start=1):
            # The place text Whoosh indexes: division names and short names (凉山州).
            place = document_fields(d)["place"]
            conn.execute(
                "INSERT INTO doc VALUES (?,?,?,?,?,?,?,?,?)",
                (n, d["doc_id"], d["title"], d["body"], place, d["province"], d["category"],
                 d["created"].isoformat(), d["progress"]),
            )
            conn.execute(
                "INSERT INTO doc_fts (rowid, title, body, place) VALUES (?,?,?,?)",
                (n, fts_text(d["title"]), fts_text(d["body"]), fts_text(place)),
            )
        conn.execute("INSERT INTO doc_fts (doc_fts) VALUES ('optimize')")
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return conn, elapsed, cpu


def fts_search(conn: sqlite3.Connection, q: str, province: str | None = None) -> list:
    """Top 20 by bm25 (title weighted 2) plus the total, like ``search`` returns."""
    match = fts_match(q)
    where, params = "doc_fts MATCH ?", [match]
    if province:
        # Unary + keeps SQLite from driving the query by the province index
        # and probing FTS row by row (10x slower): match first, then filter.
        where += " AND +doc.province = ?"
        params.append(province)
    total = conn.execute(
        f"SELECT count(*) FROM doc_fts JOIN doc ON doc.rowid = doc_fts.rowid WHERE {where}", params
    ).fetchone()[0]
    rows = conn.execute(
        f"SELECT doc.doc_id, doc.title, doc.body FROM doc_fts JOIN doc ON doc.rowid = doc_fts.rowid "
        f"WHERE {where} ORDER BY bm25(doc_fts, 2.0, 1.0, 1.0) LIMIT 20",
        params,
    ).fetchall()
    return [total, rows]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10000, help="number of documents (default 10000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds over the queries")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--dir", help="work folder (default: a temporary one, removed after)")
    parser.add_argument("--skip-fts", action="store_true", help="skip the SQLite FTS5 baseline")
    args = parser.parse_args(argv)

    work = args.dir or tempfile.mkdtemp(prefix="search-bench-")
    os.makedirs(work, exist_ok=True)
    try:
        return run(args, work)
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: str) -> int:
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}")
    t0 = time.perf_counter()
    configure(work)
    print(f"jieba ready in {time.perf_counter() - t0:.2f} s")

    index = SearchIndex(os.path.join(work, "search"))
    last = [time.perf_counter()]

    def progress(done: int, total: int | None) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  indexed {done}/{total}", file=sys.stderr)

    t0, c0 = time.perf_counter(), time.process_time()
    count = index.rebuild(synthetic_docs(args.docs, args.seed), total=args.docs, progress=progress)
    build_s, build_cpu = time.perf_counter() - t0, time.process_time() - c0
    size = folder_size(os.path.realpath(index.path))
    whoosh_rate, whoosh_cpu_rate = count / build_s, count / build_cpu
    print(f"\nWhoosh: {count} docs in {build_s:.1f} s = {whoosh_rate:.0f} docs/s "
          f"(CPU {build_cpu:.1f} s = {whoosh_cpu_rate:.0f} docs per CPU second), "
          f"index {size / 1e6:.1f} MB ({size / count:.0f} B/doc)")

    hits = {q: search(index, q).total for q in QUERIES}
    print("  hits per query: " + ", ".join(f"{q} {n}" for q, n in hits.items()))
    shared = time_queries(lambda q: search(index, q), QUERIES, args.rounds)
    province = PROVINCE_CODES[0]
    filtered = time_queries(
        lambda q: search(index, q, filters={"province": province}), QUERIES, args.rounds
    )

    def fresh(q: str) -> None:
        one = SearchIndex(index.path)
        search(one, q)
        one.close()

    per_query = time_queries(fresh, QUERIES, max(1, args.rounds // 2))
    by_deadline = time_queries(lambda q: search(index, q, sort="deadline"), QUERIES, args.rounds)
    # No words: /search?type=need&province=… lists a province's needs, newest first.
    browse = time_queries(
        lambda code: search(index, "", kinds=["need"], filters={"province": code}), tuple(PROVINCE_CODES),
        args.rounds,
    )
    rows = [("shared searcher", shared), ("+ province filter", filtered),
            ("searcher per query", per_query), ("sorted by deadline", by_deadline),
            ("no words, province", browse)]
    for label, timings in rows:
        print(f"  {label:20} {timings.line()}")

    t0 = time.perf_counter()
    stamps = index.stamps()
    stamps_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    healthy = index.check()
    check_s = time.perf_counter() - t0
    print(f"  stamps() {len(stamps)} in {stamps_s:.2f} s; check() {healthy} in {check_s:.2f} s")
    print(f"  peak memory of this process so far: {peak_rss_mb():.0f} MB")
    index.close()

    if args.skip_fts:
        return 0
    conn, fts_s, fts_cpu = build_fts(os.path.join(work, "fts.sqlite3"), args.docs, args.seed)
    fts_rate, fts_cpu_rate = args.docs / fts_s, args.docs / fts_cpu
    fts_size = os.path.getsize(os.path.join(work, "fts.sqlite3"))
    print(f"\nSQLite FTS5 (jieba-segmented text, unicode61): {args.docs} docs in {fts_s:.1f} s = "
          f"{fts_rate:.0f} docs/s (CPU {fts_cpu:.1f} s = {fts_cpu_rate:.0f} docs per CPU second), "
          f"database {fts_size / 1e6:.1f} MB (with the stored rows)")
    fts_hits = {q: fts_search(conn, q)[0] for q in QUERIES}
    differing = {q: (hits[q], fts_hits[q]) for q in QUERIES if hits[q] != fts_hits[q]}
    if differing:
        print("  hit counts differing from Whoosh (whoosh, fts): " + ", ".join(
            f"{q} {w}/{f}" for q, (w, f) in differing.items()))
    fts_plain = time_queries(lambda q: fts_search(conn, q), QUERIES, args.rounds)
    fts_filtered = time_queries(lambda q: fts_search(conn, q, province), QUERIES, args.rounds)
    for label, timings in (("query", fts_plain), ("+ province filter", fts_filtered)):
        print(f"  {label:20} {timings.line()}")
    conn.close()

    print("\nRatios (Whoosh / FTS5), CPU time:")
    print(f"  indexing rate {whoosh_cpu_rate / fts_cpu_rate:.2f}x, size {size / fts_size:.2f}x")
    for label, w, f in (("query", shared, fts_plain), ("+ province filter", filtered, fts_filtered)):
        print(f"  {label:20} median {statistics.median(w.cpu) / statistics.median(f.cpu):5.1f}x   "
              f"p95 {percentile(w.cpu, 0.95) / percentile(f.cpu, 0.95):5.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
