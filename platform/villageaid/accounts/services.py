"""Account rules: registration, sign-in, e-mail tokens, roles, API tokens, invitations."""
import hashlib
import secrets
from datetime import timedelta
from functools import cache

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from .. import queue
from ..audit.services import record
from ..extensions import db
from ..timeutil import as_utc, utcnow
from ..web import external_url
from .models import ApiToken, Invitation, Role, RoleGrant, User

EMAIL_TOKEN_MAX_AGE = 3 * 24 * 3600
RESET_TOKEN_MAX_AGE = 2 * 3600
MIN_PASSWORD_LENGTH = 8


class AccountError(Exception):
    """A rule of accounts was broken; the message is shown to the user."""


def normalize_email(email):
    return (email or "").strip().lower()


def find_by_email(email):
    return db.session.scalar(select(User).where(func.lower(User.email) == normalize_email(email)))


def register(email, name, password, *, locale=None, public_name_consent=False):
    """Create a donor account and send the e-mail verification link."""
    email = normalize_email(email)
    if find_by_email(email):
        raise AccountError(_("该邮箱已注册，请直接登录或找回密码。"))
    user = User(email=email, name=name.strip(), locale=locale, public_name_consent=public_name_consent)
    user.set_password(password)
    user.grants.append(RoleGrant(role=Role.DONOR))
    db.session.add(user)
    db.session.flush()
    record(user, user, "register")
    send_verification_email(user)
    queue.commit()
    return user


def authenticate(email, password):
    """The active user with this e-mail and password, or None (the same for both mistakes)."""
    user = find_by_email(email)
    if user is None or not user.active or not user.check_password(password):
        return None
    return user


@cache
def _signed_in_user():
    """The signed-in user with their grants, organisation memberships and village memberships, joined in one
    statement built once, and their unread notifications counted in it for the navigation bar: every
    signed-in request runs it, and the three selectin loads and the count it replaces cost four more
    statements, each with its own setup (1.3 → 0.3 ms on SQLite, 2.5 → 0.8 ms on PostgreSQL for the user
    alone). A user has few of each, so the joins multiply few rows."""
    from ..notifications.models import Notification  # notifications builds on accounts

    unread = (select(func.count()).where(Notification.user_id == User.id, Notification.read_at.is_(None))
              .correlate(User).scalar_subquery())
    return select(User, unread).where(User.id == bindparam("user_id")).options(
        joinedload(User.grants), joinedload(User.memberships), joinedload(User.village_memberships))


def load_user(alternative_id):
    """Flask-Login loader: "<id>:<session token>"; a changed token ends old sessions."""
    user_id, _sep, token = (alternative_id or "").partition(":")
    if not user_id.isdigit():
        return None
    row = db.session.execute(_signed_in_user(), {"user_id": int(user_id)}).unique().first()
    if row is None or not secrets.compare_digest(row[0].session_token, token):
        return None
    user, unread = row
    user.unread_when_loaded = unread  # the navigation bar's count, as of the start of the request
    return user


def _serializer(salt):
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def _email_in_language(user, subject_fn, body_fn):
    """Render a message in the recipient's language, whatever the current request's is."""
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        return subject_fn(), body_fn()


def send_verification_email(user):
    token = _serializer("verify-email").dumps({"id": user.id, "email": user.email})
    link = external_url("accounts.verify_email", token=token)
    subject, body = _email_in_language(
        user,
        lambda: _("请验证您的邮箱 — 万企帮万村"),
        lambda: _("%(name)s，您好：\n\n请打开以下链接验证您的邮箱（3 天内有效）：\n%(link)s", name=user.name, link=link),
    )
    queue.defer("jobs.mail.send_email", user.email, subject, body)


def verify_email(token):
    try:
        data = _serializer("verify-email").loads(token, max_age=EMAIL_TOKEN_MAX_AGE)
    except SignatureExpired as exc:
        raise AccountError(_("验证链接已过期，请登录后重新发送。")) from exc
    except BadSignature as exc:
        raise AccountError(_("验证链接无效。")) from exc
    user = db.session.get(User, data.get("id"))
    if user is None or user.email != data.get("email"):
        raise AccountError(_("验证链接无效。"))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record(user, user, "verify_email")
        db.session.commit()
    return user


def _reset_fingerprint(user):
    # The token dies once the password changes: it carries a hash of the current password hash.
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]


def request_password_reset(email):
    """E-mail a reset link if the account exists; say nothing either way (no account probing)."""
    user = find_by_email(email)
    if user is None or not user.active:
        return
    token = _serializer("reset-password").dumps({"id": user.id, "fp": _reset_fingerprint(user)})
    link = external_url("accounts.reset_password", token=token)
    subject, body = _email_in_language(
        user,
        lambda: _("重置密码 — 万企帮万村"),
        lambda: _("%(name)s，您好：\n\n请打开以下链接设置新密码（2 小时内有效，只能使用一次）：\n%(link)s\n\n如果不是您本人操作，请忽略本邮件。", name=user.name, link=link),
    )
    queue.defer("jobs.mail.send_email", user.email, subject, body)
    record(user, user, "request_password_reset")
    queue.commit()


