"""The pledge's and the delivery's lifecycles: one transition table each, one `transition()`, one
function per action.

    Pledge:   pledged → accepted → delivering → delivered → confirmed → verified
              side exits: declined (village), cancelled (pledger, before any delivery),
              lapsed (accepted but overdue past the grace period: the reminder job);
              back to delivering when a curator rejects a delivery of a delivered or confirmed pledge;
              back to delivered when a spot check reopens a delivery of a confirmed or verified pledge.
    Delivery: reported → confirmed (village) → verified | rejected (curator)
              reported → disputed (village, with a reason) → verified | rejected (curator)
              reported → rejected (curator, e.g. on evidence used twice)
              verified → reopened (a spot check's discrepancy, 抽查) → verified | rejected (curator)

From `delivering` on, a pledge's status follows the sums of its deliveries (`_follow_deliveries`).
Every action checks who may take it, moves statuses through `transition()` (a conditional UPDATE,
so of two people acting at once exactly one wins), writes audit events, notifies whoever acts
next in their own language, and commits with `queue.commit()`. The need's totals change only by
conditional or relative UPDATEs, and its status only through the needs lifecycle's hooks, in the
same transaction.

The sum of live pledges never exceeds the target: `make_pledge` adds its quantity with
`UPDATE need SET pledged = pledged + :q … WHERE pledged + :q <= target AND status = 'published'`,
backed by the need's CHECK (pledged <= target), so it holds under concurrent requests on SQLite
and PostgreSQL alike (NOTES.md: read-check-update over-pledges).
"""
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError

from .. import queue
from ..audit.services import record
from ..errors import Conflict, PermissionDenied, ServiceError
from ..extensions import db
from ..needs import lifecycle as needs_lifecycle
from ..needs.models import Need, NeedStatus, pledged_values
from ..notifications.services import notify
from ..timeutil import utcnow
from . import evidence as evidence_files
from . import services
from .models import (CLAIMING_DELIVERIES, DELIVERY_STATUS_LABELS, LIVE_STATES, PLEDGE_STATUS_LABELS,
                     RETENTION_MONTHS, Delivery, DeliveryStatus, Pledge, PledgeKind, PledgeStatus, credited_facts)

P, D = PledgeStatus, DeliveryStatus

PLEDGE_ALLOWED = {
    P.PLEDGED: {P.ACCEPTED, P.DECLINED, P.CANCELLED},
    P.ACCEPTED: {P.DELIVERING, P.CANCELLED, P.LAPSED},
    P.DELIVERING: {P.DELIVERED},
    P.DELIVERED: {P.CONFIRMED, P.DELIVERING},  # back: a delivery was rejected
    P.CONFIRMED: {P.VERIFIED, P.DELIVERING, P.DELIVERED},  # back to delivered: a delivery was reopened
    P.VERIFIED: {P.DELIVERED},  # back: a spot check reopened one of its deliveries
    P.DECLINED: set(),
    P.CANCELLED: set(),
    P.LAPSED: set(),
}

DELIVERY_ALLOWED = {
    D.REPORTED: {D.CONFIRMED, D.DISPUTED, D.REJECTED},
    D.CONFIRMED: {D.VERIFIED, D.REJECTED},
    D.DISPUTED: {D.VERIFIED, D.REJECTED},
    D.VERIFIED: {D.REOPENED},  # only by a spot check's discrepancy (`reopen`)
    D.REJECTED: set(),
    D.REOPENED: {D.VERIFIED, D.REJECTED},
}

# model → (status enum, table, labels)
MACHINES = {
    Pledge: (PledgeStatus, PLEDGE_ALLOWED, PLEDGE_STATUS_LABELS),
    Delivery: (DeliveryStatus, DELIVERY_ALLOWED, DELIVERY_STATUS_LABELS),
}


class TransitionError(Conflict):
    """A status change the pledge's or the delivery's table does not allow (HTTP 409)."""

    def __init__(self, model, current, target):
        status_enum, _table, labels = MACHINES[model]
        current, target = status_enum(current), status_enum(target)
        message = (_l("该认捐当前为“%(status)s”，不能执行此操作。", status=labels[current]) if model is Pledge
                   else _l("该交付当前为“%(status)s”，不能执行此操作。", status=labels[current]))
        super().__init__(message)
        self.model, self.current, self.target = model, current, target


