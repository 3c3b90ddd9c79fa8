"""A sustained load of mixed reads and pledges against the site under gunicorn, with zero 5xx: `python bench/load.py`.

    .venv/bin/python bench/load.py [--minutes 5 | --seconds 40] [--readers 8] [--pledgers 4] [--workers 4]
                                   [--scale small | --needs N --pledges N …] [--database-url URL] [--data-dir DIR]
                                   [--rate R]

1. Data: the scale's synthetic data set from bench/generate.py (the counts can be overridden), in
   DATA_DIR (default /tmp/villageaid-bench-<scale>, reused when it is already there) or --database-url,
   upgraded through the migrations first.
2. gunicorn the production way (bench/run.py's: --preload, sync workers, VILLAGEAID_ENV=production
   with its caches on), on a free port.
3. --readers anonymous visitors, each in a thread of its own, read the home page, /needs with filters
   and sorts, need pages, /search, /stats and /track/<code> in a weighted mix; --pledgers signed-in
   donors (the data set's individual donors, logged in through the form with its CSRF token) open a
   need's pledge form and submit it — real POSTs with the form's CSRF and idempotency tokens, for
   amounts that often exceed what is still open, so concurrent pledges race on the conditional UPDATE
   (some needs are "hot": every pledger keeps coming back to them). --rate caps all requests per second.
4. For the duration it counts requests per kind and status, latency p50/p99, refusals and errors; then
   it checks that nothing accepted was lost: every pledge answered as created (302 to its page) is in
   the database with its need and quantity, no pledge was stored that was not answered, and every
   need's pledged total equals the sum of its live pledges (bench/generate.py's invariants).

It exits non-zero — FAIL — on any 5xx, connection error or timeout, or any lost or unexpected pledge
or wrong total. tests/faults/test_sustained_load.py runs the same code for half a minute in CI;
docs/performance.md has a five-minute run.
"""
import argparse
import http.client
import os
import platform
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run as bench  # noqa: E402  bench/run.py: gunicorn the production way, flask commands, the data set's password

ROOT = bench.ROOT
READS = (("home", 10), ("needs_list", 25), ("need_page", 25), ("search", 10), ("stats", 10), ("track", 20))
QUERIES = ("花椒", "合作社", "核桃 种植", "助学", "乡村旅游", "马铃薯", "技能培训", "茶叶")
SORTS = ("newest", "deadline", "least_pledged", "most_beneficiaries")
CATEGORIES = ("industry", "employment", "charity", "skills", "consumption", "volunteering")
INDIVIDUAL_UNITS = ("goods", "volunteer_hours", "cny_fen")  # cny_fen only outside 产业 (a project needs an organisation)


def main(argv=None):
    args = _arguments(argv)
    result = run_load(**vars(args))
    sys.exit(0 if result["ok"] else 1)


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, help="how long to load (default 5)")
    parser.add_argument("--seconds", type=float, help="how long to load, in seconds (overrides --minutes)")
    parser.add_argument("--readers", type=int, default=8, help="anonymous visitors (threads)")
    parser.add_argument("--pledgers", type=int, default=4, help="signed-in donors pledging (threads)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--rate", type=float, help="cap on requests per second, all clients together (default: none)")
    parser.add_argument("--scale", choices=("small", "medium", "campaign"), default="small")
    for key in ("organizations", "villages", "needs", "pledges", "deliveries"):
        parser.add_argument(f"--{key}", type=int, help=f"override the scale's number of {key}")
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the data folder)")
    parser.add_argument("--data-dir", help="default /tmp/villageaid-bench-<scale>")
    parser.add_argument("--seed", type=int, default=1017)
    return parser.parse_args(argv)


