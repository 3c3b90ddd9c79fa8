"""The pledge's and the delivery's lifecycles: both transition tables, each action's guards, who may act,
the sums on the pledge and the need, and what the need's own lifecycle makes of them."""
import itertools

import pytest
from sqlalchemy import func, select, update

from tests import factories
from tests.pledges.builders import D, P, S, World, bring, delivery_in, pledge_values
from villageaid.audit.models import AuditEvent
from villageaid.errors import Conflict, PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.needs.models import Need
from villageaid.notifications.models import Notification
from villageaid.pledges import lifecycle, services
from villageaid.pledges.lifecycle import DELIVERY_ALLOWED, PLEDGE_ALLOWED, TransitionError
from villageaid.pledges.models import Delivery, DeliveryStatus, Pledge, PledgeStatus

PLEDGE_STATES = list(PledgeStatus)
DELIVERY_STATES = list(DeliveryStatus)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(PLEDGE_STATES, PLEDGE_STATES)))
def test_pledge_transition_table(current, target):
    if target in PLEDGE_ALLOWED[current]:
        lifecycle.check(Pledge, current, target)
    else:
        with pytest.raises(TransitionError) as info:
            lifecycle.check(Pledge, current, target)
        assert info.value.status == 409 and info.value.target == target


@pytest.mark.parametrize(("current", "target"), list(itertools.product(DELIVERY_STATES, DELIVERY_STATES)))
def test_delivery_transition_table(current, target):
    if target in DELIVERY_ALLOWED[current]:
        lifecycle.check(Delivery, current, target)
    else:
        with pytest.raises(TransitionError) as info:
            lifecycle.check(Delivery, current, target)
        assert info.value.status == 409 and info.value.target == target


def test_every_state_has_a_row_and_ended_states_are_final():
    assert set(PLEDGE_ALLOWED) == set(PLEDGE_STATES) and set(DELIVERY_ALLOWED) == set(DELIVERY_STATES)
    assert all(not PLEDGE_ALLOWED[s] for s in (P.DECLINED, P.CANCELLED, P.LAPSED))
    assert not DELIVERY_ALLOWED[D.REJECTED]
    # Verified is final but for a spot check's discrepancy (抽查), which reopens the delivery.
    assert DELIVERY_ALLOWED[D.VERIFIED] == {D.REOPENED} and PLEDGE_ALLOWED[P.VERIFIED] == {P.DELIVERED}


@pytest.mark.parametrize("current", PLEDGE_STATES)
def test_transition_on_a_pledge_row_follows_the_table(app, current):
    world = World()
    pledge = world.pledge()
    for target in PLEDGE_STATES:
        db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(status=current.value))
        db.session.flush()
        db.session.refresh(pledge)
        if target in PLEDGE_ALLOWED[current]:
            lifecycle.transition(pledge, target, world.curator, action="test")
            assert pledge.status == target
            event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "pledge")
                                       .order_by(AuditEvent.id.desc())).first()
            assert (event.from_state, event.to_state, event.action) == (current.value, target.value, "test")
        else:
            with pytest.raises(TransitionError):
                lifecycle.transition(pledge, target, world.curator, action="test")
            assert pledge.status == current
        db.session.rollback()


@pytest.mark.parametrize("current", DELIVERY_STATES)
def test_transition_on_a_delivery_row_follows_the_table(app, current):
    world = World()
    delivery = delivery_in(world, D.REPORTED)
    for target in DELIVERY_STATES:
        db.session.execute(update(Delivery).where(Delivery.id == delivery.id).values(status=current.value))
        db.session.flush()
        db.session.refresh(delivery)
        if target in DELIVERY_ALLOWED[current]:
            lifecycle.transition(delivery, target, world.curator, action="test")
            assert delivery.status == target
        else:
            with pytest.raises(TransitionError):
                lifecycle.transition(delivery, target, world.curator, action="test")
            assert delivery.status == current
        db.session.rollback()


