"""The need's lifecycle: one transition table, one `transition()`, one function per action.

    draft → submitted → published → (fully_pledged) → in_delivery → completed → closed
    side exits: rejected (curator, with a reason), withdrawn (village), expired (deadline passed);
    sent back for changes: submitted → draft, with the curator's comment;
    back in delivery: completed or closed → in_delivery, when a delivery is rejected or a spot check
    (抽查) reopens one, so that a pledge is no longer all delivered and confirmed.

Every action checks who may take it, moves the status through `transition()` (a conditional
UPDATE, so two curators deciding at once cannot both win), writes an audit event and notifies
whoever must act next. The actions people take commit; the hooks the pledges feature calls
(`on_pledged_total_changed`, `on_delivery_started`, `on_completed`, `on_delivery_resumed`) join the caller's
transaction, so a pledge and the need's state change commit together.
"""
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from .. import queue
from ..accounts.models import Role, RoleGrant, User
from ..audit.services import record
from ..errors import Conflict, PermissionDenied, ServiceError
from ..extensions import db
from ..notifications.services import notify
from ..policy import scope_prefix
from ..timeutil import utcnow
from . import screening, services
from .models import STATUS_LABELS, Need, NeedStatus, ScreeningFlag

S = NeedStatus

ALLOWED = {
    S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
    S.SUBMITTED: {S.PUBLISHED, S.REJECTED, S.DRAFT, S.WITHDRAWN, S.EXPIRED},
    S.PUBLISHED: {S.FULLY_PLEDGED, S.IN_DELIVERY, S.WITHDRAWN, S.EXPIRED},
    S.FULLY_PLEDGED: {S.PUBLISHED, S.IN_DELIVERY},  # back to published when a pledge is cancelled
    S.IN_DELIVERY: {S.COMPLETED},
    S.COMPLETED: {S.CLOSED, S.IN_DELIVERY},  # back: a delivery was rejected or reopened by a spot check
    S.CLOSED: {S.IN_DELIVERY},  # back: a delivery the closing relied on was reopened by a spot check (or rejected)
    S.REJECTED: set(),
    S.WITHDRAWN: set(),
    S.EXPIRED: {S.IN_DELIVERY},  # pledges made before the deadline are still delivered
}


class TransitionError(Conflict):
    """A status change the lifecycle does not allow (HTTP 409)."""

    def __init__(self, current, target):
        current, target = NeedStatus(current), NeedStatus(target)
        super().__init__(_l("该需求当前为“%(status)s”，不能执行此操作。", status=STATUS_LABELS[current]))
        self.current, self.target = current, target


def check(current, target):
    """Raise TransitionError unless the table allows current → target."""
    if NeedStatus(target) not in ALLOWED[NeedStatus(current)]:
        raise TransitionError(current, target)


def expect(need, sources, target):
    """An action's own guard: it starts only from `sources` (approve is not un-pledging), and the table agrees."""
    if NeedStatus(need.status) not in sources:
        raise TransitionError(need.status, target)
    check(need.status, target)


