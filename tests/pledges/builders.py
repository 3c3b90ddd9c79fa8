"""Pledges and deliveries built through the same lifecycle functions people use."""
import io
from datetime import timedelta

from PIL import Image
from sqlalchemy import update
from werkzeug.datastructures import FileStorage

from tests import factories
from tests.needs import builders as need_builders
from villageaid.extensions import db
from villageaid.needs.models import NeedStatus
from villageaid.pledges import lifecycle
from villageaid.pledges.models import DeliveryStatus, Pledge, PledgeStatus
from villageaid.timeutil import local_date_today

P, D, S = PledgeStatus, DeliveryStatus, NeedStatus


def pledge_values(quantity, **overrides):
    values = {"quantity": quantity, "promised_on": local_date_today() + timedelta(days=20), "note": "尽快安排"}
    values.update(overrides)
    return values


def photo(seed=0, name="凭证.jpg", size=(64, 48)):
    """A small JPEG upload; the same seed gives the same bytes (and so the same content hash)."""
    out = io.BytesIO()
    Image.new("RGB", size, ((seed * 40) % 256, (seed * 90) % 256, 120)).save(out, "JPEG", quality=90)
    out.seek(0)
    return FileStorage(stream=out, filename=name, content_type="image/jpeg")


class World(need_builders.World):
    """The needs world (a verified village in 昭觉县, its member, a Sichuan curator) plus a verified
    enterprise with its owner and a colleague, and an individual donor."""

    def __init__(self):
        super().__init__()
        self.owner = factories.user("企业联络人")
        self.org = factories.organization(self.owner)
        self.colleague = factories.user("企业同事")
        from villageaid.organizations.models import Membership

        db.session.add(Membership(user_id=self.colleague.id, organization_id=self.org.id))
        db.session.commit()
        self.donor = factories.user("王爱心")

    def published(self, **overrides):
        return self.need(S.PUBLISHED, **overrides)

    def pledge(self, need=None, quantity=1_000_000, *, by=None, org=True, key=None, **values):
        """A pledge (¥10,000 by default) by the enterprise, or by `by` personally when org=False."""
        need = need or self.published()
        actor = by or (self.owner if org else self.donor)
        if org:
            values.setdefault("organization_id", self.org.id)
        pledge, _created = lifecycle.make_pledge(actor, need, pledge_values(quantity, **values), idempotency_key=key)
        return pledge

    def deliver(self, pledge, quantity=None, uploads=(), by=None, **values):
        values = {"quantity": quantity or pledge.open_to_report, "delivered_on": local_date_today(),
                  "note": "已转账", **values}
        return lifecycle.report_delivery(by or pledge.pledger, pledge, values, uploads=uploads)


def bring(world, pledge, status):
    """Take a fresh pledge (status pledged) to `status` through the lifecycle."""
    status = PledgeStatus(status)
    if status == P.PLEDGED:
        return pledge
    if status == P.DECLINED:
        return lifecycle.decline(world.member, pledge, "已由其他企业解决")
    if status == P.CANCELLED:
        return lifecycle.cancel(pledge.pledger, pledge, "预算调整")
    lifecycle.accept(world.member, pledge)
    if status == P.ACCEPTED:
        return pledge
    if status == P.LAPSED:
        backdate_promise(pledge, 30)
        lifecycle.lapse(pledge)
        db.session.commit()
        return pledge
    if status == P.DELIVERING:
        world.deliver(pledge, max(1, pledge.quantity // 2))
        return pledge
    delivery = world.deliver(pledge)
    if status == P.DELIVERED:
        return pledge
    lifecycle.confirm(world.member, delivery)
    if status == P.CONFIRMED:
        return pledge
    lifecycle.verify(world.curator, delivery)
    return pledge


def delivery_in(world, status, pledge=None):
    """A delivery brought to `status` through the lifecycle."""
    status = DeliveryStatus(status)
    pledge = pledge or world.pledge()
    if pledge.status == P.PLEDGED:
        lifecycle.accept(world.member, pledge)
    delivery = world.deliver(pledge)
    if status in (D.CONFIRMED, D.VERIFIED, D.REOPENED):
        lifecycle.confirm(world.member, delivery)
    if status == D.DISPUTED:
        lifecycle.dispute(world.member, delivery, "只收到一半")
    if status in (D.VERIFIED, D.REOPENED):
        lifecycle.verify(world.curator, delivery)
    if status == D.REOPENED:  # what a spot check's discrepancy does
        lifecycle.reopen(world.curator, delivery, "抽查走访：村里实际只收到一半")
        db.session.commit()
    if status == D.REJECTED:
        lifecycle.reject(world.curator, delivery, "凭证与实际不符")
    return delivery


def backdate_promise(pledge, days):
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id)
                       .values(promised_on=local_date_today() - timedelta(days=days)))
    db.session.commit()
    db.session.refresh(pledge)


def force(obj, status):
    """Put a pledge or delivery straight into `status` (test set-up only: the lifecycle never does)."""
    model = type(obj)
    db.session.execute(update(model).where(model.id == obj.id).values(status=str(status)))
    db.session.commit()
    db.session.refresh(obj)
    return obj


def pledge_of(world, status=P.PLEDGED):
    """The security matrix's pledge: the organisation's owner pledges ¥1,000 to the published need."""
    pledge, _created = lifecycle.make_pledge(world.user("org_owner"), world.published,
                                             pledge_values(100_000, organization_id=world.org.id))
    if status != P.PLEDGED:
        lifecycle.accept(world.user("village_member"), pledge)
    return pledge


def delivery_of(world, status=D.REPORTED):
    """The security matrix's delivery: ¥1,000 reported against `pledge_of`, confirmed if asked."""
    pledge = pledge_of(world, P.ACCEPTED)
    delivery = lifecycle.report_delivery(world.user("org_owner"), pledge, {
        "quantity": pledge.quantity, "delivered_on": local_date_today(), "note": "已转账"})
    if status == D.CONFIRMED:
        lifecycle.confirm(world.user("village_member"), delivery)
    return delivery


def today():
    """Today in China, as a form field says it."""
    return local_date_today().isoformat()
