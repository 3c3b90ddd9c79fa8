"""Search wired into the app: after-commit indexing, rebuild and verify, the /search page."""
import shutil
from pathlib import Path

from tests import factories
from villageaid.extensions import db
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
    assert runner.invoke(args=["search", "verify"]).exit_code == 0


def test_a_corrupted_index_is_rebuilt_on_first_use(app):
    factories.village(name="修复村")
    index = services.get_index()
    live = Path(index.path).resolve()
    index.close()
    for segment in live.glob("*.seg"):
        segment.write_bytes(b"garbage")
    shutil.rmtree(live, ignore_errors=True)
    app.extensions["villageaid.search_ready"] = False
    # Inline jobs rebuild at once on the embedded default, so the query answers.
    assert services.query("修复村").total == 1


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
