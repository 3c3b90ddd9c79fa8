"""Periodic work: each task runs at most once per interval across all processes.

On the embedded default `flask serve` runs `tick()` in a background thread; in production
`flask jobs scheduler` does (one or several: claiming a run is a conditional UPDATE, so two
schedulers never start the same run twice). A tick only enqueues jobs; workers run them.
"""
import logging
import threading
from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from . import queue
from .extensions import db
from .timeutil import utcnow

log = logging.getLogger(__name__)

# name → (job path, interval). Features add theirs with `every()` at import time.
TASKS = {}


def every(seconds, name, func):
    TASKS[name] = (func, timedelta(seconds=seconds))


every(60, "drain-outbox", "jobs.maintenance.drain_outbox")


class ScheduledTask(db.Model):
    __tablename__ = "scheduled_task"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def _claim(name, interval, now):
    if db.session.get(ScheduledTask, name) is None:
        try:
            db.session.add(ScheduledTask(name=name))
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
    result = db.session.execute(
        update(ScheduledTask)
        .where(
            ScheduledTask.name == name,
            or_(ScheduledTask.last_run_at.is_(None), ScheduledTask.last_run_at <= now - interval),
        )
        .values(last_run_at=now)
    )
    return result.rowcount == 1


def tick(now=None):
    """Enqueue every task that is due; returns the names enqueued."""
    now = now or utcnow()
    started = []
    for name, (func, interval) in sorted(TASKS.items()):
        if _claim(name, interval, now):
            queue.defer(func)
            started.append(name)
        queue.commit()
    return started


def last_runs():
    return {t.name: t.last_run_at for t in db.session.scalars(select(ScheduledTask))}


def run_forever(app, interval_seconds, stop_event=None):
    """The scheduler loop, for a thread (`flask serve`) or a process (`flask jobs scheduler`)."""
    stop_event = stop_event or threading.Event()
    while not stop_event.is_set():
        with app.app_context():
            try:
                tick()
            except Exception:  # keep the loop alive; the failure is logged and retried next tick
                log.exception("scheduler tick failed")
                db.session.rollback()
            finally:
                db.session.remove()
        stop_event.wait(interval_seconds)


def start_thread(app, interval_seconds):
    stop = threading.Event()
    thread = threading.Thread(target=run_forever, args=(app, interval_seconds, stop), daemon=True, name="scheduler")
    thread.start()
    return stop
