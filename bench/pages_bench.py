"""CPU time, queries and function calls per request of each page, in-process: `python bench/pages_bench.py`.

    DATA_DIR=/tmp/villageaid-bench-small .venv/bin/python bench/pages_bench.py [--rounds 30] [--only a,b]
        [--profile PAGE] [--sample PAGE] [--save DIR] [--database-url URL] [--lang en] [--query WORDS]

The pages bench/run.py measures under gunicorn, requested through Flask's test client on the data
set bench/generate.py left in DATA_DIR (or --database-url), with every cache bench/run.py turns off
turned off here too. For each page: the median and minimum CPU time per request over --rounds
(process time, not wall time, so another process sharing the cores does not count), the SQL
statements per request, and Python function calls per request (cProfile, one request: the count
is exact and repeatable, a proxy for instructions); on PostgreSQL on this machine also the server's
CPU per request (its backends connected to the database, from /proc: what the workers' CPU leaves
out). `--profile PAGE` prints that page's cProfile top 40 by cumulative and own time; `--sample PAGE` samples --rounds requests with pyinstrument
(`pip install pyinstrument`: a profiling aid, not a dependency); `--save DIR` writes each page's
body, to check that a change renders the same HTML. Compare runs on the same data, and two versions
in the same minute (a copy of a commit runs its own code: this script puts its checkout first).
"""
import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "platform"))
PASSWORD = "bench-pass-2026"  # bench/generate.py's


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--profile", help="a page name: print its cProfile")
    parser.add_argument("--database-url")
    parser.add_argument("--lang", default=None, help="en: measure the English pages")
    parser.add_argument("--only", help="comma-separated page names")
    parser.add_argument("--save", help="a folder: write each page's body there (to diff two versions)")
    parser.add_argument("--statements", help="a page name: print the SQL of its statements (one request)")
    parser.add_argument("--statement-chars", type=int, default=400, help="--statements: print this much of each")
    parser.add_argument("--sample", help="a page name: pyinstrument over --rounds requests (pip install pyinstrument)")
    parser.add_argument("--query", action="append",
                        help="the search page's words (default 花椒 合作社); repeat it to time several queries")
    args = parser.parse_args(argv)
    os.environ.update(PAGE_CACHE_SECONDS="0",
                      SCHEDULER_INTERVAL_SECONDS="0", RATELIMIT_ENABLED="0")
    os.environ.pop("REDIS_URL", None)
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 40)
    from sqlalchemy import event, text

    from villageaid import create_app
    from villageaid.extensions import db

    app = create_app()
    statements = [0]
    logged = [None]  # --statements: a list collecting the SQL of one request

    def count(_conn, _cursor, sql, *_args):
        statements[0] += 1
        if logged[0] is not None:
            logged[0].append(sql)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        need = db.session.execute(text("SELECT id FROM need WHERE status = 'in_delivery' ORDER BY id LIMIT 1")).scalar()
        email = db.session.execute(text(
            "SELECT u.email FROM \"user\" u JOIN membership m ON m.user_id = u.id JOIN organization o ON o.id = m.organization_id "
            "WHERE o.status = 'verified' AND o.province_code = '330000000000' ORDER BY o.id LIMIT 1")).scalar()
        province = db.session.execute(text(
            "SELECT province_code FROM need GROUP BY province_code ORDER BY count(*) DESC LIMIT 1")).scalar()
    filters = urlencode({"province": province, "category": "industry", "sort": "deadline"})
    pages = {
        "hello": ("/ping", False),
        "needs_list": (f"/needs?{filters}", False),
        "needs_deep": ("/needs?page=500", False),
        "need_page": (f"/needs/{need}", False),
        "search": ("/search?" + urlencode({"q": "花椒 合作社"}), False),
        "recommendations": ("/me/recommendations", True),
        "home": ("/", False),
    }
    for n, words in enumerate(args.query or []):
        # Several queries: search, search2, … (--only search keeps them all).
        pages["search" if n == 0 else f"search{n + 1}"] = ("/search?" + urlencode({"q": words}), False)
    if args.only:
        only = args.only.split(",")
        pages = {k: v for k, v in pages.items() if k in only or ("search" in only and k.startswith("search"))}
    anonymous = app.test_client()
    signed_in = app.test_client()
    if args.lang:
        anonymous.get(f"/needs?lang={args.lang}")
    form = signed_in.get("/auth/login").get_data(as_text=True)
    import re

    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    signed_in.post("/auth/login", data={"csrf_token": token, "email": email, "password": PASSWORD})
    if args.lang:
        signed_in.get(f"/needs?lang={args.lang}")
    from honor_roll_bench import server_cpu

    with app.app_context():
        on_server = server_cpu() is not None
    print(f"{'page':<16} {'CPU ms p50':>10} {'min':>7} {'queries':>8} {'calls':>9} {'bytes':>8}"
          + (f" {'server ms':>9}" if on_server else "") + "  path")
    for name, (path, auth) in pages.items():
        client = signed_in if auth else anonymous
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        for _ in range(3):
            client.get(path)
        times = []
        statements[0] = 0
        with app.app_context():
            server_before = server_cpu() if on_server else None
        for _ in range(args.rounds):
            started = time.process_time()
            client.get(path)
            times.append((time.process_time() - started) * 1000)
        queries = statements[0] / args.rounds
        with app.app_context():
            server = f" {(server_cpu() - server_before) * 1000 / args.rounds:>9.2f}" if on_server else ""
        profile = cProfile.Profile()
        profile.enable()
        body = client.get(path).get_data()
        profile.disable()
        calls = sum(row[1] for row in pstats.Stats(profile).stats.values())
        if args.save:
            Path(args.save).mkdir(parents=True, exist_ok=True)
            Path(args.save, f"{name}{'.' + args.lang if args.lang else ''}.html").write_bytes(body)
        print(f"{name:<16} {statistics.median(times):>10.2f} {min(times):>7.2f} {queries:>8.1f} {calls:>9,} {len(body):>8,}{server}  {path}")
        if args.statements == name:
            logged[0] = []
            client.get(path)
            sqls, logged[0] = logged[0], None
            for n, sql in enumerate(sqls, 1):
                print(f"-- {n}: " + " ".join(sql.split())[:args.statement_chars])
        if args.sample == name:
            from pyinstrument import Profiler

            sampler = Profiler(interval=0.0002)
            sampler.start()
            for _ in range(args.rounds):
                client.get(path)
            sampler.stop()
            print(sampler.output_text(unicode=True, color=False, show_all=False))
        if args.profile == name:
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("cumulative").print_stats(40)
            stats.sort_stats("tottime").print_stats(40)
            print(out.getvalue())


if __name__ == "__main__":
    main()
