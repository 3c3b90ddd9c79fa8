"""The honor roll's lifecycle: an edition's one transition table, and every action curators,
admins, the public and the scheduler take on it.

    draft → notice (公示) → published
    notice → draft: the notice is withdrawn (with a reason) to fix the roll
    published: a correction publishes a new revision with a public change note

While a draft, candidates are computed (a job) and curated: excluded with a reason, restored,
given a citation (事迹); quotas are set per category. During notice anyone may object; curators
answer every objection, and an upheld one is acted on by curating the roll (which the public
sees at once). Publishing — by the scheduled job at `publish_at` (10-17 00:00 in China) or by an
admin — needs the notice period over and every objection answered; it freezes a sealed revision.
"""
import hashlib
import json
import secrets
from datetime import date, datetime, time, timedelta, timezone

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select, update

from .. import queue
from ..accounts.models import Role, RoleGrant, User
from ..audit.services import record
from ..errors import Conflict, PermissionDenied, ServiceError
from ..extensions import db
from ..needs.models import Category, Need
from ..notifications.services import notify
from ..organizations.models import Organization
from ..pledges.models import Delivery, DeliveryStatus, Pledge
from ..timeutil import SHANGHAI, as_utc, utcnow
from ..villages.models import Village
from .models import (DEFAULT_CATEGORIES, DEFAULT_WEIGHTS, EDITION_STATUS_LABELS, NOTICE_DAYS, ComputationStatus,
                     EditionStatus, HonoreeKind, HonorRollCandidate, HonorRollCandidateDelivery, HonorRollCategory,
                     HonorRollComputation, HonorRollEdition, HonorRollEntry, HonorRollEntryDelivery,
                     HonorRollObjection, HonorRollRevision, ObjectionStatus, can_manage)

S = EditionStatus

ALLOWED = {
    S.DRAFT: {S.NOTICE},
    S.NOTICE: {S.DRAFT, S.PUBLISHED},
    S.PUBLISHED: set(),  # corrections are new revisions, not a status
}

MAX_TEXT = 2000
STALE_COMPUTATION = timedelta(minutes=30)  # a run "running" this long lost its worker
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and typed


class TransitionError(Conflict):
    """A status change the edition's table does not allow (HTTP 409)."""

    def __init__(self, current, target):
        current, target = S(current), S(target)
        super().__init__(_l("该光荣榜当前为“%(status)s”，不能执行此操作。", status=EDITION_STATUS_LABELS[current]))
        self.current, self.target = current, target


def check(current, target):
    if S(target) not in ALLOWED[S(current)]:
        raise TransitionError(current, target)


