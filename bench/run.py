"""Serve the site the production way and measure its pages against hello-world: `python bench/run.py`.

    .venv/bin/python bench/run.py --scale small|campaign [--database-url URL] [--data-dir DIR]
                                  [--workers 4] [--concurrency 16] [--seconds 10] [--only search,...]

1. Data: the scale's synthetic data set from bench/generate.py in DATA_DIR (default
   /tmp/villageaid-bench-<scale>, reused when it is already there) or in --database-url.
2. Search index: `flask search rebuild` (timed: documents per second), reused when it reads well.
3. gunicorn with --workers sync workers and the app preloaded, on a free port, with every cache off
   (the page cache; the /needs totals come from the need tally and the home figures from their
   snapshot, as in production): these figures are uncached.
4. For each page, ApacheBench (`ab`, Debian's apache2-utils) with --concurrency keep-alive clients for
   --seconds after a warm-up: requests/s, p50 and p99 latency, and non-2xx answers. The first case is
   /ping, a hello-world endpoint of the same app (same middleware, no database): the ceiling.
5. The honor roll: bench/honor_roll_bench.py on the same data (it adds an edition of the campaign
   year): the aggregate and the whole computation job, median of --honor-roll-runs; then it publishes
   that edition through the lifecycle, so /honor-roll shows a real roll.
6. A second gunicorn in spike mode (PAGE_CACHE_SECONDS=10, shared through --redis-url when given) for
   the anonymous home page, needs list and honor roll: home_cached, needs_list_cached, honor_roll_cached.

It prints every figure, then each page's ratio to hello-world measured in the same run, and last

    bench: needs_list=R needs_deep=R need_page=R search=R recommendations=R stats=R home_cached=R needs_list_cached=R honor_roll_cached=R

where R is that page's requests/s over hello-world's. A page the site does not have yet is "n/a". Then

    bench-cpu: (the same keys)
    bench-honor-roll: deliveries=N aggregate_s=S job_s=S aggregate_cpu_s=S job_cpu_s=S

the same ratio in the gunicorn workers' CPU time per request (hello-world's over the page's), read
from /proc around each ApacheBench run: on a machine shared with other work the requests per second
move with everyone else's load, the CPU a request costs hardly does.
Results and the machine are written up in docs/performance.md.
"""
import argparse
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
PASSWORD = "bench-pass-2026"  # bench/generate.py's


def main(argv=None):
    args = _arguments(argv)
    if not shutil.which("ab"):
        sys.exit("run: ApacheBench is missing: apt-get install apache2-utils")
    data_dir = Path(args.data_dir or f"/tmp/villageaid-bench-{args.scale}")
    data_dir.mkdir(parents=True, exist_ok=True)
    # PYTHONPATH: this checkout's code, not the editable install's (a copy of a commit measures that commit).
    env = dict(os.environ, DATA_DIR=str(data_dir), SECRET_KEY="bench-" + "x" * 40,
               PAGE_CACHE_SECONDS="0", SCHEDULER_INTERVAL_SECONDS="0",
               RATELIMIT_ENABLED="0", PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'platform'}")
    env.pop("REDIS_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}, {args.workers} gunicorn workers, "
          f"{args.concurrency} clients, {args.seconds} s per page")
    figures = {}
    _data(args, env, figures)
    if not args.reuse_index:
        _index(env, figures)
    results = {}
    print("uncached (page cache off):")
    only = set(args.only.split(",")) | {"hello"} if args.only else None
    with _server(env, args.workers) as server:
        base = server.base
        for name, (path, cookie) in _targets(env, base).items():
            if only is None or name in only:
                results[name] = _measure(name, server, path, cookie, args)
    if args.honor_roll_runs and (only is None or "honor_roll" in only):
        # before spike mode: it publishes the roll that /honor-roll then shows
        _honor_roll(args, env, figures)
    if only is not None and not only & {"home_cached", "needs_list_cached", "honor_roll_cached"}:
        _report(figures, results)
        return
    # Spike mode: anonymous pages from the shared page cache (Redis when --redis-url is given).
    spike = dict(env, PAGE_CACHE_SECONDS="10")
    if args.redis_url:
        spike["REDIS_URL"] = args.redis_url
    print(f"spike mode (page cache on, {'Redis ' + args.redis_url if args.redis_url else 'per-process fakeredis'}):")
    with _server(spike, args.workers) as server:
        filters = dict(_targets(env, server.base))["needs_list"][0]
        results["home_cached"] = _measure("home_cached", server, "/", None, args)
        results["needs_list_cached"] = _measure("needs_list_cached", server, filters, None, args)
        results["honor_roll_cached"] = _measure("honor_roll_cached", server, "/honor-roll", None, args)
    _report(figures, results)


