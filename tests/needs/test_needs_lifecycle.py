"""The need's lifecycle: the whole state × state table, each action's guards, audit and inbox."""
import itertools

import pytest
from sqlalchemy import select, update

from tests import factories
from tests.needs.builders import S, World, backdate, force, set_pledged, values
from villageaid.audit.models import AuditEvent
from villageaid.errors import Conflict, PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.needs import lifecycle, services
from villageaid.needs.lifecycle import ALLOWED, TransitionError
from villageaid.needs.models import Need, NeedStatus
from villageaid.notifications.models import Notification

STATES = list(NeedStatus)


@pytest.mark.parametrize(("current", "target"), list(itertools.product(STATES, STATES)))
def test_transition_table(current, target):
    if target in ALLOWED[current]:
        lifecycle.check(current, target)
    else:
        with pytest.raises(TransitionError) as info:
            lifecycle.check(current, target)
        assert info.value.status == 409 and info.value.target == target


def test_every_state_has_a_row_and_terminal_states_are_final():
    assert set(ALLOWED) == set(STATES)
    assert all(not ALLOWED[s] for s in (S.REJECTED, S.WITHDRAWN))
    # Closed is final but for a delivery the closing relied on being reopened by a spot check (抽查) or rejected.
    assert ALLOWED[S.CLOSED] == {S.IN_DELIVERY}


@pytest.mark.parametrize("current", STATES)
def test_transition_on_a_row_follows_the_table(app, current):
    """transition() on a real row: the allowed targets move it and write an audit event; the rest raise."""
    world = World()
    need = world.need(S.DRAFT)
    for target in STATES:
        db.session.execute(update(Need).where(Need.id == need.id).values(status=current.value))
        db.session.flush()
        db.session.refresh(need)
        if target in ALLOWED[current]:
            lifecycle.transition(need, target, world.curator, action="test")
            assert need.status == target
            event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_id == need.id).order_by(AuditEvent.id.desc())).first()
            assert (event.from_state, event.to_state, event.action) == (current.value, target.value, "test")
        else:
            with pytest.raises(TransitionError):
                lifecycle.transition(need, target, world.curator, action="test")
            assert need.status == current
        db.session.rollback()


def test_status_column_has_a_check_constraint(any_app):
    from sqlalchemy.exc import IntegrityError

    world = World()
    need = world.need(S.DRAFT)
    with pytest.raises(IntegrityError):
        db.session.execute(update(Need).where(Need.id == need.id).values(status="lost"))
        db.session.flush()
    db.session.rollback()


def test_a_stale_object_cannot_win_a_race(app):
    """Two curators approve at once: the conditional UPDATE lets exactly one through."""
    world = World()
    need = world.need(S.SUBMITTED)
    db.session.execute(update(Need).where(Need.id == need.id).values(status=S.REJECTED.value))
    # The session still believes the need is submitted.
    db.session.expire(need, ["status"])
    need.__dict__["status"] = S.SUBMITTED.value
    with pytest.raises(TransitionError):
        lifecycle.transition(need, S.PUBLISHED, world.curator, action="approve")


# Actions: who, from where, and what they leave behind -----------------------------------------

ACTIONS = {
    "submit": (lambda w, n: lifecycle.submit(w.member, n), {S.DRAFT}),
    "approve": (lambda w, n: lifecycle.approve(w.curator, n), {S.SUBMITTED}),
    "reject": (lambda w, n: lifecycle.reject(w.curator, n, "不符合政策"), {S.SUBMITTED}),
    "send_back": (lambda w, n: lifecycle.send_back(w.curator, n, "请补充照片"), {S.SUBMITTED}),
    "withdraw": (lambda w, n: lifecycle.withdraw(w.member, n), {S.DRAFT, S.SUBMITTED, S.PUBLISHED}),
    "close": (lambda w, n: lifecycle.close(w.curator, n), {S.COMPLETED}),
    "delivery_started": (lambda w, n: lifecycle.on_delivery_started(n),
                         {S.PUBLISHED, S.FULLY_PLEDGED, S.EXPIRED, S.IN_DELIVERY}),
    "completed": (lambda w, n: lifecycle.on_completed(n), {S.IN_DELIVERY}),
}


@pytest.fixture
def every_state(app):
    """One need in each state (forced there: the paths through the lifecycle are tested above)."""
    world = World()
    needs = {state: force(world.need(S.DRAFT, title=f"第{i}号需求：村道路灯"), state) for i, state in enumerate(STATES)}
    return world, needs


@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_action_is_allowed_from_exactly_its_states(every_state, action):
    world, needs = every_state
    run, allowed = ACTIONS[action]
    for state, need in needs.items():
        if state in allowed:
            run(world, need)
            db.session.commit()
        else:
            with pytest.raises(Conflict):
                run(world, need)
            db.session.rollback()
            assert db.session.get(Need, need.id).status == state


def test_expiry_needs_a_passed_deadline(every_state):
    world, needs = every_state
    for state, need in needs.items():
        if state in (S.SUBMITTED, S.PUBLISHED):
            with pytest.raises(Conflict):
                lifecycle.expire(need)
            db.session.rollback()
            backdate(need)
            lifecycle.expire(need)
            assert need.status == S.EXPIRED
        elif state != S.DRAFT:
            backdate(need)
            with pytest.raises(Conflict):
                lifecycle.expire(need)
            db.session.rollback()


