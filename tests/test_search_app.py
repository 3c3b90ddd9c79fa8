"""Search wired into the app: after-commit indexing, rebuild and verify, the /search page."""
import re
import shutil
import threading
from pathlib import Path

import pytest

from tests import factories
from villageaid import queue
from villageaid.extensions import db
from search_index import SearchIndex
from villageaid.search import services


def _ids(results):
    return {item["doc_id"] for item in results.items}


def test_a_verified_village_is_findable_by_place_and_industry(app):
    village = factories.village(name="花椒坪村")
    assert f"village:{village.id}" in _ids(services.query("昭觉县"))
    assert f"village:{village.id}" in _ids(services.query("花椒"))


def test_pending_and_rejected_rows_are_not_indexed(app):
    pending = factories.village(status="pending", name="待审村")
    rejected = factories.organization(status="rejected", name="被驳回科技有限公司")
    ids = _ids(services.query("", kinds=None))
    assert f"village:{pending.id}" not in ids and f"organization:{rejected.id}" not in ids


def test_rollback_never_reaches_the_index(app):
    village = factories.village(name="回滚村")
    village.name = "不该出现村"
    db.session.flush()
    db.session.rollback()
    assert services.query("不该出现村").total == 0
    assert services.query("回滚村").total == 1


def test_a_change_is_reindexed_and_a_rejection_removes(app):
    from villageaid.curation.services import decide

    org = factories.organization(name="山海电子科技有限公司")
    assert services.query("山海电子").total == 1
    decide(factories.curator(), org, "rejected", reason="资质造假")
    assert services.query("山海电子").total == 0


def test_rebuild_and_verify_commands(app):
    factories.village(name="重建村")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["search", "verify"]).exit_code == 0
    services.get_index().delete(["village:1"])
    result = runner.invoke(args=["search", "verify"])
    assert result.exit_code == 1 and "missing: village:1" in result.output
    result = runner.invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert re.search(r"indexed 1 documents in [\d.]+ s \(\d+ documents/s\)", result.output), result.output
    assert runner.invoke(args=["search", "verify"]).exit_code == 0


def _forget_index_state(app):
    """As a freshly started process: nothing checked yet."""
    app.extensions.pop("villageaid.search_state", None)


def test_a_missing_index_is_rebuilt_on_first_use(app):
    factories.village(name="修复村")
    index = services.get_index()
    live = Path(index.path).resolve()
    index.close()
    shutil.rmtree(live)
    _forget_index_state(app)
    # A small index is rebuilt (in the background thread) within the moment the first search waits.
    assert services.query("修复村").total == 1


