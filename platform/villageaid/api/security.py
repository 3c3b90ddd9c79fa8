"""Bearer-token authentication for the API (cookies are never accepted here)."""
import functools

from flask import g, request
from flask_babel import gettext as _

from ..accounts.services import user_for_api_token
from ..errors import ServiceError


class Unauthorized(ServiceError):
    status = 401


def bearer_token():
    header = request.headers.get("Authorization", "")
    scheme, _sep, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def token_required(view):
    """Load the token's user into `g.api_user` or answer 401."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        user = user_for_api_token(bearer_token())
        if user is None:
            raise Unauthorized(_("需要有效的访问令牌（Authorization: Bearer …）。"))
        g.api_user = user
        return view(*args, **kwargs)

    return wrapper
