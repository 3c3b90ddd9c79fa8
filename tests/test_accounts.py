"""Accounts through the test client: registration, e-mail verification, login, logout, passwords,
throttling. CSRF is on, as in production: forms are posted with the token a browser would send.
"""
import re
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import csrf_token, login, post_form
from villageaid.accounts import services as accounts
from villageaid.accounts.models import Role, User
from villageaid.audit.models import AuditEvent
from villageaid.extensions import db
from villageaid.mail import read_outbox

NEW_PASSWORD = "brand-new-pass-9"


# Helpers -----------------------------------------------------------------------------------

def mails_to(address, subject=""):
    """Messages in the local outbox addressed to `address` (with `subject` in the subject), newest first."""
    return [message for _path, message in read_outbox() if message["To"] == address and subject in message["Subject"]]


def link_in(message):
    """The site path of the first link in a message's body."""
    match = re.search(r"http://localhost(/\S+)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def html(response):
    return response.get_data(as_text=True)


def signed_in_as(client):
    """The e-mail shown on /me, or None when /me sends the client to the login page."""
    response = client.get("/me")
    if response.status_code == 302:
        assert "/auth/login" in response.headers["Location"]
        return None
    assert response.status_code == 200
    return re.search(r'<small class="va-muted fs-6">([^<]+)</small>', html(response)).group(1)


def register_form(email="new@example.cn", name="李小梅", password="long-password-1", confirm=None):
    return {"name": name, "email": email, "password": password, "confirm": confirm or password}


# Registration and e-mail verification ------------------------------------------------------

def test_register_logs_in_and_the_emailed_link_verifies_the_address(client):
    response = post_form(client, "/auth/register", register_form(email="Li.Xiaomei@Example.cn"))
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert signed_in_as(client) == "li.xiaomei@example.cn"
    user = accounts.find_by_email("li.xiaomei@example.cn")
    assert user.name == "李小梅" and user.email_verified_at is None
    assert user.role_names() == ["donor"]
    assert "您的邮箱尚未验证" in html(client.get("/me"))

    (message,) = mails_to("li.xiaomei@example.cn")
    assert "验证" in message["Subject"]
    link = link_in(message)
    assert link.startswith("/auth/verify/")

    response = client.get(link)
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified_at is not None
    page = html(client.get("/me"))
    assert "邮箱已验证。" in page and "您的邮箱尚未验证" not in page
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "user", AuditEvent.object_id == user.id)).all()
    assert actions == ["register", "verify_email"]


def test_a_tampered_verification_link_is_refused(client):
    post_form(client, "/auth/register", register_form())
    link = link_in(mails_to("new@example.cn")[0])
    response = client.get(link[:-3] + "xyz", follow_redirects=True)
    assert "验证链接无效" in html(response)
    assert accounts.find_by_email("new@example.cn").email_verified_at is None


def test_duplicate_email_is_refused_clearly_and_keeps_what_was_typed(client):
    factories.user(email="taken@example.cn")
    response = post_form(client, "/auth/register", register_form(email="TAKEN@example.cn", name="王大锤"))
    assert response.status_code == 200
    page = html(response)
    assert "该邮箱已注册，请直接登录或找回密码。" in page
    assert 'value="王大锤"' in page
    assert signed_in_as(client) is None
    assert db.session.scalar(select(func.count()).select_from(User).where(User.email.ilike("taken@example.cn"))) == 1


def test_register_refuses_mismatched_and_short_passwords(client):
    page = html(post_form(client, "/auth/register", register_form(confirm="something-else")))
    assert "两次输入的密码不一致" in page
    page = html(post_form(client, "/auth/register", register_form(password="short")))
    assert "密码长度应为 8 到 128 个字符" in page
    assert accounts.find_by_email("new@example.cn") is None


# Login, logout, CSRF -----------------------------------------------------------------------

