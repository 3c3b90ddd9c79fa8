"""Demo pairings, invitations and preferences for `flask demo seed`, made through the same lifecycle as real ones.

Each enterprise pairs with the village of its first recommendation, so the demo shows the East-West
table at work (浙江 enterprises in 四川, 杭州's in 恩施 and 黔东南 …). Idempotent: a pairing is looked
up by (organisation, village) and an invitation by (need, organisation) before anything is made.
"""
from datetime import timedelta

from sqlalchemy import or_, select

from ..extensions import db
from ..organizations.models import Organization, OrgKind
from ..timeutil import local_date_today
from . import lifecycle, recommend, services
from .models import NeedInvitation, Pairing, PairingStatus

PLANS = [
    "- 产业帮扶：投资建设村集体农产品加工或烘干设施，收益按股分红到户。\n"
    "- 就业帮扶：每年提供不少于 20 个岗位，优先招收建档立卡贫困家庭劳动力。\n"
    "- 消费帮扶：企业食堂和工会每年采购村里的特色农产品。",
    "- 技能培训：每年组织两期电商直播和农技培训。\n"
    "- 消费帮扶：通过企业电商平台销售村里的土特产。\n"
    "- 公益帮扶：资助村小学购置图书和体育器材。",
    "- 就业帮扶：在村里设立扶贫车间，企业提供订单和技术指导，带动留守妇女家门口就业。\n"
    "- 公益帮扶：为村卫生室添置基本医疗设备。",
]
REPORTS = [
    "本年度完成农产品烘干房主体建设，吸纳 18 名贫困劳动力到企业就业，采购村合作社花椒 3.2 吨。",
    "本年度举办电商直播培训两期共 46 人次，帮助销售土蜂蜜 1200 瓶，资助村小学图书 800 册。",
    "本年度扶贫车间完成订单 3 批，带动 25 名留守妇女月均增收 1500 元，村卫生室新添心电图机一台。",
]
# How each demo pairing ends up: most active, one waiting for the village, one ended.
OUTCOMES = [PairingStatus.ACTIVE] * 6 + [PairingStatus.PROPOSED, PairingStatus.ENDED]


def _owner(org):
    return next(m.user for m in org.memberships if m.is_owner)


def seed_pairings():
    """Pairings between the first enterprises and the villages of their first recommendations."""
    enterprises = db.session.scalars(select(Organization).where(Organization.status == "verified",
                                                                Organization.kind == OrgKind.ENTERPRISE)
                                     .order_by(Organization.id)).all()
    today, made, used = local_date_today(), 0, set()
    for index, org in enumerate(enterprises[:len(OUTCOMES)]):
        pairing = db.session.scalar(select(Pairing).where(Pairing.organization_id == org.id).order_by(Pairing.id))
        if pairing is None:
            first = next((r.need for r in recommend.needs_for(org, per_page=10).items if r.need.village_id not in used),
                         None)
            if first is None:
                continue
            village = first.village
            start = today - timedelta(days=200 - 20 * index)
            pairing = lifecycle.propose_pairing(_owner(org), org, village, plan=PLANS[index % len(PLANS)],
                                                start_date=start)
        village = pairing.village
        used.add(village.id)
        outcome = OUTCOMES[index]
        member = village.members[0].user
        if outcome in (PairingStatus.ACTIVE, PairingStatus.ENDED) and pairing.status == PairingStatus.PROPOSED:
            lifecycle.accept_pairing(member, pairing)
        if pairing.status == PairingStatus.ACTIVE and not pairing.reports and pairing.start_date.year == today.year:
            lifecycle.write_report(_owner(org), pairing, today.year, REPORTS[index % len(REPORTS)])
        if outcome == PairingStatus.ENDED and pairing.status == PairingStatus.ACTIVE:
            lifecycle.end_pairing(member, pairing, "企业经营范围调整，双方协商结束结对；已建成的烘干房由村集体继续运营。")
        made += 1
    return made


