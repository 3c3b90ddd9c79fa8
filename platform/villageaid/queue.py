"""The one place jobs are enqueued.

Features never talk to RQ directly. Inside a transaction they call `defer()`, which writes a
row to the job outbox in that same transaction; `commit()` commits and then enqueues those rows.
So a job never looks for a row that is not committed yet, a rolled-back action enqueues nothing,
and a Redis outage never fails the user's action: the row waits and `drain()` (run by the
scheduler) enqueues it once Redis is back.

With REDIS_URL unset, the same RQ code runs jobs in-process (`is_async=False` on fakeredis).
"""
import logging
import threading
from datetime import timedelta

import fakeredis
from flask import current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from sqlalchemy import JSON, DateTime, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .timeutil import utcnow

log = logging.getLogger(__name__)

QUEUES = ("default", "search")  # "search" has exactly one worker: the index has one writer
MAX_INLINE_ATTEMPTS = 3
# A failed or abandoned job runs again after 10 s, 60 s and 300 s (the worker's maintenance enqueues
# due retries: jobs/worker.py), then is given up and shown failed (`record_given_up`).
RETRY_MAX, RETRY_INTERVALS = 3, [10, 60, 300]
# rq stops a job after 180 s unless told otherwise. These take longer at campaign scale (the index
# rebuild takes 45 minutes), and stopping them only to run them again from the start helps nobody.
JOB_TIMEOUTS = {
    "jobs.search.rebuild_index": 6 * 3600,
    "jobs.search.repair_index": 6 * 3600,
    "jobs.ledger.build_export": 2 * 3600,
    "jobs.villages.import_villages": 3600,
}


