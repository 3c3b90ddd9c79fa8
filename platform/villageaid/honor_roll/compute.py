"""Computing an edition's candidates from verified deliveries: SQL aggregates, then one write.

Per category, one GROUP BY over the period's verified deliveries (two levels: per honoree and
need, then per honoree, so a need's beneficiaries count once per honoree) gives every candidate's
figures; Python scores and ranks them (`scoring`); the best `kept(quota)` of each category — and
any candidate curators already excluded or wrote a citation for, wherever it now falls — are
written with the deliveries behind their figures, so every figure equals the sum of its rows.

The aggregates only read and run one category at a time, committing the job's progress between
them; the candidates are replaced in one final transaction, so a page never sees half a result.
The job is safe to run twice: a finished computation is left alone.
"""
import logging
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import case, delete, distinct, func, insert, select

from ..accounts.models import User
from ..extensions import db
from ..needs.models import Need, Unit
from ..organizations.models import Organization
from ..pledges.models import Delivery, DeliveryStatus, Pledge
from ..timeutil import SHANGHAI, as_utc, utcnow
from ..verification import VerificationStatus
from . import scoring
from .models import (ComputationStatus, HonoreeKind, HonorRollCandidate, HonorRollCandidateDelivery,
                     HonorRollComputation)

log = logging.getLogger(__name__)

IN_CHUNKS = 500  # ids per IN (…) list


def kept(quota):
    """How many of a category's best candidates are written for curators to review."""
    return max(100, 3 * quota)


def period_bounds(edition):
    """[start, end) in UTC: period_start 00:00 to the day after period_end 00:00, in China."""
    start = datetime.combine(edition.period_start, time.min, SHANGHAI).astimezone(timezone.utc)
    end = datetime.combine(edition.period_end + timedelta(days=1), time.min, SHANGHAI).astimezone(timezone.utc)
    return start, end


def _owner(kind):
    return Pledge.pledger_id if kind == HonoreeKind.INDIVIDUAL else Pledge.organization_id


def _scope(edition, category):
    """The joins and conditions that decide which deliveries count for `category`."""
    start, end = period_bounds(edition)
    kind = HonoreeKind(category.honoree_kind)
    conditions = [Delivery.status == DeliveryStatus.VERIFIED.value, Delivery.decided_at >= start,
                  Delivery.decided_at < end]
    if kind == HonoreeKind.INDIVIDUAL:
        # Named individuals only: consent on the account, and not this pledge made anonymously.
        conditions += [Pledge.organization_id.is_(None), Pledge.anonymous.is_(False),
                       User.public_name_consent.is_(True), User.active.is_(True)]
        join = (User, User.id == Pledge.pledger_id)
    else:
        conditions += [Organization.kind == kind.value, Organization.status == VerificationStatus.VERIFIED.value]
        join = (Organization, Organization.id == Pledge.organization_id)
    if category.need_category:
        conditions.append(Need.category == category.need_category)
    return join, conditions


def _base(select_, edition, category):
    join, conditions = _scope(edition, category)
    return (select_.select_from(Delivery).join(Pledge, Pledge.id == Delivery.pledge_id)
            .join(Need, Need.id == Delivery.need_id).join(*join).where(*conditions))


