"""/api/v1 pledges and deliveries — the same services and lifecycle as the pages, for ledgers and mini-programs."""
import contextlib
import re

from flask import g, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import NotFound

from ..api.base import MAX_ID, Blueprint, Text
from ..api.security import token_required
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..needs import services as needs
from ..timeutil import as_utc
from . import lifecycle, services
from .models import MAX_EVIDENCE, RETENTION_MONTHS, Delivery

bp = Blueprint("api_pledges", __name__, description="Pledges (认捐) and deliveries (交付): pledge, act, report, verify")


# Schemas -------------------------------------------------------------------------------------

class JobOffer(Schema):
    title = fields.String(allow_none=True)
    wage_fen = fields.Integer(allow_none=True, metadata={"description": "monthly, fen"})
    location = fields.String(allow_none=True)


class JobOfferInput(Schema):
    title = Text(load_default=None, validate=validate.Length(max=80))  # the page form's lengths (the columns')
    wage_fen = fields.Integer(strict=True, load_default=None, metadata={"description": "monthly, fen"})
    location = Text(load_default=None, validate=validate.Length(max=120))


class PledgeInput(Schema):
    quantity = fields.Integer(strict=True, required=True,
                              metadata={"description": "in the need's unit: fen, positions, pieces or hours"})
    on_behalf_of_organization = fields.Integer(strict=True, load_default=None, allow_none=True,
                                               validate=validate.Range(min=1, max=MAX_ID),
                                               metadata={"description": "an organisation the caller is a member of"})
    anonymous = fields.Boolean(load_default=False, metadata={"description": "individuals only: shown as 爱心人士"})
    note = Text(load_default="", validate=validate.Length(max=1000))
    promised_on = fields.Date(load_default=None, metadata={"description": "promised delivery date (default: the "
                                                                          "need's deadline, at least a week ahead)"})
    job = fields.Nested(JobOfferInput, load_default=None, metadata={"description": "jobs needs: the job offered"})
    plan = Text(load_default=None, metadata={"description": "industry projects: the plan"})


class ActionReason(Schema):
    reason = Text(load_default=None, metadata={"description": "required to decline, dispute and reject"})


class RetentionInput(Schema):
    months = fields.Integer(strict=True, required=True, validate=validate.OneOf(RETENTION_MONTHS))
    retained = fields.Integer(strict=True, required=True, metadata={"description": "hires still employed"})


class DeliveryInput(Schema):
    quantity = fields.Integer(strict=True, required=True, metadata={"description": "in the need's unit; jobs: hires"})
    delivered_on = fields.Date(required=True)
    note = Text(load_default="", validate=validate.Length(max=1000))
    milestone = Text(load_default=None, validate=validate.Length(max=120),
                     metadata={"description": "industry projects: the milestone reached"})
    completion_percent = fields.Integer(strict=True, load_default=None,
                                        metadata={"description": "industry projects: the whole project's progress"})


class DeliveryUpload(DeliveryInput):
    evidence = fields.List(fields.Raw(metadata={"type": "string", "format": "binary"}),
                           metadata={"description": f"up to {MAX_EVIDENCE} JPEG, PNG or WebP files"})


class EvidenceItem(Schema):
    id = fields.Integer(required=True)
    url = fields.String(required=True)
    duplicate_of = fields.Integer(allow_none=True, metadata={"description": "the same file on another delivery"})


class DeliveryPublic(Schema):
    id = fields.Integer(required=True)
    quantity = fields.Integer(required=True)
    delivered_on = fields.Date(required=True)
    status = fields.String(required=True,
                           metadata={"description": "reported, confirmed, disputed, verified, rejected, reopened"})
    milestone = fields.String(allow_none=True)
    completion_percent = fields.Integer(allow_none=True)
    retained_3m = fields.Integer(allow_none=True)
    retained_6m = fields.Integer(allow_none=True)
    evidence_count = fields.Integer(required=True)


