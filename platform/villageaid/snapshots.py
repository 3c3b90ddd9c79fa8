"""Snapshots in Redis that one process computes while the others wait: the home figures and /stats.

A snapshot aggregates whole tables (seconds at campaign scale). Its job rewrites it before it expires;
when it is missing all the same (a fresh deployment, Redis restarted, the scheduler stopped), every
request that finds it missing would aggregate the tables at once: on a spike, every worker and thread
for seconds each. Instead the first takes a lock in Redis and computes; the others wait for its result
(polling Redis) and compute only if none arrives within `wait` seconds. The lock expires by itself, so
a process killed mid-computation holds nobody up for longer than LOCK_SECONDS. Threads of one process
share its connection, so on the embedded default (fakeredis in-process) the threads of `flask serve`
wait for one another the same way.
"""
import json
import logging
import time

from redis.exceptions import RedisError

from . import queue

log = logging.getLogger(__name__)

LOCK_SECONDS = 120  # longer than any snapshot takes at campaign scale
POLL_SECONDS = 0.05


def load(key):
    """The stored snapshot, or None when there is none. Raises RedisError."""
    stored = queue.redis_connection().get(key)
    return json.loads(stored) if stored else None


def store(key, snapshot, ttl):
    try:
        queue.redis_connection().set(key, json.dumps(snapshot), ex=ttl)
    except RedisError as error:
        log.warning("snapshot %s not stored: %s", key, error)
    return snapshot


def compute_once(key, ttl, compute, *, wait=30.0):
    """The snapshot at `key`, computed and stored by whichever caller takes the lock first; the others
    wait up to `wait` seconds for it, then compute it themselves. Without Redis, computes it."""
    conn = queue.redis_connection()
    lock = f"{key}:computing"
    deadline = time.monotonic() + wait
    while True:
        try:
            if conn.set(lock, "1", nx=True, ex=LOCK_SECONDS):
                snapshot = load(key)  # stored by another caller since this one looked
                if snapshot is None:
                    break
                conn.delete(lock)
                return snapshot
            snapshot = load(key)
        except RedisError as error:
            log.warning("snapshot %s: Redis unavailable (%s), computing it here", key, error)
            return compute()
        if snapshot is not None:
            return snapshot
        if time.monotonic() >= deadline:
            log.warning("snapshot %s: still missing after %.0f s, computing it here", key, wait)
            return store(key, compute(), ttl)
        time.sleep(POLL_SECONDS)
    try:
        return store(key, compute(), ttl)
    finally:
        try:
            conn.delete(lock)
        except RedisError:
            pass  # it expires after LOCK_SECONDS
