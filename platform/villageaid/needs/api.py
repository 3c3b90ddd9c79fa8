"""/api/v1/needs — the same filters, services and lifecycle as the pages, for ledgers and mini-programs."""
import contextlib

from flask import g, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from ..api.base import MAX_ID, Blueprint, Text
from ..api.security import Unauthorized, bearer_token, token_required
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..regions.services import division_name
from ..timeutil import as_utc
from ..villages.models import Village
from . import browse, lifecycle, services
from .models import Category, Unit

MAX_WAGE_FEN = 10_000_000

bp = Blueprint("api_needs", __name__, description="Needs (需求): browse, post and move through review")


# Schemas -------------------------------------------------------------------------------------

class Place(Schema):
    code = fields.String(required=True)
    name = fields.String(required=True)


class VillageRef(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class Beneficiaries(Schema):
    households = fields.Integer(required=True)
    people = fields.Integer(required=True)
    poor_people = fields.Integer(required=True, metadata={"description": "of whom 建档立卡 poor"})


class Job(Schema):
    title = fields.String(allow_none=True)
    wage_min_fen = fields.Integer(allow_none=True, metadata={"description": "monthly, fen"})
    wage_max_fen = fields.Integer(allow_none=True)
    location = fields.String(allow_none=True)
    start_date = fields.Date(allow_none=True)


class NeedItem(Schema):
    id = fields.Integer(required=True)
    title = fields.String(required=True)
    village = fields.Nested(VillageRef, required=True)
    province = fields.Nested(Place, required=True)
    prefecture = fields.Nested(Place, required=True)
    county = fields.Nested(Place, required=True)
    category = fields.String(required=True)
    unit = fields.String(required=True, metadata={"description": "cny_fen, jobs, goods or volunteer_hours"})
    target = fields.Integer(allow_none=True, metadata={"description": "an integer in `unit` (fen for money)"})
    pledged = fields.Integer(required=True)
    delivered = fields.Integer(required=True)
    verified = fields.Integer(required=True)
    status = fields.String(required=True)
    deadline = fields.Date(allow_none=True)
    people = fields.Integer(required=True)
    published_at = fields.DateTime(allow_none=True)
    url = fields.String(required=True)


class NeedDetail(NeedItem):
    description = fields.String(required=True, metadata={"description": "Markdown source"})
    beneficiaries = fields.Nested(Beneficiaries, required=True)
    job = fields.Nested(Job, allow_none=True)
    goods_item = fields.String(allow_none=True)
    on_behalf = fields.Boolean(required=True, metadata={"description": "代发布: posted by a curator for the village"})
    photos = fields.List(fields.String(), required=True)
    review_note = fields.String(allow_none=True, metadata={"description": "the curator's reason or comment (insiders only)"})
    flags = fields.List(fields.String(), metadata={"description": "screening flags (insiders only)"})


class NeedPage(Schema):
    items = fields.List(fields.Nested(NeedItem), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    next = fields.String(allow_none=True, metadata={"description": "cursor for the next page: pass as `after`"})


class NeedFilters(Schema):
    q = Text(metadata={"description": "full-text query: answered by GET /search?type=need (a redirect)"})
    province = Text(metadata={"description": "a name such as 四川省 or a division code"})
    prefecture = Text()
    county = Text()
    category = Text(metadata={"description": "industry, employment, charity, skills, consumption, "
                                             "volunteering (or 产业, 就业, 公益, 技能, 消费, 志愿)"})
    unit = Text()
    status = Text(metadata={"description": "open (default), all, or a public state"})
    sort = Text(metadata={"description": "newest, deadline, least_pledged, most_beneficiaries"})
    page = fields.Integer()
    per_page = fields.Integer()
    after = Text()
    before = Text()


class JobInput(Schema):
    # The page form's lengths (the columns'), and a pledge's wage range: 0 to ¥100,000 a month.
    title = Text(load_default=None, validate=validate.Length(max=80))
    wage_min_fen = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=0, max=MAX_WAGE_FEN))
    wage_max_fen = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=0, max=MAX_WAGE_FEN))
    location = Text(load_default=None, validate=validate.Length(max=120))
    start_date = fields.Date(load_default=None)