class OutboxJob(db.Model):
    """A job written in the transaction that caused it, enqueued after that transaction commits."""

    __tablename__ = "job_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    func: Mapped[str] = mapped_column(String(200))
    args: Mapped[list] = mapped_column(JSON, default=list)
    queue_name: Mapped[str] = mapped_column(String(40), default="default")
    created_at: Mapped["DateTime"] = mapped_column(DateTime(timezone=True), default=utcnow)
    enqueued_at: Mapped["DateTime | None"] = mapped_column(DateTime(timezone=True), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    @property
    def rq_job_id(self):
        return f"outbox-{self.id}"


_CONNECTING = threading.Lock()


def redis_connection():
    """The Redis connection jobs go through: real Redis when REDIS_URL is set, else fakeredis."""
    app = current_app._get_current_object()
    conn = app.extensions.get("villageaid.redis")
    if conn is None:
        with _CONNECTING:  # threads of `flask serve` asking first at once must share one fakeredis
            conn = app.extensions.get("villageaid.redis")
            if conn is None:
                url = app.config.get("REDIS_URL")
                if url:
                    # Short timeouts: a hung Redis must fail an enqueue in half a second, not a minute.
                    conn = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
                else:
                    conn = fakeredis.FakeStrictRedis()
                app.extensions["villageaid.redis"] = conn
    return conn


def is_inline():
    return not current_app.config.get("REDIS_URL")


def get_queue(name="default"):
    """The RQ queue `name`; jobs run inline when no Redis is configured."""
    return Queue(name, connection=redis_connection(), is_async=not is_inline())


PENDING = "villageaid.outbox.pending"  # deferred in the open transaction
COMMITTED = "villageaid.outbox.committed"  # committed, not yet enqueued


def defer(func, *args, queue="default"):
    """Record job `func` (a dotted path such as "jobs.mail.send_email") with JSON-able args."""
    row = OutboxJob(func=func, args=list(args), queue_name=queue)
    db.session.add(row)
    db.session.info.setdefault(PENDING, []).append(row)
    return row


def commit():
    """Commit the session, then enqueue the jobs deferred in that transaction."""
    db.session.commit()
    dispatch_pending()


def dispatch_pending():
    """Enqueue the jobs of transactions that have committed (called after commit and after each request)."""
    while db.session.info.get(COMMITTED):
        dispatch(db.session.info[COMMITTED].pop(0))


def register_session_events(session):
    """Track deferred jobs through commit and rollback, whoever commits (once per session factory)."""
    from sqlalchemy import event

    if not event.contains(session, "after_commit", _committed):
        event.listen(session, "after_commit", _committed)
        event.listen(session, "after_rollback", _rolled_back)


def _committed(sess):
    pending = sess.info.pop(PENDING, [])
    if pending:
        sess.info.setdefault(COMMITTED, []).extend(pending)


def _rolled_back(sess):
    # The outbox rows were rolled back with everything else: nothing to enqueue.
    sess.info.pop(PENDING, None)


def dispatch(row):
    """Enqueue one outbox row; on failure leave it for `drain()` and say why."""
    row.attempts += 1
    try:
        queue = get_queue(row.queue_name)
        job = queue.enqueue(
            row.func,
            *row.args,
            job_id=row.rq_job_id,
            retry=None if queue.is_async is False else Retry(max=RETRY_MAX, interval=RETRY_INTERVALS),
            job_timeout=JOB_TIMEOUTS.get(row.func),
            failure_ttl=30 * 24 * 3600,
        )
    except RedisError as exc:
        log.warning("could not enqueue %s (%s); it stays in the outbox", row.func, exc)
        row.last_error = f"enqueue failed: {exc}"
        db.session.commit()
        return False
    if not queue.is_async and job.is_failed:
        # Inline, a failing job does not raise: record it so drain() retries and it shows.
        result = job.latest_result()
        row.last_error = result.exc_string if result is not None else "failed"
        log.error("job %s failed inline (attempt %s): %s", row.func, row.attempts, row.last_error)
        if row.attempts >= MAX_INLINE_ATTEMPTS:
            row.enqueued_at = utcnow()  # give up retrying; it stays visible as failed
        db.session.commit()
        return False
    row.enqueued_at = utcnow()
    row.last_error = None
    db.session.commit()
    return True


def drain(min_age_seconds=5):
    """Enqueue outbox rows that were never enqueued (Redis was down, or the process died)."""
    cutoff = utcnow() - timedelta(seconds=min_age_seconds)
    rows = db.session.scalars(
        select(OutboxJob)
        .where(OutboxJob.enqueued_at.is_(None), OutboxJob.created_at <= cutoff)
        .order_by(OutboxJob.id)
        .limit(500)
    ).all()
    done = 0
    for row in rows:
        done += bool(dispatch(row))
    return done


def failed_jobs():
    """Outbox rows that failed and were given up, newest first (for the admin)."""
    return db.session.scalars(
        select(OutboxJob).where(OutboxJob.last_error.is_not(None)).order_by(OutboxJob.id.desc()).limit(100)
    ).all()



# Jobs rq gave up on ------------------------------------------------------------------------

GIVEN_UP = {}  # job path → handler(*job args, reason=…) that shows the failure on the feature's own row
GIVEN_UP_PREFIX = "given up: "


def on_given_up(func, handler):
    """When job `func` is given up for good, call `handler(*its args, reason=…)` (features, at import time)."""
    GIVEN_UP[func] = handler


def record_given_up(names=QUEUES, limit=1000):
    """Record on their outbox rows the jobs rq has given up on, once each; returns how many were new.

    rq's FailedJobRegistry holds every job that raised, timed out, lost its work horse or was
    abandoned by a worker that died, with no retry left. Each such job's outbox row gets
    `last_error` (so `flask jobs failed` lists it) and the feature's handler, if it registered one,
    marks its own row failed: the village import or ledger export then says so on its page, instead
    of "running" for ever. Run by every worker's maintenance (jobs/worker.py); a conditional UPDATE
    makes sure two workers never record the same failure twice.
    """
    from rq.registry import FailedJobRegistry

    connection = redis_connection()
    recorded = 0
    for name in names:
        job_ids = FailedJobRegistry(name, connection=connection).get_job_ids(0, limit - 1, desc=True)
        ids = {int(job_id[7:]): job_id for job_id in job_ids if job_id.startswith("outbox-") and job_id[7:].isdigit()}
        if not ids:
            continue
        rows = db.session.scalars(
            select(OutboxJob).where(OutboxJob.id.in_(ids), OutboxJob.last_error.is_(None)).order_by(OutboxJob.id)
        ).all()
        for row in rows:
            kind, line = _failure_of(_fetch(ids[row.id], connection))
            claimed = db.session.execute(
                update(OutboxJob).where(OutboxJob.id == row.id, OutboxJob.last_error.is_(None))
                .values(last_error=f"{GIVEN_UP_PREFIX}{line}")
            ).rowcount
            if claimed != 1:
                db.session.rollback()
                continue
            log.error("job %s (%s) was given up: %s", row.rq_job_id, row.func, line)
            handler = GIVEN_UP.get(row.func)
            try:
                if handler is not None:
                    handler(*row.args, reason=kind)
                db.session.commit()
            except Exception:  # the outbox row still says so, where `flask jobs failed` lists it
                log.exception("recording that job %s was given up failed", row.rq_job_id)
                db.session.rollback()
                db.session.execute(update(OutboxJob).where(OutboxJob.id == row.id, OutboxJob.last_error.is_(None))
                                   .values(last_error=f"{GIVEN_UP_PREFIX}{line}"))
                db.session.commit()
            recorded += 1
    return recorded


def _fetch(job_id, connection):
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        return Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return None


def _failure_of(job):
    """(kind, last line) of why rq gave `job` up: the exception's name, or what happened to the worker."""
    result = job.latest_result() if job is not None else None
    lines = (result.exc_string or "").strip().splitlines() if result is not None else []
    line = (lines[-1] if lines else "failed")[:500]
    if "AbandonedJobError" in line:
        kind = "AbandonedJobError"  # its worker died (SIGKILL, OOM, lost machine) and no retry was left
    elif line.startswith("Work-horse terminated"):
        kind = "WorkHorseTerminated"
    else:
        kind = line.split(":", 1)[0].strip().rsplit(".", 1)[-1][:80] or "failed"
    return kind, line
