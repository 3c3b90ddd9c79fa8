"""What the public sees of the honor roll: the roll of an edition (its sealed revision once published,
the curated draft during 公示), an entry with the deliveries behind its figures, and the lookups the
pages, the API and the export share. No personal data: individuals appear only by the name they
agreed to show; objectors never appear.
"""
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import and_, func, select

from ..extensions import db
from ..needs.models import Need
from ..pledges.models import Delivery, Pledge
from ..timeutil import as_utc
from ..villages.models import Village
from . import lifecycle
from .models import (EditionStatus, HonoreeKind, HonorRollCandidate, HonorRollCandidateDelivery, HonorRollEdition,
                     HonorRollEntry, HonorRollRevision, HONOREE_KIND_LABELS)

PUBLIC_STATES = (EditionStatus.NOTICE.value, EditionStatus.PUBLISHED.value)


@dataclass
class Row:
    """One honoree as the public sees it, from a sealed entry or (during notice) a candidate."""

    rank: int
    name: str
    honoree_kind: str
    organization_id: int | None
    funds_fen: int
    jobs_filled: int
    jobs_retained: int
    villages_helped: int
    beneficiaries: int
    deliveries_count: int
    score: int
    citation: str | None
    code: str | None = None           # published entries: the certificate's verification code
    candidate_id: int | None = None   # notice: the candidate, for its page and objections

    @property
    def kind_label(self):
        return HONOREE_KIND_LABELS[HonoreeKind(self.honoree_kind)]

    @property
    def points(self):
        return self.score / 100


@dataclass
class Section:
    name: str
    honoree_kind: str
    rows: list = field(default_factory=list)

    @property
    def kind_label(self):
        return HONOREE_KIND_LABELS[HonoreeKind(self.honoree_kind)]


@dataclass
class Roll:
    edition: HonorRollEdition
    revision: HonorRollRevision | None  # None: the draft in notice
    sections: list

    @property
    def is_draft(self):
        return self.revision is None

    @property
    def rows(self):
        return [(section, row) for section in self.sections for row in section.rows]


@dataclass
class DeliveryRow:
    delivery_id: int
    tracking_code: str
    need_id: int
    need_title: str
    village_id: int
    village_name: str
    unit: str
    quantity: int
    retained_3m: int | None
    poor_people: int
    delivered_on: date
    verified_at: datetime


def public_editions(year=None, status=None):
    query = select(HonorRollEdition).where(HonorRollEdition.status.in_(PUBLIC_STATES))
    if year is not None:
        query = query.where(HonorRollEdition.year == year)
    if status is not None:
        query = query.where(HonorRollEdition.status == status)
    return db.session.scalars(query.order_by(HonorRollEdition.year.desc())).all()


def find(year):
    """The edition of `year` if the public may see it (a draft is the curators' own)."""
    return db.session.scalar(select(HonorRollEdition).where(HonorRollEdition.year == year,
                                                            HonorRollEdition.status.in_(PUBLIC_STATES)))


def current():
    """/honor-roll: the newest published edition, else the newest in notice; and a newer one in notice."""
    editions = public_editions()
    published = next((e for e in editions if e.status == EditionStatus.PUBLISHED), None)
    shown = published or (editions[0] if editions else None)
    newer_notice = next((e for e in editions if e.status == EditionStatus.NOTICE and shown is not None
                         and e.year > shown.year), None)
    return shown, newer_notice


def revision_of(edition, number=None):
    query = select(HonorRollRevision).where(HonorRollRevision.edition_id == edition.id,
                                            HonorRollRevision.sealed.is_(True))
    if number is not None:
        return db.session.scalar(query.where(HonorRollRevision.number == number))
    return db.session.scalar(query.order_by(HonorRollRevision.number.desc()).limit(1))


def roll(edition, number=None):
    """The roll of a public edition: a sealed revision (the latest unless `number`), or the notice draft."""
    if edition.status == EditionStatus.PUBLISHED:
        revision = revision_of(edition, number)
        if revision is None:
            return None
        sections = {}
        for entry in revision.entries:
            section = sections.setdefault(entry.category_position, Section(entry.category_name, entry.honoree_kind))
            section.rows.append(_row(entry, code=entry.code))
        return Roll(edition, revision, [sections[k] for k in sorted(sections)])
    sections = []
    for category, rows in lifecycle.standings(edition):
        section = Section(category.name, category.honoree_kind)
        section.rows = [_row(candidate, rank=rank, candidate_id=candidate.id) for rank, candidate in rows]
        sections.append(section)
    return Roll(edition, None, sections)