def run_load(seconds=None, minutes=None, readers=8, pledgers=4, workers=4, rate=None, scale="small", database_url=None,
             data_dir=None, seed=1017, out=print, **counts):
    """Prepare the data, serve it, load it, check it; returns the figures with "ok" (the tests call this)."""
    duration = seconds if seconds is not None else (minutes if minutes is not None else 5) * 60
    data_dir = Path(data_dir or f"/tmp/villageaid-bench-{scale}")
    data_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, VILLAGEAID_ENV="production", DATA_DIR=str(data_dir), SECRET_KEY="load-" + "x" * 40,
               SCHEDULER_INTERVAL_SECONDS="0", PYTHONPATH=f"{ROOT}{os.pathsep}{ROOT / 'platform'}")  # this checkout's code
    env.pop("REDIS_URL", None)  # jobs run in-process, the page cache per process: nothing shared outside the test
    if database_url:
        env["DATABASE_URL"] = database_url
    else:
        env.pop("DATABASE_URL", None)
    out(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{'PostgreSQL' if database_url else 'SQLite'}, {workers} gunicorn workers, {readers} readers + "
        f"{pledgers} pledgers, {duration:.0f} s" + (f", at most {rate:g} req/s" if rate else ""))
    if _prepare(env, scale, {k: v for k, v in counts.items() if v is not None}, seed, out):
        started = time.perf_counter()
        bench._flask(env, "search", "rebuild")
        out(f"search index: built in {time.perf_counter() - started:.0f} s")
    else:
        bench._index(env, {})  # `flask search rebuild` unless `flask search verify` finds the index complete
    app = _app(env)
    try:
        targets = _targets(app, random.Random(seed))
        before = _last_pledge_id(app)
        out(f"targets: {len(targets['needs'])} needs, {len(targets['pledgeable'])} open to individual pledges "
            f"({len(targets['hot'])} hot), {len(targets['codes'])} tracking codes, {len(targets['donors'])} donors")
        with bench._server(env, workers) as server:
            stats = _drive(getattr(server, "base", server), targets, duration, readers, pledgers, rate, seed)
        problems = _check(app, stats, before)
        return _report(stats, problems, duration, out)
    finally:
        with app.app_context():
            from villageaid.extensions import db

            db.session.remove()
            db.engine.dispose()


# Data and targets -------------------------------------------------------------------------------

def _prepare(env, scale, counts, seed, out):
    """Upgrade the database and generate the data set unless it holds needs; True when generated now."""
    bench._flask(env, "db", "upgrade")
    probe = subprocess.run([sys.executable, "-c", bench._COUNT_NEEDS], env=env, capture_output=True, text=True)
    needs = int(probe.stdout.strip() or 0) if probe.returncode == 0 else 0
    if needs:
        out(f"data: reusing {needs:,} needs in {env.get('DATABASE_URL') or env['DATA_DIR']}")
        return False
    command = [sys.executable, str(ROOT / "bench" / "generate.py"), "--scale", scale, "--seed", str(seed)]
    for key, value in counts.items():
        command += [f"--{key}", str(value)]
    started = time.perf_counter()
    subprocess.run(command, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    out(f"data: generated in {time.perf_counter() - started:.0f} s")
    return True


def _app(env):
    from villageaid import create_app

    return create_app({"ENV_NAME": "development", "DATA_DIR": env["DATA_DIR"], "REDIS_URL": None,
                       "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL")})


def _targets(app, rng):
    from sqlalchemy import text

    from villageaid.extensions import db

    with app.app_context():
        rows = db.session.execute(text(
            "SELECT id, unit, category, target, pledged FROM need WHERE status = 'published' ORDER BY id")).all()
        public = db.session.scalars(text(
            "SELECT id FROM need WHERE status IN ('published', 'fully_pledged', 'in_delivery', 'completed') "
            "ORDER BY id")).all()
        provinces = db.session.scalars(text(
            "SELECT province_code FROM need GROUP BY province_code ORDER BY count(*) DESC LIMIT 5")).all()
        codes = db.session.scalars(text("SELECT code FROM pledge ORDER BY id LIMIT 2000")).all()
        donors = db.session.scalars(text(
            'SELECT u.email FROM "user" u WHERE EXISTS (SELECT 1 FROM pledge p WHERE p.pledger_id = u.id '
            "AND p.organization_id IS NULL) AND NOT EXISTS (SELECT 1 FROM membership m WHERE m.user_id = u.id) "
            "ORDER BY u.id LIMIT 200")).all()
        db.session.remove()
    pledgeable = [(need_id, unit, target - pledged) for need_id, unit, category, target, pledged in rows
                  if unit in INDIVIDUAL_UNITS and not (unit == "cny_fen" and category == "industry")
                  and target - pledged >= (100 if unit == "cny_fen" else 1)]
    hot = rng.sample(pledgeable, min(10, len(pledgeable)))
    return {"needs": public, "pledgeable": pledgeable, "hot": hot, "provinces": provinces, "codes": list(codes),
            "donors": list(donors)}