class NeedInput(Schema):
    village_id = fields.Integer(strict=True, required=True, validate=validate.Range(min=1, max=MAX_ID))
    category = Text(required=True, validate=validate.OneOf([c.value for c in Category]))
    unit = Text(required=True, validate=validate.OneOf([u.value for u in Unit]))
    title = Text(required=True)
    description = Text(load_default="")
    target = fields.Integer(strict=True, load_default=None, metadata={"description": "an integer in `unit` (fen for money)"})
    deadline = fields.Date(load_default=None)
    households = fields.Integer(strict=True, load_default=0)
    people = fields.Integer(strict=True, load_default=0)
    poor_people = fields.Integer(strict=True, load_default=0)
    job = fields.Nested(JobInput, load_default=None)
    goods_item = Text(load_default=None, validate=validate.Length(max=80))
    submit = fields.Boolean(load_default=False, metadata={"description": "submit for review at once"})


class ReasonInput(Schema):
    reason = Text(load_default=None, metadata={"description": "required to reject; optional otherwise"})


# Serialising ---------------------------------------------------------------------------------

def _place(code):
    return {"code": code, "name": division_name(code)}


def item(need):
    village = need.village
    return {
        "id": need.id, "title": need.title, "village": {"id": village.id, "name": village.name},
        "province": _place(village.province_code), "prefecture": _place(village.prefecture_code),
        "county": _place(village.county_code), "category": need.category, "unit": need.unit, "target": need.target,
        "pledged": need.pledged, "delivered": need.delivered, "verified": need.verified, "status": need.status,
        "deadline": need.deadline, "people": need.people, "published_at": as_utc(need.published_at),
        "url": url_for("needs.show", need_id=need.id, _external=True),
    }


def detail(need, viewer):
    insider = viewer is not None and need.is_editor(viewer)
    body = item(need)
    body.update({
        "description": need.description,
        "beneficiaries": {"households": need.households, "people": need.people, "poor_people": need.poor_people},
        "job": {"title": need.job_title, "wage_min_fen": need.wage_min_fen, "wage_max_fen": need.wage_max_fen,
                "location": need.work_location, "start_date": need.job_start_date} if need.unit == Unit.JOBS else None,
        "goods_item": need.goods_item, "on_behalf": need.on_behalf,
        "photos": [url_for("needs.photo", need_id=need.id, photo_id=p.id, _external=True) for p in need.photos],
        "review_note": need.review_note if insider else None,
        "flags": [f.reason + (f"（{f.detail}）" if f.detail else "") for f in need.flags] if insider else [],
    })
    return body


def _optional_user():
    """The bearer token's user on public reads, None without a token (a bad token is still a 401)."""
    if not request.headers.get("Authorization"):
        return None
    from ..accounts.services import user_for_api_token

    user = user_for_api_token(bearer_token())
    if user is None:
        raise Unauthorized(_("需要有效的访问令牌（Authorization: Bearer …）。"))
    return user


def _load(need_id, user):
    need = services.get_visible(need_id, user)
    if need is None:
        from werkzeug.exceptions import NotFound

        raise NotFound()
    return need


@contextlib.contextmanager
def _field_lists():
    """Field errors as lists of messages, as the API's request validation reports them."""
    try:
        yield
    except ServiceError as exc:
        exc.fields = {k: v if isinstance(v, list) else [str(v)] for k, v in exc.fields.items()}
        raise


