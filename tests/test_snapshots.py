"""A missing snapshot (the home figures, /stats) is computed by one caller while the others wait for it:
threads of one process on fakeredis, and processes (here: apps with their own connections) on Redis."""
import json
import threading
import time

import pytest

from villageaid import queue, snapshots
from villageaid.main import services as home
from villageaid.stats import services as stats

KEY = "villageaid:test:snapshot"


def _race(apps, get, callers=6):
    """Call `get()` from `callers` threads at once, each in an app context of one of `apps` in turn."""
    results, errors = [None] * callers, []
    start = threading.Barrier(callers)

    def call(n):
        with apps[n % len(apps)].app_context():
            start.wait()
            try:
                results[n] = get()
            except Exception as error:  # noqa: BLE001 - reported by the assertion below
                errors.append(error)

    threads = [threading.Thread(target=call, args=(n,)) for n in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    return results


def _slow_compute(calls, seconds=0.3):
    def compute(*_args):
        calls.append(threading.get_ident())
        time.sleep(seconds)
        return {"computed_at": f"#{len(calls)}", "n": len(calls)}
    return compute


@pytest.mark.parametrize("module", [stats, home], ids=["stats", "home"])
def test_threads_finding_no_snapshot_compute_it_once(app, monkeypatch, module):
    calls = []
    monkeypatch.setattr(module, "compute", _slow_compute(calls))
    results = _race([app], module.current)
    assert len(calls) == 1
    assert all(r["computed_at"] == "#1" for r in results)
    assert module.current()["computed_at"] == "#1" and len(calls) == 1  # stored for the next request


def test_processes_sharing_redis_compute_it_once(app_factory, redis_url, monkeypatch):
    apps = [app_factory(REDIS_URL=redis_url) for _ in range(3)]  # three connections, as three workers have
    calls = []
    monkeypatch.setattr(stats, "compute", _slow_compute(calls))
    results = _race(apps, stats.current)
    assert len(calls) == 1 and {r["computed_at"] for r in results} == {"#1"}


def test_a_lock_left_by_a_dead_process_holds_the_others_up_only_until_the_wait_is_over(app):
    queue.redis_connection().set(f"{KEY}:computing", "1", ex=60)  # its holder was killed mid-computation
    calls = []
    started = time.monotonic()
    snapshot = snapshots.compute_once(KEY, 60, _slow_compute(calls, 0), wait=0.3)
    assert calls and snapshot["n"] == 1 and 0.3 <= time.monotonic() - started < 5
    assert snapshots.load(KEY) == snapshot


def test_a_snapshot_stored_while_waiting_for_the_lock_is_served(app):
    conn = queue.redis_connection()
    conn.set(f"{KEY}:computing", "1", ex=60)
    holder = threading.Timer(0.2, lambda: conn.set(KEY, json.dumps({"from": "the holder"}), ex=60))
    holder.start()
    calls = []
    assert snapshots.compute_once(KEY, 60, _slow_compute(calls), wait=5) == {"from": "the holder"}
    assert calls == []
    holder.join()