def aggregate(edition, category):
    """Every candidate's Figures for `category` (unscored, in no order)."""
    owner = _owner(HonoreeKind(category.honoree_kind)).label("owner_id")
    funds = case((Need.unit == Unit.CNY_FEN.value, Delivery.quantity), else_=0)
    jobs = case((Need.unit == Unit.JOBS.value, Delivery.quantity), else_=0)
    retained = case((Need.unit == Unit.JOBS.value, func.coalesce(Delivery.retained_3m, 0)), else_=0)
    per_need = _base(select(owner, Pledge.village_id.label("village_id"),
                            func.sum(funds).label("funds"), func.sum(jobs).label("jobs"),
                            func.sum(retained).label("retained"), func.max(Need.poor_people).label("poor"),
                            func.count().label("n"), func.min(Delivery.decided_at).label("first")),
                     edition, category).group_by(owner, Delivery.need_id, Pledge.village_id).subquery()
    rows = db.session.execute(
        select(per_need.c.owner_id, func.sum(per_need.c.funds), func.sum(per_need.c.jobs),
               func.sum(per_need.c.retained), func.count(distinct(per_need.c.village_id)),
               func.sum(per_need.c.poor), func.sum(per_need.c.n), func.min(per_need.c.first))
        .group_by(per_need.c.owner_id))
    return [scoring.Figures(owner_id=owner_id, funds_fen=int(funds or 0), jobs_filled=int(jobs or 0),
                            jobs_retained=int(retained or 0), villages_helped=int(villages or 0),
                            beneficiaries=int(poor or 0), deliveries_count=int(n or 0),
                            first_verified_at=as_utc(first))
            for owner_id, funds, jobs, retained, villages, poor, n, first in rows]


def deliveries_behind(edition, category, owner_ids):
    """{owner id: [(delivery id, unit, quantity, retained_3m)]} for the given honorees."""
    owner = _owner(HonoreeKind(category.honoree_kind))
    found = {owner_id: [] for owner_id in owner_ids}
    ids = sorted(owner_ids)
    for start in range(0, len(ids), IN_CHUNKS):
        chunk = ids[start:start + IN_CHUNKS]
        query = _base(select(owner, Delivery.id, Need.unit, Delivery.quantity, Delivery.retained_3m),
                      edition, category).where(owner.in_(chunk)).order_by(Delivery.id)
        for owner_id, delivery_id, unit, quantity, retained in db.session.execute(query):
            found[owner_id].append((delivery_id, unit, int(quantity), retained))
    return found


def _names(kind, owner_ids):
    """{owner id: (name, region code)}: the organisation's name and region, or the person's name."""
    names = {}
    ids = sorted(owner_ids)
    for start in range(0, len(ids), IN_CHUNKS):
        chunk = ids[start:start + IN_CHUNKS]
        if kind == HonoreeKind.INDIVIDUAL:
            for user_id, name in db.session.execute(select(User.id, User.name).where(User.id.in_(chunk))):
                names[user_id] = (name, None)
        else:
            query = select(Organization.id, Organization.name,
                           func.coalesce(Organization.prefecture_code, Organization.province_code))
            for org_id, name, region in db.session.execute(query.where(Organization.id.in_(chunk))):
                names[org_id] = (name, region)
    return names


def _curated(category):
    """Candidates of `category` someone curated (excluded or cited): kept whatever their new place."""
    return {c.organization_id or c.user_id: c for c in db.session.scalars(
        select(HonorRollCandidate).where(HonorRollCandidate.category_id == category.id))
        if c.excluded or c.citation}


def compute_category(edition, category):
    """Rank `category` and return what to write: [(Figures, position or None, deliveries)]."""
    ranked = scoring.rank(aggregate(edition, category), edition.weights)
    positions = {f.owner_id: index for index, f in enumerate(ranked, start=1)}
    chosen = {f.owner_id: f for f in ranked[:kept(category.quota)]}
    for owner_id in _curated(category):
        if owner_id not in chosen:
            index = positions.get(owner_id)
            chosen[owner_id] = ranked[index - 1] if index else scoring.Figures(owner_id=owner_id)
    behind = deliveries_behind(edition, category, list(chosen))
    return [(figures, positions.get(owner_id), behind.get(owner_id, [])) for owner_id, figures in chosen.items()], \
        len(ranked)