def _values(body):
    job = body.get("job") or {}
    return {
        "category": body["category"], "unit": body["unit"], "title": body["title"],
        "description": body.get("description") or "", "target": body.get("target"), "deadline": body.get("deadline"),
        "households": body.get("households") or 0, "people": body.get("people") or 0,
        "poor_people": body.get("poor_people") or 0, "job_title": job.get("title"),
        "wage_min_fen": job.get("wage_min_fen"), "wage_max_fen": job.get("wage_max_fen"),
        "work_location": job.get("location"), "job_start_date": job.get("start_date"),
        "goods_item": body.get("goods_item"),
    }


# Endpoints -----------------------------------------------------------------------------------

@bp.route("/needs")
class Needs(MethodView):
    @bp.arguments(NeedFilters, location="query")
    @bp.response(200, NeedPage)
    @bp.alt_response(302, description="With `q`: to GET /search?type=need with the same filters",
                     headers={"Location": {"schema": {"type": "string"}}})
    @bp.alt_response(400, description="Bad input, with the fields (e.g. an unknown division)")
    def get(self, _args):
        """Published needs with the /needs page's filters, sorts and pagination (`q`: see GET /search)."""
        if request.args.get("q", "").strip():
            from .views import search_redirect

            return search_redirect("api_search.Search")
        filters = browse.parse(request.args)
        if filters.errors:
            with _field_lists():
                raise ServiceError(_("请求内容有误，请检查标出的字段。"), fields=filters.errors)
        page = browse.search(filters)
        return {"items": [item(n) for n in page.items], "total": page.total, "page": page.page,
                "pages": page.pages, "per_page": page.per_page, "next": page.next_cursor}

    @bp.arguments(NeedInput)
    @bp.response(201, NeedDetail)
    @bp.alt_response(400, description="Bad input, with the fields")
    @bp.alt_response(403, description="Not this village's committee nor a curator of its region")
    @bp.token_required
    @token_required
    def post(self, body):
        """Save a draft need for a village (代发布 when a curator posts); `submit: true` also submits it."""
        village = db.session.get(Village, body["village_id"])
        if village is None:
            raise ServiceError(_("请求内容有误，请检查标出的字段。"), fields={"village_id": [_("没有这个村。")]})
        with _field_lists():
            need = services.create_need(g.api_user, village, _values(body))
            if body.get("submit"):
                lifecycle.submit(g.api_user, need)
        return detail(need, g.api_user)


@bp.route("/needs/<id:need_id>")
class NeedResource(MethodView):
    @bp.response(200, NeedDetail)
    @bp.alt_response(401, description="A token was sent but is not valid (the need is public without one)")
    @bp.alt_response(404, description="No such need, or not visible to the caller")
    def get(self, need_id):
        """One need: public once published; its village and curators see it earlier (with a token)."""
        user = _optional_user()
        return detail(_load(need_id, user), user)


ACTIONS = {
    "submit": lambda user, need, reason: lifecycle.submit(user, need),
    "approve": lambda user, need, reason: lifecycle.approve(user, need),
    "reject": lambda user, need, reason: lifecycle.reject(user, need, reason),
    "send_back": lambda user, need, reason: lifecycle.send_back(user, need, reason),
    "withdraw": lambda user, need, reason: lifecycle.withdraw(user, need, reason),
}


@bp.route("/needs/<id:need_id>/<any(submit, approve, reject, send_back, withdraw):action>")
class NeedAction(MethodView):
    @bp.arguments(ReasonInput, required=False)
    @bp.response(200, NeedDetail)
    @bp.alt_response(403, description="The caller may not take this action on this need")
    @bp.alt_response(404, description="No such need, or not visible to the caller")
    @bp.alt_response(409, description="The need's state does not allow the action")
    @bp.token_required
    @token_required
    def post(self, body, need_id, action):
        """submit, approve, reject (with a reason), send_back (with a comment) or withdraw."""
        need = _load(need_id, g.api_user)
        if not (need.is_editor(g.api_user) or need.is_reviewer(g.api_user)):
            raise PermissionDenied(_("您没有权限处理该需求。"))
        with _field_lists():
            ACTIONS[action](g.api_user, need, (body or {}).get("reason"))
        return detail(need, g.api_user)

