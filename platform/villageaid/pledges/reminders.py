"""The reminder job: nudge whoever must act on a pledge, and lapse accepted pledges long overdue.

Run hourly by the scheduler (`jobs.pledges.remind_and_lapse`): in-process on the embedded default,
in `rq worker` in production. Each reminder is sent once: its key is a unique row written in the
same transaction as the notification, so two runs (or two processes) never send it twice.

    accept      a pledge waiting for the village for ACCEPT_AFTER_DAYS          → the village
    due         an accepted pledge DUE_DAYS before its promised date               → the pledger
    overdue     past the promised date and not all delivered                      → the pledger and the village
    lapse       accepted, nothing delivered, GRACE_DAYS past the date, and reminded
                of it at least REMINDED_DAYS before                               → lapsed, its share reopens
    confirm     a delivery waiting for the village for CONFIRM_AFTER_DAYS          → the village
    retention-3/6  hires 3 or 6 months ago with no retention reported              → the pledger
"""
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from .. import queue
from ..errors import Conflict
from ..extensions import db
from ..needs.models import Unit
from ..timeutil import local_date_today, utcnow
from . import lifecycle
from .models import Delivery, DeliveryStatus, Pledge, PledgeStatus, Reminder, add_months

P, D = PledgeStatus, DeliveryStatus

DEFAULTS = {"PLEDGE_ACCEPT_AFTER_DAYS": 3, "PLEDGE_DUE_DAYS": 3, "PLEDGE_GRACE_DAYS": 14,
            "PLEDGE_REMINDED_DAYS": 3, "DELIVERY_CONFIRM_AFTER_DAYS": 3}
BATCH = 500


def setting(name):
    return current_app.config.get(name, DEFAULTS[name])


def _not_sent(kind, delivery=False):
    """SQL: no reminder of `kind` yet for the pledge (or the delivery) in the row."""
    column = Reminder.delivery_id == Delivery.id if delivery else Reminder.pledge_id == Pledge.id
    return ~exists().where(column, Reminder.kind == kind)


def _send(kind, pledge, tell, delivery=None):
    """Record the reminder and send it in one transaction; False if another run already sent it."""
    key = f"{kind}:{pledge.id}" + (f":{delivery.id}" if delivery is not None else "")
    db.session.add(Reminder(key=key, kind=kind, pledge_id=pledge.id,
                            delivery_id=delivery.id if delivery is not None else None))
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return False
    tell()
    queue.commit()
    return True


def _pledges(*where):
    return db.session.scalars(select(Pledge).where(*where).order_by(Pledge.id).limit(BATCH)).all()


def _deliveries(*where):
    return db.session.scalars(select(Delivery).join(Delivery.pledge).where(*where)
                              .order_by(Delivery.id).limit(BATCH)).unique().all()


def _tell_overdue(p, grace):
    lapse_on = (p.promised_on + timedelta(days=grace + 1)).isoformat()
    lifecycle.tell(lifecycle.pledger_people(p), lifecycle.link_to(p),
                    lambda: _("认捐已逾期：%(title)s", title=p.need.title),
                    lambda: _("您对需求“%(title)s”的认捐（%(code)s）已超过承诺交付日期 %(date)s。请尽快交付并登记。%(lapse)s",
                              title=p.need.title, code=p.code, date=p.promised_on.isoformat(),
                              lapse=_("如 %(day)s 前仍未登记任何交付，认捐将自动失效。", day=lapse_on)
                              if p.status == P.ACCEPTED else ""))
    lifecycle.tell(lifecycle.village_people(p), lifecycle.link_to(p),
                    lambda: _("认捐逾期未交付：%(title)s", title=p.need.title),
                    lambda: _("%(who)s 的认捐（%(code)s）已超过承诺交付日期 %(date)s，平台已提醒对方。",
                              who=p.public_name, code=p.code, date=p.promised_on.isoformat()))