def _honor_roll(args, env, figures):
    """bench/honor_roll_bench.py on this run's data: its `bench-honor-roll:` figures into `figures`."""
    command = [sys.executable, str(ROOT / "bench" / "honor_roll_bench.py"), "--scale", args.scale,
               "--data-dir", env["DATA_DIR"], "--runs", str(args.honor_roll_runs), "--publish"]
    if args.database_url:
        command += ["--database-url", args.database_url]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    line = next((line for line in done.stdout.splitlines() if line.startswith("bench-honor-roll:")), None)
    if done.returncode != 0 or line is None:
        problem = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        print(f"honor roll: the computation failed: {problem[0]}")
        return
    figures["honor_roll"] = dict(pair.split("=", 1) for pair in line.split(":", 1)[1].split())


def _measure(name, server, path, cookie, args):
    if path is None:
        print(f"{name:<18} (the site has no such page yet)")
        return None
    result = _ab(server.base + path, cookie, args.concurrency, args.seconds, server.cpu_seconds)
    _print_result(name, path, result)
    return result


class _server:
    """gunicorn serving `env` for the duration of a with block; yields its base URL."""

    def __init__(self, env, workers):
        self.env, self.workers = env, workers

    def __enter__(self):
        port = _free_port()
        self.process = _serve(self.env, port, self.workers)
        self.base = f"http://127.0.0.1:{port}"
        return self

    def cpu_seconds(self):
        """CPU time (user + system) its workers have used so far: a page's cost that other processes
        sharing the cores do not inflate, unlike its requests per second."""
        total = 0
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        for pid in (children.read_text().split() if children.exists() else []):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return total / os.sysconf("SC_CLK_TCK")

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(30)


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=("small", "medium", "campaign"), default="small")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the data folder)")
    parser.add_argument("--data-dir", help="default /tmp/villageaid-bench-<scale>")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--honor-roll-runs", type=int, default=3,
                        help="median of this many honor-roll computations after the pages (0: skip them)")
    parser.add_argument("--redis-url", help="spike mode's shared page cache (default: per-process fakeredis)")
    parser.add_argument("--only", help="comma-separated page names (hello-world is always measured; the honor "
                                       "roll and spike mode only when named: honor_roll, home_cached, ...)")
    parser.add_argument("--reuse-index", action="store_true",
                        help="trust the search index already in the data folder (verify reads every row: minutes at campaign scale)")
    return parser.parse_args(argv)


