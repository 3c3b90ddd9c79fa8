"""POST /auth/token, DELETE /auth/token, GET /me."""
from flask import g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields

from ..accounts import services as accounts
from ..extensions import limiter
from .base import Blueprint, Text
from .security import Unauthorized, bearer_token, token_required

bp = Blueprint("api_auth", __name__, description="Tokens and the current user")


class TokenRequest(Schema):
    email = fields.Email(required=True)
    password = Text(required=True)


class TokenResponse(Schema):
    token = fields.String(required=True)


class MeResponse(Schema):
    id = fields.Integer(required=True)
    email = fields.String(required=True)
    name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    curator_scopes = fields.List(fields.String(), required=True)
    organization_id = fields.Integer(allow_none=True, required=True)
    organization_ids = fields.List(fields.Integer(), required=True)
    village_ids = fields.List(fields.Integer(), required=True)


def _api_login_key():
    """The per-account throttle's key. It must not raise on any body: Flask-Limiter takes an error here
    for its storage being down and falls back to per-process counters."""
    from flask import request

    body = request.get_json(silent=True)
    email = body.get("email", "") if isinstance(body, dict) else ""
    return "api-login:" + accounts.normalize_email(str(email))


def _limit(name):
    from flask import current_app

    return current_app.config[name]


@bp.route("/auth/token")
class Token(MethodView):
    decorators = [
        limiter.limit(lambda: _limit("LOGIN_LIMIT_PER_IP"), methods=["POST"]),
        limiter.limit(lambda: _limit("LOGIN_LIMIT_PER_ACCOUNT"), methods=["POST"], key_func=_api_login_key),
    ]

    @bp.arguments(TokenRequest)
    @bp.response(201, TokenResponse)
    @bp.alt_response(401, description="Wrong e-mail or password")
    @bp.alt_response(429, description="Too many attempts from this address or for this account")
    def post(self, body):
        """Exchange e-mail and password for a bearer token."""
        user = accounts.authenticate(body["email"], body["password"])
        if user is None:
            raise Unauthorized(_("邮箱或密码不正确。"))
        return {"token": accounts.issue_api_token(user)}

    @bp.response(204)
    @bp.token_required
    @token_required
    def delete(self):
        """Revoke the token used for this request."""
        accounts.revoke_api_token(bearer_token())


@bp.route("/me")
class Me(MethodView):
    @bp.response(200, MeResponse)
    @bp.token_required
    @token_required
    def get(self):
        """The token's user, roles, organisations and villages."""
        user = g.api_user
        org_ids = [o.id for o in user.organizations]
        return {
            "id": user.id, "email": user.email, "name": user.name, "roles": user.role_names(),
            "curator_scopes": user.curator_scopes, "organization_id": org_ids[0] if org_ids else None,
            "organization_ids": org_ids, "village_ids": [v.id for v in user.villages],
        }
