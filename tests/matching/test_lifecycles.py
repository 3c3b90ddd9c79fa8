"""Invitation and pairing lifecycles: every (from, to) pair of each ALLOWED table, and the actions people take."""
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from tests import factories
from tests.matching.builders import PLAN, ZHAOJUE, Places
from villageaid.audit.models import AuditEvent
from villageaid.errors import Conflict, PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.matching import lifecycle
from villageaid.matching.models import InvitationStatus as I
from villageaid.matching.models import NeedInvitation, Pairing
from villageaid.matching.models import PairingStatus as P
from villageaid.notifications.models import Notification
from villageaid.timeutil import local_date_today

INVITATION_PAIRS = list(itertools.product(I, I))
PAIRING_PAIRS = list(itertools.product(P, P))


@pytest.mark.parametrize("current,target", INVITATION_PAIRS, ids=[f"{a}->{b}" for a, b in INVITATION_PAIRS])
def test_invitation_table(current, target):
    allowed = {(I.PENDING, I.ACCEPTED), (I.PENDING, I.DECLINED), (I.PENDING, I.WITHDRAWN)}
    if (current, target) in allowed:
        lifecycle.check_invitation(current, target)
    else:
        with pytest.raises(lifecycle.TransitionError):
            lifecycle.check_invitation(current, target)


@pytest.mark.parametrize("current,target", PAIRING_PAIRS, ids=[f"{a}->{b}" for a, b in PAIRING_PAIRS])
def test_pairing_table(current, target):
    allowed = {(P.PROPOSED, P.ACTIVE), (P.PROPOSED, P.DECLINED), (P.PROPOSED, P.WITHDRAWN), (P.ACTIVE, P.ENDED)}
    if (current, target) in allowed:
        lifecycle.check_pairing(current, target)
    else:
        with pytest.raises(lifecycle.TransitionError):
            lifecycle.check_pairing(current, target)


class Scene:
    """A published need of a village in 昭觉县, its committee member, and a verified 浙江 enterprise with its owner."""

    def __init__(self):
        self.places = Places()
        self.need = self.places.need(ZHAOJUE)
        self.village = self.need.village
        self.member = self.village.members[0].user
        self.owner = factories.user("企业负责人")
        self.org = factories.organization(self.owner)
        self.outsider = factories.user("路人")

    def invitation(self, status=I.PENDING):
        invitation = lifecycle.invite(self.member, self.need, self.org, "盼望贵企业帮助")
        if status == I.ACCEPTED:
            lifecycle.accept_invitation(self.owner, invitation)
        elif status == I.DECLINED:
            lifecycle.decline_invitation(self.owner, invitation, "今年预算已用完")
        elif status == I.WITHDRAWN:
            lifecycle.withdraw_invitation(self.member, invitation)
        return invitation

    def pairing(self, status=P.PROPOSED, by="organization"):
        proposer = self.owner if by == "organization" else self.member
        answerer = self.member if by == "organization" else self.owner
        pairing = lifecycle.propose_pairing(proposer, self.org, self.village, plan=PLAN, start_date=local_date_today())
        if status in (P.ACTIVE, P.ENDED):
            lifecycle.accept_pairing(answerer, pairing)
        if status == P.ENDED:
            lifecycle.end_pairing(proposer, pairing, "帮扶计划已完成")
        elif status == P.DECLINED:
            lifecycle.decline_pairing(answerer, pairing, "村里已有结对企业")
        elif status == P.WITHDRAWN:
            lifecycle.withdraw_pairing(proposer, pairing)
        return pairing


@pytest.fixture
def scene(app):
    return Scene()


INVITATION_ACTIONS = {
    "accept": (I.ACCEPTED, lambda s, inv: lifecycle.accept_invitation(s.owner, inv, "我们来帮")),
    "decline": (I.DECLINED, lambda s, inv: lifecycle.decline_invitation(s.owner, inv)),
    "withdraw": (I.WITHDRAWN, lambda s, inv: lifecycle.withdraw_invitation(s.member, inv)),
}


@pytest.mark.parametrize("start,action", list(itertools.product(I, INVITATION_ACTIONS)),
                         ids=[f"{s}-{a}" for s, a in itertools.product(I, INVITATION_ACTIONS)])
def test_invitation_actions_from_every_state(scene, start, action):
    invitation = scene.invitation(start)
    target, run = INVITATION_ACTIONS[action]
    if target in lifecycle.INVITATION_ALLOWED[start]:
        run(scene, invitation)
        assert db.session.get(NeedInvitation, invitation.id).status == target
    else:
        with pytest.raises(lifecycle.TransitionError):
            run(scene, invitation)
        assert db.session.get(NeedInvitation, invitation.id).status == start


