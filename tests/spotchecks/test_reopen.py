"""A discrepancy reopens the delivery: it leaves "verified" and stops counting, and every sum it fed is
corrected in the same transaction (pledge, need, ledger at every level, the need's status), until a
curator verifies it again or rejects it through the usual queue."""
import pytest
from flask import current_app
from sqlalchemy import func, select

from tests import factories
from tests.spotchecks.builders import D, P, S, World
from villageaid import pagecache, queue
from villageaid.audit.models import AuditEvent
from villageaid.extensions import db
from villageaid.ledger import public
from villageaid.needs import lifecycle as needs_lifecycle
from villageaid.notifications.models import Notification
from villageaid.pledges import lifecycle as pledges_lifecycle
from villageaid.pledges import services as pledge_services
from villageaid.pledges.models import Delivery, Pledge
from villageaid.spotchecks import lifecycle
from villageaid.timeutil import local_date_today

NOTES = "走访核对：村集体账户实际只收到 500 元。"


def record(actor, item, result="discrepancy", notes=NOTES):
    return lifecycle.record_result(actor, item, result, notes, local_date_today())


def verified_sum(*conditions):
    return db.session.scalar(select(func.coalesce(func.sum(Delivery.quantity), 0))
                             .where(Delivery.status == D.VERIFIED.value, *conditions))


def assert_sums_follow_the_deliveries(need):
    """Every figure that counts equals the verified deliveries behind it, on the pledge, the need and the ledger."""
    db.session.expire_all()
    need = db.session.get(type(need), need.id)
    for pledge in db.session.scalars(select(Pledge).where(Pledge.need_id == need.id)):
        assert pledge.verified == verified_sum(Delivery.pledge_id == pledge.id)
        assert pledge.confirmed == db.session.scalar(select(func.coalesce(func.sum(Delivery.quantity), 0)).where(
            Delivery.pledge_id == pledge.id, Delivery.status.in_(["confirmed", "verified"])))
    assert need.verified == verified_sum(Delivery.need_id == need.id)
    for code in (None, factories.SICHUAN, factories.LIANGSHAN, factories.ZHAOJUE):
        assert public.page(code)["totals"]["cny_fen"]["verified"] == verified_sum()
    assert pledge_services.need_ledger(need)["verified"] == verified_sum(Delivery.need_id == need.id)
    assert pledge_services.need_ledger(need)["verified_deliveries"] == db.session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.status == D.VERIFIED.value))


@pytest.fixture
def completed(any_app):
    """A ¥30,000 need wholly pledged by two pledges (¥10,000 and ¥20,000), every delivery verified: completed."""
    world = World()
    need = world.published(target=3_000_000)
    small = world.pledge(need, 1_000_000)
    large = world.pledge(need, 2_000_000, org=False)
    for pledge in (small, large):
        pledges_lifecycle.accept(world.member, pledge)
        delivery = world.deliver(pledge)
        pledges_lifecycle.confirm(world.member, delivery)
        pledges_lifecycle.verify(world.curator, delivery)
    assert (need.status, need.verified, small.status, large.status) == (S.COMPLETED, 3_000_000, P.VERIFIED, P.VERIFIED)
    return world, need, small, large


def the_item_for(spot_check, delivery):
    return next(item for item in spot_check.items if item.delivery_id == delivery.id)


def test_a_discrepancy_reopens_the_delivery_and_corrects_every_sum(completed):
    world, need, small, large = completed
    spot_check = world.draw(size=2)
    delivery = large.deliveries[0]
    current_app.config["PAGE_CACHE_SECONDS"] = 10  # spike mode on, as on 10·17
    pagecache._down_until = 0.0
    generation = int(queue.redis_connection().get(pagecache.GENERATION_KEY) or 0)
    item = record(world.curator, the_item_for(spot_check, delivery))
    assert item.reopened and item.status == "discrepancy"
    db.session.expire_all()
    delivery, large, small, need = (db.session.get(type(o), o.id) for o in (delivery, large, small, need))
    assert delivery.status == D.REOPENED and delivery.status_label == "抽查发现出入，待重新核实"
    assert (large.status, large.delivered, large.confirmed, large.verified) == (P.DELIVERED, 2_000_000, 0, 0)
    assert small.status == P.VERIFIED and small.verified == 1_000_000  # the other pledge is untouched
    assert (need.status, need.delivered, need.verified) == (S.IN_DELIVERY, 3_000_000, 1_000_000)
    assert_sums_follow_the_deliveries(need)
    assert public.page(factories.ZHAOJUE)["totals"]["cny_fen"]["delivered"] == 3_000_000  # still delivered
    # Visitors' cached pages are stale from now on.
    assert int(queue.redis_connection().get(pagecache.GENERATION_KEY) or 0) > generation
    # The trail: the delivery's reopening (public, with the note), the pledge's and the need's steps back.
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "delivery",
                                                        AuditEvent.action == "reopen_delivery")).one()
    assert (event.from_state, event.to_state, event.reason, event.public) == ("verified", "reopened", NOTES, True)
    assert event.data == {"spot_check": spot_check.id, "item": item.id}
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "pledge",
                                                              AuditEvent.object_id == large.id)
                              .order_by(AuditEvent.id.desc())).first() == "verification_reopened"
    assert db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "need")
                              .order_by(AuditEvent.id.desc())).first() == "delivery_resumed"
    # The pledger and the village hear of it, in their inboxes.
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.subject.like("抽查发现交付有出入%"))))
    assert told == {world.donor.id, world.member.id}
    # It waits in the curators' queue.
    assert [d.id for d in pledge_services.curator_queue(world.curator)["reopened"]] == [delivery.id]


