"""Operator commands: creating accounts and granting scoped roles."""
from tests import factories
from villageaid.accounts.services import find_by_email


def test_users_create_and_grant_scoped_curator(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "ops@example.cn", "--name", "运维", "--password", "long-password-1"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["users", "grant", "ops@example.cn", "curator", "--region", "四川省"])
    assert result.exit_code == 0, result.output
    user = find_by_email("ops@example.cn")
    assert user.curator_scopes == [factories.SICHUAN]
    assert user.email_verified_at is not None


def test_users_grant_rejects_unknown_region_and_user(app):
    runner = app.test_cli_runner()
    factories.user(email="x@example.cn")
    assert runner.invoke(args=["users", "grant", "x@example.cn", "curator", "--region", "火星"]).exit_code != 0
    assert runner.invoke(args=["users", "grant", "nobody@example.cn", "admin"]).exit_code != 0
    assert find_by_email("x@example.cn").curator_scopes == []


def test_serve_links_to_where_it_serves_unless_site_url_is_set(app, monkeypatch):
    import werkzeug.serving

    from villageaid import scheduling

    served = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda host, port, application, **kw: served.append((host, port)))
    monkeypatch.setattr(scheduling, "start_thread", lambda *args: None)
    monkeypatch.delenv("SITE_URL", raising=False)
    result = app.test_cli_runner().invoke(args=["serve", "--port", "5123"])
    assert result.exit_code == 0, result.output
    assert served == [("127.0.0.1", 5123)] and app.config["SITE_URL"] == "http://127.0.0.1:5123"

    app.config["SITE_URL"] = "https://fupin.example.cn"
    monkeypatch.setenv("SITE_URL", "https://fupin.example.cn")
    app.test_cli_runner().invoke(args=["serve", "--port", "5124"])
    assert app.config["SITE_URL"] == "https://fupin.example.cn"
