"""The house: layout, configuration, the standard library's `platform`, security headers."""
import platform
import subprocess
import sys

import pytest

from villageaid import create_app


def test_stdlib_platform_is_not_shadowed(app):
    assert platform.python_version() == ".".join(map(str, sys.version_info[:3]))
    # And in a fresh interpreter started outside the repository, with the app imported first.
    code = "import villageaid, jobs, search_index, platform; print(platform.python_version())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd="/", check=True)
    assert out.stdout.strip() == platform.python_version()


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"ENV_NAME": "production", "DATA_DIR": str(tmp_path), "SECRET_KEY": "dev-only-not-secret"})


def test_production_cookies_are_secure_and_hsts_is_sent(tmp_path):
    app = create_app({"ENV_NAME": "production", "DATA_DIR": str(tmp_path), "SECRET_KEY": "x" * 40,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite"})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    response = app.test_client().get("/regions/children")
    assert "max-age" in response.headers["Strict-Transport-Security"]


def test_embedded_default_keeps_everything_in_data_dir(app):
    assert app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert not app.config["REDIS_URL"]


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_need_no_internet(client):
    html = client.get("/").get_data(as_text=True)
    for cdn in ("cdn.jsdelivr", "unpkg.com", "cdnjs", "googleapis"):
        assert cdn not in html
    with client.get("/static/css/site.css") as response:
        assert response.status_code == 200


def test_ping_answers_without_the_database_and_healthz_with_it(app, client, monkeypatch):
    response = client.get("/ping")
    assert response.status_code == 200 and response.get_data(as_text=True) == "pong"
    assert client.get("/healthz").get_json() == {"ok": True}

    from villageaid.extensions import db

    def broken(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(db.session, "execute", broken)
    assert client.get("/ping").status_code == 200
    assert client.get("/healthz").status_code == 500


def test_the_page_cache_lifetime_comes_from_the_environment(monkeypatch):
    import importlib

    import config

    monkeypatch.setenv("PAGE_CACHE_SECONDS", "0")
    assert importlib.reload(config).Config.PAGE_CACHE_SECONDS == 0
    monkeypatch.delenv("PAGE_CACHE_SECONDS")
    assert importlib.reload(config).Config.PAGE_CACHE_SECONDS == 10


def test_an_id_past_any_row_is_a_404_not_a_database_error(client):
    for path in ("/needs/99999999999999999999", "/villages/99999999999999999999", "/helpers/99999999999999999999",
                 "/honor-roll/99999999999999999999", "/pledges/2147483648"):
        assert client.get(path).status_code == 404, path