def test_a_stale_pledge_cannot_win_a_race(app):
    """The village accepts while the pledger cancels: the conditional UPDATE lets exactly one through."""
    world = World()
    pledge = world.pledge()
    db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(status=P.CANCELLED.value))
    db.session.expire(pledge, ["status"])
    pledge.__dict__["status"] = P.PLEDGED.value  # the session still believes it is pledged
    with pytest.raises(TransitionError):
        lifecycle.transition(pledge, P.ACCEPTED, world.member, action="accept_pledge")


def test_status_columns_have_check_constraints(any_app):
    from sqlalchemy.exc import IntegrityError

    world = World()
    delivery = delivery_in(world, D.REPORTED)
    for model, obj in ((Pledge, delivery.pledge), (Delivery, delivery)):
        with pytest.raises(IntegrityError):
            db.session.execute(update(model).where(model.id == obj.id).values(status="lost"))
            db.session.flush()
        db.session.rollback()


def test_the_database_keeps_a_pledges_sums_in_order(any_app):
    from sqlalchemy.exc import IntegrityError

    world = World()
    pledge = world.pledge(quantity=500_000)
    for values in ({"delivered": 500_001}, {"confirmed": 1}, {"verified": 1}):
        with pytest.raises(IntegrityError):
            db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(**values))
            db.session.flush()
        db.session.rollback()


# Actions: each from exactly its states ---------------------------------------------------------

PLEDGE_ACTIONS = {
    "accept": (lambda w, p: lifecycle.accept(w.member, p), {P.PLEDGED}),
    "decline": (lambda w, p: lifecycle.decline(w.member, p, "不需要了"), {P.PLEDGED}),
    "cancel": (lambda w, p: lifecycle.cancel(p.pledger, p), {P.PLEDGED, P.ACCEPTED}),
    "lapse": (lambda w, p: lifecycle.lapse(p), {P.ACCEPTED}),
    "report_delivery": (lambda w, p: w.deliver(p, 1), {P.ACCEPTED, P.DELIVERING}),
}


@pytest.fixture
def every_pledge_state(app):
    """One pledge in each state, each reached through the lifecycle, on one big need."""
    world = World()
    need = world.published(target=90_000_000)
    return world, {state: bring(world, world.pledge(need, quantity=1_000_000), state) for state in PLEDGE_STATES}


@pytest.mark.parametrize("action", sorted(PLEDGE_ACTIONS))
def test_pledge_action_is_allowed_from_exactly_its_states(every_pledge_state, action):
    world, pledges = every_pledge_state
    run, allowed = PLEDGE_ACTIONS[action]
    for state, pledge in pledges.items():
        assert pledge.status == state
        if state in allowed:
            run(world, pledge)
            db.session.commit()
        else:
            with pytest.raises(Conflict):
                run(world, pledge)
            db.session.rollback()
            assert db.session.get(Pledge, pledge.id).status == state


DELIVERY_ACTIONS = {
    "confirm": (lambda w, d: lifecycle.confirm(w.member, d), {D.REPORTED}),
    "dispute": (lambda w, d: lifecycle.dispute(w.member, d, "没有收到"), {D.REPORTED}),
    "verify": (lambda w, d: lifecycle.verify(w.curator, d), {D.CONFIRMED, D.DISPUTED, D.REOPENED}),
    "reject": (lambda w, d: lifecycle.reject(w.curator, d, "凭证不符"),
               {D.REPORTED, D.CONFIRMED, D.DISPUTED, D.REOPENED}),
    "reopen": (lambda w, d: lifecycle.reopen(w.curator, d, "抽查发现村里只收到一半"), {D.VERIFIED}),
}