def _row(source, **extra):
    rank = extra.pop("rank", getattr(source, "rank", None))
    kind = getattr(source, "honoree_kind", None) or source.category.honoree_kind
    return Row(rank=rank, name=source.name, honoree_kind=kind, organization_id=source.organization_id,
               funds_fen=source.funds_fen, jobs_filled=source.jobs_filled, jobs_retained=source.jobs_retained,
               villages_helped=source.villages_helped, beneficiaries=source.beneficiaries,
               deliveries_count=source.deliveries_count, score=source.score, citation=source.citation, **extra)


def honors_of(organization):
    """The organisation's places on published rolls, newest edition first: the entries of each
    edition's latest sealed revision (a correction replaces what revision 1 said)."""
    latest = (select(HonorRollRevision.edition_id, func.max(HonorRollRevision.number).label("number"))
              .where(HonorRollRevision.sealed.is_(True)).group_by(HonorRollRevision.edition_id).subquery())
    return db.session.scalars(
        select(HonorRollEntry).join(HonorRollEntry.revision)
        .join(latest, and_(latest.c.edition_id == HonorRollRevision.edition_id,
                           latest.c.number == HonorRollRevision.number))
        .join(HonorRollEdition, HonorRollEdition.id == HonorRollRevision.edition_id)
        .where(HonorRollEntry.organization_id == organization.id,
               HonorRollEdition.status == EditionStatus.PUBLISHED.value)
        .order_by(HonorRollEdition.year.desc(), HonorRollEntry.category_position)).all()


def entry_by_code(code):
    code = (code or "").strip().upper()
    return db.session.scalar(select(HonorRollEntry).where(HonorRollEntry.code == code)) if code else None


def entry_deliveries(entry):
    return [DeliveryRow(d.delivery_id, d.pledge_code, d.need_id, d.need_title, d.village_id, d.village_name, d.unit,
                        d.quantity, d.retained_3m, d.poor_people, d.delivered_on, as_utc(d.verified_at))
            for d in entry.deliveries]


def notice_candidate(edition, candidate_id):
    """A candidate shown on the notice draft (honored, in this edition), or None."""
    candidate = db.session.get(HonorRollCandidate, candidate_id)
    if candidate is None or candidate.edition_id != edition.id or edition.status != EditionStatus.NOTICE:
        return None
    for rank, honored in lifecycle.honored(candidate.category):
        if honored.id == candidate.id:
            return rank, candidate
    return None


def candidate_deliveries(candidate):
    rows = db.session.execute(
        select(HonorRollCandidateDelivery.delivery_id, Pledge.code, Need.id, Need.title, Village.id, Village.name,
               HonorRollCandidateDelivery.unit, HonorRollCandidateDelivery.quantity,
               HonorRollCandidateDelivery.retained_3m, Need.poor_people, Delivery.delivered_on, Delivery.decided_at)
        .join(Delivery, Delivery.id == HonorRollCandidateDelivery.delivery_id)
        .join(Pledge, Pledge.id == Delivery.pledge_id).join(Need, Need.id == Delivery.need_id)
        .join(Village, Village.id == Need.village_id)
        .where(HonorRollCandidateDelivery.candidate_id == candidate.id)
        .order_by(HonorRollCandidateDelivery.delivery_id)).all()
    return [DeliveryRow(*row[:11], as_utc(row[11])) for row in rows]


def figure_groups(deliveries):
    """The deliveries behind each figure: funds, jobs, and every delivery (villages and beneficiaries)."""
    return {
        "funds": [d for d in deliveries if d.unit == "cny_fen"],
        "jobs": [d for d in deliveries if d.unit == "jobs"],
        "all": deliveries,
    }


def villages_of(deliveries):
    """[(village name, deliveries)] behind the villages figure, one per village."""
    by_village = {}
    for d in deliveries:
        by_village.setdefault(d.village_id, (d.village_name, []))[1].append(d)
    return sorted(by_village.values(), key=lambda item: item[0])


def needs_of(deliveries):
    """[(need id, title, poor people)] behind the beneficiaries figure: each need once."""
    seen = {}
    for d in deliveries:
        seen.setdefault(d.need_id, (d.need_id, d.need_title, d.poor_people))
    return list(seen.values())
