"""JSON API under /api/v1: the same services as the pages, bearer tokens, JSON errors."""
from .auth import bp as auth_bp
from .base import IdConverter
from .search import bp as search_bp
from ..needs.api import bp as needs_bp
from ..pledges.api import bp as pledges_bp
from ..matching.api import bp as matching_bp
from ..stats.api import bp as stats_bp
from ..honor_roll.api import bp as honor_roll_bp


def register_api(app):
    from ..extensions import csrf, rest_api

    rest_api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    app.url_map.converters["id"] = IdConverter  # before the API's rules are added
    for blueprint in (auth_bp, search_bp, needs_bp, pledges_bp, matching_bp, stats_bp, honor_roll_bp):
        csrf.exempt(blueprint)  # bearer tokens, never cookies: no CSRF exposure
        rest_api.register_blueprint(blueprint, url_prefix="/api/v1")