def transition(edition, target, actor, *, action, reason=None, data=None):
    """Move `edition` to `target` with a conditional UPDATE and write the audit event; the caller commits."""
    current, target = S(edition.status), S(target)
    check(current, target)
    result = db.session.execute(
        update(HonorRollEdition).where(HonorRollEdition.id == edition.id, HonorRollEdition.status == current.value)
        .values(status=target.value, status_changed_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # someone else moved it first
        db.session.refresh(edition)
        raise TransitionError(edition.status, target)
    db.session.refresh(edition, ["status", "status_changed_at"])
    record(actor, edition, action, from_state=current, to_state=target, reason=reason, public=True, data=data)
    return edition


# Guards -------------------------------------------------------------------------------------------

def _require_admin(actor):
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_l("只有管理员可以执行此操作。"))


def _require_manager(actor):
    if not can_manage(actor):
        raise PermissionDenied(_l("只有全国审核员和管理员可以执行此操作。"))


def _require_status(edition, *statuses):
    if S(edition.status) not in statuses:
        raise Conflict(_l("该光荣榜当前为“%(status)s”，不能执行此操作。", status=edition.status_label))


def _text(text, field, required_message, limit=MAX_TEXT):
    text = (text or "").strip()
    if not text:
        raise ServiceError(required_message, fields={field: required_message})
    if len(text) > limit:
        message = _l("最多 %(n)s 个字。", n=limit)
        raise ServiceError(message, fields={field: message})
    return text


# Editions ------------------------------------------------------------------------------------------

def default_title(year):
    return f"{year}年全国扶贫日 万企帮万村光荣榜"


def default_period(year):
    """17 October of the year before to 16 October (the campaign year that 10·17 closes)."""
    return date(year - 1, 10, 17), date(year, 10, 16)


def default_publish_at(year):
    """10-17 00:00 in China, as the UTC instant the database stores (10-16 16:00 UTC)."""
    return datetime.combine(date(year, 10, 17), time.min, SHANGHAI).astimezone(timezone.utc)


def create_edition(actor, year, title=None):
    """A new edition with the default period, weights and categories (admins only)."""
    _require_admin(actor)
    if not 2015 <= int(year) <= 2100:
        raise ServiceError(_l("请填写正确的年份。"), fields={"year": _l("请填写正确的年份。")})
    if db.session.scalar(select(HonorRollEdition.id).where(HonorRollEdition.year == year)):
        raise Conflict(_l("%(year)s 年的光荣榜已经存在。", year=year), fields={"year": _l("该年份已存在。")})
    start, end = default_period(year)
    edition = HonorRollEdition(year=year, title=(title or "").strip() or default_title(year), period_start=start,
                               period_end=end, notice_days=NOTICE_DAYS, publish_at=default_publish_at(year),
                               created_by_id=actor.id, **DEFAULT_WEIGHTS)
    db.session.add(edition)
    for position, (name, kind, quota) in enumerate(DEFAULT_CATEGORIES):
        with force_locale("zh_CN"):  # category names are the roll's data, in Chinese
            edition.categories.append(HonorRollCategory(name=str(name), honoree_kind=kind.value, quota=quota,
                                                        position=position))
    db.session.flush()
    record(actor, edition, "create_honor_roll", to_state=S.DRAFT, data={"year": year})
    queue.commit()
    return edition


def update_settings(actor, edition, *, title, period_start, period_end, notice_days, publish_at, weights):
    """Title, period, notice length, publication instant and weights: admins, while a draft."""
    _require_admin(actor)
    _require_status(edition, S.DRAFT)
    title = _text(title, "title", _l("请填写标题。"), limit=120)
    if period_start > period_end:
        raise ServiceError(_l("统计期的开始日期不能晚于结束日期。"), fields={"period_end": _l("不能早于开始日期。")})
    if not 1 <= notice_days <= 60:
        raise ServiceError(_l("公示期为 1 至 60 天。"), fields={"notice_days": _l("公示期为 1 至 60 天。")})
    if any(value < 0 for value in weights.values()):
        raise ServiceError(_l("权重不能为负数。"))
    before = {"period": [edition.period_start.isoformat(), edition.period_end.isoformat()], **edition.weights}
    edition.title, edition.period_start, edition.period_end = title, period_start, period_end
    edition.notice_days, edition.publish_at = notice_days, as_utc(publish_at)
    for name in DEFAULT_WEIGHTS:
        setattr(edition, name, int(weights[name]))
    record(actor, edition, "update_honor_roll", data={"before": before})
    queue.commit()
    return edition


def add_category(actor, edition, *, name, honoree_kind, need_category=None, quota=10):
    """A further category (e.g. 就业扶贫先进企业: enterprises, employment needs only): admins, while a draft."""
    _require_admin(actor)
    _require_status(edition, S.DRAFT)
    name = _text(name, "name", _l("请填写类别名称。"), limit=40)
    honoree_kind = HonoreeKind(honoree_kind).value
    need_category = Category(need_category).value if need_category else None
    if any(c.name == name for c in edition.categories):
        raise Conflict(_l("已有同名类别。"), fields={"name": _l("已有同名类别。")})
    _check_quota(quota)
    category = HonorRollCategory(edition_id=edition.id, name=name, honoree_kind=honoree_kind,
                                 need_category=need_category, quota=quota,
                                 position=max((c.position for c in edition.categories), default=-1) + 1)
    db.session.add(category)
    db.session.flush()
    record(actor, edition, "add_honor_roll_category", data={"category": name, "kind": honoree_kind,
                                                            "need_category": need_category, "quota": quota})
    queue.commit()
    return category


def _check_quota(quota):
    if not 1 <= int(quota) <= 500:
        raise ServiceError(_l("表彰名额为 1 至 500 名。"), fields={"quota": _l("表彰名额为 1 至 500 名。")})


def set_quota(actor, category, quota):
    """How many of a category are honored: national curators, while a draft (or for a correction)."""
    _require_manager(actor)
    edition = category.edition
    _require_status(edition, S.DRAFT, S.PUBLISHED)
    _check_quota(quota)
    before, category.quota = category.quota, int(quota)
    record(actor, edition, "set_honor_roll_quota", data={"category": category.name, "from": before, "to": category.quota})
    queue.commit()
    return category


# Computing -----------------------------------------------------------------------------------------

def running_computation(edition, now=None):
    """The edition's queued or running computation, unless it has been stuck long enough to ignore."""
    now = as_utc(now or utcnow())
    computation = db.session.scalar(
        select(HonorRollComputation).where(HonorRollComputation.edition_id == edition.id,
                                           HonorRollComputation.status.in_([ComputationStatus.QUEUED.value,
                                                                            ComputationStatus.RUNNING.value]))
        .order_by(HonorRollComputation.id.desc()).limit(1))
    if computation is not None and as_utc(computation.created_at) < now - STALE_COMPUTATION:
        return None
    return computation


def latest_computation(edition):
    return db.session.scalar(select(HonorRollComputation).where(HonorRollComputation.edition_id == edition.id)
                             .order_by(HonorRollComputation.id.desc()).limit(1))


def start_computation(actor, edition):
    """Ask the job to (re)compute the candidates; returns the HonorRollComputation to follow."""
    _require_manager(actor)
    if S(edition.status) == S.NOTICE:
        raise Conflict(_l("公示期间不能重新计算：请先撤回公示。"))
    running = running_computation(edition)
    if running is not None:
        return running
    computation = HonorRollComputation(edition_id=edition.id, requested_by_id=actor.id,
                                       steps_total=len(edition.categories) + 1)
    db.session.add(computation)
    db.session.flush()
    record(actor, edition, "compute_honor_roll", data={"computation": computation.id})
    queue.defer("jobs.honor_roll.compute", computation.id)
    queue.commit()
    return computation


# Curating candidates -------------------------------------------------------------------------------

def _require_curator_of(actor, candidate):
    if not candidate.can_curate(actor):
        raise PermissionDenied(_l("您不负责该候选对象所在的地区。"))


def exclude(actor, candidate, reason):
    """Take a candidate off the roll, with a reason kept in the record (the next in line moves up)."""
    _require_curator_of(actor, candidate)
    reason = _text(reason, "reason", _l("请填写排除理由。"))
    if candidate.excluded:
        raise Conflict(_l("该候选对象已被排除。"))
    candidate.excluded, candidate.exclusion_reason = True, reason
    candidate.excluded_by_id, candidate.excluded_at = actor.id, utcnow()
    record(actor, candidate.edition, "exclude_honor_roll_candidate", reason=reason,
           data={"candidate": candidate.id, "name": candidate.name, "category": candidate.category.name})
    queue.commit()
    return candidate


def restore(actor, candidate):
    """Put an excluded candidate back; the exclusion stays in the audit record."""
    _require_curator_of(actor, candidate)
    if not candidate.excluded:
        raise Conflict(_l("该候选对象未被排除。"))
    record(actor, candidate.edition, "restore_honor_roll_candidate", reason=candidate.exclusion_reason,
           data={"candidate": candidate.id, "name": candidate.name, "category": candidate.category.name})
    candidate.excluded, candidate.exclusion_reason, candidate.excluded_by_id, candidate.excluded_at = \
        False, None, None, None
    queue.commit()
    return candidate


def set_citation(actor, candidate, text):
    """事迹 — the citation read out and printed on the certificate."""
    _require_curator_of(actor, candidate)
    text = _text(text, "citation", _l("请填写事迹。"), limit=600)
    candidate.citation, candidate.citation_by_id, candidate.citation_at = text, actor.id, utcnow()
    record(actor, candidate.edition, "cite_honor_roll_candidate",
           data={"candidate": candidate.id, "name": candidate.name})
    queue.commit()
    return candidate


# The roll as it stands -----------------------------------------------------------------------------

def candidates_of(category):
    """Every written candidate of `category`, by position."""
    return db.session.scalars(select(HonorRollCandidate).where(HonorRollCandidate.category_id == category.id)
                              .order_by(HonorRollCandidate.position, HonorRollCandidate.id)).all()


def honored(category):
    """[(rank, candidate)]: the best `quota` candidates that qualify and are not excluded."""
    rows = db.session.scalars(
        select(HonorRollCandidate).where(HonorRollCandidate.category_id == category.id,
                                         HonorRollCandidate.qualifies.is_(True),
                                         HonorRollCandidate.excluded.is_(False))
        .order_by(HonorRollCandidate.position, HonorRollCandidate.id).limit(category.quota)).all()
    return list(enumerate(rows, start=1))


def standings(edition):
    """[(category, [(rank, candidate)])] for every category, in order: the draft roll."""
    return [(category, honored(category)) for category in edition.categories]


def unverified_behind(edition):
    """How many deliveries behind the honorees' figures are no longer verified (a spot check reopened
    one, say) since the candidates were computed: the roll must be computed again before it is published."""
    ids = [candidate.id for _category, rows in standings(edition) for _rank, candidate in rows]
    if not ids:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(HonorRollCandidateDelivery)
        .join(Delivery, Delivery.id == HonorRollCandidateDelivery.delivery_id)
        .where(HonorRollCandidateDelivery.candidate_id.in_(ids), Delivery.status != DeliveryStatus.VERIFIED.value))