def sweep(today=None, now=None):
    """Send every reminder that is due and lapse what must lapse; returns {kind: how many}."""
    today, now = today or local_date_today(), now or utcnow()
    done = {"accept": 0, "due": 0, "overdue": 0, "lapse": 0, "confirm": 0, "retention": 0, "in_delivery": 0}
    tell = lifecycle.tell
    link = lifecycle.link_to

    for pledge in _pledges(Pledge.status == P.PLEDGED.value,
                           Pledge.created_at <= now - timedelta(days=setting("PLEDGE_ACCEPT_AFTER_DAYS")),
                           _not_sent("accept")):
        done["accept"] += _send("accept", pledge, lambda p=pledge: tell(
            lifecycle.village_people(p), link(p),
            lambda: _("认捐待您处理：%(title)s", title=p.need.title),
            lambda: _("%(who)s 对需求“%(title)s”的认捐（%(code)s）已等待多日，请尽快接受或婉拒。",
                      who=p.public_name, title=p.need.title, code=p.code)))

    active = [P.ACCEPTED.value, P.DELIVERING.value]
    for pledge in _pledges(Pledge.status.in_(active), Pledge.promised_on >= today,
                           Pledge.promised_on <= today + timedelta(days=setting("PLEDGE_DUE_DAYS")), _not_sent("due")):
        done["due"] += _send("due", pledge, lambda p=pledge: tell(
            lifecycle.pledger_people(p), link(p),
            lambda: _("交付日期临近：%(title)s", title=p.need.title),
            lambda: _("您对需求“%(title)s”的认捐（%(code)s）承诺在 %(date)s 前交付。交付后请在平台上登记并上传凭证。",
                      title=p.need.title, code=p.code, date=p.promised_on.isoformat())))

    grace = setting("PLEDGE_GRACE_DAYS")
    for pledge in _pledges(Pledge.status.in_(active), Pledge.promised_on < today, _not_sent("overdue")):
        done["overdue"] += _send("overdue", pledge, lambda p=pledge: _tell_overdue(p, grace))

    reminded = select(Reminder.id).where(Reminder.pledge_id == Pledge.id, Reminder.kind == "overdue",
                                         Reminder.sent_at <= now - timedelta(days=setting("PLEDGE_REMINDED_DAYS")))
    for pledge in _pledges(Pledge.status == P.ACCEPTED.value, Pledge.promised_on < today - timedelta(days=grace),
                           exists(reminded)):
        try:
            lifecycle.lapse(pledge)
            queue.commit()
            done["lapse"] += 1
        except Conflict:  # moved on meanwhile (a delivery, a cancellation): nothing to do
            db.session.rollback()

    for delivery in _deliveries(Delivery.status == D.REPORTED.value,
                                Delivery.created_at <= now - timedelta(days=setting("DELIVERY_CONFIRM_AFTER_DAYS")),
                                _not_sent("confirm", delivery=True)):
        p = delivery.pledge
        done["confirm"] += _send("confirm", p, lambda p=p, d=delivery: tell(
            lifecycle.village_people(p), link(p),
            lambda: _("交付待确认：%(title)s", title=p.need.title),
            lambda: _("%(who)s 登记的交付（%(date)s）已等待多日，请确认收到或提出异议。",
                      who=p.public_name, date=d.delivered_on.isoformat())), delivery=delivery)

    from ..needs.models import Need

    for months in (3, 6):
        kind = f"retention-{months}"
        column = getattr(Delivery, f"retained_{months}m")
        # delivered_on + months <= today, i.e. delivered_on <= today - months (calendar months)
        cutoff = add_months(today, -months)
        for delivery in _deliveries(Delivery.status != D.REJECTED.value, column.is_(None),
                                    Delivery.delivered_on <= cutoff,
                                    Pledge.need_id.in_(select(Need.id).where(Need.unit == Unit.JOBS.value)),
                                    _not_sent(kind, delivery=True)):
            p = delivery.pledge
            done["retention"] += _send(kind, p, lambda p=p, d=delivery, months=months: tell(
                lifecycle.pledger_people(p), link(p),
                lambda: _("请登记在岗情况：%(title)s", title=p.need.title),
                lambda: _("您 %(date)s 招聘的 %(hired)s 人已满 %(months)s 个月，请在平台上登记仍在岗的人数。",
                          date=d.delivered_on.isoformat(), hired=d.quantity, months=months)), delivery=delivery)

    done["in_delivery"] = lifecycle.start_expired_deliveries()
    queue.commit()
    return done