class DeliveryDetail(DeliveryPublic):
    pledge_id = fields.Integer(required=True)
    note = fields.String(required=True)
    dispute_reason = fields.String(allow_none=True)
    decision_note = fields.String(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    evidence = fields.List(fields.Nested(EvidenceItem), required=True)
    receipt_url = fields.String(allow_none=True, metadata={"description": "捐赠凭证 PDF, verified funds deliveries"})


class PledgePublic(Schema):
    id = fields.Integer(required=True)
    code = fields.String(required=True, metadata={"description": "public tracking code, e.g. WQ-2026-7K3F9Q"})
    need_id = fields.Integer(required=True)
    unit = fields.String(required=True)
    kind = fields.String(required=True, metadata={"description": "funds, project, jobs, goods or volunteer"})
    pledger = fields.String(required=True, metadata={"description": "public name: the organisation, the person, "
                                                                    "or 爱心人士"})
    organization_id = fields.Integer(allow_none=True)
    quantity = fields.Integer(required=True)
    delivered = fields.Integer(required=True)
    confirmed = fields.Integer(required=True)
    verified = fields.Integer(required=True)
    status = fields.String(required=True, metadata={
        "description": "pledged, accepted, delivering, delivered, confirmed, verified, declined, cancelled, lapsed"})
    created_at = fields.DateTime(required=True)
    track_url = fields.String(required=True)
    deliveries = fields.List(fields.Nested(DeliveryPublic), required=True)


class PledgeDetail(PledgePublic):
    pledger_name = fields.String(required=True, metadata={"description": "the person who pledged (parties only)"})
    anonymous = fields.Boolean(required=True)
    promised_on = fields.Date(required=True)
    note = fields.String(required=True)
    job = fields.Nested(JobOffer, allow_none=True)
    plan = fields.String(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "why it was declined or cancelled"})
    deliveries = fields.List(fields.Nested(DeliveryDetail), required=True)


class PledgeList(Schema):
    items = fields.List(fields.Nested(PledgePublic), required=True, metadata={"description": "the latest 100"})
    total = fields.Integer(required=True)


# Serialising ---------------------------------------------------------------------------------

def delivery_public(d):
    return {"id": d.id, "quantity": d.quantity, "delivered_on": d.delivered_on, "status": d.status,
            "milestone": d.milestone, "completion_percent": d.completion_percent, "retained_3m": d.retained_3m,
            "retained_6m": d.retained_6m, "evidence_count": len(d.evidence)}


def delivery_detail(d, viewer):
    body = delivery_public(d)
    body.update({
        "pledge_id": d.pledge_id, "note": d.note, "dispute_reason": d.dispute_reason,
        "decision_note": d.decision_note, "confirmed_at": as_utc(d.confirmed_at), "decided_at": as_utc(d.decided_at),
        "evidence": [{"id": e.id, "duplicate_of": e.duplicate_of_id,
                      "url": url_for("pledges.evidence_file", delivery_id=d.id, evidence_id=e.id, _external=True)}
                     for e in d.evidence],
        "receipt_url": url_for("pledges.receipt", delivery_id=d.id, _external=True)
        if d.can_download_receipt(viewer) else None,
    })
    return body


def pledge_public(p):
    return {
        "id": p.id, "code": p.code, "need_id": p.need_id, "unit": p.need.unit, "kind": p.kind.value,
        "pledger": p.public_name, "organization_id": p.organization_id, "quantity": p.quantity,
        "delivered": p.delivered, "confirmed": p.confirmed, "verified": p.verified, "status": p.status,
        "created_at": as_utc(p.created_at), "track_url": url_for("pledges.track", code=p.code, _external=True),
        "deliveries": [delivery_public(d) for d in p.deliveries],
    }


def pledge_detail(p, viewer):
    body = pledge_public(p)
    body.update({
        "pledger_name": p.pledger.name, "anonymous": p.anonymous, "promised_on": p.promised_on, "note": p.note,
        "job": {"title": p.job_title, "wage_fen": p.wage_fen, "location": p.work_location}
        if p.kind == "jobs" else None,
        "plan": p.plan, "reason": p.reason, "deliveries": [delivery_detail(d, viewer) for d in p.deliveries],
    })
    return body


# Loading and errors --------------------------------------------------------------------------

def _pledge(pledge_id, user):
    pledge = services.get_visible(pledge_id, user)
    if pledge is None:
        raise NotFound()
    return pledge


def _delivery(delivery_id, user):
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or not delivery.pledge.can_view(user):
        raise NotFound()
    return delivery


@contextlib.contextmanager
def _field_lists():
    """Field errors as lists of messages, as the API's request validation reports them."""
    try:
        yield
    except ServiceError as exc:
        exc.fields = {k: v if isinstance(v, list) else [str(v)] for k, v in exc.fields.items()}
        raise