@pytest.mark.parametrize("action", sorted(DELIVERY_ACTIONS))
def test_delivery_action_is_allowed_from_exactly_its_states(app, action):
    world = World()
    need = world.published(target=90_000_000)
    deliveries = {state: delivery_in(world, state, world.pledge(need)) for state in DELIVERY_STATES}
    run, allowed = DELIVERY_ACTIONS[action]
    for state, delivery in deliveries.items():
        assert delivery.status == state
        if state in allowed:
            run(world, delivery)
        else:
            with pytest.raises(Conflict):
                run(world, delivery)
            db.session.rollback()
            assert db.session.get(Delivery, delivery.id).status == state


# Who may act -----------------------------------------------------------------------------------

def test_only_the_right_party_acts(app):
    world = World()
    stranger = factories.user("路人")
    other_village_member = factories.village().members[0].user
    far_curator = factories.curator(factories.ZHEJIANG)
    pledge = world.pledge()
    outsiders = (stranger, other_village_member, far_curator)
    for actor in outsiders + (world.owner, world.curator):  # the pledger cannot accept its own pledge
        with pytest.raises(PermissionDenied):
            lifecycle.accept(actor, pledge)
        with pytest.raises(PermissionDenied):
            lifecycle.decline(actor, pledge, "x")
    for actor in outsiders + (world.member, world.curator):
        with pytest.raises(PermissionDenied):
            lifecycle.cancel(actor, pledge)
    lifecycle.accept(world.member, pledge)
    for actor in outsiders + (world.member, world.curator):
        with pytest.raises(PermissionDenied):
            world.deliver(pledge, 1000, by=actor)
    delivery = world.deliver(pledge, 1000, by=world.colleague)  # any member of the organisation may
    assert delivery.reported_by_id == world.colleague.id
    for actor in outsiders + (world.owner, world.curator):
        with pytest.raises(PermissionDenied):
            lifecycle.confirm(actor, delivery)
        with pytest.raises(PermissionDenied):
            lifecycle.dispute(actor, delivery, "x")
    lifecycle.confirm(world.member, delivery)
    for actor in (stranger, other_village_member, far_curator, world.owner, world.member):
        with pytest.raises(PermissionDenied):
            lifecycle.verify(actor, delivery)
        with pytest.raises(PermissionDenied):
            lifecycle.reject(actor, delivery, "x")
    county_curator = factories.curator(factories.ZHAOJUE)
    lifecycle.verify(county_curator, delivery)
    assert delivery.status == D.VERIFIED


def test_who_may_pledge_what(app):
    world = World()
    need = world.published()
    with pytest.raises(PermissionDenied):  # the village cannot pledge to itself
        lifecycle.make_pledge(world.member, need, pledge_values(100_000))
    with pytest.raises(PermissionDenied):  # nor may anyone act for an organisation they are not in
        lifecycle.make_pledge(world.donor, need, pledge_values(100_000, organization_id=world.org.id))
    pending = factories.organization(world.donor, status="pending")
    with pytest.raises(ServiceError) as info:
        lifecycle.make_pledge(world.donor, need, pledge_values(100_000, organization_id=pending.id))
    assert "organization_id" in info.value.fields
    for_org, _ = lifecycle.make_pledge(world.owner, need, pledge_values(100_000, organization_id=world.org.id,
                                                                         anonymous=True))
    assert not for_org.anonymous and for_org.public_name == world.org.name  # an organisation is never anonymous
    jobs = world.published(category="employment", unit="jobs", title="扶贫车间缝纫工", target=10,
                           job_title="缝纫工", work_location="昭觉县", wage_min_fen=300_000, wage_max_fen=400_000,
                           job_start_date=need.deadline)
    with pytest.raises(ServiceError) as info:  # jobs are pledged by employers, not individuals
        lifecycle.make_pledge(world.donor, jobs, pledge_values(2))
    assert "organization_id" in info.value.fields
    pledge, created = lifecycle.make_pledge(world.owner, jobs, pledge_values(
        2, organization_id=world.org.id, job_title="缝纫工", wage_fen=320_000, work_location="昭觉县扶贫车间"))
    assert created and pledge.kind == "jobs" and pledge.wage_fen == 320_000
    project = world.published(category="industry", title="花椒烘干房建设", target=18_000_000)
    with pytest.raises(ServiceError) as info:
        lifecycle.make_pledge(world.owner, project, pledge_values(5_000_000, organization_id=world.org.id))
    assert "plan" in info.value.fields
    pledge, _ = lifecycle.make_pledge(world.owner, project, pledge_values(
        5_000_000, organization_id=world.org.id, plan="建设 200 平方米烘干房，合作社运营，收益按股分红。"))
    assert pledge.kind == "project" and pledge.plan.startswith("建设")


