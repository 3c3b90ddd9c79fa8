"""/api/v1/organizations/<id>/recommendations — the ranking behind /me/recommendations, for ledgers and mini-programs."""
from flask import g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import NotFound

from ..api.base import Blueprint
from ..api.security import token_required
from ..errors import PermissionDenied
from ..extensions import db
from ..needs.api import NeedItem, item
from ..organizations.models import Organization
from . import recommend, services

bp = Blueprint("api_matching", __name__, description="Matchmaking (对接): needs recommended to an organisation")


class ReasonOut(Schema):
    code = fields.String(required=True, metadata={"description": "invited, paired, pairing, proximity, fit, "
                                                                  "preference, urgency or fairness"})
    text = fields.String(required=True, metadata={"description": "in the request's language (?lang=en)"})


class Tiers(Schema):
    direct = fields.Integer(required=True)
    pairing = fields.Integer(required=True)
    proximity = fields.Integer(required=True)
    fit = fields.Integer(required=True)
    preference = fields.Integer(required=True)
    urgency = fields.Integer(required=True)
    fairness = fields.Integer(required=True)


class RecommendationOut(Schema):
    rank = fields.Integer(required=True)
    need = fields.Nested(NeedItem, required=True)
    reasons = fields.List(fields.Nested(ReasonOut), required=True)
    tiers = fields.Nested(Tiers, required=True, metadata={"description": "the ranking's keys, compared in this order"})
    invitation_id = fields.Integer(allow_none=True, metadata={"description": "a pending invitation to this need"})


class RecommendationPage(Schema):
    organization_id = fields.Integer(required=True)
    items = fields.List(fields.Nested(RecommendationOut), required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    has_more = fields.Boolean(required=True)


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=25))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=50))


@bp.route("/organizations/<id:org_id>/recommendations")
class Recommendations(MethodView):
    @bp.arguments(PageArgs, location="query")
    @bp.response(200, RecommendationPage)
    @bp.alt_response(400, description="Bad input, with the fields")
    @bp.alt_response(403, description="Not a member of the organisation")
    @bp.alt_response(404, description="No such organisation, or it is not verified")
    @bp.token_required
    @token_required
    def get(self, args, org_id):
        """Open needs ranked for the organisation, with the reasons for each (its members only)."""
        org = db.session.get(Organization, org_id)
        if org is None or not (org.is_verified or org.is_member(g.api_user)):
            raise NotFound()
        if not services.can_view_recommendations(g.api_user, org):
            raise PermissionDenied(_("只有该帮扶方的成员可以查看为其推荐的需求。"))
        if not org.is_verified:
            raise PermissionDenied(_("帮扶方通过认证后才有推荐。"))
        result = recommend.needs_for(org, page=args["page"], per_page=args["per_page"])
        first = (result.page - 1) * result.per_page
        return {
            "organization_id": org.id, "page": result.page, "per_page": result.per_page, "has_more": result.has_more,
            "items": [{"rank": first + n + 1, "need": item(r.need), "tiers": r.tiers,
                       "reasons": [{"code": x.code, "text": x.text} for x in r.reasons],
                       "invitation_id": r.invitation_id}
                      for n, r in enumerate(result.items)],
        }
