"""A worker SIGKILLed mid-job: the job is retried to completion, or, with no retry left, shown failed
where the curator and the operator look — never silently lost.

Real processes: a private redis-server, `python -m jobs.worker default` as production runs it, and a
real job of the product — a curator's village import of 12,000 rows (all or nothing, several seconds
of work) — enqueued through the outbox. The worker's process group and its work horse (which calls
setpgrp, so a group kill misses it) are SIGKILLed while the import is writing, then a new worker is
started. The heartbeat settings are the product's, shortened (JOB_HEARTBEAT_SECONDS=1,
JOB_ABANDONED_AFTER_SECONDS=5) so that the test takes seconds where production takes about a minute.
"""
import csv
import io
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import login
from tests.faults.services import WorkerProcess
from villageaid import queue
from villageaid.extensions import db
from villageaid.queue import OutboxJob
from villageaid.villages import importer
from villageaid.villages.models import ImportStatus, Village, VillageImport

ROWS = 12_000  # ~5 s of writing on the development machine, in one transaction
HEARTBEAT, ABANDONED_AFTER = 1, 5


def _villages_csv(rows):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(importer.COLUMNS)
    for i in range(rows):  # 昭觉县 (513431), townships 201… of the tests' own
        writer.writerow([f"513431{201 + i // 999:03d}{i % 999 + 1:03d}", f"试点村{i}", "210", "60", "230", "缺技术", "花椒"])
    return out.getvalue().encode("utf-8-sig")


class _Upload:
    def __init__(self, data):
        self.filename, self.stream = "凉山州贫困村.csv", io.BytesIO(data)


@pytest.fixture
def world(app_factory, private_redis, tmp_path):
    app = app_factory(REDIS_URL=private_redis.url)
    env = dict(os.environ, VILLAGEAID_ENV="production", SECRET_KEY="fault-test-" + "k" * 40,
               DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], DATA_DIR=app.config["DATA_DIR"],
               REDIS_URL=private_redis.url, JOB_HEARTBEAT_SECONDS=str(HEARTBEAT),
               JOB_ABANDONED_AFTER_SECONDS=str(ABANDONED_AFTER), SCHEDULER_INTERVAL_SECONDS="0")
    workers = []

    def worker(name):
        workers.append(WorkerProcess(env, tmp_path / f"worker-{name}.log").start())
        return workers[-1]

    with app.app_context():
        curator = factories.curator(factories.SICHUAN)
        run = importer.start(curator, _Upload(_villages_csv(ROWS)))  # through the outbox, onto private Redis
        outbox = db.session.scalar(select(OutboxJob).where(OutboxJob.func == "jobs.villages.import_villages"))
        assert outbox.enqueued_at is not None and run.status == ImportStatus.QUEUED
        try:
            yield app, curator, run.id, outbox.id, worker
        finally:
            for w in workers:
                w.stop()
            if any(w.process.returncode not in (0, -9, -15) for w in workers):
                print("\n".join(w.log() for w in workers))


def _import(import_id):
    db.session.expire_all()
    return db.session.get(VillageImport, import_id)


def _imported_villages():
    return db.session.scalar(select(func.count()).select_from(Village).where(Village.name.like("试点村%")))


def _wait(predicate, seconds, what, workers=()):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    logs = "\n".join(w.log()[-3000:] for w in workers)
    raise AssertionError(f"not {what} within {seconds} s\n{logs}")


def _kill_mid_import(worker, import_id):
    """Wait until the import is writing (every row checked, nothing committed yet), then SIGKILL."""
    _wait(lambda: (r := _import(import_id)).status == ImportStatus.RUNNING and r.total_rows == ROWS
          and r.checked_rows == ROWS, 60, "writing", [worker])
    time.sleep(0.5)
    assert worker.horses(), "the worker has no work horse running the import"
    horses = worker.kill()
    assert horses and worker.process.returncode == -9
    # Killed mid-run: still "running", and nothing of the all-or-nothing import was committed.
    assert _import(import_id).status == ImportStatus.RUNNING and _imported_villages() == 0


def _rq_job(app, outbox_id):
    from rq.job import Job

    return Job.fetch(f"outbox-{outbox_id}", connection=queue.redis_connection())