def test_an_anonymous_donor_is_public_only_as_aixin_renshi(app):
    world = World()
    pledge = world.pledge(org=False, anonymous=True)
    assert pledge.public_name == "爱心人士" and world.donor.name not in pledge.public_name
    named = world.pledge(org=False, anonymous=False)
    assert named.public_name == world.donor.name
    assert world.pledge().public_name == world.org.name


# Sums and the need's status --------------------------------------------------------------------

def test_pledging_more_than_is_open_is_a_conflict_saying_what_remains(app):
    world = World()
    need = world.published(target=3_000_000)
    world.pledge(need, 2_000_000)
    with pytest.raises(lifecycle.OverPledged) as info:
        world.pledge(need, 1_500_000)
    assert info.value.status == 409 and "¥10,000.00" in str(info.value)
    assert "¥10,000.00" in str(info.value.fields["quantity"])
    db.session.rollback()
    assert db.session.get(Need, need.id).pledged == 2_000_000


def test_the_need_fills_reopens_goes_in_delivery_and_completes(app):
    world = World()
    need = world.published(target=3_000_000)
    first = world.pledge(need, 1_000_000)
    second = world.pledge(need, 2_000_000, org=False)
    assert (need.pledged, need.pledged_permille, need.status) == (3_000_000, 1000, S.FULLY_PLEDGED)
    with pytest.raises(Conflict):
        world.pledge(need, 1)
    db.session.rollback()
    lifecycle.cancel(world.donor, second)
    assert (need.pledged, need.status) == (1_000_000, S.PUBLISHED)
    # Delivering an early pledge leaves a need with room open to others.
    lifecycle.accept(world.member, first)
    delivery = world.deliver(first)
    assert (first.status, need.status, need.delivered) == (P.DELIVERED, S.PUBLISHED, 1_000_000)
    third = world.pledge(need, 2_000_000)
    # Full again, with a delivery already made: the need is in delivery.
    assert need.status == S.IN_DELIVERY
    lifecycle.confirm(world.member, delivery)
    assert first.status == P.CONFIRMED and need.status == S.IN_DELIVERY  # the third pledge is still open
    lifecycle.accept(world.member, third)
    d3 = world.deliver(third, 500_000)
    assert third.status == P.DELIVERING
    d4 = world.deliver(third, 1_500_000)
    assert third.status == P.DELIVERED and need.delivered == 3_000_000
    lifecycle.confirm(world.member, d3)
    lifecycle.dispute(world.member, d4, "实际到账 100 万")
    assert need.status == S.IN_DELIVERY
    lifecycle.verify(world.curator, d4, "已核对银行流水，款项全部到账")  # the curator settles the dispute
    assert third.status == P.CONFIRMED and need.status == S.COMPLETED
    lifecycle.verify(world.curator, delivery)
    lifecycle.verify(world.curator, d3)
    assert (first.status, third.status) == (P.VERIFIED, P.VERIFIED)
    assert (need.delivered, need.verified) == (3_000_000, 3_000_000)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "need",
                                                                  AuditEvent.object_id == need.id)
                                 .order_by(AuditEvent.id)).all()
    assert actions[-5:] == ["fully_pledged", "reopened", "fully_pledged", "delivery_started", "completed"]


