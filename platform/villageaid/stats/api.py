"""GET /api/v1/stats — the figures behind /stats, verified unless labelled "pledged"."""
from flask.views import MethodView
from marshmallow import Schema, fields

from ..api.base import Blueprint
from . import services

bp = Blueprint("api_stats", __name__, description="Campaign statistics (verified deliveries unless labelled pledged)")



class ByUnit(Schema):
    cny_fen = fields.Integer(metadata={"description": "funds, fen"})
    jobs = fields.Integer()
    goods = fields.Integer()
    volunteer_hours = fields.Integer()


class ProvinceRow(ByUnit):
    code = fields.String()
    name = fields.String()
    deliveries = fields.Integer()


class CategoryRow(ByUnit):
    category = fields.String()
    deliveries = fields.Integer()


class MonthRow(ByUnit):
    month = fields.String(metadata={"description": "YYYY-MM in China (Asia/Shanghai), of the verification"})
    deliveries = fields.Integer()


class Stats(Schema):
    computed_at = fields.String(metadata={"description": "when the snapshot was computed (UTC, ISO 8601)"})
    verified = fields.Nested(ByUnit)
    pledged = fields.Nested(ByUnit, metadata={"description": "live pledges, not yet verified"})
    deliveries_verified = fields.Integer()
    villages_helped = fields.Integer()
    organizations_helping = fields.Integer()
    villages = fields.Integer(metadata={"description": "verified villages on the platform"})
    organizations = fields.Integer(metadata={"description": "verified organisations on the platform"})
    by_province = fields.List(fields.Nested(ProvinceRow))
    by_category = fields.List(fields.Nested(CategoryRow))
    by_month = fields.List(fields.Nested(MonthRow))


@bp.route("/stats")
class StatsResource(MethodView):
    @bp.response(200, Stats)
    def get(self):
        """The campaign's statistics (a snapshot at most five minutes old)."""
        return services.current()