def missing_citations(edition):
    return [candidate for _category, rows in standings(edition) for _rank, candidate in rows if not candidate.citation]


def open_objections(edition):
    return db.session.scalars(select(HonorRollObjection).where(HonorRollObjection.edition_id == edition.id,
                                                               HonorRollObjection.status == ObjectionStatus.OPEN.value)
                              .order_by(HonorRollObjection.id)).all()


def objections(edition):
    return db.session.scalars(select(HonorRollObjection).where(HonorRollObjection.edition_id == edition.id)
                              .order_by(HonorRollObjection.id)).all()


# 公示 -------------------------------------------------------------------------------------------------

def notice_problems(edition):
    """What stops the draft from going on public notice, in words (empty: it may)."""
    problems = []
    if edition.computed_at is None:
        problems.append(_("候选名单尚未计算。"))
    elif running_computation(edition) is not None:
        problems.append(_("候选名单正在重新计算。"))
    elif not any(rows for _category, rows in standings(edition)):
        problems.append(_("没有任何入选对象。"))
    missing = missing_citations(edition)
    if missing:
        problems.append(_("%(n)s 个入选对象还没有事迹。", n=len(missing)))
    stale = unverified_behind(edition)
    if stale:
        problems.append(_("%(n)s 笔计入名单的交付已不再是“已核实”（例如被抽查重新打开），请重新计算候选名单。", n=stale))
    return problems


