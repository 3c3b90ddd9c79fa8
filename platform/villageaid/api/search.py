"""GET /search — the same search as the /search page."""
from datetime import timezone

from flask import request
from flask.views import MethodView
from marshmallow import Schema, fields

from ..errors import ServiceError
from ..search.services import PROBLEMS
from ..search.views import parse_args, run
from .base import Blueprint, Text

bp = Blueprint("api_search", __name__, description="Full-text search over needs, villages and organisations")


class SearchArgs(Schema):
    q = Text(load_default="")
    type = Text(load_default=None)
    province = Text(load_default=None)
    prefecture = Text(load_default=None)
    county = Text(load_default=None)
    category = Text(load_default=None)
    status = Text(load_default=None)
    unit = Text(load_default=None)
    sort = Text(load_default="relevance", metadata={
        "description": "relevance, newest, deadline, progress (most pledged first), least_pledged, most_beneficiaries"})
    page = fields.Integer(load_default=1)
    per_page = fields.Integer(load_default=20, metadata={"description": "1–100"})


class SearchItem(Schema):
    doc_id = fields.String(required=True)
    kind = fields.String(required=True)
    obj_id = fields.Integer(required=True)
    title = fields.String(required=True)
    place = fields.String(allow_none=True)
    province = fields.String(allow_none=True, metadata={"description": "12-digit division code"})
    prefecture = fields.String(allow_none=True)
    county = fields.String(allow_none=True)
    category = fields.String(allow_none=True, metadata={"description": "needs: industry, employment, charity, …"})
    status = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    created = fields.DateTime(allow_none=True, metadata={"description": "published (needs) or registered, UTC"})
    deadline = fields.Date(allow_none=True)
    progress = fields.Integer(allow_none=True, metadata={"description": "share pledged in basis points (0–10000)"})
    people = fields.Integer(allow_none=True, metadata={"description": "beneficiaries of a need"})
    snippet = fields.String(allow_none=True)
    score = fields.Float(allow_none=True)
    url = fields.String(required=True)


class SearchResponse(Schema):
    items = fields.List(fields.Nested(SearchItem), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    suggestion = fields.String(allow_none=True)


PATHS = {"need": "/needs/", "village": "/villages/", "organization": "/helpers/"}


class RebuildingIndex(ServiceError):
    status = 503


@bp.route("/search")
class Search(MethodView):
    @bp.arguments(SearchArgs, location="query")
    @bp.response(200, SearchResponse)
    @bp.alt_response(400, description="Bad input, an unknown division, or nothing to search for")
    @bp.alt_response(503, description="The index is being rebuilt: try again shortly")
    def get(self, _args):
        """Search; `snippet` is HTML with matches in <mark>, everything else escaped."""
        params = parse_args(request.args)
        if params["errors"]:
            raise ServiceError(next(iter(params["errors"].values())), fields=params["errors"])
        results, problem = run(params)
        if problem == "rebuilding":
            raise RebuildingIndex(PROBLEMS[problem]())
        if problem == "empty_query":
            raise ServiceError(PROBLEMS[problem](), fields={"q": [PROBLEMS[problem]()]})
        if results is None:
            return {"items": [], "total": 0, "page": params["page"], "per_page": params["per_page"],
                    "suggestion": None}
        items = [{**item, "url": PATHS[item["kind"]] + str(item["obj_id"]),
                  "created": item["created"].replace(tzinfo=timezone.utc) if item["created"] else None,
                  "deadline": item["deadline"].date() if item["deadline"] else None}
                 for item in results.items]
        return {"items": items, "total": results.total, "page": results.page, "per_page": results.per_page,
                "suggestion": results.suggestion}