def test_verifying_it_again_restores_everything(completed):
    world, need, small, large = completed
    spot_check = world.draw(size=2)
    delivery = large.deliveries[0]
    record(world.curator, the_item_for(spot_check, delivery))
    assert delivery.can_verify(world.curator) and delivery.can_reject(world.curator)
    assert not delivery.can_verify(world.far_curator)
    pledges_lifecycle.verify(world.curator, delivery, "复核：已补足款项，银行回单齐全。")
    db.session.expire_all()
    large, need = db.session.get(Pledge, large.id), db.session.get(type(need), need.id)
    assert (large.status, large.confirmed, large.verified) == (P.VERIFIED, 2_000_000, 2_000_000)
    assert (need.status, need.verified) == (S.COMPLETED, 3_000_000)
    assert_sums_follow_the_deliveries(need)


def test_rejecting_it_takes_it_out_and_the_pledger_may_deliver_again(completed):
    world, need, small, large = completed
    spot_check = world.draw(size=2)
    delivery = large.deliveries[0]
    record(world.curator, the_item_for(spot_check, delivery))
    pledges_lifecycle.reject(world.curator, delivery, "复核确认款项未到账。")
    db.session.expire_all()
    large, need = db.session.get(Pledge, large.id), db.session.get(type(need), need.id)
    assert (large.status, large.delivered, large.confirmed, large.verified) == (P.DELIVERING, 0, 0, 0)
    assert (need.status, need.delivered, need.verified) == (S.IN_DELIVERY, 1_000_000, 1_000_000)
    assert_sums_follow_the_deliveries(need)
    again = world.deliver(large, by=world.donor)
    pledges_lifecycle.confirm(world.member, again)
    pledges_lifecycle.verify(world.curator, again)
    assert db.session.get(type(need), need.id).status == S.COMPLETED


def test_a_closed_need_is_in_delivery_again_and_can_be_closed_again(completed):
    world, need, small, large = completed
    needs_lifecycle.close(world.curator, need)
    assert need.status == S.CLOSED
    spot_check = world.draw(size=2)
    record(world.curator, the_item_for(spot_check, small.deliveries[0]))
    db.session.refresh(need)
    assert (need.status, need.verified) == (S.IN_DELIVERY, 2_000_000)
    pledges_lifecycle.verify(world.curator, small.deliveries[0])
    db.session.refresh(need)
    assert need.status == S.COMPLETED
    needs_lifecycle.close(world.curator, need)
    assert need.status == S.CLOSED


def test_a_confirmed_result_changes_nothing(completed):
    world, need, small, large = completed
    spot_check = world.draw(size=2)
    for item in spot_check.items:
        record(world.curator, item, "confirmed", None)
    db.session.expire_all()
    assert db.session.get(type(need), need.id).status == S.COMPLETED
    assert {d.status for d in db.session.scalars(select(Delivery))} == {"verified"}
    assert_sums_follow_the_deliveries(need)


def test_a_delivery_already_reopened_is_not_reopened_twice(completed):
    world, need, small, large = completed
    first = world.draw(size=2, seed=1)
    second = world.draw(size=2, seed=2)
    delivery = large.deliveries[0]
    record(world.curator, the_item_for(first, delivery))
    later = record(world.curator, the_item_for(second, delivery), notes="第二次走访：仍只收到 500 元。")
    assert later.status == "discrepancy" and not later.reopened  # recorded, but the first one reopened it
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.action == "reopen_delivery")) == 1
    assert_sums_follow_the_deliveries(need)


def test_the_reopening_and_the_result_are_one_transaction(completed, monkeypatch):
    """If reopening fails (here: a curator rejected the delivery a moment earlier), nothing is recorded."""
    world, need, small, large = completed
    spot_check = world.draw(size=2)
    item = the_item_for(spot_check, large.deliveries[0])

    def moved_meanwhile(actor, delivery, reason, data=None):
        raise pledges_lifecycle.TransitionError(Delivery, "rejected", "reopened")

    monkeypatch.setattr(pledges_lifecycle, "reopen", moved_meanwhile)
    with pytest.raises(pledges_lifecycle.TransitionError):
        record(world.curator, item)
    db.session.rollback()
    assert db.session.get(type(item), item.id).status == "pending"