def _last_pledge_id(app):
    from sqlalchemy import text

    from villageaid.extensions import db

    with app.app_context():
        last = db.session.scalar(text("SELECT coalesce(max(id), 0) FROM pledge"))
        db.session.remove()
    return last


# A browser --------------------------------------------------------------------------------------

class Client:
    """One visitor: an HTTP connection to the site (reopened whenever gunicorn closes it) and cookies.

    Cookies are kept whatever their Secure flag (TLS ends at the reverse proxy in production). Nothing
    is retried: a request that fails is counted as failed."""

    def __init__(self, base, timeout=60):
        parts = urlsplit(base)
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self.cookies, self.conn = {}, None

    def request(self, method, path, body=None, content_type=None):
        headers = {"Host": f"{self.host}:{self.port}", "User-Agent": "villageaid-load/1", "Accept-Language": "zh-CN"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["Content-Type"] = content_type
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
            data = response.read()
        except Exception:
            self.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or ():
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return response.status, response.headers, data.decode("utf-8", "replace")

    def get(self, path):
        return self.request("GET", path)

    def post_form(self, path, fields):
        return self.request("POST", path, urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class _FormFields(HTMLParser):
    """The fields a browser would submit from the page's POST form to `action` (checkboxes left unticked)."""

    def __init__(self, action):
        super().__init__()
        self.action = action
        self.fields, self._in_form, self._done, self._select = {}, False, False, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (tag == "form" and not self._done and (attrs.get("method") or "").lower() == "post"
                and urlsplit(attrs.get("action") or "").path in ("", self.action)):
            self._in_form = True
        if not self._in_form:
            return
        name = attrs.get("name")
        if tag == "input" and name and attrs.get("type") not in ("checkbox", "radio", "submit", "file"):
            self.fields[name] = attrs.get("value") or ""
        elif tag == "textarea" and name:
            self.fields[name] = ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, None)
        elif tag == "option" and self._select:
            if self.fields[self._select] is None or "selected" in attrs:
                self.fields[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_fields(html, action):
    """Field → value of the page's POST form to the path `action` (or with no action: the page's own
    path, which the caller passes then); empty when there is none."""
    parser = _FormFields(action)
    parser.feed(html)
    return {k: v or "" for k, v in parser.fields.items()}


def log_in(client, email, password=bench.PASSWORD):
    """Sign in through the form, as a browser does; returns the status of the POST (302 when signed in)."""
    status, _headers, page = client.get("/auth/login")
    fields = form_fields(page, "/auth/login")
    fields.update(email=email, password=password)
    status, _headers, _page = client.post_form("/auth/login", fields)
    return status


# The load ---------------------------------------------------------------------------------------

class Stats:
    """What every client saw, merged under a lock (a thread appends a few hundred times a second at most)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latencies = defaultdict(list)  # kind → seconds
        self.statuses = defaultdict(Counter)  # kind → status → count
        self.errors = Counter()  # "kind: ExceptionName" → count
        self.error_samples = []
        self.accepted = []  # (pledge id, need id, quantity in the need's unit) answered as created
        self.refused = Counter()  # status → count (400: over-pledged or no longer open)
        self.login_failures = []

    def record(self, kind, seconds, status=None, error=None):
        with self.lock:
            if error is not None:
                self.errors[f"{kind}: {type(error).__name__}"] += 1
                if len(self.error_samples) < 10:
                    self.error_samples.append(f"{kind}: {error!r}")
            else:
                self.latencies[kind].append(seconds)
                self.statuses[kind][status] += 1


class _Pacer:
    """At most `rate` request starts per second across all threads (None: no cap)."""

    def __init__(self, rate):
        self.interval = 1.0 / rate if rate else 0.0
        self.lock, self.next = threading.Lock(), time.monotonic()

    def wait(self):
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            start = max(now, self.next)
            self.next = start + self.interval
        if start > now:
            time.sleep(start - now)


def _timed(stats, pacer, kind, call, *args):
    pacer.wait()
    started = time.perf_counter()
    try:
        status, headers, page = call(*args)
    except Exception as exc:  # connection refused or reset, timeout: a failure like a 5xx
        stats.record(kind, time.perf_counter() - started, error=exc)
        return None
    stats.record(kind, time.perf_counter() - started, status)
    if status >= 500 and len(stats.error_samples) < 10:
        with stats.lock:
            stats.error_samples.append(f"{kind} {args[0]} → {status}: {page[:300]!r}")
    return status, headers, page


def _read_path(kind, targets, rng):
    if kind == "home":
        return "/"
    if kind == "needs_list":
        filters = {"sort": rng.choice(SORTS)}
        if rng.random() < 0.7:
            filters["province"] = rng.choice(targets["provinces"])
        if rng.random() < 0.5:
            filters["category"] = rng.choice(CATEGORIES)
        if rng.random() < 0.2:
            filters["page"] = rng.randint(2, 5)
        return "/needs?" + urlencode(filters)
    if kind == "need_page":
        return f"/needs/{rng.choice(targets['needs'])}"
    if kind == "search":
        return "/search?" + urlencode({"q": rng.choice(QUERIES)})
    if kind == "stats":
        return "/stats"
    return f"/track/{rng.choice(targets['codes'])}"


def _reader(base, targets, stats, pacer, stop, seed):
    rng = random.Random(seed)
    client = Client(base)
    kinds, weights = zip(*READS)
    try:
        while not stop.is_set():
            kind = rng.choices(kinds, weights)[0]
            if kind == "track" and not targets["codes"]:
                kind = "home"
            _timed(stats, pacer, kind, client.get, _read_path(kind, targets, rng))
    finally:
        client.close()


def _pledger(base, targets, stats, pacer, stop, seed, email):
    client = Client(base)
    started = time.perf_counter()
    try:
        status = log_in(client, email)
        stats.record("login", time.perf_counter() - started, status)
        if status == 302:
            _pledge_until(client, targets, stats, pacer, stop, random.Random(seed))
        else:
            with stats.lock:
                stats.login_failures.append(f"{email}: {status}")
    except Exception as exc:  # signing in failed on the wire
        stats.record("login", time.perf_counter() - started, error=exc)
    finally:
        client.close()


def _pledge_until(client, targets, stats, pacer, stop, rng):
    while not stop.is_set():
        need_id, unit, remaining = rng.choice(targets["hot"] if rng.random() < 0.3 else targets["pledgeable"])
        form = _timed(stats, pacer, "pledge_form", client.get, f"/needs/{need_id}/pledge")
        if form is None or form[0] != 200:
            continue
        fields = form_fields(form[2], f"/needs/{need_id}/pledge")
        if "quantity" not in fields:  # the need filled up meanwhile: the page says so, with no form
            continue
        units = remaining // 100 if unit == "cny_fen" else remaining  # the form takes yuan for money
        asked = rng.randint(1, max(1, units // 3)) if rng.random() < 0.8 else rng.randint(1, max(1, units * 2))
        fields.update(quantity=str(asked), organization_id="", note="压力测试认捐")
        answer = _timed(stats, pacer, "pledge", client.post_form, f"/needs/{need_id}/pledge", fields)
        if answer is None:
            continue
        status, headers, _page = answer
        if status == 302:
            match = re.search(r"/pledges/(\d+)$", headers.get("Location", ""))
            quantity = asked * 100 if unit == "cny_fen" else asked
            with stats.lock:
                stats.accepted.append((int(match.group(1)) if match else None, need_id, quantity))
            if match:
                _timed(stats, pacer, "pledge_page", client.get, f"/pledges/{match.group(1)}")
        elif status < 500:
            with stats.lock:
                stats.refused[status] += 1


def _drive(base, targets, duration, readers, pledgers, rate, seed):
    stats, stop, pacer = Stats(), threading.Event(), _Pacer(rate)
    threads = [threading.Thread(target=_reader, args=(base, targets, stats, pacer, stop, seed + i), daemon=True)
               for i in range(readers)]
    donors = targets["donors"]
    for i in range(min(pledgers, len(donors)) if targets["pledgeable"] else 0):
        threads.append(threading.Thread(target=_pledger, daemon=True,
                                         args=(base, targets, stats, pacer, stop, seed + 1000 + i, donors[i])))
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(duration)
    stop.set()
    for thread in threads:
        thread.join(120)
    stats.elapsed = time.monotonic() - started
    stats.hung = sum(thread.is_alive() for thread in threads)
    return stats


# Nothing accepted was lost ----------------------------------------------------------------------

def _check(app, stats, before):
    """Every problem found in the database after the load (an empty list: nothing lost, totals right)."""
    from sqlalchemy import text

    import generate
    from villageaid.extensions import db

    problems = []
    with app.app_context():
        stored = {pledge_id: (need_id, quantity) for pledge_id, need_id, quantity in db.session.execute(
            text("SELECT id, need_id, quantity FROM pledge WHERE id > :before"), {"before": before})}
        answered = {}
        for pledge_id, need_id, quantity in stats.accepted:
            if pledge_id is None:
                problems.append(f"a pledge on need {need_id} was answered as created without its page")
            else:
                answered[pledge_id] = (need_id, quantity)
        lost = sorted(set(answered) - set(stored))
        unexpected = sorted(set(stored) - set(answered))
        wrong = sorted(pid for pid in set(answered) & set(stored) if answered[pid] != stored[pid])
        if lost:
            problems.append(f"{len(lost)} pledges answered as created are not in the database: {lost[:10]}")
        if unexpected:
            problems.append(f"{len(unexpected)} pledges are stored that no client was told of: {unexpected[:10]}")
        if wrong:
            problems.append(f"{len(wrong)} pledges are stored with another need or quantity: {wrong[:10]}")
        problems += generate.inconsistencies(db)
        over = db.session.scalar(text("SELECT count(*) FROM need WHERE pledged > target"))
        if over:
            problems.append(f"{over} needs are pledged beyond their target")
        db.session.remove()
    stats.stored = len(stored)
    return problems


def _percentile(values, fraction):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _report(stats, problems, duration, out):
    all_latencies = [s for values in stats.latencies.values() for s in values]
    total = len(all_latencies) + sum(stats.errors.values())
    statuses = Counter()
    for counter in stats.statuses.values():
        statuses.update(counter)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    failed = sum(stats.errors.values())
    out(f"{total:,} requests in {stats.elapsed:.0f} s ({total / stats.elapsed:.1f} req/s), "
        f"p50 {_percentile(all_latencies, 0.5) * 1000:.0f} ms, p99 {_percentile(all_latencies, 0.99) * 1000:.0f} ms")
    out(f"{'kind':<12} {'requests':>9} {'p50 ms':>7} {'p99 ms':>7}  statuses")
    for kind in sorted(stats.latencies, key=lambda k: -len(stats.latencies[k])):
        values = stats.latencies[kind]
        histogram = " ".join(f"{status}×{n}" for status, n in sorted(stats.statuses[kind].items()))
        out(f"{kind:<12} {len(values):>9,} {_percentile(values, 0.5) * 1000:>7.0f} {_percentile(values, 0.99) * 1000:>7.0f}"
            f"  {histogram}")
    out("statuses: " + " ".join(f"{status}×{n}" for status, n in sorted(statuses.items())))
    out(f"pledges: {len(stats.accepted):,} accepted and stored ({stats.stored:,} new rows), "
        f"{sum(stats.refused.values()):,} refused ({' '.join(f'{s}×{n}' for s, n in sorted(stats.refused.items()))})")
    if failed:
        out("connection errors: " + ", ".join(f"{what} ×{n}" for what, n in stats.errors.most_common()))
    for sample in stats.error_samples:
        out(f"  {sample}")
    if stats.hung:
        problems.append(f"{stats.hung} client threads did not finish")
    if stats.login_failures:
        problems.append(f"{len(stats.login_failures)} donors could not sign in: {stats.login_failures[:5]}")
    for problem in problems:
        out(f"check: {problem}")
    ok = not server_errors and not failed and not problems and total > 0
    out(f"load: {'OK' if ok else 'FAIL'} — {server_errors} 5xx, {failed} connection errors, "
        f"{len(problems)} problems in the database")
    return {"ok": ok, "requests": total, "statuses": dict(statuses), "server_errors": server_errors,
            "connection_errors": failed, "problems": problems, "accepted": len(stats.accepted),
            "refused": sum(stats.refused.values()), "kinds": {k: len(v) for k, v in stats.latencies.items()},
            "p50": _percentile(all_latencies, 0.5), "p99": _percentile(all_latencies, 0.99),
            "seconds": stats.elapsed, "duration": duration}


if __name__ == "__main__":
    main()