def start_notice(actor, edition, now=None):
    """公示 — the draft roll goes public for `notice_days`, open to objections."""
    _require_manager(actor)
    _require_status(edition, S.DRAFT)
    problems = notice_problems(edition)
    if problems:
        raise Conflict(" ".join(problems))
    now = as_utc(now or utcnow())
    edition.notice_started_at, edition.notice_ends_at = now, now + timedelta(days=edition.notice_days)
    edition.hold_reason = None
    transition(edition, S.NOTICE, actor, action="start_honor_roll_notice",
               data={"ends_at": edition.notice_ends_at.isoformat()})
    queue.commit()
    return edition


def withdraw_notice(actor, edition, reason):
    """Back to draft (e.g. to recompute); objections and their answers stay on the record."""
    _require_manager(actor)
    reason = _text(reason, "reason", _l("请填写撤回公示的理由。"))
    _require_status(edition, S.NOTICE)
    edition.notice_started_at = edition.notice_ends_at = None
    transition(edition, S.DRAFT, actor, action="withdraw_honor_roll_notice", reason=reason)
    queue.commit()
    return edition


def in_notice(edition, now=None):
    now = as_utc(now or utcnow())
    return S(edition.status) == S.NOTICE and edition.notice_ends_at is not None and now < as_utc(edition.notice_ends_at)


