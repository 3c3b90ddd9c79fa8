"""What pledges ask of people on /me: pledges to accept and deliveries to confirm (villages), pledges
to deliver (pledgers), deliveries to verify, disputes and flagged evidence (curators)."""
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from ..extensions import db
from ..todo import Todo, source
from . import services
from .models import Delivery, DeliveryStatus, Pledge, PledgeStatus


@source
def village_todos(user):
    if not user.villages:
        return []
    return [Todo(_l("待接受或婉拒的认捐"), len(services.incoming_pledges(user)), "pledges.incoming"),
            Todo(_l("待确认收到的交付"), len(services.deliveries_to_confirm(user)), "pledges.incoming")]


@source
def pledger_todos(user):
    org_ids = [o.id for o in user.organizations]
    mine = Pledge.pledger_id == user.id
    if org_ids:
        mine = or_(mine, Pledge.organization_id.in_(org_ids))
    to_deliver = db.session.scalar(select(func.count(Pledge.id)).where(
        mine, Pledge.status.in_([PledgeStatus.ACCEPTED.value, PledgeStatus.DELIVERING.value]),
        Pledge.delivered < Pledge.quantity))
    rejected = db.session.scalar(select(func.count(Delivery.id)).join(Delivery.pledge).where(
        mine, Delivery.status == DeliveryStatus.REJECTED.value,
        Pledge.status == PledgeStatus.DELIVERING.value))
    return [Todo(_l("待交付的认捐"), to_deliver, "pledges.mine"),
            Todo(_l("未通过核实、需重新登记的交付"), rejected, "pledges.mine")]


@source
def curator_todos(user):
    if not user.is_curator:
        return []
    counts = services.curator_counts(user)
    return [Todo(_l("待核实的交付"), counts["to_verify"], "pledges.curate"),
            Todo(_l("有异议的交付"), counts["disputed"], "pledges.curate"),
            Todo(_l("抽查发现出入、待重新核实的交付"), counts["reopened"], "pledges.curate"),
            Todo(_l("凭证疑似重复的交付"), counts["flagged"], "pledges.curate")]