def user_for_reset_token(token):
    try:
        data = _serializer("reset-password").loads(token, max_age=RESET_TOKEN_MAX_AGE)
    except SignatureExpired as exc:
        raise AccountError(_("重置链接已过期，请重新申请。")) from exc
    except BadSignature as exc:
        raise AccountError(_("重置链接无效。")) from exc
    user = db.session.get(User, data.get("id"))
    if user is None or data.get("fp") != _reset_fingerprint(user):
        raise AccountError(_("重置链接无效或已使用。"))
    return user


def reset_password(token, new_password):
    user = user_for_reset_token(token)
    change_password(user, new_password, reason="reset")
    return user


def change_password(user, new_password, reason="change"):
    """Set a new password; every other session and every API token of the user ends."""
    user.set_password(new_password)
    for token in db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))):
        token.revoked_at = utcnow()
    record(user, user, "password_" + reason)
    db.session.commit()


# Roles -------------------------------------------------------------------------------------

def grant(user, role, region_code=None, actor=None):
    """Give `user` a role (a curator's scoped to `region_code`, None for national)."""
    role = Role(role)
    if any(g.role == role and g.region_code == region_code for g in user.grants):
        return
    user.grants.append(RoleGrant(role=role, region_code=region_code))
    db.session.flush()
    record(actor, user, "grant_role", data={"role": role.value, "region": region_code})


# API tokens --------------------------------------------------------------------------------

def _hash_token(token):
    return hashlib.sha256(token.encode()).hexdigest()


def issue_api_token(user):
    """A new bearer token (returned once, stored only as a hash)."""
    token = "va_" + secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"]
    db.session.add(ApiToken(user_id=user.id, token_hash=_hash_token(token), expires_at=utcnow() + timedelta(days=days)))
    record(user, user, "issue_api_token")
    db.session.commit()
    return token


def user_for_api_token(token):
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token or "")))
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= utcnow() or not row.user.active:
        return None
    return row.user


def revoke_api_token(token):
    row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token or "")))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        db.session.commit()
        return True
    return False


# Invitations -------------------------------------------------------------------------------

INVITATION_DAYS = 14


def create_invitation(inviter, email, *, organization=None, village=None, title=None):
    """Invite `email` to join an organisation or village committee; the link is e-mailed."""
    token = secrets.token_urlsafe(24)
    invitation = Invitation(
        email=normalize_email(email),
        token_hash=_hash_token(token),
        organization_id=organization.id if organization else None,
        village_id=village.id if village else None,
        title=title,
        invited_by_id=inviter.id,
        expires_at=utcnow() + timedelta(days=INVITATION_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    target = organization.name if organization else village.name
    link = external_url("accounts.accept_invitation", token=token)
    subject = _("%(inviter)s 邀请您加入 %(target)s — 万企帮万村", inviter=inviter.name, target=target)
    body = _("您好：\n\n%(inviter)s 邀请您加入 %(target)s。请注册或登录后打开以下链接接受邀请（14 天内有效）：\n%(link)s", inviter=inviter.name, target=target, link=link)
    queue.defer("jobs.mail.send_email", invitation.email, subject, body)
    record(inviter, invitation, "invite", data={"email": invitation.email})
    queue.commit()
    return invitation, token


def invitation_for_token(token):
    invitation = db.session.scalar(select(Invitation).where(Invitation.token_hash == _hash_token(token or "")))
    if invitation is None:
        raise AccountError(_("邀请链接无效。"))
    if invitation.accepted_at is not None:
        raise AccountError(_("该邀请已被接受。"))
    if as_utc(invitation.expires_at) <= utcnow():
        raise AccountError(_("邀请已过期，请联系邀请人重新发送。"))
    return invitation


def accept_invitation(user, token):
    """Join the invitation's organisation or village as `user` (the e-mail must match)."""
    from ..organizations.models import Membership
    from ..villages.models import VillageMember

    invitation = invitation_for_token(token)
    if normalize_email(user.email) != invitation.email:
        raise AccountError(_("该邀请发给 %(email)s，请用该邮箱的账号登录后接受。", email=invitation.email))
    if invitation.organization_id:
        if not invitation.organization.is_member(user):
            db.session.add(Membership(user_id=user.id, organization_id=invitation.organization_id))
    elif not invitation.village.is_member(user):
        db.session.add(VillageMember(user_id=user.id, village_id=invitation.village_id, title=invitation.title or "村委会成员"))
    invitation.accepted_at = utcnow()
    record(user, invitation, "accept_invitation")
    db.session.commit()
    return invitation
