"""Spike mode: anonymous visitors' home and needs list from a short-lived shared cache."""
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from tests import factories
from tests.conftest import login
from tests.needs.builders import S, World
from villageaid import pagecache
from villageaid.extensions import db


@pytest.fixture
def cached(app):
    app.config["PAGE_CACHE_SECONDS"] = 10
    pagecache._down_until = 0.0
    return app


def _get(client, path):
    response = client.get(path)
    assert response.status_code == 200
    return response.headers.get("X-Page-Cache"), response.get_data(as_text=True)


def test_anonymous_pages_are_served_from_the_cache_until_something_changes(cached, client):
    world = World()
    need = world.need(S.PUBLISHED)
    assert _get(client, "/")[0] == "miss"
    state, html = _get(client, "/")
    assert state == "hit" and need.title in html
    assert _get(client, "/needs?category=charity")[0] == "miss"
    assert _get(client, "/needs?category=charity")[0] == "hit"

    need.title = "为村小学添置过冬棉被"  # a committed change to a need: every cached page is stale
    db.session.commit()
    state, html = _get(client, "/needs?category=charity")
    assert state == "miss" and "为村小学添置过冬棉被" in html


def test_bulk_updates_such_as_pledge_totals_also_invalidate(cached, client):
    from tests.needs.builders import set_pledged

    need = World().need(S.PUBLISHED)
    _get(client, "/needs")
    assert _get(client, "/needs")[0] == "hit"
    set_pledged(need, 1_500_000)  # a Core UPDATE, as the race-safe pledge totals are
    db.session.commit()
    state, html = _get(client, "/needs")
    assert state == "miss" and "¥15,000.00 · 50%" in html


def test_a_rolled_back_change_keeps_the_cache(cached, client):
    need = World().need(S.PUBLISHED)
    _get(client, "/")
    need.title = "不会保存的标题"
    db.session.flush()
    db.session.rollback()
    assert _get(client, "/")[0] == "hit"


def test_signed_in_users_flashes_and_language_switches_are_never_cached(cached, client):
    factories.user(email="donor@example.cn")
    _get(client, "/")
    login(client, "donor@example.cn")
    assert _get(client, "/")[0] is None
    client.post("/auth/logout", data={})  # no token: refused, still signed in
    other = cached.test_client()
    assert other.get("/?lang=en").headers.get("X-Page-Cache") is None
    state, english = _get(other, "/")
    assert state == "miss" and "Home" in english  # English is cached apart from Chinese
    assert _get(other, "/")[0] == "hit"
    state, chinese = _get(cached.test_client(), "/")
    assert state == "hit" and "首页" in chinese


def test_with_redis_down_pages_are_rendered_and_the_cache_rests(cached, client, monkeypatch):
    class Down:
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise RedisConnectionError("connection refused")
            return fail

    monkeypatch.setattr(pagecache.queue, "redis_connection", lambda: Down())
    state, html = _get(client, "/")
    assert state is None and "万企帮万村" in html
    assert pagecache._down_until > 0  # backs off instead of waiting on Redis at every request


def test_web_workers_share_the_cache_through_redis(app_factory, redis_url):
    first, second = (app_factory(REDIS_URL=redis_url, PAGE_CACHE_SECONDS=10) for _ in range(2))
    pagecache._down_until = 0.0
    with first.app_context():
        assert first.test_client().get("/").headers["X-Page-Cache"] == "miss"
    with second.app_context():
        assert second.test_client().get("/").headers["X-Page-Cache"] == "hit"
        factories.village(name="新认证村")  # a commit in one worker...
    with first.app_context():
        assert first.test_client().get("/").headers["X-Page-Cache"] == "miss"  # ...is seen by the other


def test_a_page_with_a_csrf_token_is_not_stored(cached, client, monkeypatch):
    from flask import render_template_string

    from villageaid import pagecache as module

    module.CACHEABLE.add("test.form_page")

    def form_page():
        return render_template_string('<form><input name="csrf_token" value="{{ csrf_token() }}"></form>')

    cached.add_url_rule("/_test/form", endpoint="test.form_page", view_func=form_page)
    try:
        first = client.get("/_test/form")
        assert first.status_code == 200 and "X-Page-Cache" not in first.headers
        assert "X-Page-Cache" not in client.get("/_test/form").headers
    finally:
        module.CACHEABLE.discard("test.form_page")
