"""Computing an edition's candidates from verified deliveries: SQL aggregates, then one write.

One aggregate over the period's verified deliveries — read from the delivery table alone, which
carries its pledge's honoree and village and its need's unit, category and poor people
(`pledges.models.credited_facts`), counting a need's beneficiaries and a village once per honoree —
gives every honoree's figures for all the categories counting the same help at once (the default
three); SQL sorts honorees into kinds and ranks them by the published rule (`scoring`, which Python
checks each returned score against); the best `kept(quota)` of each category — and any candidate
curators already excluded or wrote a citation for, wherever it now falls — are written with the
deliveries behind their figures, so every figure equals the sum of its rows.

The aggregates only read and run one category at a time, committing the job's progress between
them; the candidates are replaced in one final transaction, so a page never sees half a result.
The job is safe to run twice: a finished computation is left alone.
"""
import logging
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import (BigInteger, String, and_, case, cast, delete, distinct, func, insert, literal, or_, select, text,
                        type_coerce, union_all)

from ..accounts.models import User
from ..extensions import db
from ..needs.models import Unit
from ..organizations.models import Organization
from ..pledges.models import Delivery, DeliveryStatus
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


def _counted(need_category):
    """Which deliveries count, whenever verified: verified, credited to a name (not pledged anonymously
    by a person), and of `need_category` when the category counts one kind of help only."""
    conditions = [Delivery.status == DeliveryStatus.VERIFIED.value,
                  # an anonymous pledge stays anonymous: its deliveries are credited to no one
                  or_(Delivery.honoree_organization_id.is_not(None), Delivery.honoree_user_id.is_not(None))]
    if need_category:
        conditions.append(Delivery.need_category == need_category)
    return conditions


def _conditions(edition, need_category):
    """Which deliveries count for `edition`: those `_counted`, verified within its period."""
    start, end = period_bounds(edition)
    return _counted(need_category) + [Delivery.decided_at >= start, Delivery.decided_at < end]


def _whole(column):
    """A sum as an integer: PostgreSQL sums bigints as numeric."""
    return cast(func.sum(column), BigInteger)


def _per_owner(edition, need_category):
    """Every honoree's figures as a subquery: one pass over the period's deliveries, counting a need's
    beneficiaries and a village once per honoree.

    It reads the delivery table alone — the delivery carries its pledge's honoree and village and its
    need's unit, category and poor people (`credited_facts`) — through `ix_delivery_honor_roll`, which
    holds every column read in honoree, village, need order: one index-only scan, no join, no sort of
    the deliveries. Each database gets the form it runs fastest (docs/performance.md); both give the
    same figures, which tests/honor_roll/test_copied_facts.py checks against the joins they replace.
    """
    if db.engine.dialect.name == "postgresql":
        return _per_owner_by_window(edition, need_category)
    return _per_owner_by_need(edition, need_category)


