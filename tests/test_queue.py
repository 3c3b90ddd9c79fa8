"""The job outbox (villageaid/queue.py) and the scheduler: jobs are enqueued after the transaction that
caused them commits, never for a rolled-back one, and a Redis outage never fails the user's action.
"""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import post_form
from villageaid import queue, scheduling
from villageaid.extensions import db
from villageaid.mail import read_outbox
from villageaid.queue import OutboxJob
from villageaid.timeutil import utcnow

SEND = "jobs.mail.send_email"
UNREACHABLE_REDIS = "redis://127.0.0.1:6390/0"  # nothing listens there

_calls = {"flaky": 0}


def flaky_job(fail_times):
    """A job (dotted path tests.test_queue.flaky_job) that fails its first `fail_times` runs."""
    _calls["flaky"] += 1
    if _calls["flaky"] <= fail_times:
        raise RuntimeError(f"boom #{_calls['flaky']}")


@pytest.fixture(autouse=True)
def _reset_calls():
    _calls["flaky"] = 0


def subjects():
    return sorted(message["Subject"] for _path, message in read_outbox())


def rows():
    db.session.expire_all()
    return db.session.scalars(select(OutboxJob).order_by(OutboxJob.id)).all()


def test_a_job_deferred_in_a_rolled_back_transaction_never_runs(app):
    queue.defer(SEND, "a@example.cn", "回滚的邮件", "不应发送")
    db.session.rollback()
    queue.defer(SEND, "b@example.cn", "提交的邮件", "应当发送")
    queue.commit()
    assert subjects() == ["提交的邮件"]
    assert [r.args[1] for r in rows()] == ["提交的邮件"]
    assert queue.drain(min_age_seconds=0) == 0
    assert subjects() == ["提交的邮件"]


def test_a_failed_service_call_sends_nothing(app):
    from villageaid.accounts.services import AccountError, register

    factories.user(email="dup@example.cn")
    before = subjects()
    with pytest.raises(AccountError):
        register("dup@example.cn", "重复", "password-123")
    db.session.rollback()
    assert subjects() == before


def test_commit_runs_the_job_inline_after_the_commit(app):
    queue.defer(SEND, "c@example.cn", "内联邮件", "正文")
    db.session.flush()
    assert subjects() == []  # nothing runs before the commit
    queue.commit()
    ((path, message),) = read_outbox()
    assert path.suffix == ".eml" and message["To"] == "c@example.cn" and message.get_content().strip() == "正文"
    (row,) = rows()
    assert row.enqueued_at is not None and row.last_error is None and row.attempts == 1


def test_a_plain_commit_in_a_view_is_dispatched_after_the_request(app):
    def view():
        queue.defer(SEND, "v@example.cn", "视图邮件", "正文")
        db.session.commit()
        return "ok"

    app.add_url_rule("/_test/defer", "test_defer", view)
    assert app.test_client().get("/_test/defer").status_code == 200
    assert subjects() == ["视图邮件"]
    assert rows()[0].enqueued_at is not None


def test_a_failing_inline_job_is_recorded_and_retried_by_drain(app):
    queue.defer("tests.test_queue.flaky_job", 1)
    queue.commit()  # the action itself succeeds
    (row,) = rows()
    assert row.enqueued_at is None and row.attempts == 1
    assert "boom #1" in row.last_error
    assert [r.id for r in queue.failed_jobs()] == [row.id]

    assert queue.drain(min_age_seconds=0) == 1
    (row,) = rows()
    assert row.enqueued_at is not None and row.last_error is None and row.attempts == 2
    assert _calls["flaky"] == 2
    assert queue.drain(min_age_seconds=0) == 0  # done is done


def test_a_job_that_keeps_failing_is_given_up_and_stays_visible(app):
    queue.defer("tests.test_queue.flaky_job", 99)
    queue.commit()
    for _ in range(queue.MAX_INLINE_ATTEMPTS):
        queue.drain(min_age_seconds=0)
    (row,) = rows()
    assert row.attempts == queue.MAX_INLINE_ATTEMPTS and row.enqueued_at is not None
    assert "boom" in row.last_error
    assert _calls["flaky"] == queue.MAX_INLINE_ATTEMPTS
    assert queue.drain(min_age_seconds=0) == 0
    assert [r.id for r in queue.failed_jobs()] == [row.id]


def test_drain_leaves_rows_younger_than_min_age(app):
    queue.defer(SEND, "d@example.cn", "新邮件", "正文")
    db.session.commit()  # committed, not dispatched (as if the process died)
    db.session.info.pop(queue.COMMITTED, None)
    assert queue.drain(min_age_seconds=60) == 0
    assert subjects() == []
    assert queue.drain(min_age_seconds=0) == 1
    assert subjects() == ["新邮件"]