def test_submit_approve_path_writes_audit_and_notifies_who_acts_next(app):
    world = World()
    other_curator = factories.curator(factories.YUNNAN)  # another province: never told
    need = world.need(S.DRAFT)
    lifecycle.submit(world.member, need)
    assert need.status == S.SUBMITTED and need.submitted_at is not None
    told = db.session.scalars(select(Notification.user_id)).all()
    assert world.curator.id in told and other_curator.id not in told
    lifecycle.approve(world.curator, need)
    assert need.status == S.PUBLISHED and need.published_at is not None
    subjects = db.session.scalars(select(Notification.subject).where(Notification.user_id == world.member.id)).all()
    assert subjects[-1] == f"需求已发布：{need.title}"
    actions = [(e.action, e.from_state, e.to_state, e.public) for e in
               db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "need").order_by(AuditEvent.id))]
    assert actions == [("create", None, "draft", False), ("submit", "draft", "submitted", False),
                       ("approve", "submitted", "published", True)]


def test_the_most_local_curator_is_told(app):
    world = World()
    county = factories.curator(factories.ZHAOJUE)
    national = factories.curator(None)
    need = world.need(S.SUBMITTED)
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.subject.contains(need.title))))
    assert county.id in told and world.curator.id not in told and national.id not in told


def test_reject_and_send_back_need_a_reason_which_the_village_sees(app):
    world = World()
    need = world.need(S.SUBMITTED)
    with pytest.raises(ServiceError) as info:
        lifecycle.reject(world.curator, need, "  ")
    assert "reason" in info.value.fields
    lifecycle.send_back(world.curator, need, "请补充受益农户名单")
    assert need.status == S.DRAFT and need.review_note == "请补充受益农户名单"
    inbox = db.session.scalars(select(Notification).where(Notification.user_id == world.member.id)).all()
    assert any("请补充受益农户名单" in n.body for n in inbox)
    lifecycle.submit(world.member, need)
    assert need.review_note is None
    lifecycle.reject(world.curator, need, "重复申报")
    assert need.status == S.REJECTED and need.review_note == "重复申报"


def test_only_the_village_or_its_curators_act(app):
    world = World()
    stranger = factories.user()
    other_village_member = factories.village().members[0].user
    far_curator = factories.curator(factories.ZHEJIANG)
    need = world.need(S.DRAFT)
    for actor in (stranger, other_village_member, far_curator):
        with pytest.raises(PermissionDenied):
            lifecycle.submit(actor, need)
        with pytest.raises(PermissionDenied):
            lifecycle.withdraw(actor, need)
    lifecycle.submit(world.member, need)
    for actor in (stranger, world.member, far_curator):
        with pytest.raises(PermissionDenied):
            lifecycle.approve(actor, need)
        with pytest.raises(PermissionDenied):
            lifecycle.reject(actor, need, "x")


def test_submit_requires_a_complete_need(app):
    world = World()
    need = services.create_need(world.member, world.village, {"category": "employment", "unit": "jobs",
                                                              "title": "招聘扶贫车间工人"})
    with pytest.raises(ServiceError) as info:
        lifecycle.submit(world.member, need)
    assert {"target", "deadline", "job_title", "work_location", "job_start_date", "wage_min_fen"} <= set(info.value.fields)
    assert need.status == S.DRAFT


def test_approve_refuses_an_overdue_need(app):
    world = World()
    need = world.need(S.SUBMITTED)
    backdate(need)
    with pytest.raises(ServiceError):
        lifecycle.approve(world.curator, need)


def test_a_published_need_with_pledges_cannot_be_withdrawn(app):
    world = World()
    need = world.need(S.PUBLISHED)
    set_pledged(need, 1000)
    db.session.commit()
    with pytest.raises(Conflict):
        lifecycle.withdraw(world.member, need)


def test_pledge_hooks_move_between_published_and_fully_pledged(app):
    world = World()
    need = world.need(S.PUBLISHED)
    set_pledged(need, need.target - 1)
    lifecycle.on_pledged_total_changed(need)
    assert need.status == S.PUBLISHED
    set_pledged(need, need.target)
    lifecycle.on_pledged_total_changed(need)
    db.session.commit()
    assert need.status == S.FULLY_PLEDGED and need.pledged_permille == 1000
    set_pledged(need, need.target // 2)
    lifecycle.on_pledged_total_changed(need)
    db.session.commit()
    assert need.status == S.PUBLISHED and need.pledged_permille == 500


def test_pledged_can_never_exceed_the_target(any_app):
    from sqlalchemy.exc import IntegrityError

    world = World()
    need = world.need(S.PUBLISHED)
    with pytest.raises(IntegrityError):
        set_pledged(need, need.target + 1)
        db.session.flush()
    db.session.rollback()


def test_expire_overdue_job_is_idempotent(app):
    world = World()
    old = [world.need(S.PUBLISHED, title="去年的路灯需求"), world.need(S.SUBMITTED, title="去年的取暖需求")]
    fresh = world.need(S.PUBLISHED, title="今年的饮水需求")
    for need in old:
        backdate(need)
    from jobs.needs import expire_overdue

    assert expire_overdue() == 2
    assert expire_overdue() == 0
    assert [db.session.get(Need, n.id).status for n in old] == [S.EXPIRED, S.EXPIRED]
    assert db.session.get(Need, fresh.id).status == S.PUBLISHED
    # Expired after publication it stays public; expired while waiting for review it does not.
    assert db.session.get(Need, old[0].id).is_public and not db.session.get(Need, old[1].id).is_public


def test_expiry_is_a_scheduled_task(app):
    from villageaid.scheduling import TASKS, tick

    assert TASKS["expire-needs"][0] == "jobs.needs.expire_overdue"
    world = World()
    need = world.need(S.PUBLISHED)
    backdate(need)
    assert "expire-needs" in tick()  # in-process on the embedded default
    assert db.session.get(Need, need.id).status == S.EXPIRED


def test_need_values_helper_is_complete():
    assert set(values()) <= set(services.FIELDS)