def _per_owner_by_need(edition, need_category):
    """Two levels: per honoree and need, then per honoree with `count(DISTINCT village)`.

    SQLite: the first level streams off the index in its order. Its planner takes any range as
    selective and would scan the period through ix_delivery_status_decided, looking each row up (2×
    slower): `likely()` tells it what is true at campaign scale, that most verified deliveries fall
    within an edition's year. The first level's rows are kept narrow, for the second level sorts them:
    a need's village, unit and poor people are the need's own (`credited_facts`), so they are read as
    SQLite's bare columns, not grouped by, and its funds and jobs leave the first level already split
    by unit (0.92 -> 0.79 s of CPU at campaign scale).
    """
    start, end = period_bounds(edition)
    in_period = [func.likely(Delivery.decided_at >= start), func.likely(Delivery.decided_at < end)]
    is_funds, is_jobs = Delivery.need_unit == Unit.CNY_FEN.value, Delivery.need_unit == Unit.JOBS.value
    per_need = (select(Delivery.honoree_organization_id.label("org_id"), Delivery.honoree_user_id.label("person_id"),
                       Delivery.village_id.label("village_id"),
                       case((is_funds, func.sum(Delivery.quantity)), else_=0).label("funds"),
                       case((is_jobs, func.sum(Delivery.quantity)), else_=0).label("jobs"),
                       # NULL when no retention was reported: the second level's sum skips it.
                       case((is_jobs, func.sum(Delivery.retained_3m)), else_=0).label("retained"),
                       Delivery.need_poor_people.label("poor"), func.count().label("n"),
                       func.min(Delivery.decided_at).label("first"))
                .where(*_counted(need_category), *in_period)
                .group_by(Delivery.honoree_organization_id, Delivery.honoree_user_id, Delivery.village_id,
                          Delivery.need_id)
                .subquery())
    p = per_need.c
    return (select(p.org_id, p.person_id, _whole(p.funds).label("funds"), _whole(p.jobs).label("jobs"),
                   func.coalesce(_whole(p.retained), 0).label("retained"),
                   func.count(distinct(p.village_id)).label("villages"), _whole(p.poor).label("poor"),
                   _whole(p.n).label("n"), func.min(p.first).label("first"))
            .group_by(p.org_id, p.person_id).subquery())


def _per_owner_by_window(edition, need_category):
    """One level per honoree over the deliveries in index order, where `lag()` marks each honoree's
    first delivery of a village and of a need: those count the village, and the need's poor people.

    PostgreSQL: `count(DISTINCT …)` sorts within every one of 130k groups (0.9 s at campaign scale);
    the window reads the index's own order, so nothing is sorted at all.
    """
    honoree = {"partition_by": [Delivery.honoree_organization_id, Delivery.honoree_user_id],
               "order_by": [Delivery.village_id, Delivery.need_id]}
    marked = (select(Delivery.honoree_organization_id.label("org_id"), Delivery.honoree_user_id.label("person_id"),
                     Delivery.need_unit.label("unit"), Delivery.quantity, Delivery.retained_3m,
                     Delivery.need_poor_people.label("poor"), Delivery.decided_at,
                     Delivery.village_id.is_distinct_from(func.lag(Delivery.village_id).over(**honoree))
                     .label("new_village"),
                     Delivery.need_id.is_distinct_from(func.lag(Delivery.need_id).over(**honoree)).label("new_need"))
              .where(*_conditions(edition, need_category))
              .subquery())
    m = marked.c
    funds = case((m.unit == Unit.CNY_FEN.value, m.quantity), else_=0)
    jobs = case((m.unit == Unit.JOBS.value, m.quantity), else_=0)
    retained = case((m.unit == Unit.JOBS.value, func.coalesce(m.retained_3m, 0)), else_=0)
    return (select(m.org_id, m.person_id, _whole(funds).label("funds"), _whole(jobs).label("jobs"),
                   _whole(retained).label("retained"), func.count().filter(m.new_village).label("villages"),
                   _whole(case((m.new_need, m.poor), else_=0)).label("poor"), func.count().label("n"),
                   func.min(m.decided_at).label("first"))
            .group_by(m.org_id, m.person_id).subquery())