def file_objection(user, edition, *, candidate_id, name, contact, body, now=None):
    """异议 — anyone may object during notice, about one candidate or the whole roll."""
    if not in_notice(edition, now):
        raise Conflict(_l("该光荣榜不在公示期内，不再受理异议。"))
    candidate = None
    if candidate_id:
        candidate = db.session.get(HonorRollCandidate, int(candidate_id))
        if candidate is None or candidate.edition_id != edition.id:
            raise ServiceError(_l("请选择公示名单中的对象。"), fields={"candidate_id": _l("请选择公示名单中的对象。")})
    body = _text(body, "body", _l("请写明异议的事实和理由。"))
    name = _text(name, "name", _l("请填写您的姓名或单位。"), limit=80)
    contact = _text(contact, "contact", _l("请留下联系方式，便于核实。"), limit=120)
    objection = HonorRollObjection(edition_id=edition.id, candidate_id=candidate.id if candidate else None,
                                   created_at=as_utc(now or utcnow()),
                                   subject=candidate.name if candidate else _("整份名单"), body=body,
                                   objector_name=name, objector_contact=contact,
                                   objector_id=getattr(user, "id", None))
    db.session.add(objection)
    db.session.flush()
    record(user, edition, "object_to_honor_roll", data={"objection": objection.id, "subject": objection.subject})
    for curator in _answerers(objection):
        with force_locale(curator.locale or "zh_CN"):
            notify([curator], _("光荣榜公示收到异议：%(subject)s", subject=objection.subject),
                   _("%(title)s 公示期间收到一条关于“%(subject)s”的异议，请在公示期结束前核查答复。",
                     title=edition.title, subject=objection.subject),
                   link=f"/curate/honor-roll/{edition.year}#objections")
    queue.commit()
    return objection


def _national_managers():
    grants = db.session.scalars(select(RoleGrant).where(or_(
        RoleGrant.role == Role.ADMIN, (RoleGrant.role == Role.CURATOR) & RoleGrant.region_code.is_(None)))).all()
    return [g.user for g in grants if g.user.active]


def _answerers(objection):
    users = {u.id: u for u in _national_managers()}
    if objection.candidate is not None and objection.candidate.region_code:
        from ..needs.lifecycle import reviewers_of

        users.update({u.id: u for u in reviewers_of(objection.candidate.region_code)})
    return list(users.values())