def test_a_damaged_segment_is_repaired_at_the_next_search(app):
    for n in range(40):
        factories.village(name=f"凉山花椒{n}村")
    assert services.query("花椒").total == 40
    index = services.get_index()
    index.close()  # (a segment this process has mapped must not be damaged under it)
    segment = max(Path(index.path).resolve().glob("*.seg"), key=lambda p: p.stat().st_size)
    size = segment.stat().st_size
    with open(segment, "r+b") as f:
        f.seek(size // 3)
        f.write(b"\xa5" * (size // 3))
    # A process already searching finds it when reading fails, then checks thoroughly and repairs.
    with pytest.raises(services.SearchUnavailable):
        services.query("花椒")
    try:
        found = services.query("花椒")  # the repair starts, and is waited for REPAIR_WAIT_SECONDS
    except services.SearchUnavailable:  # a loaded machine took longer: the search after it finds the repair
        repair = app.extensions[services.REPAIR_THREAD]
        repair.join(120)
        assert not repair.is_alive()
        found = services.query("花椒")
    assert found.total == 40
    assert services.verify() == ([], [], [])


def test_after_a_failed_read_the_index_is_checked_thoroughly(app, monkeypatch):
    factories.village(name="检查村")
    services.query("检查村")
    index = services.get_index()
    checks = []
    real_check = index.check
    monkeypatch.setattr(index, "check", lambda thorough=True: checks.append(thorough) or real_check(thorough=thorough))
    _forget_index_state(app)
    services.query("检查村")
    assert checks == [False]  # a starting process reads only the table of contents
    real_search = services.search_index.search

    def failing_search(*args, **kwargs):
        monkeypatch.setattr(services.search_index, "search", real_search)
        raise services.IndexUnavailable("a segment could not be read")

    monkeypatch.setattr(services.search_index, "search", failing_search)
    with pytest.raises(services.SearchUnavailable):
        services.query("检查村")
    assert services.query("检查村").total == 1 and checks == [False, True]


def test_a_long_rebuild_runs_in_the_background_while_search_says_so(app, client, monkeypatch):
    factories.village(name="等待村")
    release = threading.Event()
    real_rebuild = services.rebuild

    def slow_rebuild(progress=None, **kwargs):
        release.wait(10)
        return real_rebuild(progress, **kwargs)

    monkeypatch.setattr(services, "rebuild", slow_rebuild)
    monkeypatch.setattr(services, "REPAIR_WAIT_SECONDS", 0.05)
    index = services.get_index()
    index.close()
    shutil.rmtree(Path(index.path).resolve())
    _forget_index_state(app)
    html = client.get("/search?q=等待村").get_data(as_text=True)
    assert "搜索索引正在重建" in html
    assert client.get("/needs?q=等待村").status_code == 200
    assert client.get("/api/v1/search?q=等待村").status_code == 503
    release.set()
    app.extensions[services.REPAIR_THREAD].join(10)
    assert services.query("等待村").total == 1


def test_with_a_worker_a_broken_index_asks_for_one_repair_job(app, monkeypatch):
    factories.village(name="工作村")
    index = services.get_index()
    index.close()
    shutil.rmtree(Path(index.path).resolve())
    _forget_index_state(app)
    monkeypatch.setattr(queue, "is_inline", lambda: False)
    deferred = []
    monkeypatch.setattr(queue, "defer", lambda func, *args, **kw: deferred.append((func, kw.get("queue"))))
    for _ in range(3):
        with pytest.raises(services.SearchUnavailable):
            services.query("工作村")
    assert deferred == [("jobs.search.repair_index", "search")]  # not one per search
    monkeypatch.undo()
    assert services.repair() > 0 and services.repair() == 0  # the job repairs once; again, nothing to do
    _forget_index_state(app)
    assert services.query("工作村").total == 1


def test_search_page_messages_and_highlight(client, app):
    factories.village(name="茶园村")
    html = client.get("/search?q=茶园村").get_data(as_text=True)
    assert "<mark>" in html or "茶园村" in html
    html = client.get("/search?q=的").get_data(as_text=True)
    assert "常用虚词" in html
    html = client.get("/search?q=完全不存在的词语xyz").get_data(as_text=True)
    assert "没有找到匹配的结果" in html


def test_search_api(client, app):
    village = factories.village(name="核桃沟村")
    body = client.get("/api/v1/search?q=核桃沟村").get_json()
    assert body["total"] == 1 and body["items"][0]["url"] == f"/villages/{village.id}"
    response = client.get("/api/v1/search?q=的")
    assert response.status_code == 400 and response.get_json()["error"]["fields"]["q"]


def test_with_redis_web_processes_never_write_the_index_the_search_worker_does(app_factory, redis_url):
    """Several web workers change rows at once: each only enqueues; one worker on "search" writes."""
    from rq import Queue, SimpleWorker

    app = app_factory(REDIS_URL=redis_url)
    with app.app_context():
        villages = [factories.village(name=f"并发{n}村") for n in range(4)]
        ids = [v.id for v in villages]
        index = services.get_index()
        assert not index.exists()  # nothing was written by this (web) process
        search_queue = Queue("search", connection=queue.redis_connection())
        other = Queue("default", connection=queue.redis_connection()).jobs
        assert search_queue.count > 0 and not [j for j in other if j.func_name.startswith("jobs.search")]

        def rename(village_id):
            with app.app_context():
                from villageaid.villages.models import Village

                village = db.session.get(Village, village_id)
                village.name = f"改名{village_id}村"
                queue.commit()
                db.session.remove()

        threads = [threading.Thread(target=rename, args=(i,)) for i in ids]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert not index.exists()
        db.session.remove()  # the worker is another process: it does not share this session's rows
        SimpleWorker([search_queue], connection=queue.redis_connection()).work(burst=True, with_scheduler=False)
        assert search_queue.count == 0 and Queue("search", connection=queue.redis_connection()).failed_job_registry.count == 0
        assert services.verify() == ([], [], [])
        assert {i["obj_id"] for i in services.query("改名", kinds=["village"], per_page=100).items} == set(ids)


def test_held_indexing_writes_the_index_once_at_the_end(app, monkeypatch):
    writes = []
    monkeypatch.setattr(SearchIndex, "update", _counting(SearchIndex.update, writes))
    with services.held_indexing():
        villages = [factories.village(name=f"花椒{n}村") for n in range(3)]
        assert writes == []  # three villages committed, nothing indexed yet
    assert writes == [3]  # one write for the three
    assert _ids(services.query("花椒")) >= {f"village:{v.id}" for v in villages}


def _counting(update, writes):
    def counted(self, docs):
        docs = list(docs)
        writes.append(len(docs))
        return update(self, docs)
    return counted