def ranking(edition, need_category=None, limits=None, curated=None):
    """{honoree kind: (candidates, [(position, Figures)])}: every honoree ranked in SQL by the
    published rule (`scoring`), returning only the best `limits[kind]` of each kind and the
    `curated[kind]` ids wherever they stand — a few hundred rows, whatever the number of deliveries.

    Honorees are sorted into kinds after aggregating (130k organisations and people, not a million
    deliveries): verified enterprises, verified NGOs, and people who agreed to be named. Python
    checks each returned score against `scoring.score`, the rule's reference.
    """
    limits = limits or {}
    curated = curated or {}
    _tune_for_aggregates()
    per_owner = _per_owner(edition, need_category)
    o = per_owner.c
    # Joined only where they make an honoree (PostgreSQL hashes the matching rows only): a verified
    # organisation, a person who agreed to be named. A row is an organisation's or a person's, never both.
    named_org = and_(Organization.id == o.org_id, Organization.status == VerificationStatus.VERIFIED.value)
    named_person = and_(User.id == o.person_id, User.public_name_consent.is_(True), User.active.is_(True))
    kind = case((Organization.id.is_not(None), type_coerce(Organization.kind, String)),
                (User.id.is_not(None), literal(HonoreeKind.INDIVIDUAL.value)), else_=None)
    w = edition.weights
    # `//`: integer division on both databases (SQLAlchemy's `/` is true division, numeric on PostgreSQL,
    # which would order 1234.9 before 1234.1 where the published rule sees two equal scores of 1234).
    score = (literal(w["weight_funds"] * 100) * o.funds // scoring.FEN_PER_WAN
             + literal(w["weight_jobs"]) * (100 * o.retained + 50 * (o.jobs - o.retained))
             + literal(w["weight_villages"] * 100) * o.villages + literal(w["weight_beneficiaries"] * 100) * o.poor)
    owner = func.coalesce(o.org_id, o.person_id)
    # Materialized once (it holds the aggregate), then read three ways: each kind's best by a top-N sort,
    # each curated honoree's place, each kind's count. A window over all 122k honorees sorted them all.
    scored = (select(o.org_id, o.person_id, o.funds, o.jobs, o.retained, o.villages, o.poor, o.n, o.first,
                     kind.label("kind"), owner.label("owner_id"), score.label("score"))
              .select_from(per_owner).outerjoin(Organization, named_org).outerjoin(User, named_person)
              .where(kind.is_not(None))
              .cte("scored").prefix_with("MATERIALIZED"))
    c = scored.c
    columns = [c.owner_id, c.kind, c.funds, c.jobs, c.retained, c.villages, c.poor, c.n, c.first, c.score]
    tops = [select(*top.c) for top in (
        select(*columns).where(c.kind == k.value).order_by(*_best_first(c)).limit(limits[k]).subquery()
        for k in HonoreeKind if limits.get(k, 0) > 0)]
    parts = []
    if tops:
        top = (union_all(*tops) if len(tops) > 1 else tops[0]).subquery()
        best = select(*top.c, func.row_number().over(partition_by=top.c.kind, order_by=_best_first(top.c))
                      .label("position")).cte("best")
        parts.append(select(*best.c))
    picked = [and_(c.kind == k.value, c.owner_id.in_(sorted(ids))) for k, ids in curated.items() if ids]
    if picked:
        # A curated honoree's place is 1 + the number ahead of it: one scan of its kind, made only for those
        # not among the best (usually none: curators cite the best).
        other = scored.alias("other")
        ahead = select(func.count()).where(other.c.kind == c.kind, _ahead(other.c, c)).scalar_subquery()
        fallen = select(*columns, (ahead + 1).label("position")).where(or_(*picked))
        if tops:
            b = best.c
            fallen = fallen.where(~select(b.owner_id).where(b.kind == c.kind, b.owner_id == c.owner_id).exists())
        parts.append(fallen)
    found = {k: (0, []) for k in HonoreeKind}
    if not parts:
        return found
    wanted = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
    # Each kind's count in one scan, no sort: one row, a column per kind.
    per_kind = select(*(func.count().filter(c.kind == k.value).label(k.value) for k in HonoreeKind)).subquery()
    total = case(*((wanted.c.kind == k.value, per_kind.c[k.value]) for k in HonoreeKind))
    statement = (select(*wanted.c, total.label("candidates")).join(per_kind, literal(True))
                 .order_by(wanted.c.kind, wanted.c.position))
    counts = {}
    for owner_id, kind_, funds_, jobs_, retained_, villages, poor, n, first, score_, position, total in \
            db.session.execute(statement):
        kind_ = HonoreeKind(kind_)
        counts[kind_] = total
        figures = scoring.Figures(owner_id=owner_id, funds_fen=int(funds_), jobs_filled=int(jobs_),
                                  jobs_retained=int(retained_), villages_helped=int(villages), beneficiaries=int(poor),
                                  deliveries_count=int(n), first_verified_at=as_utc(_instant(first)))
        figures.score = scoring.score(figures, w)
        if figures.score != int(score_):
            raise RuntimeError(f"SQL and scoring.score disagree for {kind_} {owner_id}: {score_} != {figures.score}")
        found[kind_][1].append((int(position), figures))
    return {k: (counts.get(k, 0), rows) for k, (_zero, rows) in found.items()}