def transition(need, target, actor, *, action, reason=None, public=True, data=None):
    """Move `need` to `target` and write the audit event; the caller commits."""
    current, target = NeedStatus(need.status), NeedStatus(target)
    check(current, target)
    result = db.session.execute(
        update(Need).where(Need.id == need.id, Need.status == current.value)
        .values(status=target.value, status_changed_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    if result.rowcount != 1:  # someone else moved it first
        db.session.refresh(need)
        raise TransitionError(need.status, target)
    db.session.refresh(need, ["status", "status_changed_at"])
    record(actor, need, action, from_state=current, to_state=target, reason=reason, public=public, data=data)
    return need


# Who hears about it ----------------------------------------------------------------------

def reviewers_of(code):
    """The curators who review needs of the village with `code`: the most local scope that has any."""
    candidates = {code[:n].ljust(12, "0") for n in (2, 4, 6, 9)}
    grants = db.session.scalars(
        select(RoleGrant).where(RoleGrant.role == Role.CURATOR,
                                or_(RoleGrant.region_code.in_(candidates), RoleGrant.region_code.is_(None)))
    ).all()
    by_depth = {}
    for grant in grants:
        by_depth.setdefault(len(scope_prefix(grant.region_code or "")), []).append(grant.user)
    return [u for u in by_depth[max(by_depth)] if u.active] if by_depth else []


def _village_people(need, exclude=None):
    users = [m.user for m in need.village.members]
    if need.on_behalf and need.posted_by is not None:
        users.append(need.posted_by)
    return [u for u in users if u is not None and u.active and u != exclude]


def _tell(users, need, subject, body):
    """Notify each user in their own language; `subject`/`body` are callables returning text."""
    for user in users:
        with force_locale(user.locale or "zh_CN"):
            notify([user], subject(), body(), link=f"/needs/{need.id}")


# Actions people take ---------------------------------------------------------------------

def submit(actor, need):
    """送审 — the village (or a curator for it) sends a complete draft for review, after screening."""
    if not need.is_editor(actor):
        raise PermissionDenied(_l("只有本村村委会成员或所在地区的审核员可以提交该需求。"))
    check(need.status, S.SUBMITTED)
    errors = services.validation_errors(services.current_values(need), village=need.village, complete=True)
    if errors:
        raise ServiceError(_l("提交前请补全或更正标出的项目。"), fields=errors)
    need.flags.clear()
    db.session.flush()
    for finding in screening.screen(need):
        need.flags.append(ScreeningFlag(rule_id=finding.rule.id if finding.rule else None,
                                        reason=finding.reason, detail=finding.detail))
    need.submitted_at = utcnow()
    need.review_note = None
    transition(need, S.SUBMITTED, actor, action="submit", public=False,
               data={"flags": len(need.flags)} if need.flags else None)
    _tell(reviewers_of(need.region_code), need,
          lambda: _("待审核需求：%(title)s", title=need.title),
          lambda: _("%(village)s 提交了需求“%(title)s”，请审核。%(flags)s", village=need.village.name, title=need.title,
                    flags=_("自动筛查提示 %(n)s 项。", n=len(need.flags)) if need.flags else ""))
    queue.commit()
    return need


def _require_reviewer(actor, need):
    if not need.is_reviewer(actor):
        raise PermissionDenied(_l("只有该村所在地区的审核员可以审核该需求。"))


def _reviewed(actor, need, note):
    need.reviewed_by_id = actor.id
    need.reviewed_at = utcnow()
    need.review_note = note


def approve(actor, need):
    """通过 — a curator of the village's region publishes the need."""
    _require_reviewer(actor, need)
    expect(need, {S.SUBMITTED}, S.PUBLISHED)
    if need.is_overdue:
        raise ServiceError(_l("截止日期已过，不能发布。请退回修改截止日期。"))
    _reviewed(actor, need, None)
    need.published_at = utcnow()
    transition(need, S.PUBLISHED, actor, action="approve", public=True)
    _tell(_village_people(need), need,
          lambda: _("需求已发布：%(title)s", title=need.title),
          lambda: _("您的需求“%(title)s”已通过审核并公开发布，帮扶方现在可以认捐。", title=need.title))
    queue.commit()
    return need


def _required_text(text, field):
    text = (text or "").strip()
    if not text:
        raise ServiceError(_l("请填写理由。"), fields={field: _l("请填写理由。")})
    return text


def reject(actor, need, reason):
    """驳回 — a curator refuses the need, with a reason the village sees."""
    _require_reviewer(actor, need)
    check(need.status, S.REJECTED)
    reason = _required_text(reason, "reason")
    _reviewed(actor, need, reason)
    transition(need, S.REJECTED, actor, action="reject", reason=reason, public=False)
    _tell(_village_people(need), need,
          lambda: _("需求未通过审核：%(title)s", title=need.title),
          lambda: _("您的需求“%(title)s”未通过审核。理由：%(reason)s", title=need.title, reason=reason))
    queue.commit()
    return need


def send_back(actor, need, comment):
    """退回修改 — back to draft with the curator's comment; the village edits and submits again."""
    _require_reviewer(actor, need)
    check(need.status, S.DRAFT)
    comment = _required_text(comment, "reason")
    _reviewed(actor, need, comment)
    transition(need, S.DRAFT, actor, action="send_back", reason=comment, public=False)
    _tell(_village_people(need), need,
          lambda: _("需求需要修改：%(title)s", title=need.title),
          lambda: _("审核员退回了您的需求“%(title)s”，请按意见修改后重新提交。意见：%(comment)s", title=need.title, comment=comment))
    queue.commit()
    return need


def withdraw(actor, need, reason=None):
    """撤回 — the village takes its need back (a published one only while nothing is pledged)."""
    if not need.is_editor(actor):
        raise PermissionDenied(_l("只有本村村委会成员或所在地区的审核员可以撤回该需求。"))
    check(need.status, S.WITHDRAWN)
    if need.pledged > 0:
        raise Conflict(_l("该需求已有认捐，不能撤回。请联系认捐方或审核员。"))
    reason = (reason or "").strip() or None
    was_public = need.published_at is not None
    transition(need, S.WITHDRAWN, actor, action="withdraw", reason=reason, public=was_public)
    _tell(_village_people(need, exclude=actor), need,
          lambda: _("需求已撤回：%(title)s", title=need.title),
          lambda: _("%(name)s 撤回了需求“%(title)s”。", name=actor.name, title=need.title))
    queue.commit()
    return need


def close(actor, need, note=None):
    """结项 — a curator closes a completed need once its deliveries are verified."""
    _require_reviewer(actor, need)
    check(need.status, S.CLOSED)
    transition(need, S.CLOSED, actor, action="close", reason=(note or "").strip() or None, public=True)
    _tell(_village_people(need), need,
          lambda: _("需求已结项：%(title)s", title=need.title),
          lambda: _("需求“%(title)s”已结项。感谢各方的帮扶。", title=need.title))
    queue.commit()
    return need


def expire(need, actor=None, today=None):
    """过期 — the deadline passed before the need was taken up; run by the scheduled job."""
    from ..timeutil import local_date_today

    check(need.status, S.EXPIRED)
    if need.deadline is None or need.deadline >= (today or local_date_today()):
        raise Conflict(_l("截止日期未到，不能标记为过期。"))
    transition(need, S.EXPIRED, actor, action="expire", public=need.published_at is not None)
    _tell(_village_people(need), need,
          lambda: _("需求已过期：%(title)s", title=need.title),
          lambda: _("需求“%(title)s”已过截止日期。如仍有需要，请发布新的需求。", title=need.title))
    queue.commit()
    return need


def expire_overdue(today=None, batch=200):
    """Expire every submitted or published need whose deadline has passed; returns how many.

    Idempotent (a need already expired is no longer selected), so a job that runs twice is harmless.
    """
    from ..timeutil import local_date_today

    today = today or local_date_today()
    done, last_id = 0, 0
    while True:
        ids = db.session.scalars(
            select(Need.id).where(Need.status.in_([S.SUBMITTED.value, S.PUBLISHED.value]), Need.deadline < today,
                                  Need.id > last_id)
            .order_by(Need.id).limit(batch)
        ).all()
        for need_id in ids:
            need = db.session.get(Need, need_id)
            try:
                expire(need, today=today)
                done += 1
            except Conflict:  # moved on meanwhile (e.g. fully pledged): nothing to do
                db.session.rollback()
        if len(ids) < batch:
            return done
        last_id = ids[-1]


# Hooks for the pledges feature (they join the caller's transaction; the caller commits) ----

def on_pledged_total_changed(need, actor=None):
    """Call after `need.pledged` changed: published ⇄ fully_pledged as the target is reached or left."""
    db.session.flush()
    db.session.refresh(need, ["pledged", "status"])
    if need.status == S.PUBLISHED and need.pledged >= need.target:
        transition(need, S.FULLY_PLEDGED, actor, action="fully_pledged", public=True)
        _tell(_village_people(need), need,
              lambda: _("需求已认满：%(title)s", title=need.title),
              lambda: _("需求“%(title)s”的认捐已达到目标，请及时确认认捐并安排交付。", title=need.title))
    elif need.status == S.FULLY_PLEDGED and need.pledged < need.target:
        transition(need, S.PUBLISHED, actor, action="reopened", public=True)
    return need


def on_delivery_started(need, actor=None):
    """Call when the first delivery against the need is reported: → in_delivery (no-op if already)."""
    if need.status == S.IN_DELIVERY:
        return need
    expect(need, {S.PUBLISHED, S.FULLY_PLEDGED, S.EXPIRED}, S.IN_DELIVERY)
    transition(need, S.IN_DELIVERY, actor, action="delivery_started", public=True)
    _tell(_village_people(need), need,
          lambda: _("帮扶开始交付：%(title)s", title=need.title),
          lambda: _("需求“%(title)s”已有帮扶开始交付，收到后请在平台上确认。", title=need.title))
    return need


def on_delivery_resumed(need, actor=None):
    """Call when a completed or closed need's pledges are no longer all delivered and confirmed (a
    delivery rejected, or reopened by a spot check): back to in_delivery until they are again."""
    expect(need, {S.COMPLETED, S.CLOSED}, S.IN_DELIVERY)
    transition(need, S.IN_DELIVERY, actor, action="delivery_resumed", public=True)
    return need


def on_completed(need, actor=None):
    """Call when everything pledged has been delivered and confirmed: in_delivery → completed."""
    transition(need, S.COMPLETED, actor, action="completed", public=True)
    _tell(reviewers_of(need.region_code), need,
          lambda: _("需求已完成，待核实结项：%(title)s", title=need.title),
          lambda: _("需求“%(title)s”的帮扶已全部交付并经村里确认，请核实交付后结项。", title=need.title))
    return need