def seed_invitations(limit=6):
    """Villages invite the organisation suggested first for some of their open needs; two answer."""
    from ..needs.models import Need, NeedStatus

    needs = db.session.scalars(select(Need).where(or_(Need.status == NeedStatus.PUBLISHED.value,
                                                      Need.id.in_(select(NeedInvitation.need_id))))
                               .order_by(Need.id)).all()
    seen_villages, invited, made = set(), set(), 0
    for need in needs:
        if made >= limit:
            break
        # An invitation seeded before counts whatever became of its need since, so a second seed adds none.
        invitation = db.session.scalar(select(NeedInvitation).where(NeedInvitation.need_id == need.id))
        if invitation is None:
            if not lifecycle.need_is_open(need) or need.village_id in seen_villages:
                continue
            org = next((s.organization for s in recommend.organizations_for(need, limit=5)
                        if s.organization.id not in invited), None)
            if org is None:
                continue
            invitation = lifecycle.invite(need.village.members[0].user, need, org,
                                          "我们村的情况在需求说明里，欢迎来村里实地看看。")
        seen_villages.add(need.village_id)
        invited.add(invitation.organization_id)
        if made == 1 and invitation.status == "pending":
            lifecycle.decline_invitation(_owner(invitation.organization), invitation, "今年的帮扶预算已安排完，明年再联系。")
        elif made == 2 and invitation.status == "pending" and lifecycle.need_is_open(need):
            lifecycle.accept_invitation(_owner(invitation.organization), invitation, "我们下周派人到村里对接。")
        made += 1
    return made


def seed_preferences():
    """Stated preferences for the first two enterprises, so the preferences page and its reasons show."""
    enterprises = db.session.scalars(select(Organization).where(Organization.status == "verified",
                                                                Organization.kind == OrgKind.ENTERPRISE)
                                     .order_by(Organization.id).limit(2)).all()
    for org, (categories, jobs) in zip(enterprises, ((["employment", "industry"], ["普工", "缝纫"]),
                                                     (["consumption"], []))):
        if services.preference_of(org) is None:
            services.save_preferences(_owner(org), org, categories=categories, job_types=jobs,
                                      budget_min_fen=1_000_000, budget_max_fen=20_000_000)


def seed_pairing_pledges(limit=3):
    """Paired enterprises pledge to an open need of their village, so pledges within a pairing show."""
    from ..needs.models import Need, NeedStatus, Unit
    from ..pledges import lifecycle as pledges
    from ..pledges.models import PledgeKind, kind_for
    from ..pledges.services import find_by_key

    pairings = db.session.scalars(select(Pairing).where(Pairing.status == PairingStatus.ACTIVE.value)
                                  .order_by(Pairing.id).limit(limit)).all()
    made = 0
    for pairing in pairings:
        owner, key = _owner(pairing.organization), f"demo-pairing-{pairing.id}"
        if find_by_key(owner, key) is None:  # the key: a second seed finds the pledge instead of pledging again
            needs = db.session.scalars(select(Need).where(Need.village_id == pairing.village_id,
                                                          Need.status == NeedStatus.PUBLISHED.value).order_by(Need.id))
            need = next((n for n in needs if lifecycle.need_is_open(n)
                         and kind_for(n) in (PledgeKind.FUNDS, PledgeKind.GOODS, PledgeKind.VOLUNTEER)), None)
            if need is None:
                continue
            quantity = max(need.remaining // 3, 100 if need.unit == Unit.CNY_FEN else 1)
            values = {"quantity": min(quantity, need.remaining), "organization_id": pairing.organization_id,
                      "promised_on": local_date_today() + timedelta(days=30), "note": "结对帮扶，按帮扶计划安排。"}
            pledges.make_pledge(owner, need, values, idempotency_key=key)
        made += 1
    return made


def seed_matching():
    """Preferences, pairings with pledges made within them, and invitations; returns how many of each."""
    seed_preferences()
    counts = {"pairings": seed_pairings(), "invitations": seed_invitations()}
    counts["pairing_pledges"] = seed_pairing_pledges()
    return counts
