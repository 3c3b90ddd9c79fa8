"""Redis stopped mid-run (a private redis-server, never the shared one): pages keep answering, a
pledge made meanwhile is accepted and its jobs wait in the outbox, and after Redis returns the
outbox drain enqueues them and a worker runs them — nothing accepted is lost."""
from sqlalchemy import select

from villageaid import pagecache, queue
from villageaid.extensions import db
from villageaid.queue import OutboxJob


def test_redis_stopped_mid_run_loses_nothing(app_factory, private_redis):
    from rq import Queue, SimpleWorker

    from tests.pledges.builders import World

    app = app_factory(REDIS_URL=private_redis.url, PAGE_CACHE_SECONDS=10)
    pagecache._down_until = 0.0
    with app.app_context():
        world = World()
        need = world.published()
        client = app.test_client()
        assert client.get("/").status_code == 200 and client.get("/needs").status_code == 200
        Queue("default", connection=queue.redis_connection()).empty()

        private_redis.stop()  # Redis goes away mid-run
        for path in ("/", "/needs", f"/needs/{need.id}", "/stats"):
            assert client.get(path).status_code == 200, path
        pledge = world.pledge(need, 500_000)  # accepted: the database holds it
        waiting = db.session.scalars(select(OutboxJob).where(OutboxJob.enqueued_at.is_(None))).all()
        assert pledge.id and waiting and all("enqueue failed" in row.last_error for row in waiting)

        private_redis.start()  # back (empty: it keeps nothing on disk)
        assert queue.drain(min_age_seconds=0) == len(waiting)
        assert db.session.scalars(select(OutboxJob).where(OutboxJob.enqueued_at.is_(None))).all() == []
        default = Queue("default", connection=queue.redis_connection())
        assert default.count >= len([r for r in waiting if r.queue_name == "default"]) > 0
        SimpleWorker([default], connection=queue.redis_connection()).work(burst=True, with_scheduler=False)
        assert default.count == 0 and default.failed_job_registry.count == 0