def _flask(env, *args, check=True):
    return subprocess.run([str(VENV_BIN / "flask"), "--app", "villageaid", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=check)


def _data(args, env, figures):
    _flask(env, "db", "upgrade")  # a data set made by an older version gets this version's schema and indexes
    probe = subprocess.run([sys.executable, "-c", _COUNT_NEEDS], env=env, capture_output=True, text=True)
    needs = int(probe.stdout.strip() or 0) if probe.returncode == 0 else 0
    if needs:
        print(f"data: reusing {needs:,} needs in {env.get('DATABASE_URL') or env['DATA_DIR']}")
        return
    started = time.perf_counter()
    command = [sys.executable, str(ROOT / "bench" / "generate.py"), "--scale", args.scale]
    subprocess.run(command, env=env, cwd=ROOT, check=True)
    figures["generate_s"] = time.perf_counter() - started
    print(f"data: generated in {figures['generate_s']:.0f} s")


_COUNT_NEEDS = """
from villageaid import create_app
from villageaid.extensions import db
from sqlalchemy import text
app = create_app()
with app.app_context():
    try:
        print(db.session.scalar(text("SELECT count(*) FROM need")))
    except Exception:
        print(0)
"""


def _index(env, figures):
    verify = _flask(env, "search", "verify", check=False)
    if verify.returncode == 0:
        print("search index: reusing (verify found nothing missing or stale)")
        return
    started = time.perf_counter()
    rebuilt = _flask(env, "search", "rebuild")
    seconds = time.perf_counter() - started
    # The command's own timing: the rebuild itself, without the process starting and loading the dictionary.
    own = re.search(r"indexed (\d+) documents in ([\d.]+) s", rebuilt.stdout)
    documents, built = (int(own.group(1)), float(own.group(2))) if own else (0, seconds)
    figures["index_docs_per_s"] = documents / built if documents and built else None
    print(f"search index: rebuilt {documents:,} documents in {built:.0f} s ({seconds:.0f} s with the command's start)"
          + (f", {figures['index_docs_per_s']:.0f} documents/s" if figures["index_docs_per_s"] else ""))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(env, port, workers):
    server = subprocess.Popen([str(VENV_BIN / "gunicorn"), "--preload", "--workers", str(workers),
                               "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "villageaid.wsgi:app"],
                              env=env, cwd=ROOT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return server
        except OSError:
            if server.poll() is not None:
                sys.exit("run: gunicorn did not start")
            time.sleep(0.3)
    server.kill()
    sys.exit("run: gunicorn did not answer within 60 s")


def _targets(env, base):
    """name → (path or None when the site has no such page yet, cookie or None)."""
    probe = subprocess.run([sys.executable, "-c", _PICK], env=env, capture_output=True, text=True, check=True)
    picked = dict(line.split("=", 1) for line in probe.stdout.split())
    cookie = _login(base, picked["email"])
    filters = urlencode({"province": picked["province"], "category": "industry", "sort": "deadline"})
    return {
        "hello": ("/ping", None),
        "home": ("/", None),
        "needs_list": (f"/needs?{filters}", None),
        "needs_deep": ("/needs?page=500", None),
        "need_page": (f"/needs/{picked['need']}", None),
        "search": ("/search?" + urlencode({"q": "花椒 合作社"}), None),
        "recommendations": ("/me/recommendations", cookie),
        "stats": ("/stats" if _exists(base, "/stats") else None, None),
    }


_PICK = """
from villageaid import create_app
from villageaid.extensions import db
from sqlalchemy import text
app = create_app()
with app.app_context():
    need = db.session.execute(text("SELECT id FROM need WHERE status = 'in_delivery' ORDER BY id LIMIT 1")).scalar()
    email = db.session.execute(text(
        "SELECT u.email FROM \\"user\\" u JOIN membership m ON m.user_id = u.id JOIN organization o ON o.id = m.organization_id "
        "WHERE o.status = 'verified' AND o.province_code = '330000000000' ORDER BY o.id LIMIT 1")).scalar()
    province = db.session.execute(text(
        "SELECT province_code FROM need GROUP BY province_code ORDER BY count(*) DESC LIMIT 1")).scalar()
    print(f"need={need} email={email} province={province}")
"""


def _exists(base, path):
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(base + path, timeout=30)
        return True
    except urllib.error.HTTPError as error:
        return error.code != 404


def _login(base, email):
    """Sign in as a browser would (CSRF token from the form) and return the session cookie for ab."""
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/auth/login", timeout=30).read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": PASSWORD}).encode()
    opener.open(base + "/auth/login", data=data, timeout=30).read()
    cookies = {c.name: c.value for c in jar}
    if "session" not in cookies:
        sys.exit(f"run: could not sign in as {email}")
    return f"session={cookies['session']}"


def _ab(url, cookie, concurrency, seconds, cpu_seconds):
    base = ["ab", "-k", "-q", "-c", str(concurrency), "-s", "60", "-l"]
    if cookie:
        base += ["-C", cookie]
    subprocess.run(base + ["-n", str(concurrency * 10), url], capture_output=True, text=True)  # warm-up
    cpu_before = cpu_seconds()
    done = subprocess.run(base + ["-t", str(seconds), "-n", "10000000", url], capture_output=True, text=True)
    cpu = cpu_seconds() - cpu_before
    out = done.stdout
    if done.returncode != 0 or "Requests per second" not in out:
        return {"error": (done.stderr or out).strip().splitlines()[-1:]}

    def number(pattern, default=0.0):
        found = re.search(pattern, out)
        return float(found.group(1)) if found else default

    return {"rps": number(r"Requests per second:\s+([\d.]+)"), "p50": number(r"\n\s+50%\s+(\d+)"),
            "p99": number(r"\n\s+99%\s+(\d+)"), "requests": int(number(r"Complete requests:\s+(\d+)")),
            "non_2xx": int(number(r"Non-2xx responses:\s+(\d+)")), "failed": int(number(r"Failed requests:\s+(\d+)")),
            "cpu_ms": 1000 * cpu / max(1, int(number(r"Complete requests:\s+(\d+)")))}


def _print_result(name, path, result):
    if "error" in result:
        print(f"{name:<18} {path:<60} error: {result['error']}")
        return
    print(f"{name:<18} {path:<60} {result['rps']:>8.1f} req/s  p50 {result['p50']:>4.0f} ms  p99 {result['p99']:>5.0f} ms"
          f"  {result['requests']:>6} requests, {result['non_2xx']} non-2xx, {result['cpu_ms']:.2f} ms CPU each")


def _report(figures, results):
    hello = results["hello"]["rps"] if results.get("hello") and "rps" in results["hello"] else None
    print()
    if "index_docs_per_s" in figures and figures["index_docs_per_s"]:
        print(f"index build: {figures['index_docs_per_s']:.0f} documents/s")
    if figures.get("honor_roll"):
        hr = figures["honor_roll"]
        print(f"honor roll: {int(hr['deliveries']):,} verified deliveries in the period, aggregate "
              f"{float(hr['aggregate_s']):.2f} s, whole job {float(hr['job_s']):.2f} s (medians)")
    print("ratio to hello-world (same run):")
    ratios = {}
    for name, result in results.items():
        if name == "hello":
            continue
        if result is None or "rps" not in result or not hello:
            ratios[name] = "n/a"
        else:
            ratios[name] = f"{result['rps'] / hello:.3f}"
        print(f"  {name:<18} {ratios[name]}")
    keys = ("needs_list", "needs_deep", "need_page", "search", "recommendations", "stats", "home_cached",
            "needs_list_cached", "honor_roll_cached")
    # The same ratio in the workers' CPU time per request: what the page costs against what hello-world
    # costs, which other processes on the machine do not move (requests per second they do).
    hello_cpu = results["hello"].get("cpu_ms") if results.get("hello") and "rps" in results["hello"] else None
    cpu_ratios = {name: f"{hello_cpu / result['cpu_ms']:.3f}" if hello_cpu and result and result.get("cpu_ms") else "n/a"
                  for name, result in results.items() if name != "hello"}
    print("bench: " + " ".join(f"{key}={ratios.get(key, 'n/a')}" for key in keys))
    print("bench-cpu: " + " ".join(f"{key}={cpu_ratios.get(key, 'n/a')}" for key in keys))
    if figures.get("honor_roll"):
        print("bench-honor-roll: " + " ".join(f"{key}={value}" for key, value in figures["honor_roll"].items()))


if __name__ == "__main__":
    main()