def _best_first(t):
    """The published order (`scoring.sort_key`): score, funds, jobs, villages, all descending; then the
    earlier first verification, then the smaller id."""
    return [t.score.desc(), t.funds.desc(), t.jobs.desc(), t.villages.desc(), t.first.asc(), t.owner_id.asc()]


def _ahead(a, b):
    """`a` stands before `b` in the published order (`_best_first`), as a condition."""
    condition = a.owner_id < b.owner_id
    for mine, theirs, more_first in ((a.first, b.first, False), (a.villages, b.villages, True),
                                     (a.jobs, b.jobs, True), (a.funds, b.funds, True), (a.score, b.score, True)):
        condition = or_(mine > theirs if more_first else mine < theirs, and_(mine == theirs, condition))
    return condition


def _tune_for_aggregates():
    """PostgreSQL: room to sort and hash the aggregate in memory, and no JIT, for this transaction only.

    With the default 4 MB work_mem the campaign-scale aggregate spilled every sort to disk, and the
    JIT spent 125 ms compiling a query that runs once.
    """
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL work_mem = '128MB'"))
        db.session.execute(text("SET LOCAL jit = off"))


def _instant(value):
    """min(decided_at) comes back as text on SQLite (an aggregate loses the column's type)."""
    if isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


def aggregate_kinds(edition, need_category=None):
    """{honoree kind: [Figures]}: every honoree's figures, unranked (tests and small tools; the job ranks
    in SQL with `ranking`)."""
    per_owner = _per_owner(edition, need_category)
    o = per_owner.c
    found = {kind: [] for kind in HonoreeKind}
    rows = db.session.execute(select(o.org_id, o.person_id, o.funds, o.jobs, o.retained, o.villages, o.poor, o.n,
                                     o.first, Organization.kind, Organization.status, User.public_name_consent,
                                     User.active)
                              .select_from(per_owner).outerjoin(Organization, Organization.id == o.org_id)
                              .outerjoin(User, User.id == o.person_id))
    for org_id, person_id, funds_, jobs_, retained_, villages, poor, n, first, org_kind, org_status, consent, active \
            in rows:
        if org_id is not None:
            if org_status != VerificationStatus.VERIFIED.value:
                continue  # unverified or suspended: nothing it did counts
            kind = HonoreeKind(getattr(org_kind, "value", org_kind))
        elif consent and active:
            kind = HonoreeKind.INDIVIDUAL
        else:
            continue  # a person who did not agree to be named
        found[kind].append(scoring.Figures(
            owner_id=org_id if org_id is not None else person_id, funds_fen=int(funds_ or 0),
            jobs_filled=int(jobs_ or 0), jobs_retained=int(retained_ or 0), villages_helped=int(villages or 0),
            beneficiaries=int(poor or 0), deliveries_count=int(n or 0), first_verified_at=as_utc(_instant(first))))
    return found


def aggregate(edition, category):
    """Every candidate's Figures for `category` (unscored, in no order)."""
    return aggregate_kinds(edition, category.need_category)[HonoreeKind(category.honoree_kind)]