PAIRING_ACTIONS = {
    "accept": (P.ACTIVE, lambda s, p: lifecycle.accept_pairing(s.member, p)),
    "decline": (P.DECLINED, lambda s, p: lifecycle.decline_pairing(s.member, p)),
    "withdraw": (P.WITHDRAWN, lambda s, p: lifecycle.withdraw_pairing(s.owner, p)),
    "end": (P.ENDED, lambda s, p: lifecycle.end_pairing(s.owner, p, "企业经营调整")),
}


@pytest.mark.parametrize("start,action", list(itertools.product(P, PAIRING_ACTIONS)),
                         ids=[f"{s}-{a}" for s, a in itertools.product(P, PAIRING_ACTIONS)])
def test_pairing_actions_from_every_state(scene, start, action):
    pairing = scene.pairing(start)
    target, run = PAIRING_ACTIONS[action]
    if target in lifecycle.PAIRING_ALLOWED[start]:
        run(scene, pairing)
        assert db.session.get(Pairing, pairing.id).status == target
    else:
        with pytest.raises(lifecycle.TransitionError):
            run(scene, pairing)
        assert db.session.get(Pairing, pairing.id).status == start


# Invitations ---------------------------------------------------------------------------------

def _latest(user):
    return db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                              .order_by(Notification.id.desc())).first()


def test_an_invitation_reaches_the_organisations_inbox_and_is_audited(scene):
    colleague = factories.user("同事")
    from villageaid.organizations.models import Membership

    db.session.add(Membership(user_id=colleague.id, organization_id=scene.org.id))
    db.session.commit()
    invitation = scene.invitation()
    for person in (scene.owner, colleague):
        note = _latest(person)
        assert scene.need.title in note.subject and note.link == f"/me/recommendations?org={scene.org.id}"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == "need_invitation")).one()
    assert (event.action, event.actor_id, event.to_state) == ("invite_organization", scene.member.id, "pending")

    lifecycle.accept_invitation(scene.owner, invitation, "下周派人对接")
    assert scene.org.name in _latest(scene.member).subject and _latest(scene.member).link == f"/needs/{scene.need.id}"


def test_only_the_village_or_its_curators_invite(scene):
    with pytest.raises(PermissionDenied):
        lifecycle.invite(scene.owner, scene.need, scene.org)
    with pytest.raises(PermissionDenied):
        lifecycle.invite(factories.curator(factories.YUNNAN), scene.need, scene.org)
    lifecycle.invite(factories.curator(factories.SICHUAN), scene.need, scene.org)


def test_an_organisation_is_invited_once_and_only_when_verified(scene):
    scene.invitation(I.DECLINED)
    with pytest.raises(Conflict):
        lifecycle.invite(scene.member, scene.need, scene.org)
    pending = factories.organization(status="pending")
    with pytest.raises(ServiceError):
        lifecycle.invite(scene.member, scene.need, pending)
    db.session.add(NeedInvitation(need_id=scene.need.id, organization_id=scene.org.id, invited_by_id=scene.member.id))
    with pytest.raises(IntegrityError):  # the database holds the rule too
        db.session.flush()
    db.session.rollback()


def test_closed_needs_take_no_invitations_and_accept_none(scene):
    invitation = scene.invitation()
    from tests.needs.builders import set_pledged

    set_pledged(scene.need, scene.need.target)
    db.session.commit()
    with pytest.raises(Conflict):
        lifecycle.accept_invitation(scene.owner, invitation)
    other = factories.organization()
    with pytest.raises(Conflict):
        lifecycle.invite(scene.member, scene.need, other)


def test_only_members_of_the_organisation_answer(scene):
    invitation = scene.invitation()
    for person in (scene.member, scene.outsider, factories.admin()):
        with pytest.raises(PermissionDenied):
            lifecycle.accept_invitation(person, invitation)
    with pytest.raises(PermissionDenied):
        lifecycle.withdraw_invitation(scene.owner, invitation)


def test_two_answers_at_once_cannot_both_win(scene):
    invitation = scene.invitation()
    # Another request declines it; this one loaded the invitation before and still believes it pending.
    db.session.execute(update(NeedInvitation).where(NeedInvitation.id == invitation.id).values(status="declined")
                       .execution_options(synchronize_session=False))
    assert invitation.status == "pending"
    with pytest.raises(lifecycle.TransitionError):
        lifecycle.accept_invitation(scene.owner, invitation)
    assert db.session.get(NeedInvitation, invitation.id).status == "declined"


