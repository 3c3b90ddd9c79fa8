"""The layout's fixed parts (templates/layout/_parts.html) are rendered once per language, never shared
between languages, and never stand in for what depends on the visitor (the signed-in user's links)."""
from unittest import mock

from tests import factories
from tests.conftest import login


def test_layout_parts_are_rendered_once_per_language(client):
    from villageaid import web

    with mock.patch.object(web, "get_template_attribute", wraps=web.get_template_attribute) as rendered:
        first = client.get("/needs").get_data(as_text=True)
        client.get("/stats")
        client.get("/needs")
        zh_calls = rendered.call_count
        english = client.get("/needs?lang=en").get_data(as_text=True)
        client.get("/stats")
        en_calls = rendered.call_count - zh_calls

    assert zh_calls == 5  # head links, navigation, guest links, footer, scripts: once for all three pages
    assert en_calls == 5  # and once more in English, not the Chinese copies
    assert '<html lang="zh-CN">' in first and "跳到正文" in first and 'href="/auth/login">登录<' in first
    assert '<html lang="en">' in english and "Skip to" in english and "跳到正文" not in english
    assert ">Sign in<" in english and "登录<" not in english


def test_footer_follows_the_next_poverty_day(client, app):
    from villageaid import web

    client.get("/needs")
    with mock.patch.object(web, "next_poverty_day", return_value=__import__("datetime").date(2031, 10, 17)):
        page = client.get("/needs").get_data(as_text=True)
    assert "2031-10-17" in page


def test_signed_in_visitors_get_their_own_links_not_the_guests(client, app):
    client.get("/needs")  # the guest's parts are cached first
    with app.app_context():
        user = factories.user("王小明")
        email = user.email
    login(client, email)
    page = client.get("/needs").get_data(as_text=True)
    assert "王小明" in page and 'href="/auth/login">登录<' not in page and "退出" in page