def test_login_with_a_wrong_password_says_so_without_telling_which_part(client):
    user = factories.user()
    wrong = post_form(client, "/auth/login", {"email": user.email, "password": "not-the-password"})
    assert wrong.status_code == 200
    assert "邮箱或密码不正确。" in html(wrong)
    assert f'value="{user.email}"' in html(wrong)
    assert signed_in_as(client) is None
    unknown = post_form(client, "/auth/login", {"email": "nobody@example.cn", "password": "not-the-password"})
    assert "邮箱或密码不正确。" in html(unknown)


def test_login_with_the_right_password_signs_in_and_email_case_does_not_matter(client):
    user = factories.user(email="case@example.cn")
    response = post_form(client, "/auth/login", {"email": "CASE@Example.CN", "password": factories.PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/me"
    assert signed_in_as(client) == user.email


def test_a_deactivated_account_is_signed_out_and_cannot_sign_in(app):
    user = factories.user()
    open_session = app.test_client()
    login(open_session, user.email)
    remembered = app.test_client()
    post_form(remembered, "/auth/login", {"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    user.active = False
    db.session.commit()
    assert signed_in_as(open_session) is None
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remembered.get_cookie("remember_token").value)
    assert signed_in_as(fresh) is None
    client = app.test_client()
    response = post_form(client, "/auth/login", {"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 200 and "邮箱或密码不正确。" in html(response)


def test_logout_is_post_only_and_needs_the_csrf_token(client):
    user = factories.user()
    login(client, user.email)
    assert client.get("/auth/logout").status_code == 405
    assert client.post("/auth/logout").status_code == 400
    assert signed_in_as(client) == user.email
    response = post_form(client, "/auth/logout", page="/me")
    assert response.status_code == 302
    assert signed_in_as(client) is None


def test_a_post_without_csrf_token_is_refused(client):
    user = factories.user()
    client.get("/auth/login")
    response = client.post("/auth/login", data={"email": user.email, "password": factories.PASSWORD})
    assert response.status_code == 400
    assert signed_in_as(client) is None
    response = client.post("/auth/register", data=register_form())
    assert response.status_code == 400
    assert accounts.find_by_email("new@example.cn") is None


def test_a_csrf_token_from_another_session_is_refused(app):
    user = factories.user()
    other = app.test_client()
    token = csrf_token(other, "/auth/login")
    client = app.test_client()
    client.get("/auth/login")
    response = client.post("/auth/login", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 400


def test_remember_me_sets_a_remember_cookie_that_outlives_the_session(app):
    user = factories.user()
    plain = app.test_client()
    post_form(plain, "/auth/login", {"email": user.email, "password": factories.PASSWORD})
    assert plain.get_cookie("remember_token") is None

    client = app.test_client()
    response = post_form(client, "/auth/login", {"email": user.email, "password": factories.PASSWORD, "remember": "y"})
    assert response.status_code == 302
    remember = client.get_cookie("remember_token")
    assert remember is not None and remember.expires is not None
    assert "HttpOnly" in " ".join(response.headers.getlist("Set-Cookie"))

    # A browser restarted: the session cookie is gone, the remember cookie signs the user in.
    fresh = app.test_client()
    fresh.set_cookie("remember_token", remember.value)
    assert signed_in_as(fresh) == user.email


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "http:/evil.example",
    "javascript:alert(1)", "/\t/evil.example",
])
def test_next_is_not_an_open_redirect(client, target):
    user = factories.user()
    client.get("/auth/login")
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", query_string={"next": target},
                           data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    # Where a browser would go (browsers read a backslash as a slash): this site, never elsewhere.
    landing = urljoin("http://localhost/auth/login", response.headers["Location"].replace("\\", "/"))
    assert urlsplit(landing).netloc == "localhost", landing


def test_next_to_a_page_of_the_site_is_followed(client):
    user = factories.user()
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    token = csrf_token(client, "/auth/login")
    response = client.post("/auth/login", query_string={"next": "/auth/password?x=1"},
                           data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token})
    assert response.headers["Location"] == "/auth/password?x=1"


# Password reset ----------------------------------------------------------------------------

FORGOT_MESSAGE = "如果该邮箱已注册，重置密码的链接已发送，请查收。"


def test_password_reset_by_emailed_link_once(client):
    user = factories.user()
    response = post_form(client, "/auth/forgot", {"email": user.email})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    assert FORGOT_MESSAGE in html(client.get("/auth/login"))
    (message,) = mails_to(user.email, "重置密码")
    link = link_in(message)
    assert link.startswith("/auth/reset/")

    assert client.get(link).status_code == 200
    response = post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"

    old = post_form(client, "/auth/login", {"email": user.email, "password": factories.PASSWORD})
    assert old.status_code == 200 and "邮箱或密码不正确。" in html(old)
    login(client, user.email, NEW_PASSWORD)
    assert signed_in_as(client) == user.email

    # The link died with the old password.
    again = client.get(link)
    assert again.status_code == 302 and again.headers["Location"] == "/auth/forgot"
    assert "重置链接无效或已使用" in html(client.get("/auth/forgot"))
    with pytest.raises(accounts.AccountError):
        accounts.reset_password(link.rsplit("/", 1)[1], "yet-another-pass-1")


def test_password_reset_for_an_unknown_email_says_the_same_and_sends_nothing(client):
    known = factories.user()
    responses = {}
    for email in (known.email, "nobody@example.cn"):
        response = post_form(client, "/auth/forgot", {"email": email})
        responses[email] = (response.status_code, response.headers["Location"], html(client.get("/auth/login")).count(FORGOT_MESSAGE))
    assert responses[known.email] == responses["nobody@example.cn"] == (302, "/auth/login", 1)
    assert mails_to("nobody@example.cn") == []
    assert len(mails_to(known.email, "重置密码")) == 1


def test_a_reset_ends_sessions_that_were_open(app):
    user = factories.user()
    elsewhere = app.test_client()
    login(elsewhere, user.email)
    client = app.test_client()
    post_form(client, "/auth/forgot", {"email": user.email})
    link = link_in(mails_to(user.email, "重置密码")[0])
    post_form(client, link, {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert signed_in_as(elsewhere) is None


# Changing the password ---------------------------------------------------------------------

def test_change_password_ends_other_sessions_and_revokes_api_tokens(app):
    user = factories.user()
    here, there = app.test_client(), app.test_client()
    login(here, user.email)
    login(there, user.email)
    token = here.post("/api/v1/auth/token", json={"email": user.email, "password": factories.PASSWORD}).get_json()["token"]
    assert here.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    wrong = post_form(here, "/auth/password", {"current": "not-it-at-all", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert wrong.status_code == 200 and "当前密码不正确。" in html(wrong)
    assert signed_in_as(there) == user.email

    response = post_form(here, "/auth/password", {"current": factories.PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert signed_in_as(here) == user.email  # this session carries on
    assert signed_in_as(there) is None  # the other one ended
    assert here.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    login(there, user.email, NEW_PASSWORD)


# Throttling --------------------------------------------------------------------------------

def _attempt(client, email, password="wrong-password-x"):
    return post_form(client, "/auth/login", {"email": email, "password": password})


def test_login_is_throttled_per_account(app):
    user = factories.user()
    client = app.test_client()
    for _ in range(5):
        assert _attempt(client, user.email).status_code == 200
    response = _attempt(client, user.email, factories.PASSWORD)  # even the right password waits now
    assert response.status_code == 429
    assert "尝试过于频繁，请稍后再试" in html(response)
    assert signed_in_as(client) is None
    # Another account from the same address is not blocked by this one's limit.
    other = factories.user()
    assert _attempt(client, other.email, factories.PASSWORD).status_code == 302


def test_the_account_limit_ignores_email_case(app):
    factories.user(email="mixed@example.cn")
    client = app.test_client()
    for email in ("mixed@example.cn", "MIXED@example.cn", "Mixed@Example.cn", "miXed@example.cn", "MIXED@EXAMPLE.CN"):
        assert _attempt(client, email).status_code == 200
    assert _attempt(client, "mixed@EXAMPLE.cn").status_code == 429


def test_login_is_throttled_per_address(app_factory):
    app = app_factory(LOGIN_LIMIT_PER_IP="3 per minute")
    with app.app_context():
        client = app.test_client()
        for n in range(3):
            assert _attempt(client, f"someone{n}@example.cn").status_code == 200
        response = _attempt(client, "someone-else@example.cn")
        assert response.status_code == 429
        assert "尝试过于频繁" in html(response)
        # Another address is not affected.
        elsewhere = app.test_client()
        token = csrf_token(elsewhere, "/auth/login")
        response = elsewhere.post("/auth/login", data={"email": "x@example.cn", "password": "wrong-password-x", "csrf_token": token},
                                  environ_base={"REMOTE_ADDR": "10.1.2.3"})
        assert response.status_code == 200


def test_password_reset_requests_are_throttled(app_factory):
    app = app_factory(RESET_LIMIT="2 per hour")
    with app.app_context():
        user = factories.user()
        client = app.test_client()
        for _ in range(2):
            assert post_form(client, "/auth/forgot", {"email": user.email}).status_code == 302
        response = post_form(client, "/auth/forgot", {"email": user.email})
        assert response.status_code == 429
        assert "尝试过于频繁" in html(response)


def test_services_outside_a_request_speak_the_default_language(app):
    # The CLI, jobs and seeds call services with no request: their messages still render.
    factories.user(email="ops@example.cn")
    result = app.test_cli_runner().invoke(args=["users", "create", "ops@example.cn", "--name", "运维", "--password", "long-password-1"])
    assert result.exit_code != 0
    assert isinstance(result.exception, accounts.AccountError)
    assert str(result.exception) == "该邮箱已注册，请直接登录或找回密码。"


def test_a_signed_in_request_loads_the_user_with_grants_and_memberships_in_one_statement(any_app):
    from sqlalchemy import event

    member = factories.user(roles=[Role.CURATOR], region=factories.ZHEJIANG)
    village = factories.village(member)
    org = factories.organization(member)
    db.session.commit()
    client = any_app.test_client()
    login(client, member.email)
    statements = []
    listen = lambda *args: statements.append(" ".join(args[2].split()))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        html = client.get("/me").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    loads = [s for s in statements if re.search(r"\b(role_grant|membership|village_member)\b", s)]
    assert re.search(r'FROM "?user"? LEFT OUTER JOIN role_grant', loads[0]), loads[0][:300]
    assert "membership" in loads[0] and "village_member" in loads[0]
    assert not [s for s in loads[1:] if re.match(r"SELECT .* FROM (role_grant|membership|village_member)\b", s)]
    assert village.name in html and org.name in html


def test_the_navigation_counts_unread_messages_without_a_statement_of_its_own(any_app):
    from sqlalchemy import event

    from villageaid.notifications.services import notify

    user, other = factories.user(), factories.user()
    client = any_app.test_client()
    login(client, user.email)

    def badge(page):
        found = re.search(r'text-bg-warning">(\d+)<span class="visually-hidden"> 条未读', page)
        return int(found.group(1)) if found else 0

    assert badge(client.get("/needs").get_data(as_text=True)) == 0
    notify([user, other], "主题一", "内容", email=False)
    notify([user], "主题二", "内容", email=False)
    db.session.commit()
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        page = client.get("/needs").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert badge(page) == 2
    assert not [s for s in statements if re.match(r"\s*SELECT count\(\*\).*FROM notification", s, re.S)]
    post_form(client, "/me/inbox", {}, page="/me/inbox")
    assert badge(client.get("/needs").get_data(as_text=True)) == 0