# Redis unreachable --------------------------------------------------------------------------

def test_with_redis_down_the_action_commits_and_the_job_waits(app_factory):
    app = app_factory(REDIS_URL=UNREACHABLE_REDIS)
    with app.app_context():
        client = app.test_client()
        response = post_form(client, "/auth/register", {
            "name": "断线用户", "email": "offline@example.cn", "password": "long-password-1", "confirm": "long-password-1",
        })
        assert response.status_code == 302  # the user is registered and signed in
        assert client.get("/me").status_code == 200
        # Sign-in (throttled through Redis when it is up) works too, and is still throttled.
        other = app.test_client()
        assert post_form(other, "/auth/login", {"email": "offline@example.cn", "password": "long-password-1"}).status_code == 302
        for _ in range(4):
            post_form(other, "/auth/login", {"email": "offline@example.cn", "password": "wrong-password-1"})
        assert post_form(other, "/auth/login", {"email": "offline@example.cn", "password": "wrong-password-1"}).status_code == 429
        from villageaid.accounts.services import find_by_email

        assert find_by_email("offline@example.cn") is not None
        (row,) = rows()
        assert row.func == SEND and row.enqueued_at is None
        assert row.last_error.startswith("enqueue failed")
        assert subjects() == []


def _rq_queue(name="default"):
    from rq import Queue

    return Queue(name, connection=queue.redis_connection())


def _work(name="default"):
    from rq import SimpleWorker

    worker = SimpleWorker([_rq_queue(name)], connection=queue.redis_connection())
    worker.work(burst=True, with_scheduler=False)


def test_after_an_outage_drain_enqueues_the_waiting_job(app_factory, redis_url):
    app = app_factory(REDIS_URL=UNREACHABLE_REDIS)
    with app.app_context():
        factories.user(email="waiting@example.cn", verified_email=False)
        (row,) = rows()
        assert row.enqueued_at is None and row.last_error

        # Redis is back (here: the app now points at a live one).
        app.config["REDIS_URL"] = redis_url
        app.extensions.pop("villageaid.redis")
        assert queue.drain(min_age_seconds=0) == 1
        (row,) = rows()
        assert row.enqueued_at is not None and row.last_error is None
        assert _rq_queue().count == 1 and subjects() == []
        _work()
        assert [m["To"] for _p, m in read_outbox()] == ["waiting@example.cn"]


# Real Redis ---------------------------------------------------------------------------------

def test_with_redis_commit_enqueues_and_a_worker_runs_it(app_factory, redis_url):
    app = app_factory(REDIS_URL=redis_url)
    with app.app_context():
        queue.defer(SEND, "r@example.cn", "经由 Redis 的邮件", "正文")
        queue.commit()
        assert subjects() == []  # enqueued, not run
        (row,) = rows()
        assert row.enqueued_at is not None and row.last_error is None
        rq_queue = _rq_queue()
        assert rq_queue.job_ids == [row.rq_job_id]
        _work()
        assert subjects() == ["经由 Redis 的邮件"]
        assert rq_queue.count == 0


# The scheduler ------------------------------------------------------------------------------

def _scheduled(path):
    return db.session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.func == path))


def test_tick_enqueues_a_due_task_once_per_interval(app):
    now = utcnow()
    first = scheduling.tick(now)
    assert "drain-outbox" in first
    assert scheduling.tick(now) == []  # called twice: nothing is due twice
    assert scheduling.tick(now + timedelta(seconds=30)) == []
    assert _scheduled("jobs.maintenance.drain_outbox") == 1
    again = scheduling.tick(now + timedelta(seconds=61))
    assert "drain-outbox" in again
    assert _scheduled("jobs.maintenance.drain_outbox") == 2
    assert scheduling.last_runs()["drain-outbox"] is not None


def test_the_scheduled_drain_picks_up_waiting_jobs(app):
    queue.defer(SEND, "late@example.cn", "迟到的邮件", "正文")
    db.session.commit()
    db.session.info.pop(queue.COMMITTED, None)  # the process died before enqueuing
    db.session.execute(
        OutboxJob.__table__.update().values(created_at=utcnow() - timedelta(minutes=5))
    )
    db.session.commit()
    assert "drain-outbox" in scheduling.tick()
    assert subjects() == ["迟到的邮件"]


def test_with_redis_tick_only_enqueues(app_factory, redis_url):
    app = app_factory(REDIS_URL=redis_url)
    with app.app_context():
        started = scheduling.tick()
        assert "drain-outbox" in started
        assert scheduling.tick() == []
        assert _rq_queue().count == len(started)
