"""The lifecycles of invitations (受邀) and pairings (结对), one ALLOWED table each.

    invitation:  pending → accepted | declined (the organisation) | withdrawn (the village or its curator)
    pairing:     proposed → active (the other side accepts) | declined (the other side) | withdrawn (the proposer)
                 active → ended (either side or a curator of the village's region, with a reason)

Each action checks who may take it, moves the status through `transition()` (a conditional UPDATE,
so two people answering at once cannot both win), writes an audit event, notifies the other side
in their own language and commits.
"""
from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import queue
from ..audit.services import record
from ..errors import Conflict, PermissionDenied, ServiceError
from ..extensions import db
from ..needs.models import NeedStatus
from ..notifications.services import notify
from ..timeutil import local_date_today, utcnow
from .models import (INVITATION_LABELS, LIVE_PAIRING_STATES, PAIRING_LABELS, InvitationStatus, NeedInvitation,
                     Pairing, PairingReport, PairingStatus, Side)

I, P = InvitationStatus, PairingStatus

INVITATION_ALLOWED = {
    I.PENDING: {I.ACCEPTED, I.DECLINED, I.WITHDRAWN},
    I.ACCEPTED: set(),
    I.DECLINED: set(),
    I.WITHDRAWN: set(),
}

PAIRING_ALLOWED = {
    P.PROPOSED: {P.ACTIVE, P.DECLINED, P.WITHDRAWN},
    P.ACTIVE: {P.ENDED},
    P.DECLINED: set(),
    P.WITHDRAWN: set(),
    P.ENDED: set(),
}

MIN_PLAN_LENGTH = 10
MAX_TEXT = 5000


class TransitionError(Conflict):
    """A status change the lifecycle does not allow (HTTP 409)."""

    def __init__(self, message, current, target):
        super().__init__(message)
        self.current, self.target = current, target


def check_invitation(current, target):
    current, target = I(current), I(target)
    if target not in INVITATION_ALLOWED[current]:
        raise TransitionError(_l("该邀请当前为“%(status)s”，不能执行此操作。", status=INVITATION_LABELS[current]),
                              current, target)


def check_pairing(current, target):
    current, target = P(current), P(target)
    if target not in PAIRING_ALLOWED[current]:
        raise TransitionError(_l("该结对当前为“%(status)s”，不能执行此操作。", status=PAIRING_LABELS[current]),
                              current, target)