def deliveries_behind(edition, category, owner_ids):
    """{owner id: [(delivery id, unit, quantity, retained_3m)]}: the deliveries the aggregate counted for
    the given honorees, by the same conditions on the same columns.

    Found through `ix_delivery_honor_roll` (status, then honoree), with the period checked here: given a
    condition on the period, SQLite without statistics preferred scanning the period's deliveries
    (1.7 s for 300 honorees at campaign scale, against milliseconds).
    """
    if HonoreeKind(category.honoree_kind) == HonoreeKind.INDIVIDUAL:
        owner, other = Delivery.honoree_user_id, Delivery.honoree_organization_id
    else:
        owner, other = Delivery.honoree_organization_id, Delivery.honoree_user_id
    start, end = period_bounds(edition)
    found = {owner_id: [] for owner_id in owner_ids}
    ids = sorted(owner_ids)
    rows = []
    for first in range(0, len(ids), IN_CHUNKS):
        # `other IS NULL` always holds (a delivery has one honoree): it lets the index reach a person's rows.
        rows += db.session.execute(
            select(owner, Delivery.id, Delivery.need_unit, Delivery.quantity, Delivery.retained_3m, Delivery.decided_at)
            .where(*_counted(category.need_category), other.is_(None), owner.in_(ids[first:first + IN_CHUNKS]))).all()
    for owner_id, delivery_id, unit, quantity, retained, decided_at in sorted(rows, key=lambda r: r[1]):
        if start <= as_utc(decided_at) < end:
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
    """The honorees of `category` someone curated (excluded or cited): kept whatever their new place."""
    c = HonorRollCandidate
    return set(db.session.scalars(select(func.coalesce(c.organization_id, c.user_id)).where(
        c.category_id == category.id, or_(c.excluded.is_(True), and_(c.citation.is_not(None), c.citation != "")))))


def compute_category(edition, category, ranked=None):
    """What to write for `category`: ([(Figures, position or None, deliveries)], number of candidates).

    `ranked` is `ranking()`'s entry for the category's kind when several categories shared one pass.
    """
    kind = HonoreeKind(category.honoree_kind)
    curated = _curated(category)
    limit = kept(category.quota)
    if ranked is None:
        ranked = ranking(edition, category.need_category, {kind: limit}, {kind: curated})[kind]
    total, rows = ranked
    chosen = {figures.owner_id: (figures, position) for position, figures in rows
              if position <= limit or figures.owner_id in curated}
    for owner_id in curated - chosen.keys():  # curated, and no longer qualifying: kept for the record
        chosen[owner_id] = (scoring.Figures(owner_id=owner_id), None)
    behind = deliveries_behind(edition, category, list(chosen))
    return [(figures, position, behind.get(owner_id, [])) for owner_id, (figures, position) in chosen.items()], total


def _shared_ranking(edition, need_category, group):
    """One `ranking()` pass for every category of `group` (they count the same help)."""
    limits, curated = {}, {}
    for category in group:
        kind = HonoreeKind(category.honoree_kind)
        limits[kind] = max(limits.get(kind, 0), kept(category.quota))
        curated.setdefault(kind, set()).update(_curated(category))
    return ranking(edition, need_category, limits, curated)


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
        # render_nulls: one batch whatever each row's retained_3m (rows with None were sent apart, cutting
        # 3,800 rows into 280 statements: 0.7 s on PostgreSQL).
        db.session.execute(insert(HonorRollCandidateDelivery).execution_options(render_nulls=True), rows)


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
        for need_category, group in _by_help(categories):
            ranked = _shared_ranking(edition, need_category, group)  # one pass for every category counting this help
            for category in group:
                results[category.id], found = compute_category(edition, category,
                                                               ranked[HonoreeKind(category.honoree_kind)])
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


def _by_help(categories):
    """Categories grouped by the help they count (None: all), in their order."""
    groups = {}
    for category in categories:
        groups.setdefault(category.need_category, []).append(category)
    return list(groups.items())


def compute_all(edition):
    """Every category's ranking and kept candidates, in memory only (the benchmark's measure; nothing is written)."""
    results = {}
    for need_category, group in _by_help(edition.categories):
        ranked = _shared_ranking(edition, need_category, group)
        for category in group:
            results[category.id] = compute_category(edition, category, ranked[HonoreeKind(category.honoree_kind)])
    return results