def test_a_rejected_delivery_counts_for_nothing_and_the_pledge_reopens(app):
    world = World()
    pledge = bring(world, world.pledge(quantity=800_000), P.DELIVERED)
    delivery = pledge.deliveries[0]
    lifecycle.confirm(world.member, delivery)
    assert pledge.status == P.CONFIRMED and pledge.confirmed == 800_000
    lifecycle.reject(world.curator, delivery, "转账凭证与收款账户不符")
    need = pledge.need
    assert (pledge.status, pledge.delivered, pledge.confirmed) == (P.DELIVERING, 0, 0)
    assert (need.delivered, need.verified) == (0, 0)
    again = world.deliver(pledge)
    lifecycle.confirm(world.member, again)
    lifecycle.verify(world.curator, again)
    assert (pledge.status, need.verified) == (P.VERIFIED, 800_000)


def test_deliveries_never_exceed_the_pledge(app):
    world = World()
    pledge = bring(world, world.pledge(quantity=1_000_000), P.ACCEPTED)
    world.deliver(pledge, 600_000)
    with pytest.raises(ServiceError) as info:
        world.deliver(pledge, 500_000)
    assert "¥4,000.00" in str(info.value.fields["quantity"])
    db.session.rollback()
    assert db.session.get(Pledge, pledge.id).delivered == 600_000


def test_delivery_dates_and_fields_are_checked(app):
    from datetime import timedelta

    from villageaid.timeutil import local_date_today

    world = World()
    pledge = bring(world, world.pledge(), P.ACCEPTED)
    with pytest.raises(ServiceError) as info:
        world.deliver(pledge, 1000, delivered_on=local_date_today() + timedelta(days=1))
    assert "delivered_on" in info.value.fields
    with pytest.raises(ServiceError) as info:
        world.deliver(pledge, -5)
    assert "quantity" in info.value.fields


def test_project_milestones_and_job_retention(app):
    from datetime import timedelta

    from villageaid.timeutil import local_date_today

    world = World()
    project = world.published(category="industry", title="花椒烘干房建设", target=18_000_000)
    pledge = world.pledge(project, 10_000_000, plan="建设 200 平方米烘干房，合作社运营，收益按股分红。")
    lifecycle.accept(world.member, pledge)
    with pytest.raises(ServiceError) as info:
        world.deliver(pledge, 4_000_000)
    assert {"milestone", "completion_percent"} <= set(info.value.fields)
    world.deliver(pledge, 4_000_000, milestone="主体完工", completion_percent=60)
    with pytest.raises(ServiceError) as info:
        world.deliver(pledge, 1_000_000, milestone="设备安装", completion_percent=50)
    assert "60" in str(info.value.fields["completion_percent"])
    world.deliver(pledge, 6_000_000, milestone="投入使用", completion_percent=100)
    assert pledge.status == P.DELIVERED

    jobs = world.published(category="employment", unit="jobs", title="扶贫车间缝纫工", target=10,
                           job_title="缝纫工", work_location="昭觉县", wage_min_fen=300_000, wage_max_fen=400_000,
                           job_start_date=project.deadline)
    pledge = world.pledge(jobs, 5, job_title="缝纫工", wage_fen=320_000, work_location="昭觉县扶贫车间")
    lifecycle.accept(world.member, pledge)
    hires = world.deliver(pledge, 4)
    assert not hires.can_report_retention(world.owner)
    with pytest.raises(Conflict):  # three months have not passed
        lifecycle.report_retention(world.owner, hires, 3, 4)
    db.session.rollback()
    db.session.execute(update(Delivery).where(Delivery.id == hires.id)
                       .values(delivered_on=local_date_today() - timedelta(days=100)))
    db.session.commit()
    db.session.refresh(hires)
    assert hires.can_report_retention(world.owner, 3) and not hires.can_report_retention(world.owner, 6)
    with pytest.raises(PermissionDenied):
        lifecycle.report_retention(world.member, hires, 3, 4)
    with pytest.raises(ServiceError):
        lifecycle.report_retention(world.owner, hires, 3, 5)  # more than were hired
    db.session.rollback()
    lifecycle.report_retention(world.owner, hires, 3, 3)
    assert hires.retained_3m == 3
    with pytest.raises(Conflict):  # once
        lifecycle.report_retention(world.owner, hires, 3, 4)


