"""GET /api/v1/honor-rolls and /api/v1/honor-rolls/<year>: the public rolls, with every entry's
figures, the verified deliveries behind them and its certificate's address."""
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from werkzeug.exceptions import NotFound

from ..api.base import Blueprint, Text
from ..timeutil import as_utc
from ..web import external_url
from . import public
from .models import HonoreeKind

bp = Blueprint("api_honor_roll", __name__, description="Honor rolls (光荣榜) of 10·17, National Poverty Alleviation Day")


class EditionOut(Schema):
    year = fields.Integer(required=True)
    title = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "notice (公示, a draft open to objections) or published"})
    period_start = fields.Date(required=True, metadata={"description": "first day counted, in China (inclusive)"})
    period_end = fields.Date(required=True, metadata={"description": "last day counted, in China (inclusive)"})
    publish_at = fields.DateTime(required=True, metadata={"description": "scheduled publication (UTC)"})
    published_at = fields.DateTime(allow_none=True)
    notice_ends_at = fields.DateTime(allow_none=True)
    revision = fields.Integer(allow_none=True, metadata={"description": "the current revision; null in notice"})
    url = fields.String(required=True)


class EditionList(Schema):
    items = fields.List(fields.Nested(EditionOut), required=True)


class ListArgs(Schema):
    year = fields.Integer(validate=validate.Range(min=2015, max=2100))
    status = Text(validate=validate.OneOf(["notice", "published"]))


class OrganizationRef(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class DeliveryOut(Schema):
    id = fields.Integer(required=True)
    tracking_code = fields.String(required=True)
    track_url = fields.String(required=True)
    need_id = fields.Integer(required=True)
    need_title = fields.String(required=True)
    village = fields.String(required=True)
    unit = fields.String(required=True, metadata={"description": "cny_fen, jobs, goods or volunteer_hours"})
    quantity = fields.Integer(required=True, metadata={"description": "in the unit (fen for money)"})
    retained_3m = fields.Integer(allow_none=True, metadata={"description": "jobs: hires still employed after 3 months"})
    poor_people = fields.Integer(required=True, metadata={"description": "the need's registered poor beneficiaries"})
    delivered_on = fields.Date(required=True)
    verified_at = fields.DateTime(required=True)


class EntryOut(Schema):
    category = fields.String(required=True)
    honoree_kind = fields.String(required=True, metadata={"description": "enterprise, ngo or individual"})
    rank = fields.Integer(required=True)
    name = fields.String(required=True)
    organization = fields.Nested(OrganizationRef, allow_none=True)
    funds_fen = fields.Integer(required=True)
    jobs_filled = fields.Integer(required=True)
    jobs_retained = fields.Integer(required=True)
    villages_helped = fields.Integer(required=True)
    beneficiaries = fields.Integer(required=True)
    deliveries_count = fields.Integer(required=True)
    score = fields.Float(required=True, metadata={"description": "points, by the edition's published weights"})
    citation = fields.String(allow_none=True)
    verification_code = fields.String(allow_none=True, metadata={"description": "published entries only"})
    url = fields.String(required=True)
    certificate_url = fields.String(allow_none=True, metadata={"description": "荣誉证书 PDF; published entries only"})
    deliveries = fields.List(fields.Nested(DeliveryOut), required=True)


class Weights(Schema):
    funds_per_10k_yuan = fields.Integer(required=True)
    per_job = fields.Integer(required=True, metadata={"description": "a hire retained 3 months counts fully, others half"})
    per_village = fields.Integer(required=True)
    per_poor_person = fields.Integer(required=True)


class RollOut(EditionOut):
    change_note = fields.String(allow_none=True, metadata={"description": "why this revision corrected the last"})
    digest = fields.String(allow_none=True, metadata={"description": "SHA-256 of the revision's entries"})
    weights = fields.Nested(Weights, required=True)
    entries = fields.List(fields.Nested(EntryOut), required=True)


def _edition(edition, revision=None):
    revision = revision if revision is not None else public.revision_of(edition)
    return {"year": edition.year, "title": edition.title, "status": edition.status,
            "period_start": edition.period_start, "period_end": edition.period_end,
            "publish_at": as_utc(edition.publish_at), "published_at": as_utc(edition.published_at),
            "notice_ends_at": as_utc(edition.notice_ends_at),
            "revision": revision.number if revision else None,
            "url": external_url("honor_roll.edition", year=edition.year)}


def _delivery(d):
    return {"id": d.delivery_id, "tracking_code": d.tracking_code, "track_url": external_url("pledges.track",
                                                                                             code=d.tracking_code),
            "need_id": d.need_id, "need_title": d.need_title, "village": d.village_name, "unit": d.unit,
            "quantity": d.quantity, "retained_3m": d.retained_3m, "poor_people": d.poor_people,
            "delivered_on": d.delivered_on, "verified_at": as_utc(d.verified_at)}


def _entry(edition, section, row, organizations):
    if row.code:
        deliveries = public.entry_deliveries(public.entry_by_code(row.code))
        url = external_url("honor_roll.entry", code=row.code)
        certificate = external_url("honor_roll.certificate", code=row.code)
    else:
        from ..extensions import db
        from .models import HonorRollCandidate

        deliveries = public.candidate_deliveries(db.session.get(HonorRollCandidate, row.candidate_id))
        url, certificate = external_url("honor_roll.candidate", year=edition.year, candidate_id=row.candidate_id), None
    organization = None
    if row.honoree_kind != HonoreeKind.INDIVIDUAL and row.organization_id:
        organization = {"id": row.organization_id, "name": organizations.get(row.organization_id, row.name)}
    return {"category": section.name, "honoree_kind": row.honoree_kind, "rank": row.rank, "name": row.name,
            "organization": organization, "funds_fen": row.funds_fen, "jobs_filled": row.jobs_filled,
            "jobs_retained": row.jobs_retained, "villages_helped": row.villages_helped,
            "beneficiaries": row.beneficiaries, "deliveries_count": row.deliveries_count, "score": row.points,
            "citation": row.citation, "verification_code": row.code, "url": url, "certificate_url": certificate,
            "deliveries": [_delivery(d) for d in deliveries]}


@bp.route("/honor-rolls")
class HonorRolls(MethodView):
    @bp.arguments(ListArgs, location="query")
    @bp.response(200, EditionList)
    @bp.alt_response(400, description="Bad input, with the fields")
    def get(self, args):
        """Every public edition, newest first (drafts are the curators' own)."""
        return {"items": [_edition(e) for e in public.public_editions(args.get("year"), args.get("status"))]}


@bp.route("/honor-rolls/<int(max=9999):year>")
class HonorRollResource(MethodView):
    @bp.response(200, RollOut)
    @bp.alt_response(404, description="No public edition for that year")
    def get(self, year):
        """One edition's roll: the current revision once published, the draft during 公示."""
        edition = public.find(year)
        the_roll = public.roll(edition) if edition else None
        if the_roll is None:
            raise NotFound()
        organizations = {row.organization_id: row.name for _s, row in the_roll.rows if row.organization_id}
        data = _edition(edition, the_roll.revision)
        data.update(change_note=the_roll.revision.change_note if the_roll.revision else None,
                    digest=the_roll.revision.digest if the_roll.revision else None,
                    weights={"funds_per_10k_yuan": edition.weight_funds, "per_job": edition.weight_jobs,
                             "per_village": edition.weight_villages, "per_poor_person": edition.weight_beneficiaries},
                    entries=[_entry(edition, section, row, organizations) for section, row in the_roll.rows])
        return data