def check(model, current, target):
    """Raise TransitionError unless `model`'s table allows current → target."""
    status_enum, table, _labels = MACHINES[model]
    if status_enum(target) not in table[status_enum(current)]:
        raise TransitionError(model, current, target)


def expect(obj, sources, target):
    """An action's own guard: it starts only from `sources`, and the table agrees."""
    model = type(obj)
    status_enum = MACHINES[model][0]
    if status_enum(obj.status) not in sources:
        raise TransitionError(model, obj.status, target)
    check(model, obj.status, target)


def transition(obj, target, actor, *, action, reason=None, public=True, data=None):
    """Move a pledge or delivery to `target` and write the audit event; the caller commits."""
    model = type(obj)
    status_enum = MACHINES[model][0]
    current, target = status_enum(obj.status), status_enum(target)
    check(model, current, target)
    result = db.session.execute(
        update(model).where(model.id == obj.id, model.status == current.value)
        .values(status=target.value, status_changed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # someone else moved it first
        db.session.refresh(obj, ["status"])
        raise TransitionError(model, obj.status, target)
    db.session.refresh(obj, ["status", "status_changed_at"])
    record(actor, obj, action, from_state=current, to_state=target, reason=reason, public=public, data=data)
    return obj


# Sums: relative UPDATEs, so concurrent actions never lose each other's amounts ----------------

def _add(model, obj, condition=None, **deltas):
    """UPDATE model SET col = col + delta … WHERE id = obj.id [AND condition]; True if the row matched."""
    values = {name: getattr(model, name) + delta for name, delta in deltas.items()}
    query = update(model).where(model.id == obj.id)
    if condition is not None:
        query = query.where(condition)
    result = db.session.execute(query.values(**values).execution_options(synchronize_session=False))
    db.session.refresh(obj, list(deltas))
    return result.rowcount == 1


def _touch(need):
    """The need changed (its totals or status): `updated_at` says when, for the village's list of its needs."""
    need.updated_at = utcnow()


# Who hears about it ----------------------------------------------------------------------

def _active(users):
    return [u for u in {u.id: u for u in users if u is not None}.values() if u.active]


def village_people(pledge):
    return _active([m.user for m in pledge.need.village.members])


def pledger_people(pledge):
    """The pledger, and the organisation's owners when it pledged for one."""
    users = [pledge.pledger]
    if pledge.organization is not None:
        users += [m.user for m in pledge.organization.memberships if m.is_owner]
    return _active(users)


def curators_of(pledge):
    return needs_lifecycle.reviewers_of(pledge.need.region_code)


def tell(users, link, subject, body):
    """Notify each user once, in their own language; `subject`/`body` are callables returning text."""
    for user in {u.id: u for u in users}.values():
        with force_locale(user.locale or "zh_CN"):
            notify([user], subject(), body(), link=link)


def link_to(pledge):
    return f"/pledges/{pledge.id}"


def _amount(pledge, value=None):
    return services.amount_text(pledge.need, pledge.quantity if value is None else value)


# Pledging --------------------------------------------------------------------------------

class OverPledged(Conflict):
    """More was asked than the need still has open (HTTP 409); says what remains."""


def make_pledge(actor, need, values, idempotency_key=None):
    """认捐 — pledge against a published need. Returns (pledge, created): a repeated submit with the
    same idempotency key returns the first pledge and created=False instead of pledging twice."""
    key = (idempotency_key or "").strip()[:64] or None
    existing = services.find_by_key(actor, key)
    if existing is not None:
        return existing, False
    org = services.check_pledger(actor, need, values.get("organization_id"))
    if need.status != NeedStatus.PUBLISHED:
        raise Conflict(_l("该需求当前为“%(status)s”，不接受认捐。", status=need.status_label))
    clean = services.clean_pledge(need, values, org)
    errors = services.pledge_errors(need, clean, org)
    if errors:
        over = set(errors) == {"quantity"} and (clean["quantity"] or 0) > need.remaining
        raise (OverPledged(errors["quantity"], fields=errors) if over
               else ServiceError(_l("请更正标出的项目。"), fields=errors))
    quantity = clean["quantity"]
    # The guarantee: add only if it still fits and the need still takes pledges (one statement, row-locked).
    result = db.session.execute(
        update(Need).where(Need.id == need.id, Need.status == NeedStatus.PUBLISHED.value,
                           Need.pledged + quantity <= Need.target)
        .values(**pledged_values(Need.pledged + quantity))
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        db.session.refresh(need)
        if need.status != NeedStatus.PUBLISHED:
            raise Conflict(_l("该需求当前为“%(status)s”，不接受认捐。", status=need.status_label))
        message = services.remaining_message(need)
        raise OverPledged(message, fields={"quantity": message})
    pledge = Pledge(code=services.new_code(), need_id=need.id, village_id=need.village_id, pledger_id=actor.id,
                    organization_id=org.id if org else None, status=P.PLEDGED.value, idempotency_key=key,
                    status_changed_at=utcnow(), **{k: v for k, v in clean.items() if k != "organization_id"})
    db.session.add(pledge)
    try:
        db.session.flush()
    except IntegrityError:
        # The same key submitted twice at once: the other request made the pledge; ours never happened.
        db.session.rollback()
        existing = services.find_by_key(actor, key)
        if existing is None:
            raise
        return existing, False
    from ..matching.services import mark_pledge

    mark_pledge(pledge)  # 结对帮扶: made for an organisation paired with the village
    services.sync_village_helped(pledge.village_id)  # the village now has a helper (recommendations' fairness)
    record(actor, pledge, "pledge", to_state=P.PLEDGED, public=True,
           data={"quantity": quantity, "organization_id": pledge.organization_id})
    needs_lifecycle.on_pledged_total_changed(need, actor)
    _start_delivery_if_closed(need, actor)
    _touch(need)
    tell(village_people(pledge), link_to(pledge),
          lambda: _("新的认捐：%(title)s", title=need.title),
          lambda: _("%(who)s 认捐了需求“%(title)s”：%(amount)s，承诺 %(date)s 前交付。请接受或婉拒。",
                    who=pledge.public_name, title=need.title, amount=_amount(pledge), date=pledge.promised_on.isoformat()))
    queue.commit()
    return pledge, True


def _release(pledge, actor):
    """Give the pledge's share back to its need (declined, cancelled, lapsed): the need may reopen."""
    need = pledge.need
    db.session.execute(
        update(Need).where(Need.id == need.id).values(**pledged_values(Need.pledged - pledge.quantity))
        .execution_options(synchronize_session=False)
    )
    services.sync_village_helped(pledge.village_id)  # its last live pledge may have gone
    needs_lifecycle.on_pledged_total_changed(need, actor)
    _touch(need)
    _check_completion(need, actor)


def _require_village(actor, pledge):
    if not pledge.is_village(actor):
        raise PermissionDenied(_l("只有受助村的村委会成员可以处理该认捐。"))


def _require_pledger(actor, pledge):
    if not pledge.is_pledger(actor):
        raise PermissionDenied(_l("只有认捐人或其所在组织的成员可以处理该认捐。"))


def _require_curator(actor, pledge):
    if not pledge.is_curator(actor):
        raise PermissionDenied(_l("只有受助村所在地区的审核员可以核实交付。"))


def _required_text(text, field, message=_l("请填写理由。")):
    text = (text or "").strip()
    if not text:
        raise ServiceError(message, fields={field: message})
    if len(text) > 2000:
        raise ServiceError(_l("理由最多 2000 个字。"), fields={field: _l("理由最多 2000 个字。")})
    return text


def accept(actor, pledge):
    """接受 — the village accepts the pledge; the pledger is asked to deliver."""
    _require_village(actor, pledge)
    expect(pledge, {P.PLEDGED}, P.ACCEPTED)
    pledge.accepted_at = utcnow()
    transition(pledge, P.ACCEPTED, actor, action="accept_pledge")
    tell(pledger_people(pledge), link_to(pledge),
          lambda: _("认捐已被接受：%(title)s", title=pledge.need.title),
          lambda: _("%(village)s 接受了您的认捐（%(code)s，%(amount)s）。请在 %(date)s 前交付，并在平台上登记交付和凭证。",
                    village=pledge.need.village.name, code=pledge.code, amount=_amount(pledge),
                    date=pledge.promised_on.isoformat()))
    queue.commit()
    return pledge


def decline(actor, pledge, reason):
    """婉拒 — the village declines the pledge with a reason; its share reopens."""
    _require_village(actor, pledge)
    expect(pledge, {P.PLEDGED}, P.DECLINED)
    reason = _required_text(reason, "reason")
    pledge.reason = reason
    transition(pledge, P.DECLINED, actor, action="decline_pledge", reason=reason)
    _release(pledge, actor)
    tell(pledger_people(pledge), link_to(pledge),
          lambda: _("认捐被婉拒：%(title)s", title=pledge.need.title),
          lambda: _("%(village)s 婉拒了您的认捐（%(code)s）。理由：%(reason)s", village=pledge.need.village.name,
                    code=pledge.code, reason=reason))
    queue.commit()
    return pledge


def cancel(actor, pledge, reason=None):
    """取消 — the pledger withdraws the pledge before any delivery; its share reopens."""
    _require_pledger(actor, pledge)
    expect(pledge, {P.PLEDGED, P.ACCEPTED}, P.CANCELLED)
    reason = (reason or "").strip()[:2000] or None
    pledge.reason = reason
    transition(pledge, P.CANCELLED, actor, action="cancel_pledge", reason=reason)
    _release(pledge, actor)
    tell(village_people(pledge), link_to(pledge),
          lambda: _("认捐已取消：%(title)s", title=pledge.need.title),
          lambda: _("%(who)s 取消了对需求“%(title)s”的认捐（%(amount)s），这部分重新开放认捐。",
                    who=pledge.public_name, title=pledge.need.title, amount=_amount(pledge)))
    queue.commit()
    return pledge


def lapse(pledge, actor=None):
    """失效 — an accepted pledge with nothing delivered, past its promised date and the grace period
    (run by the reminder job after its reminders); its share reopens. The caller commits."""
    expect(pledge, {P.ACCEPTED}, P.LAPSED)
    transition(pledge, P.LAPSED, actor, action="lapse_pledge")
    _release(pledge, actor)
    tell(pledger_people(pledge), link_to(pledge),
          lambda: _("认捐已逾期失效：%(title)s", title=pledge.need.title),
          lambda: _("您对需求“%(title)s”的认捐（%(code)s）超过承诺交付日期 %(date)s 仍未交付，已自动失效，这部分重新开放认捐。",
                    title=pledge.need.title, code=pledge.code, date=pledge.promised_on.isoformat()))
    tell(village_people(pledge), link_to(pledge),
          lambda: _("认捐逾期失效：%(title)s", title=pledge.need.title),
          lambda: _("%(who)s 的认捐（%(amount)s）逾期未交付，已失效，这部分重新开放认捐。",
                    who=pledge.public_name, amount=_amount(pledge)))
    return pledge


# Deliveries ------------------------------------------------------------------------------

def report_delivery(actor, pledge, values, uploads=()):
    """登记交付 — the pledger reports a delivery (with evidence files); the village is asked to confirm."""
    _require_pledger(actor, pledge)
    if P(pledge.status) not in (P.ACCEPTED, P.DELIVERING):
        raise TransitionError(Pledge, pledge.status, P.DELIVERING)
    clean = services.clean_delivery(pledge, values)
    uploads = [u for u in uploads if u is not None and getattr(u, "filename", None)]
    errors = services.delivery_errors(pledge, clean, uploads=len(uploads))
    prepared = evidence_files.prepare_all(uploads, errors)  # a file that is not accepted adds its error
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    quantity = clean["quantity"]
    # Within the pledge even when two reports race: a conditional UPDATE, backed by the CHECK.
    if not _add(Pledge, pledge, (Pledge.delivered + quantity <= Pledge.quantity)
                & Pledge.status.in_([P.ACCEPTED.value, P.DELIVERING.value]), delivered=quantity):
        db.session.rollback()
        raise Conflict(_l("超出了认捐中尚未登记交付的部分，请刷新后重试。"))
    need = pledge.need
    _add(Need, need, delivered=quantity)
    delivery = Delivery(pledge_id=pledge.id, need_id=need.id, reported_by_id=actor.id, status=D.REPORTED.value,
                        status_changed_at=utcnow(), **credited_facts(pledge), **clean)
    db.session.add(delivery)
    db.session.flush()
    evidence_files.store_all(delivery, prepared, actor)
    record(actor, delivery, "report_delivery", to_state=D.REPORTED, public=True,
           data={"pledge": pledge.code, "quantity": quantity, "evidence": len(prepared),
                 "flagged": len(delivery.flagged_evidence)})
    _follow_deliveries(pledge, actor)
    _start_delivery_if_closed(need, actor)
    _touch(need)
    tell(village_people(pledge), link_to(pledge),
          lambda: _("请确认收到：%(title)s", title=need.title),
          lambda: _("%(who)s 登记了一次交付：%(amount)s（%(date)s）。收到后请在平台上确认；如有出入请提出异议。",
                    who=pledge.public_name, amount=_amount(pledge, quantity), date=delivery.delivered_on.isoformat()))
    if delivery.flagged_evidence:
        tell(curators_of(pledge), link_to(pledge),
              lambda: _("交付凭证疑似重复：%(code)s", code=pledge.code),
              lambda: _("认捐 %(code)s 的一次交付使用了已在其他交付中出现过的凭证文件，请核查。", code=pledge.code))
    queue.commit()
    return delivery


def _require_delivery_village(actor, delivery):
    if not delivery.pledge.is_village(actor):
        raise PermissionDenied(_l("只有受助村的村委会成员可以确认或对交付提出异议。"))


def confirm(actor, delivery):
    """确认收到 — the village confirms receipt; the region's curators are asked to verify."""
    _require_delivery_village(actor, delivery)
    expect(delivery, {D.REPORTED}, D.CONFIRMED)
    delivery.confirmed_by_id, delivery.confirmed_at = actor.id, utcnow()
    transition(delivery, D.CONFIRMED, actor, action="confirm_delivery")
    pledge = delivery.pledge
    _add(Pledge, pledge, confirmed=delivery.quantity)
    _follow_deliveries(pledge, actor)
    _check_completion(pledge.need, actor)
    _touch(pledge.need)
    tell(curators_of(pledge), link_to(pledge),
          lambda: _("待核实交付：%(title)s", title=pledge.need.title),
          lambda: _("%(village)s 确认收到 %(who)s 的交付：%(amount)s。请核实凭证。", village=pledge.need.village.name,
                    who=pledge.public_name, amount=_amount(pledge, delivery.quantity)))
    tell(pledger_people(pledge), link_to(pledge),
          lambda: _("村里已确认收到：%(title)s", title=pledge.need.title),
          lambda: _("%(village)s 确认收到了您 %(date)s 的交付（%(amount)s），待审核员核实。",
                    village=pledge.need.village.name, date=delivery.delivered_on.isoformat(),
                    amount=_amount(pledge, delivery.quantity)))
    queue.commit()
    return delivery


def dispute(actor, delivery, reason):
    """提出异议 — the village did not receive what was reported; a curator decides."""
    _require_delivery_village(actor, delivery)
    expect(delivery, {D.REPORTED}, D.DISPUTED)
    reason = _required_text(reason, "reason")
    delivery.dispute_reason = reason
    transition(delivery, D.DISPUTED, actor, action="dispute_delivery", reason=reason)
    pledge = delivery.pledge
    tell(curators_of(pledge), link_to(pledge),
          lambda: _("交付有异议：%(title)s", title=pledge.need.title),
          lambda: _("%(village)s 对 %(who)s 的一次交付（%(amount)s）提出异议：%(reason)s。请核查后核实或驳回。",
                    village=pledge.need.village.name, who=pledge.public_name,
                    amount=_amount(pledge, delivery.quantity), reason=reason))
    tell(pledger_people(pledge), link_to(pledge),
          lambda: _("村里对交付有异议：%(title)s", title=pledge.need.title),
          lambda: _("%(village)s 对您 %(date)s 的交付提出异议：%(reason)s。审核员将联系双方核查。",
                    village=pledge.need.village.name, date=delivery.delivered_on.isoformat(), reason=reason))
    queue.commit()
    return delivery


def verify(actor, delivery, note=None):
    """核实 — a curator of the region verifies the delivery: only now does it count anywhere."""
    _require_curator(actor, delivery.pledge)
    was = D(delivery.status)
    expect(delivery, {D.CONFIRMED, D.DISPUTED, D.REOPENED}, D.VERIFIED)
    note = (note or "").strip()[:2000] or None
    delivery.decided_by_id, delivery.decided_at, delivery.decision_note = actor.id, utcnow(), note
    flagged = len(delivery.flagged_evidence)
    transition(delivery, D.VERIFIED, actor, action="verify_delivery", reason=note,
               data={"flagged_evidence": flagged} if flagged else None)
    pledge, need = delivery.pledge, delivery.pledge.need
    # A disputed (or reopened) delivery the curator finds delivered counts as confirmed too.
    _add(Pledge, pledge, verified=delivery.quantity,
         confirmed=delivery.quantity if was in (D.DISPUTED, D.REOPENED) else 0)
    _add(Need, need, verified=delivery.quantity)
    _follow_deliveries(pledge, actor)
    _check_completion(need, actor)
    _touch(need)
    receipt = pledge.kind == PledgeKind.FUNDS
    tell(pledger_people(pledge), link_to(pledge),
          lambda: _("交付已核实：%(title)s", title=need.title),
          lambda: _("您 %(date)s 的交付（%(amount)s）已经审核员核实，计入统计和光荣榜。%(receipt)s",
                    date=delivery.delivered_on.isoformat(), amount=_amount(pledge, delivery.quantity),
                    receipt=_("可在认捐页面下载捐赠凭证。") if receipt else ""))
    tell(village_people(pledge), link_to(pledge),
          lambda: _("交付已核实：%(title)s", title=need.title),
          lambda: _("%(who)s 的交付（%(amount)s）已经审核员核实。", who=pledge.public_name,
                    amount=_amount(pledge, delivery.quantity)))
    queue.commit()
    return delivery


def reject(actor, delivery, reason):
    """驳回 — a curator finds the delivery not made (or its evidence false): it counts for nothing,
    and the pledger may report again."""
    _require_curator(actor, delivery.pledge)
    was = D(delivery.status)
    expect(delivery, {D.REPORTED, D.CONFIRMED, D.DISPUTED, D.REOPENED}, D.REJECTED)
    reason = _required_text(reason, "reason")
    delivery.decided_by_id, delivery.decided_at, delivery.decision_note = actor.id, utcnow(), reason
    transition(delivery, D.REJECTED, actor, action="reject_delivery", reason=reason)
    pledge, need = delivery.pledge, delivery.pledge.need
    _add(Pledge, pledge, delivered=-delivery.quantity, confirmed=-delivery.quantity if was == D.CONFIRMED else 0)
    _add(Need, need, delivered=-delivery.quantity)
    _follow_deliveries(pledge, actor)
    _check_completion(need, actor)  # a completed need is in delivery again
    _touch(need)
    tell(pledger_people(pledge), link_to(pledge),
          lambda: _("交付未通过核实：%(title)s", title=need.title),
          lambda: _("您 %(date)s 的交付（%(amount)s）未通过核实。理由：%(reason)s。如已交付，请补充凭证后重新登记。",
                    date=delivery.delivered_on.isoformat(), amount=_amount(pledge, delivery.quantity), reason=reason))
    tell(village_people(pledge), link_to(pledge),
          lambda: _("交付未通过核实：%(title)s", title=need.title),
          lambda: _("%(who)s 的一次交付（%(amount)s）未通过核实。理由：%(reason)s", who=pledge.public_name,
                    amount=_amount(pledge, delivery.quantity), reason=reason))
    queue.commit()
    return delivery


def reopen(actor, delivery, reason, data=None):
    """复核 — a spot check (抽查) found a discrepancy in a verified delivery: it stops counting.

    The delivery goes back to a curator (verify again or reject, as for a disputed one); until then it
    counts as delivered only: the pledge's confirmed and verified sums and the need's verified sum drop
    by its quantity, the pledge steps back to delivered and a completed or closed need to in delivery.
    `reason` is the spot check's public note. Joins the caller's transaction (the spot check records
    its result in the same one); the caller commits.
    """
    _require_curator(actor, delivery.pledge)
    expect(delivery, {D.VERIFIED}, D.REOPENED)
    reason = _required_text(reason, "notes", _l("请说明发现的出入。"))
    transition(delivery, D.REOPENED, actor, action="reopen_delivery", reason=reason, data=data)
    pledge, need = delivery.pledge, delivery.pledge.need
    _add(Pledge, pledge, verified=-delivery.quantity, confirmed=-delivery.quantity)
    _add(Need, need, verified=-delivery.quantity)
    _follow_deliveries(pledge, actor)
    _check_completion(need, actor)
    _touch(need)
    tell(pledger_people(pledge), link_to(pledge),
          lambda: _("抽查发现交付有出入：%(title)s", title=need.title),
          lambda: _("审核员抽查时发现您 %(date)s 的交付（%(amount)s）与实际有出入：%(reason)s。这次交付暂不计入统计和光荣榜，审核员核查后将重新核实或驳回。",
                    date=delivery.delivered_on.isoformat(), amount=_amount(pledge, delivery.quantity), reason=reason))
    tell(village_people(pledge), link_to(pledge),
          lambda: _("抽查发现交付有出入：%(title)s", title=need.title),
          lambda: _("审核员抽查时发现 %(who)s 的一次交付（%(amount)s）与实际有出入：%(reason)s。审核员将联系双方核查。",
                    who=pledge.public_name, amount=_amount(pledge, delivery.quantity), reason=reason))
    return delivery


def report_retention(actor, delivery, months, retained):
    """在岗情况 — for jobs: how many of the people hired are still employed 3 or 6 months later."""
    _require_pledger(actor, delivery.pledge)
    if months not in RETENTION_MONTHS:
        raise ServiceError(_l("请选择 3 个月或 6 个月。"), fields={"months": _l("请选择 3 个月或 6 个月。")})
    if not delivery.can_report_retention(actor, months):
        raise Conflict(_l("现在不能登记这次招聘 %(n)s 个月后的在岗情况（未到时间、已登记过或交付未通过核实）。", n=months))
    if retained is None or not 0 <= retained <= delivery.quantity:
        message = _l("在岗人数应在 0 到 %(n)s 之间。", n=delivery.quantity)
        raise ServiceError(message, fields={"retained": message})
    column = getattr(Delivery, f"retained_{months}m")
    result = db.session.execute(update(Delivery).where(Delivery.id == delivery.id, column.is_(None))
                                .values({column: retained}).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        raise Conflict(_l("该在岗情况已经登记过。"))
    db.session.refresh(delivery, [f"retained_{months}m"])
    record(actor, delivery, "report_retention", public=True,
           data={"months": months, "retained": retained, "hired": delivery.quantity})
    pledge = delivery.pledge
    tell(village_people(pledge) + curators_of(pledge), link_to(pledge),
          lambda: _("在岗情况：%(title)s", title=pledge.need.title),
          lambda: _("%(who)s 登记：%(date)s 招聘的 %(hired)s 人中，%(months)s 个月后仍在岗 %(retained)s 人。",
                    who=pledge.public_name, date=delivery.delivered_on.isoformat(), hired=delivery.quantity,
                    months=months, retained=retained))
    queue.commit()
    return delivery


# Following the deliveries: the pledge's status and the need's ---------------------------------

PATH = [P.DELIVERING, P.DELIVERED, P.CONFIRMED, P.VERIFIED]
STEP_ACTIONS = {P.DELIVERING: "delivery_started", P.DELIVERED: "all_delivered", P.CONFIRMED: "all_confirmed",
                P.VERIFIED: "all_verified"}


def derived_status(pledge):
    """Where a pledge in delivery stands by its sums: everything reported, confirmed, verified?"""
    if pledge.delivered < pledge.quantity:
        return P.DELIVERING
    if pledge.confirmed < pledge.quantity:
        return P.DELIVERED
    if pledge.verified < pledge.quantity:
        return P.CONFIRMED
    return P.VERIFIED


def _follow_deliveries(pledge, actor):
    """Move a pledge in delivery to the status its sums say, one step of the table at a time."""
    db.session.refresh(pledge, ["status", "delivered", "confirmed", "verified"])
    current = P(pledge.status)
    if current == P.ACCEPTED:
        transition(pledge, P.DELIVERING, actor, action="delivery_started")
        current = P.DELIVERING
    if current not in PATH:
        return pledge
    target = derived_status(pledge)
    if PATH.index(target) < PATH.index(current):
        # Back: a delivery was rejected (→ delivering) or a spot check reopened one (→ delivered).
        transition(pledge, target, actor,
                   action="delivery_reopened" if target == P.DELIVERING else "verification_reopened")
        return pledge
    for step in PATH[PATH.index(current) + 1:PATH.index(target) + 1]:
        transition(pledge, step, actor, action=STEP_ACTIONS[step])
    return pledge


def _has_deliveries(need):
    return db.session.scalar(select(exists().where(
        Delivery.need_id == need.id, Delivery.status.in_([s.value for s in CLAIMING_DELIVERIES]))))


def _start_delivery_if_closed(need, actor):
    """A need that takes no more pledges (fully pledged, or expired) is in delivery once anything is delivered.

    A published need with room left stays published while early pledges are delivered, so others can
    still pledge the rest.
    """
    db.session.refresh(need, ["status"])
    if need.status in (NeedStatus.FULLY_PLEDGED, NeedStatus.EXPIRED) and _has_deliveries(need):
        needs_lifecycle.on_delivery_started(need, actor)
        _check_completion(need, actor)


def _check_completion(need, actor):
    """In delivery, and every live pledge delivered and confirmed: the need is completed. Completed (or
    closed), and a pledge no longer is (a delivery rejected or reopened by a spot check): in delivery again."""
    db.session.refresh(need, ["status"])
    if need.status not in (NeedStatus.IN_DELIVERY, NeedStatus.COMPLETED, NeedStatus.CLOSED):
        return
    open_states = [s.value for s in LIVE_STATES - {P.CONFIRMED, P.VERIFIED}]
    pending = db.session.scalar(select(exists().where(Pledge.need_id == need.id, Pledge.status.in_(open_states))))
    if need.status != NeedStatus.IN_DELIVERY:
        if pending:
            needs_lifecycle.on_delivery_resumed(need, actor)
        return
    done = db.session.scalar(select(exists().where(
        Pledge.need_id == need.id, Pledge.status.in_([P.CONFIRMED.value, P.VERIFIED.value]))))
    if done and not pending:
        needs_lifecycle.on_completed(need, actor)


def start_expired_deliveries(actor=None):
    """Expired needs whose pledges are already being delivered go in delivery (run by the reminder job).

    Needs expire on their own schedule (needs lifecycle); this picks up those that expired while
    deliveries were under way, so they can complete. Returns how many moved; the caller commits.
    """
    claiming = [s.value for s in CLAIMING_DELIVERIES]
    ids = db.session.scalars(select(Need.id).where(
        Need.status == NeedStatus.EXPIRED.value,
        exists().where(Delivery.need_id == Need.id, Delivery.status.in_(claiming)))).all()
    for need_id in ids:
        need = db.session.get(Need, need_id)
        _start_delivery_if_closed(need, actor)
        _touch(need)
    return len(ids)