def transition(obj, target, actor, *, action, reason=None, public=False, values=None):
    """Move an invitation or pairing to `target` with a conditional UPDATE and audit it; the caller commits."""
    model, check = (NeedInvitation, check_invitation) if isinstance(obj, NeedInvitation) else (Pairing, check_pairing)
    current = obj.status
    check(current, target)
    result = db.session.execute(
        update(model).where(model.id == obj.id, model.status == current)
        .values(status=target.value, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # someone else moved it first
        db.session.refresh(obj)
        check(obj.status, target)
        raise TransitionError(_l("状态已改变，请刷新后重试。"), obj.status, target)
    db.session.refresh(obj)
    record(actor, obj, action, from_state=current, to_state=target, reason=reason, public=public)
    return obj


# Who hears about it ----------------------------------------------------------------------

def _org_people(org, exclude=None):
    return [m.user for m in org.memberships if m.user.active and m.user != exclude]


def _village_people(village, exclude=None):
    return [m.user for m in village.members if m.user.active and m.user != exclude]


def _tell(users, link, subject, body):
    """Notify each user once, in their own language; `subject`/`body` are callables returning text."""
    for user in {u.id: u for u in users if u is not None and u.active}.values():
        with force_locale(user.locale or "zh_CN"):
            notify([user], subject(), body(), link=link)


def _text(value, limit=MAX_TEXT):
    value = (value or "").strip()
    if len(value) > limit:
        raise ServiceError(_l("内容过长，最多 %(n)s 字。", n=limit))
    return value or None


# Invitations -------------------------------------------------------------------------------

def need_is_open(need, today=None):
    """Whether an organisation can still take the need up."""
    today = today or local_date_today()
    return (need.status == NeedStatus.PUBLISHED and need.target is not None and need.pledged < need.target
            and need.deadline is not None and need.deadline >= today)


def can_invite(user, need):
    return need.is_editor(user) and need_is_open(need)


def invite(actor, need, org, message=None):
    """邀请 — the village (or a curator for it) asks a verified organisation to take up an open need."""
    if not need.is_editor(actor):
        raise PermissionDenied(_l("只有本村村委会成员或所在地区的审核员可以邀请帮扶方。"))
    if not need_is_open(need):
        raise Conflict(_l("只能为征集中的需求邀请帮扶方。"))
    if not org.is_verified:
        raise ServiceError(_l("只能邀请已认证的帮扶方。"))
    message = _text(message, 500)
    if db.session.scalar(select(NeedInvitation.id).where(NeedInvitation.need_id == need.id,
                                                         NeedInvitation.organization_id == org.id)):
        raise Conflict(_l("已经邀请过该帮扶方。"))
    invitation = NeedInvitation(need_id=need.id, organization_id=org.id, invited_by_id=actor.id, message=message)
    db.session.add(invitation)
    try:
        db.session.flush()
    except IntegrityError:  # a second click at the same moment
        db.session.rollback()
        raise Conflict(_l("已经邀请过该帮扶方。")) from None
    record(actor, invitation, "invite_organization", to_state=I.PENDING, data={"need_id": need.id})
    _tell(_org_people(org), f"/me/recommendations?org={org.id}",
          lambda: _("受邀帮扶：%(title)s", title=need.title),
          lambda: _("%(village)s邀请%(org)s帮扶需求“%(title)s”。%(message)s", village=need.village.name, org=org.name,
                    title=need.title, message=message or ""))
    queue.commit()
    return invitation


def _require_org_member(actor, invitation):
    if not invitation.organization.is_member(actor):
        raise PermissionDenied(_l("只有受邀帮扶方的成员可以回复邀请。"))


def accept_invitation(actor, invitation, reply=None):
    """接受邀请 — the organisation means to help; it pledges on the need's page."""
    _require_org_member(actor, invitation)
    check_invitation(invitation.status, I.ACCEPTED)
    if not need_is_open(invitation.need):
        raise Conflict(_l("该需求已不再征集，不能接受邀请。"))
    reply = _text(reply, 500)
    transition(invitation, I.ACCEPTED, actor, action="accept_need_invitation", reason=reply,
               values={"reply": reply, "decided_by_id": actor.id, "decided_at": utcnow()})
    need, org = invitation.need, invitation.organization
    _tell(_village_people(need.village) + [invitation.invited_by],
          f"/needs/{need.id}",
          lambda: _("%(org)s接受了邀请", org=org.name),
          lambda: _("%(org)s接受了帮扶需求“%(title)s”的邀请，请留意其认捐。", org=org.name, title=need.title))
    queue.commit()
    return invitation


def decline_invitation(actor, invitation, reply=None):
    """婉拒 — the organisation cannot take this need up."""
    _require_org_member(actor, invitation)
    check_invitation(invitation.status, I.DECLINED)
    reply = _text(reply, 500)
    transition(invitation, I.DECLINED, actor, action="decline_need_invitation", reason=reply,
               values={"reply": reply, "decided_by_id": actor.id, "decided_at": utcnow()})
    need, org = invitation.need, invitation.organization
    _tell(_village_people(need.village) + [invitation.invited_by],
          f"/needs/{need.id}",
          lambda: _("%(org)s婉拒了邀请", org=org.name),
          lambda: _("%(org)s婉拒了帮扶需求“%(title)s”的邀请。%(reply)s", org=org.name, title=need.title, reply=reply or ""))
    queue.commit()
    return invitation


def withdraw_invitation(actor, invitation, reason=None):
    """撤回邀请 — the village (or its curator) takes an unanswered invitation back."""
    if not invitation.need.is_editor(actor):
        raise PermissionDenied(_l("只有本村村委会成员或所在地区的审核员可以撤回邀请。"))
    check_invitation(invitation.status, I.WITHDRAWN)
    reason = _text(reason, 500)
    transition(invitation, I.WITHDRAWN, actor, action="withdraw_need_invitation", reason=reason,
               values={"reply": reason, "decided_by_id": actor.id, "decided_at": utcnow()})
    queue.commit()
    return invitation


# Pairings ----------------------------------------------------------------------------------

def _pairing_link(pairing):
    return f"/pairings/{pairing.id}"


def _other_side_people(pairing, side, exclude=None):
    if side == Side.ORGANIZATION:
        return _village_people(pairing.village, exclude)
    return _org_people(pairing.organization, exclude)


def side_for(actor, org, village, side=None):
    """The side `actor` proposes for: the one asked for, or the only one they belong to."""
    sides = [s for s, party in ((Side.ORGANIZATION, org), (Side.VILLAGE, village)) if party.is_member(actor)]
    if side is not None:
        return next((s for s in sides if s.value == side), None)
    return sides[0] if sides else None


def validate_terms(plan, start_date, today=None):
    """Field → message for the plan and start date of a proposal."""
    today = today or local_date_today()
    errors = {}
    plan = (plan or "").strip()
    if len(plan) < MIN_PLAN_LENGTH:
        errors["plan"] = _l("请用至少 %(n)s 个字写明帮扶计划。", n=MIN_PLAN_LENGTH)
    elif len(plan) > MAX_TEXT:
        errors["plan"] = _l("帮扶计划最多 %(n)s 字。", n=MAX_TEXT)
    if start_date is None:
        errors["start_date"] = _l("请选择开始日期。")
    elif not today - timedelta(days=366) <= start_date <= today + timedelta(days=366):
        errors["start_date"] = _l("开始日期应在前后一年以内。")
    return errors


def propose_pairing(actor, org, village, *, plan, start_date, side=None):
    """提出结对 — an organisation proposes to pair with a village, or a village with an organisation."""
    side = side_for(actor, org, village, side)
    if side is None:
        raise PermissionDenied(_l("只有该帮扶方的成员或该村的村委会成员可以提出结对。"))
    if not org.is_verified or not village.is_verified:
        raise ServiceError(_l("结对双方都须已通过认证。"))
    errors = validate_terms(plan, start_date)
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    live = [s.value for s in LIVE_PAIRING_STATES]
    if db.session.scalar(select(Pairing.id).where(Pairing.organization_id == org.id, Pairing.village_id == village.id,
                                                  Pairing.status.in_(live))):
        raise Conflict(_l("双方已有结对或待确认的结对申请。"))
    pairing = Pairing(organization_id=org.id, village_id=village.id, proposed_by=side.value,
                      proposed_by_user_id=actor.id, plan=plan.strip(), start_date=start_date)
    db.session.add(pairing)
    try:
        db.session.flush()
    except IntegrityError:  # the partial unique index: a proposal made at the same moment
        db.session.rollback()
        raise Conflict(_l("双方已有结对或待确认的结对申请。")) from None
    record(actor, pairing, "propose_pairing", to_state=P.PROPOSED)
    proposer = org.name if side == Side.ORGANIZATION else village.name
    _tell(_other_side_people(pairing, side), _pairing_link(pairing),
          lambda: _("结对申请：%(name)s", name=proposer),
          lambda: _("%(name)s提出与您结对帮扶（%(org)s — %(village)s），请查看帮扶计划并确认。", name=proposer,
                    org=org.name, village=village.name))
    queue.commit()
    return pairing


def _answer(actor, pairing):
    if not pairing.can_answer(actor):
        if pairing.status != P.PROPOSED:
            check_pairing(pairing.status, P.ACTIVE)
        raise PermissionDenied(_l("只有被邀请结对的一方可以确认或婉拒。"))


def accept_pairing(actor, pairing):
    """确认结对 — the other side agrees; the pairing is active and public from now on."""
    _answer(actor, pairing)
    transition(pairing, P.ACTIVE, actor, action="accept_pairing", public=True,
               values={"decided_by_id": actor.id, "decided_at": utcnow()})
    _tell(_other_side_people(pairing, _answering_side(pairing)),  # the proposer's side
          _pairing_link(pairing),
          lambda: _("结对已确认：%(org)s — %(village)s", org=pairing.organization.name, village=pairing.village.name),
          lambda: _("%(org)s与%(village)s的结对帮扶已确认，自 %(date)s 起生效。", org=pairing.organization.name,
                    village=pairing.village.name, date=pairing.start_date.isoformat()))
    queue.commit()
    return pairing


def _answering_side(pairing):
    return Side.VILLAGE if pairing.proposed_by == Side.ORGANIZATION else Side.ORGANIZATION


def decline_pairing(actor, pairing, reason=None):
    """婉拒结对."""
    _answer(actor, pairing)
    reason = _text(reason, 500)
    transition(pairing, P.DECLINED, actor, action="decline_pairing", reason=reason,
               values={"decided_by_id": actor.id, "decided_at": utcnow(), "decline_reason": reason})
    _tell(_other_side_people(pairing, _answering_side(pairing)), _pairing_link(pairing),
          lambda: _("结对申请未被接受：%(org)s — %(village)s", org=pairing.organization.name, village=pairing.village.name),
          lambda: _("对方婉拒了结对申请。%(reason)s", reason=reason or ""))
    queue.commit()
    return pairing


def withdraw_pairing(actor, pairing):
    """撤回结对申请 — the proposer takes an unanswered proposal back."""
    if not pairing.can_withdraw(actor):
        if pairing.status != P.PROPOSED:
            check_pairing(pairing.status, P.WITHDRAWN)
        raise PermissionDenied(_l("只有提出结对的一方可以撤回申请。"))
    transition(pairing, P.WITHDRAWN, actor, action="withdraw_pairing",
               values={"decided_by_id": actor.id, "decided_at": utcnow()})
    queue.commit()
    return pairing


def end_pairing(actor, pairing, reason):
    """结束结对 — either side (or a curator of the village's region) ends an active pairing, saying why."""
    if not pairing.can_end(actor):
        if pairing.status != P.ACTIVE:
            check_pairing(pairing.status, P.ENDED)
        raise PermissionDenied(_l("只有结对双方或该村所在地区的审核员可以结束结对。"))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_l("请填写结束结对的原因。"), fields={"reason": _l("请填写结束结对的原因。")})
    reason = _text(reason, 500)
    end_date = max(local_date_today(), pairing.start_date)
    transition(pairing, P.ENDED, actor, action="end_pairing", reason=reason, public=True,
               values={"end_reason": reason, "end_date": end_date, "ended_at": utcnow()})
    people = [u for u in _org_people(pairing.organization) + _village_people(pairing.village) if u != actor]
    _tell(people, _pairing_link(pairing),
          lambda: _("结对已结束：%(org)s — %(village)s", org=pairing.organization.name, village=pairing.village.name),
          lambda: _("%(name)s结束了结对帮扶。原因：%(reason)s", name=actor.name, reason=reason))
    queue.commit()
    return pairing


# Yearly reports ------------------------------------------------------------------------------

def write_report(actor, pairing, year, summary):
    """年度帮扶报告 — either side writes (or revises) what the pairing did in `year`."""
    if not pairing.can_report(actor):
        raise PermissionDenied(_l("只有结对双方可以填写年度帮扶报告。"))
    if year not in pairing.years(local_date_today()):
        raise ServiceError(_l("只能填写结对期间已开始的年度。"), fields={"year": _l("年度不在结对期间内。")})
    summary = (summary or "").strip()
    if len(summary) < MIN_PLAN_LENGTH:
        raise ServiceError(_l("请更正标出的项目。"),
                           fields={"summary": _l("请用至少 %(n)s 个字写明这一年做了什么。", n=MIN_PLAN_LENGTH)})
    if len(summary) > MAX_TEXT:
        raise ServiceError(_l("请更正标出的项目。"), fields={"summary": _l("报告最多 %(n)s 字。", n=MAX_TEXT)})
    report = db.session.scalar(select(PairingReport).where(PairingReport.pairing_id == pairing.id,
                                                           PairingReport.year == year))
    action = "revise_pairing_report" if report else "write_pairing_report"
    if report is None:
        report = PairingReport(pairing_id=pairing.id, year=year, summary=summary, written_by_id=actor.id)
        db.session.add(report)
    else:
        report.summary, report.written_by_id = summary, actor.id
    db.session.flush()
    record(actor, pairing, action, public=True, data={"year": year})
    side = pairing.side_of(actor)
    _tell(_other_side_people(pairing, side, exclude=actor), f"{_pairing_link(pairing)}/reports/{year}",
          lambda: _("%(year)s 年度帮扶报告已更新", year=year),
          lambda: _("%(name)s填写了%(org)s与%(village)s结对的 %(year)s 年度帮扶报告。", name=actor.name,
                    org=pairing.organization.name, village=pairing.village.name, year=year))
    queue.commit()
    return report