def _pledge_values(body, need):
    job = body.get("job") or {}
    return services.fill_from_need(need, {
        "quantity": body["quantity"], "organization_id": body.get("on_behalf_of_organization"),
        "anonymous": body.get("anonymous"), "note": body.get("note") or "", "promised_on": body.get("promised_on"),
        "job_title": job.get("title"), "wage_fen": job.get("wage_fen"), "work_location": job.get("location"),
        "plan": body.get("plan")})


def _delivery_body():
    """The report from a JSON body, or from a multipart form with `evidence` files."""
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data = request.form.to_dict()
        for name in ("quantity", "completion_percent"):  # form fields are text: whole numbers only
            if re.fullmatch(r"-?\d+", data.get(name, "")):
                data[name] = int(data[name])
        files = [f for f in request.files.getlist("evidence") if f and f.filename]
    else:
        data, files = request.get_json(silent=True), []
        if not isinstance(data, dict):
            raise ServiceError(_("请求内容有误，请检查标出的字段。"), fields={"json": [_("请求体应为 JSON 对象或表单。")]})
    try:
        return DeliveryInput().load(data), files
    except ValidationError as exc:
        raise ServiceError(_("请求内容有误，请检查标出的字段。"), fields=exc.messages) from exc


# Endpoints -----------------------------------------------------------------------------------

@bp.route("/needs/<id:need_id>/pledges")
class NeedPledges(MethodView):
    @bp.response(200, PledgeList)
    @bp.alt_response(404, description="No such need, or not visible to the caller")
    def get(self, need_id):
        """A published need's latest 100 pledges, newest first, as the public sees them (`total`: all of them)."""
        need = needs.get_visible(need_id, None)
        if need is None:
            raise NotFound()
        return {"items": [pledge_public(p) for p in services.need_pledges(need)],
                "total": services.count_need_pledges(need)}

    @bp.arguments(PledgeInput)
    @bp.response(201, PledgeDetail)
    @bp.alt_response(400, description="Bad input, with the fields")
    @bp.alt_response(403, description="Not a member of that organisation, or the need's own village")
    @bp.alt_response(404, description="No such need, or not visible to the caller")
    @bp.alt_response(409, description="More than is still open, or the need takes no pledges now")
    @bp.token_required
    @bp.doc(parameters=[{
        "in": "header", "name": "Idempotency-Key", "required": False, "schema": {"type": "string", "maxLength": 64},
        "description": "a retried request with the same key returns the first pledge instead of pledging twice"}])
    @token_required
    def post(self, body, need_id):
        """Pledge against a published need; a retried call with the same Idempotency-Key pledges once."""
        need = needs.get_visible(need_id, g.api_user)
        if need is None:
            raise NotFound()
        with _field_lists():
            pledge, created = lifecycle.make_pledge(g.api_user, need, _pledge_values(body, need),
                                                    idempotency_key=request.headers.get("Idempotency-Key"))
        return pledge_detail(pledge, g.api_user), 201, {"Idempotent-Replayed": "false" if created else "true"}


@bp.route("/pledges/<id:pledge_id>")
class PledgeResource(MethodView):
    @bp.response(200, PledgeDetail)
    @bp.alt_response(404, description="No such pledge, or the caller is not one of its parties (see /track)")
    @bp.token_required
    @token_required
    def get(self, pledge_id):
        """One pledge with its deliveries, for the pledger, the village and the region's curators."""
        return pledge_detail(_pledge(pledge_id, g.api_user), g.api_user)


PLEDGE_ACTIONS = {
    "accept": lambda user, pledge, reason: lifecycle.accept(user, pledge),
    "decline": lambda user, pledge, reason: lifecycle.decline(user, pledge, reason),
    "cancel": lambda user, pledge, reason: lifecycle.cancel(user, pledge, reason),
}


@bp.route("/pledges/<id:pledge_id>/<any(accept, decline, cancel):action>")
class PledgeAction(MethodView):
    @bp.arguments(ActionReason, required=False)
    @bp.response(200, PledgeDetail)
    @bp.alt_response(403, description="The caller may not take this action on this pledge")
    @bp.alt_response(404, description="No such pledge, or the caller is not one of its parties")
    @bp.alt_response(409, description="The pledge's state does not allow the action")
    @bp.token_required
    @token_required
    def post(self, body, pledge_id, action):
        """accept or decline (the village, with a reason), cancel (the pledger, before any delivery)."""
        pledge = _pledge(pledge_id, g.api_user)
        with _field_lists():
            PLEDGE_ACTIONS[action](g.api_user, pledge, (body or {}).get("reason"))
        return pledge_detail(pledge, g.api_user)