# Pairings ------------------------------------------------------------------------------------

def test_a_pairing_from_proposal_to_end(scene):
    pairing = scene.pairing()
    assert not pairing.is_public and pairing.can_answer(scene.member) and not pairing.can_answer(scene.owner)
    assert _latest(scene.member).link == f"/pairings/{pairing.id}"
    lifecycle.accept_pairing(scene.member, pairing)
    assert pairing.status == "active" and pairing.is_public and pairing.decided_at is not None
    assert _latest(scene.owner).link == f"/pairings/{pairing.id}" and "结对已确认" in _latest(scene.owner).subject
    report = lifecycle.write_report(scene.member, pairing, local_date_today().year, "村里新建了花椒烘干房，带动 40 户增收。")
    again = lifecycle.write_report(scene.owner, pairing, local_date_today().year, "企业提供了 12 个就业岗位，采购花椒 3 吨。")
    assert again.id == report.id and again.written_by_id == scene.owner.id
    with pytest.raises(ServiceError):
        lifecycle.end_pairing(scene.owner, pairing, "  ")
    lifecycle.end_pairing(factories.curator(factories.SICHUAN), pairing, "企业已注销")
    assert pairing.status == "ended" and pairing.end_date == local_date_today() and pairing.end_reason == "企业已注销"
    # Ended, the two may pair again.
    lifecycle.propose_pairing(scene.member, scene.org, scene.village, plan=PLAN, start_date=local_date_today())


def test_a_village_proposes_and_the_organisation_answers(scene):
    pairing = scene.pairing(by="village")
    assert pairing.proposed_by == "village"
    with pytest.raises(PermissionDenied):
        lifecycle.accept_pairing(scene.member, pairing)
    lifecycle.accept_pairing(scene.owner, pairing)
    assert pairing.status == "active"


def test_one_live_pairing_between_the_same_two(scene):
    scene.pairing()
    with pytest.raises(Conflict):
        lifecycle.propose_pairing(scene.member, scene.org, scene.village, plan=PLAN, start_date=local_date_today())
    db.session.add(Pairing(organization_id=scene.org.id, village_id=scene.village.id, proposed_by="village",
                           proposed_by_user_id=scene.member.id, plan=PLAN, start_date=local_date_today()))
    with pytest.raises(IntegrityError):  # the partial unique index
        db.session.flush()
    db.session.rollback()


def test_only_parties_propose_and_only_with_a_plan(scene):
    with pytest.raises(PermissionDenied):
        lifecycle.propose_pairing(scene.outsider, scene.org, scene.village, plan=PLAN, start_date=local_date_today())
    with pytest.raises(ServiceError) as error:
        lifecycle.propose_pairing(scene.owner, scene.org, scene.village, plan="帮扶", start_date=None)
    assert set(error.value.fields) == {"plan", "start_date"}
    with pytest.raises(ServiceError):
        lifecycle.propose_pairing(scene.owner, scene.org, scene.village, plan=PLAN,
                                  start_date=local_date_today() + timedelta(days=400))
    pending = factories.organization(scene.owner, status="pending")
    with pytest.raises(ServiceError):
        lifecycle.propose_pairing(scene.owner, pending, scene.village, plan=PLAN, start_date=local_date_today())


def test_yearly_reports_cover_the_pairing_years_only(scene):
    pairing = scene.pairing(P.ACTIVE)
    with pytest.raises(ServiceError):
        lifecycle.write_report(scene.owner, pairing, local_date_today().year - 1, "去年还没有结对，不能写报告。")
    with pytest.raises(PermissionDenied):
        lifecycle.write_report(factories.curator(factories.SICHUAN), pairing, local_date_today().year, "审核员不写报告。。。")
    with pytest.raises(ServiceError):
        lifecycle.write_report(scene.owner, pairing, local_date_today().year, "太短")


def test_refusals_leave_no_trace(scene):
    pairing = scene.pairing()
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for attempt in (lambda: lifecycle.accept_pairing(scene.owner, pairing),
                    lambda: lifecycle.end_pairing(scene.owner, pairing, "还没开始就结束"),
                    lambda: lifecycle.withdraw_pairing(scene.member, pairing)):
        with pytest.raises(ServiceError):
            attempt()
        db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
