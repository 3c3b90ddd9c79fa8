"""Worker entry point: `python -m jobs.worker [queues…]` (production runs it under a supervisor).

Run exactly one worker for the "search" queue: the index has one writer.

A worker killed mid-job (SIGKILL, OOM, a lost machine) leaves its job "started" in Redis with no one
running it. rq notices only when the job's heartbeat expires (90 s by default) and only when some
worker next cleans its registries (every 10 minutes by default), and the retry it then schedules
after 10 s is moved back into the queue only by an rq scheduler, which our workers did not run: the
job sat in rq's scheduled registry for ever and its import or export said "running" for ever.
This worker therefore:

- reports each running job alive every JOB_HEARTBEAT_SECONDS and lets the report expire after
  JOB_ABANDONED_AFTER_SECONDS, and cleans its registries that often too, so a dead worker's job is
  retried (rq's own StartedJobRegistry cleanup) about a minute after the worker died;
- moves due retries into their queues at each maintenance (under rq's scheduler lock, taken and
  released each time, so a worker that dies holding it does not stop retries for long);
- records jobs rq has given up on (`queue.record_given_up`): on their outbox rows, where
  `flask jobs failed` lists them, and on the feature's row (the import or export says it failed).

Every job may therefore run more than once, and each is idempotent.
"""
import logging
import sys

from rq import Worker as RQWorker
from rq.scheduler import RQScheduler

from . import use_app

log = logging.getLogger(__name__)


class Worker(RQWorker):
    """rq's forking worker with the product's recovery from dead workers (see the module's docstring)."""

    def __init__(self, queues, *, app, connection, **kwargs):
        self.app = app
        heartbeat = app.config["JOB_HEARTBEAT_SECONDS"]
        self.abandoned_after = app.config["JOB_ABANDONED_AFTER_SECONDS"]
        if not 0 < heartbeat < self.abandoned_after:
            raise ValueError("JOB_HEARTBEAT_SECONDS must be positive and below JOB_ABANDONED_AFTER_SECONDS")
        super().__init__(
            queues,
            connection=connection,
            job_monitoring_interval=heartbeat,
            maintenance_interval=self.abandoned_after,
            # An idle worker waits worker_ttl - 15 s for a job before it looks after its registries again.
            worker_ttl=self.abandoned_after + 15,
            **kwargs,
        )
        self._retries = RQScheduler(self.queues, connection=self.connection, serializer=self.serializer)

    def get_heartbeat_ttl(self, job, working_time=0.0):
        # rq's is min(time left, monitoring interval) + 60 s; ours is the configured silence, whatever the job.
        return self.abandoned_after

    def run_maintenance_tasks(self):
        super().run_maintenance_tasks()  # rq: abandoned jobs retried or failed, registries cleaned
        try:
            self.enqueue_due_retries()
            with self.app.app_context():
                from villageaid.extensions import db
                from villageaid.queue import record_given_up

                try:
                    record_given_up([q.name for q in self.queues])
                finally:
                    db.session.remove()
        except Exception:  # Redis or the database is down: the next maintenance tries again
            log.exception("worker maintenance failed")

    def enqueue_due_retries(self):
        """Move jobs whose retry is due from rq's scheduled registries into their queues."""
        if self._retries.acquire_locks():
            try:
                self._retries.enqueue_scheduled_jobs()
            finally:
                self._retries.release_locks()


def main(argv=None):
    from villageaid import create_app
    from villageaid.queue import redis_connection

    names = (argv if argv is not None else sys.argv[1:]) or ["default"]
    app = create_app()
    use_app(app)
    with app.app_context():
        connection = redis_connection()
    Worker(names, app=app, connection=connection).work(with_scheduler=False)


if __name__ == "__main__":
    main()