# Idempotency, notifications, audit -------------------------------------------------------------

def test_a_repeated_submit_creates_one_pledge(app):
    world = World()
    need = world.published()
    first, created = lifecycle.make_pledge(world.donor, need, pledge_values(100_000), idempotency_key="form-abc")
    again, created_again = lifecycle.make_pledge(world.donor, need, pledge_values(100_000), idempotency_key="form-abc")
    assert created and not created_again and again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
    assert db.session.get(Need, need.id).pledged == 100_000
    # The key is the user's: another user's identical key is another pledge.
    other, created = lifecycle.make_pledge(world.owner, need, pledge_values(100_000), idempotency_key="form-abc")
    assert created and other.id != first.id


def test_each_step_tells_whoever_acts_next(app):
    world = World()
    county = factories.curator(factories.ZHAOJUE)  # the most local curator is the one told

    def told(user):
        return db.session.scalars(select(Notification.subject).where(Notification.user_id == user.id)
                                  .order_by(Notification.id)).all()

    need = world.published()
    pledge = world.pledge(need, 500_000)
    assert told(world.member)[-1] == f"新的认捐：{need.title}"
    lifecycle.accept(world.member, pledge)
    assert told(world.owner)[-1] == f"认捐已被接受：{need.title}"
    delivery = world.deliver(pledge)
    assert told(world.member)[-1] == f"请确认收到：{need.title}"
    lifecycle.confirm(world.member, delivery)
    assert told(county)[-1] == f"待核实交付：{need.title}" and not told(world.curator)
    lifecycle.verify(county, delivery)
    assert told(world.owner)[-1] == f"交付已核实：{need.title}"
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "pledge",
                                                         AuditEvent.object_id == pledge.id).order_by(AuditEvent.id))
    assert [(e.action, e.from_state, e.to_state) for e in events] == [
        ("pledge", None, "pledged"), ("accept_pledge", "pledged", "accepted"),
        ("delivery_started", "accepted", "delivering"), ("all_delivered", "delivering", "delivered"),
        ("all_confirmed", "delivered", "confirmed"), ("all_verified", "confirmed", "verified")]
    # E-mails go out through the outbox to the same people.
    from villageaid.mail import read_outbox

    recipients = {message["To"] for _path, message in read_outbox()}
    assert {world.member.email, world.owner.email, county.email} <= recipients


def test_decline_needs_a_reason_and_frees_the_share(app):
    world = World()
    pledge = world.pledge(quantity=3_000_000)
    assert pledge.need.status == S.FULLY_PLEDGED
    with pytest.raises(ServiceError) as info:
        lifecycle.decline(world.member, pledge, " ")
    assert "reason" in info.value.fields
    lifecycle.decline(world.member, pledge, "该物资已由政府配发")
    assert (pledge.status, pledge.reason, pledge.need.pledged, pledge.need.status) == \
        (P.DECLINED, "该物资已由政府配发", 0, S.PUBLISHED)


def test_tracking_codes(app):
    world = World()
    pledge = world.pledge()
    assert services.CODE_RE.match(pledge.code) and pledge.code.startswith("WQ-")
    sloppy = pledge.code.lower().replace("wq-", "wq ").replace("0", "o").replace("1", "l")
    assert services.by_code(sloppy) == pledge
    assert services.by_code("WQ-2026-UUUUUU") is None and services.normalize_code("hello") is None


def test_pledges_need_a_published_need(app):
    world = World()
    draft = world.need(S.DRAFT)
    with pytest.raises(Conflict):
        lifecycle.make_pledge(world.donor, draft, pledge_values(1000))
    with pytest.raises(ServiceError) as info:
        lifecycle.make_pledge(world.donor, world.published(), pledge_values(50))
    assert "quantity" in info.value.fields  # ¥1 at least
