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