@bp.route("/pledges/<id:pledge_id>/deliveries")
class PledgeDeliveries(MethodView):
    @bp.response(201, DeliveryDetail)
    @bp.alt_response(400, description="Bad input, with the fields")
    @bp.alt_response(403, description="Not the pledger or a member of its organisation")
    @bp.alt_response(404, description="No such pledge, or the caller is not one of its parties")
    @bp.alt_response(409, description="The pledge is not accepted, or the quantity is more than is left")
    @bp.alt_response(413, description="The evidence files are over the size limit")
    @bp.token_required
    @bp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": DeliveryInput},
        "multipart/form-data": {"schema": DeliveryUpload}}})
    @token_required
    def post(self, pledge_id):
        """Report a delivery (JSON, or a multipart form with `evidence` files); the village is asked to confirm."""
        pledge = _pledge(pledge_id, g.api_user)
        if not pledge.is_pledger(g.api_user):
            raise PermissionDenied(_("只有认捐人或其所在组织的成员可以登记交付。"))
        body, files = _delivery_body()
        with _field_lists():
            delivery = lifecycle.report_delivery(g.api_user, pledge, body, uploads=files)
        return delivery_detail(delivery, g.api_user)


@bp.route("/deliveries/<id:delivery_id>")
class DeliveryResource(MethodView):
    @bp.response(200, DeliveryDetail)
    @bp.alt_response(404, description="No such delivery, or the caller is not one of its parties")
    @bp.token_required
    @token_required
    def get(self, delivery_id):
        """One delivery with its evidence links."""
        return delivery_detail(_delivery(delivery_id, g.api_user), g.api_user)


DELIVERY_ACTIONS = {
    "confirm": lambda user, delivery, reason: lifecycle.confirm(user, delivery),
    "dispute": lambda user, delivery, reason: lifecycle.dispute(user, delivery, reason),
    "verify": lambda user, delivery, reason: lifecycle.verify(user, delivery, reason),
    "reject": lambda user, delivery, reason: lifecycle.reject(user, delivery, reason),
}


@bp.route("/deliveries/<id:delivery_id>/<any(confirm, dispute, verify, reject):action>")
class DeliveryAction(MethodView):
    @bp.arguments(ActionReason, required=False)
    @bp.response(200, DeliveryDetail)
    @bp.alt_response(403, description="The caller may not take this action on this delivery")
    @bp.alt_response(404, description="No such delivery, or the caller is not one of its parties")
    @bp.alt_response(409, description="The delivery's state does not allow the action")
    @bp.token_required
    @token_required
    def post(self, body, delivery_id, action):
        """confirm or dispute (the village; a dispute with a reason), verify or reject (a curator of the region)."""
        delivery = _delivery(delivery_id, g.api_user)
        with _field_lists():
            DELIVERY_ACTIONS[action](g.api_user, delivery, (body or {}).get("reason"))
        return delivery_detail(delivery, g.api_user)


@bp.route("/deliveries/<id:delivery_id>/retention")
class DeliveryRetention(MethodView):
    @bp.arguments(RetentionInput)
    @bp.response(200, DeliveryDetail)
    @bp.alt_response(403, description="Not the employer who pledged")
    @bp.alt_response(404, description="No such delivery, or the caller is not one of its parties")
    @bp.alt_response(409, description="Not due yet, already reported, or not a jobs delivery")
    @bp.token_required
    @token_required
    def post(self, body, delivery_id):
        """Jobs: how many of the people hired are still employed 3 or 6 months later (once each)."""
        delivery = _delivery(delivery_id, g.api_user)
        with _field_lists():
            lifecycle.report_retention(g.api_user, delivery, body["months"], body["retained"])
        return delivery_detail(delivery, g.api_user)


@bp.route("/track/<code>")
class Track(MethodView):
    @bp.response(200, PledgePublic)
    @bp.alt_response(404, description="No pledge has this tracking code")
    def get(self, code):
        """A pledge by its public tracking code, without personal data (as /track/<code> shows it)."""
        pledge = services.by_code(code)
        if pledge is None:
            raise NotFound()
        return pledge_public(pledge)