def write_category(edition, category, results, now):
    """Replace `category`'s candidates with `results`, keeping curators' decisions (one transaction)."""
    kind = HonoreeKind(category.honoree_kind)
    existing = {c.organization_id or c.user_id: c for c in db.session.scalars(
        select(HonorRollCandidate).where(HonorRollCandidate.category_id == category.id))}
    names = _names(kind, [f.owner_id for f, _p, _d in results])
    wanted = {f.owner_id for f, _p, _d in results}
    for owner_id, candidate in existing.items():
        if owner_id not in wanted:
            db.session.delete(candidate)
    db.session.flush()
    last = len(results) + 1_000_000  # candidates that no longer qualify sort after every other
    for figures, position, deliveries in results:
        candidate = existing.get(figures.owner_id)
        if candidate is None:
            candidate = HonorRollCandidate(edition_id=edition.id, category_id=category.id)
            if kind == HonoreeKind.INDIVIDUAL:
                candidate.user_id = figures.owner_id
            else:
                candidate.organization_id = figures.owner_id
            db.session.add(candidate)
        name, region = names.get(figures.owner_id, (candidate.name or "", candidate.region_code))
        candidate.name, candidate.region_code = name, region
        candidate.funds_fen, candidate.jobs_filled = figures.funds_fen, figures.jobs_filled
        candidate.jobs_retained, candidate.villages_helped = figures.jobs_retained, figures.villages_helped
        candidate.beneficiaries, candidate.deliveries_count = figures.beneficiaries, figures.deliveries_count
        candidate.score, candidate.first_verified_at = figures.score, figures.first_verified_at
        candidate.qualifies = position is not None
        candidate.position = position if position is not None else last
        candidate.computed_at = now
        if position is None:
            last += 1
    db.session.flush()
    ids = {c.organization_id or c.user_id: c.id for c in db.session.scalars(
        select(HonorRollCandidate).where(HonorRollCandidate.category_id == category.id))}
    db.session.execute(delete(HonorRollCandidateDelivery).where(HonorRollCandidateDelivery.candidate_id.in_(
        select(HonorRollCandidate.id).where(HonorRollCandidate.category_id == category.id))))
    rows = [{"candidate_id": ids[figures.owner_id], "delivery_id": delivery_id, "unit": unit, "quantity": quantity,
             "retained_3m": retained}
            for figures, _position, deliveries in results for delivery_id, unit, quantity, retained in deliveries]
    if rows:
        db.session.execute(insert(HonorRollCandidateDelivery), rows)


def run(computation_id):
    """The job: compute every category of the edition, then write them all (a finished run is left alone)."""
    computation = db.session.get(HonorRollComputation, computation_id)
    if computation is None or computation.is_finished:
        return None
    edition = computation.edition
    categories = list(edition.categories)
    computation.status, computation.started_at = ComputationStatus.RUNNING.value, utcnow()
    computation.steps_total, computation.steps_done = len(categories) + 1, 0
    db.session.commit()
    try:
        results, candidates, counted = {}, 0, 0
        for category in categories:
            results[category.id], found = compute_category(edition, category)
            candidates += found
            counted += sum(f.deliveries_count for f, position, _d in results[category.id] if position is not None)
            computation.steps_done += 1
            db.session.commit()  # progress only: nothing of the roll is written yet
        now = utcnow()
        for category in categories:
            write_category(edition, category, results[category.id], now)
        edition.computed_at = now
        computation.status, computation.finished_at = ComputationStatus.DONE.value, now
        computation.steps_done, computation.candidates = computation.steps_total, candidates
        computation.deliveries_counted = counted
        db.session.commit()
    except Exception as exc:  # the curator sees it failed; the worker's log has the traceback
        db.session.rollback()
        log.exception("honor roll computation %s failed", computation_id)
        computation = db.session.get(HonorRollComputation, computation_id)
        computation.status, computation.finished_at = ComputationStatus.FAILED.value, utcnow()
        computation.message = str(exc)[:500]
        db.session.commit()
        raise
    return candidates


def compute_all(edition):
    """The figures of every category, in memory only (the benchmark's measure; nothing is written)."""
    return {category.id: compute_category(edition, category) for category in edition.categories}