def answer_objection(actor, objection, *, outcome, answer, now=None):
    """A curator's public answer: upheld (the roll was changed) or dismissed (checked, unfounded)."""
    if not (objection.candidate.can_curate(actor) if objection.candidate else can_manage(actor)):
        raise PermissionDenied(_l("您不负责该异议所涉对象的地区。"))
    if not objection.is_open:
        raise Conflict(_l("该异议已经答复。"))
    outcome = ObjectionStatus(outcome)
    if outcome == ObjectionStatus.OPEN:
        raise ServiceError(_l("请选择处理结果。"), fields={"outcome": _l("请选择处理结果。")})
    answer = _text(answer, "answer", _l("请填写公开答复。"))
    result = db.session.execute(
        update(HonorRollObjection).where(HonorRollObjection.id == objection.id,
                                         HonorRollObjection.status == ObjectionStatus.OPEN.value)
        .values(status=outcome.value, answer=answer, answered_by_id=actor.id, answered_at=as_utc(now or utcnow()))
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        raise Conflict(_l("该异议已经答复。"))
    db.session.refresh(objection)
    record(actor, objection.edition, "answer_honor_roll_objection", reason=answer,
           data={"objection": objection.id, "outcome": outcome.value})
    queue.commit()
    return objection


# Publishing ----------------------------------------------------------------------------------------

def publish_problems(edition, now=None):
    """What stops publication, in words (empty: it may be published now)."""
    now = as_utc(now or utcnow())
    if S(edition.status) != S.NOTICE:
        return [_("只有公示中的光荣榜可以发布。")]
    problems = []
    if edition.notice_ends_at is None or now < as_utc(edition.notice_ends_at):
        problems.append(_("公示期尚未结束。"))
    pending = len(open_objections(edition))
    if pending:
        problems.append(_("还有 %(n)s 条异议未答复。", n=pending))
    missing = missing_citations(edition)
    if missing:
        problems.append(_("%(n)s 个入选对象还没有事迹。", n=len(missing)))
    stale = unverified_behind(edition)
    if stale:
        problems.append(_("%(n)s 笔计入名单的交付已不再是“已核实”（例如被抽查重新打开），请撤回公示、重新计算后再公示。",
                          n=stale))
    return problems


def publish(actor, edition, now=None):
    """Publish the roll: revision 1, frozen. `actor` None is the scheduled job; people must be admins."""
    if actor is not None:
        _require_admin(actor)
    now = as_utc(now or utcnow())
    problems = publish_problems(edition, now)
    if problems:
        raise Conflict(" ".join(problems))
    transition(edition, S.PUBLISHED, actor, action="publish_honor_roll")
    edition.published_at, edition.hold_reason = now, None
    revision = _freeze(edition, actor, None, now)
    _tell_honorees(revision)
    queue.commit()
    return revision


def publish_correction(actor, edition, note, now=None):
    """更正 — a new revision from the curated candidates as they are now, with a public change note."""
    _require_admin(actor)
    _require_status(edition, S.PUBLISHED)
    note = _text(note, "note", _l("请填写更正说明，它将公开显示。"))
    missing = missing_citations(edition)
    if missing:
        raise Conflict(_l("%(n)s 个入选对象还没有事迹。", n=len(missing)))
    stale = unverified_behind(edition)
    if stale:
        raise Conflict(_l("%(n)s 笔计入名单的交付已不再是“已核实”（例如被抽查重新打开），请重新计算候选名单。", n=stale))
    revision = _freeze(edition, actor, note, as_utc(now or utcnow()))
    record(actor, edition, "correct_honor_roll", reason=note, data={"revision": revision.number})
    queue.commit()
    return revision


def current_revision(edition):
    return db.session.scalar(select(HonorRollRevision).where(HonorRollRevision.edition_id == edition.id,
                                                             HonorRollRevision.sealed.is_(True))
                             .order_by(HonorRollRevision.number.desc()).limit(1))


def _new_code(year):
    while True:
        code = f"HR{year}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if not db.session.scalar(select(HonorRollEntry.id).where(HonorRollEntry.code == code)):
            return code


def _freeze(edition, actor, note, now):
    """Copy the standings and the deliveries behind them into a new revision, then seal it."""
    number = (db.session.scalar(select(func.max(HonorRollRevision.number))
                                .where(HonorRollRevision.edition_id == edition.id)) or 0) + 1
    revision = HonorRollRevision(edition_id=edition.id, number=number, title=edition.title,
                                 period_start=edition.period_start, period_end=edition.period_end,
                                 weights=json.dumps(edition.weights, sort_keys=True), published_at=now,
                                 published_by_id=getattr(actor, "id", None), change_note=note)
    db.session.add(revision)
    db.session.flush()
    canonical = []
    for category, rows in standings(edition):
        for rank, candidate in rows:
            entry = HonorRollEntry(
                revision_id=revision.id, code=_new_code(edition.year), category_name=category.name,
                category_position=category.position, honoree_kind=category.honoree_kind, rank=rank,
                organization_id=candidate.organization_id, user_id=candidate.user_id, name=candidate.name,
                funds_fen=candidate.funds_fen, jobs_filled=candidate.jobs_filled,
                jobs_retained=candidate.jobs_retained, villages_helped=candidate.villages_helped,
                beneficiaries=candidate.beneficiaries, deliveries_count=candidate.deliveries_count,
                score=candidate.score, citation=candidate.citation)
            db.session.add(entry)
            db.session.flush()
            behind = db.session.execute(
                select(HonorRollCandidateDelivery.delivery_id, Pledge.code, Need.id, Need.title, Village.id, Village.name,
                       HonorRollCandidateDelivery.unit, HonorRollCandidateDelivery.quantity,
                       HonorRollCandidateDelivery.retained_3m, Need.poor_people, Delivery.delivered_on,
                       Delivery.decided_at)
                .join(Delivery, Delivery.id == HonorRollCandidateDelivery.delivery_id)
                .join(Pledge, Pledge.id == Delivery.pledge_id).join(Need, Need.id == Delivery.need_id)
                .join(Village, Village.id == Need.village_id)
                .where(HonorRollCandidateDelivery.candidate_id == candidate.id)
                .order_by(HonorRollCandidateDelivery.delivery_id)).all()
            rows_out = [{"entry_id": entry.id, "delivery_id": d_id, "pledge_code": code, "need_id": need_id,
                         "need_title": title, "village_id": village_id, "village_name": village, "unit": unit,
                         "quantity": quantity, "retained_3m": retained, "poor_people": poor,
                         "delivered_on": delivered_on, "verified_at": as_utc(decided_at)}
                        for d_id, code, need_id, title, village_id, village, unit, quantity, retained, poor,
                        delivered_on, decided_at in behind]
            for row in rows_out:
                db.session.add(HonorRollEntryDelivery(**row))
            canonical.append({"category": category.name, "rank": rank, "name": candidate.name,
                              "organization_id": candidate.organization_id, "user_id": candidate.user_id,
                              "figures": [candidate.funds_fen, candidate.jobs_filled, candidate.jobs_retained,
                                          candidate.villages_helped, candidate.beneficiaries, candidate.score],
                              "citation": candidate.citation,
                              "deliveries": [[r["delivery_id"], r["unit"], r["quantity"]] for r in rows_out]})
    db.session.flush()
    payload = json.dumps({"edition": edition.year, "revision": number, "entries": canonical}, ensure_ascii=False,
                         sort_keys=True, separators=(",", ":"))
    revision.digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
    revision.sealed = True
    db.session.flush()
    return revision


def _tell_honorees(revision):
    for entry in revision.entries:
        if entry.organization_id:
            org = db.session.get(Organization, entry.organization_id)
            users = [m.user for m in org.memberships if m.is_owner]
        else:
            users = [db.session.get(User, entry.user_id)]
        for user in [u for u in users if u is not None and u.active]:
            with force_locale(user.locale or "zh_CN"):
                notify([user], _("荣登光荣榜：%(title)s", title=revision.title),
                       _("%(name)s 入选“%(category)s”第 %(rank)s 名。可在光荣榜页面下载荣誉证书。",
                         name=entry.name, category=entry.category_name, rank=entry.rank),
                       link=f"/honor-roll/entries/{entry.code}")


def publish_due(now=None):
    """The scheduled job: publish every edition in notice whose `publish_at` has come.

    An edition that cannot be published yet (notice not over, objections open) is held: the reason
    is recorded on it for the curators' page, and the next run tries again.
    """
    now = as_utc(now or utcnow())
    published = []
    due = db.session.scalars(select(HonorRollEdition).where(HonorRollEdition.status == S.NOTICE.value,
                                                            HonorRollEdition.publish_at <= now)).all()
    for edition in due:
        with force_locale("zh_CN"):  # the record is kept in the roll's language
            problems = publish_problems(edition, now)
        if problems:
            reason = " ".join(problems)
            if edition.hold_reason != reason:
                edition.hold_reason = reason
                record(None, edition, "hold_honor_roll", reason=reason)
                db.session.commit()
            continue
        try:
            publish(None, edition, now)
        except Conflict as exc:  # e.g. published by an admin a moment before
            db.session.rollback()
            if db.session.get(HonorRollEdition, edition.id).status != S.PUBLISHED.value:
                raise exc
            continue
        published.append(edition.year)
    return published