def test_a_job_whose_worker_is_killed_is_retried_to_completion(world):
    app, curator, import_id, outbox_id, worker = world
    first = worker("first")
    _kill_mid_import(first, import_id)

    killed_at = time.monotonic()
    second = worker("second")
    _wait(lambda: _import(import_id).is_finished, 90, "finished after the retry", [first, second])
    recovered_in = time.monotonic() - killed_at

    run = _import(import_id)
    assert run.status == ImportStatus.IMPORTED, (run.status, run.message)
    assert run.imported == ROWS and _imported_villages() == ROWS  # once, not twice
    _wait(lambda: _rq_job(app, outbox_id).get_status() == "finished", 10, "finished in rq", [second])
    assert _rq_job(app, outbox_id).retries_left == queue.RETRY_MAX - 1  # one retry used
    assert db.session.get(OutboxJob, outbox_id).last_error is None
    # Abandoned after 5 s of silence, retried 10 s later (queue.RETRY_INTERVALS), then ~5 s of work.
    assert recovered_in < 60, recovered_in
    print(f"retried to completion {recovered_in:.1f} s after the kill")


def test_a_killed_job_with_no_retry_left_is_shown_failed(world):
    app, curator, import_id, outbox_id, worker = world
    job = _rq_job(app, outbox_id)
    job.retries_left = 0  # as if this were its last attempt
    job.save()
    first = worker("first")
    _kill_mid_import(first, import_id)

    second = worker("second")
    _wait(lambda: _import(import_id).is_finished, 60, "shown failed", [first, second])
    run = _import(import_id)
    assert run.status == ImportStatus.FAILED and "AbandonedJobError" in run.message
    assert _imported_villages() == 0
    assert _rq_job(app, outbox_id).get_status() == "failed"
    assert not list((Path(app.config["DATA_DIR"]) / "uploads" / "imports").glob("*"))  # the upload is not kept

    # The operator's list of failed jobs has it, and the curator's page says it failed.
    row = db.session.get(OutboxJob, outbox_id)
    assert row.last_error.startswith(queue.GIVEN_UP_PREFIX) and "AbandonedJobError" in row.last_error
    listed = app.test_cli_runner().invoke(args=["jobs", "failed"]).output
    assert f"#{outbox_id} jobs.villages.import_villages" in listed and "AbandonedJobError" in listed
    client = app.test_client()
    login(client, curator.email)
    page = client.get(f"/curate/villages/import/{import_id}").get_data(as_text=True)
    assert 'data-import-result="failed"' in page and "AbandonedJobError" in page
    # Recorded once: the next maintenance finds nothing new.
    assert queue.record_given_up() == 0


def test_a_ledger_export_that_rq_gave_up_on_says_failed(app_factory, private_redis):
    """Any way rq gives a job up (here: it raised outside the export's own error handling, with no retry
    left) ends on the feature's row at the next maintenance, not as "running" for ever."""
    from rq import Queue, SimpleWorker

    from villageaid.ledger import export
    from villageaid.ledger.models import ExportStatus, LedgerExport

    app = app_factory(REDIS_URL=private_redis.url)
    with app.app_context():
        curator = factories.curator()  # national
        exports = Path(app.config["DATA_DIR"]) / "exports"
        exports.parent.mkdir(parents=True, exist_ok=True)
        exports.write_text("a file where the folder should be: the job cannot write")
        export_id = export.start(curator).id
        outbox = db.session.scalar(select(OutboxJob).where(OutboxJob.func == "jobs.ledger.build_export"))
        job = _rq_job(app, outbox.id)
        job.retries_left = 0
        job.save()
        connection = queue.redis_connection()
        SimpleWorker([Queue("default", connection=connection)], connection=connection).work(burst=True)
        db.session.expire_all()
        assert _rq_job(app, outbox.id).get_status() == "failed"
        assert db.session.get(LedgerExport, export_id).status == ExportStatus.RUNNING  # what the curator saw

        assert queue.record_given_up() == 1  # what every worker's maintenance runs
        db.session.expire_all()
        assert db.session.get(LedgerExport, export_id).status == ExportStatus.FAILED
        client = app.test_client()
        login(client, curator.email)
        page = client.get(f"/curate/ledger/export/{export_id}").get_data(as_text=True)
        assert 'data-export-result="failed"' in page
        assert queue.record_given_up() == 0
