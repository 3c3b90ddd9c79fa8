"""Demo pledges and deliveries for `flask demo seed`, made through the same lifecycle as real ones.

Every pledge and delivery state appears (with a disputed delivery, a rejected one, evidence used
twice, hires with their retention, project milestones), so need pages, the village inbox, the
curators' queue and the home page look alive. Idempotent: a pledge is found again by its
idempotency key ("demo-pledge-<n>") and each step of its path runs only if it has not been taken yet.
"""
import io
from datetime import timedelta

from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage

from ..accounts.models import User
from ..extensions import db
from ..needs import lifecycle as needs_lifecycle
from ..needs.models import Need, NeedStatus, Unit
from ..organizations.models import Organization
from ..timeutil import local_date_today
from . import lifecycle
from .models import LIVE_STATES, Delivery, DeliveryStatus, Pledge, PledgeKind, PledgeStatus, kind_for

P, D = PledgeStatus, DeliveryStatus

# Each scenario takes the next suitable need: (kind of need, [pledges]); a pledge is
# (pledger, share of the target, final status, [deliveries as (share of the pledge, final status)]).
# Pledgers: "org" the next organisation, "donor" the named donor, "anon" the anonymous one.
SCENARIOS = [
    (PledgeKind.FUNDS, [("org", 1.0, P.VERIFIED, [(1.0, D.VERIFIED)])]),
    (PledgeKind.FUNDS, [("org", 0.6, P.VERIFIED, [(0.5, D.VERIFIED), (0.5, D.VERIFIED)]),
                        ("anon", 0.2, P.PLEDGED, [])]),
    (PledgeKind.FUNDS, [("org", 0.5, P.ACCEPTED, []), ("donor", 0.1, P.DECLINED, [])]),
    (PledgeKind.FUNDS, [("org", 0.4, P.DELIVERING, [(0.5, D.REPORTED)]), ("org", 0.3, P.CANCELLED, [])]),
    (PledgeKind.FUNDS, [("org", 1.0, P.DELIVERED, [(1.0, D.DISPUTED)])]),
    (PledgeKind.FUNDS, [("org", 0.7, P.CONFIRMED, [(1.0, D.CONFIRMED)])]),  # its evidence repeats the first one's
    (PledgeKind.FUNDS, [("org", 0.5, P.LAPSED, [])]),
    (PledgeKind.GOODS, [("org", 1.0, P.VERIFIED, [(1.0, D.REJECTED), (1.0, D.VERIFIED)])]),
    (PledgeKind.GOODS, [("anon", 0.3, P.DELIVERED, [(1.0, D.REPORTED)]), ("org", 0.5, P.PLEDGED, [])]),
    (PledgeKind.JOBS, [("org", 0.6, P.VERIFIED, [(1.0, D.VERIFIED)])]),
    (PledgeKind.JOBS, [("org", 0.4, P.ACCEPTED, [])]),
    (PledgeKind.PROJECT, [("org", 0.8, P.DELIVERING, [(0.4, D.VERIFIED), (0.3, D.REPORTED)])]),
    (PledgeKind.VOLUNTEER, [("donor", 0.25, P.VERIFIED, [(1.0, D.VERIFIED)]), ("org", 0.5, P.ACCEPTED, [])]),
    (PledgeKind.FUNDS, [("donor", 0.05, P.VERIFIED, [(1.0, D.VERIFIED)]), ("org", 0.45, P.CONFIRMED, [(1.0, D.CONFIRMED)])]),
    (PledgeKind.FUNDS, [("org", 1.0, P.VERIFIED, [(0.3, D.VERIFIED), (0.7, D.VERIFIED)])]),
    (PledgeKind.GOODS, [("org", 1.0, P.ACCEPTED, [])]),  # fully pledged, waiting for the goods
]
FLAGGED_SCENARIO = 5  # the sixth scenario's evidence is the first scenario's transfer slip again (seed 0)


def _slip(seed, label):
    """A generated picture standing in for a transfer slip or a photo of goods received."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 400), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle([20, 20, 620, 80], fill=(179, 38, 30))
    for row in range(6):
        y = 110 + row * 45
        draw.rectangle([40, y, 40 + 120 + (seed * 37 + row * 53) % 300, y + 18], fill=(120, 120, 130))
    for bit in range(12):  # the seed in binary, so that two seeds never draw the same slip
        if seed >> bit & 1:
            draw.rectangle([40 + bit * 30, 370, 60 + bit * 30, 385], fill=(60, 60, 70))
    draw.ellipse([500, 260, 600, 360], outline=(179, 38, 30), width=6)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    out.seek(0)
    return FileStorage(stream=out, filename=f"{label}.jpg", content_type="image/jpeg")


def _quantity(need_or_pledge_total, share, money):
    amount = int(need_or_pledge_total * share)
    if money:
        amount = max(10_000, amount // 10_000 * 10_000)  # whole hundreds of yuan
    return max(1, amount)


def _candidates(kind):
    """Needs still taking part in the demo (published once, not withdrawn or expired), of one kind, by id."""
    rows = db.session.scalars(
        select(Need).where(Need.published_at.is_not(None),
                           Need.status.not_in([NeedStatus.WITHDRAWN.value, NeedStatus.EXPIRED.value]))
        .order_by(Need.id)).all()
    return [n for n in rows if kind_for(n) == kind]


def _curator(need, fallback):
    reviewers = needs_lifecycle.reviewers_of(need.region_code)
    return reviewers[0] if reviewers else fallback


def _pledge_values(need, quantity, kind, anonymous, org):
    values = {"quantity": quantity, "promised_on": local_date_today() + timedelta(days=30),
              "organization_id": org.id if org else None, "anonymous": anonymous,
              "note": "请村委会收到后在平台上确认。"}
    if kind == PledgeKind.JOBS:
        values.update(job_title=need.job_title or "普工", wage_fen=need.wage_min_fen or 400_000,
                      work_location=need.work_location or "本县工业园区")
    if kind == PledgeKind.PROJECT:
        values["plan"] = "分两期建设：一期土建和设备采购，二期投产运营；由村集体合作社管理，收益按股分给建档立卡贫困户。"
    return values


def _deliver(pledge, index, share, pledger, uploads_seed, rest=False):
    """The index-th delivery of the pledge, reported now if it is not there yet (`share` of the pledge,
    or all that is left with `rest`)."""
    if index < len(pledge.deliveries):
        return pledge.deliveries[index]
    quantity = pledge.open_to_report if rest or share >= 1 else min(
        pledge.open_to_report, _quantity(pledge.quantity, share, pledge.need.unit == Unit.CNY_FEN))
    values = {"quantity": quantity, "delivered_on": local_date_today(), "note": NOTES[pledge.kind]}
    if pledge.kind == PledgeKind.PROJECT:
        step = min(len(pledge.deliveries), 2)
        values.update(milestone=("土建完工", "设备安装调试", "投产运营")[step], completion_percent=(45, 75, 100)[step])
    return lifecycle.report_delivery(pledger, pledge, values, uploads=[_slip(uploads_seed, f"凭证{uploads_seed}")])


NOTES = {PledgeKind.FUNDS: "已通过银行转账到村集体账户。", PledgeKind.PROJECT: "本阶段建设已按计划完成。",
         PledgeKind.JOBS: "已与本村劳动力签订劳动合同并到岗。", PledgeKind.GOODS: "物资已运抵村委会，清点无误。",
         PledgeKind.VOLUNTEER: "志愿者已按计划到村服务。"}


def _bring_delivery(delivery, status, member, curator):
    if delivery.status == status:
        return
    if status == D.DISPUTED and delivery.status == D.REPORTED:
        lifecycle.dispute(member, delivery, "村里实际只收到一部分，与登记数量不符，请核实。")
    elif status == D.REJECTED and delivery.status == D.REPORTED:
        lifecycle.reject(curator, delivery, "凭证与交付内容不符，请补充真实凭证后重新登记。")
    elif status in (D.CONFIRMED, D.VERIFIED) and delivery.status == D.REPORTED:
        lifecycle.confirm(member, delivery)
    if status == D.VERIFIED and delivery.status == D.CONFIRMED:
        lifecycle.verify(curator, delivery, "已核对凭证。")


def _ensure(number, need, who, share, status, deliveries, people, national):
    pledger, org, anonymous = people(who)
    money = need.unit == Unit.CNY_FEN
    key = f"demo-pledge-{number}"
    pledge = db.session.scalar(select(Pledge).where(Pledge.pledger_id == pledger.id, Pledge.idempotency_key == key))
    member = need.village.members[0].user
    curator = _curator(need, national)
    if pledge is None:
        if need.status != NeedStatus.PUBLISHED:
            return None
        quantity = min(need.remaining, _quantity(need.target, share, money))
        if quantity <= 0:
            return None
        pledge, _created = lifecycle.make_pledge(pledger, need, _pledge_values(need, quantity, kind_for(need),
                                                                                  anonymous, org), idempotency_key=key)
    if status == P.DECLINED and pledge.status == P.PLEDGED:
        lifecycle.decline(member, pledge, "该需求已由县里的项目资金解决，感谢您的爱心。")
    if status == P.CANCELLED and pledge.status == P.PLEDGED:
        lifecycle.cancel(pledger, pledge, "企业年度预算调整。")
    if status in (P.PLEDGED, P.DECLINED, P.CANCELLED):
        return pledge
    if pledge.status == P.PLEDGED:
        lifecycle.accept(member, pledge)
    if status == P.LAPSED:
        if pledge.status == P.ACCEPTED:
            # Time passing, for the demo: the promised date moves into the past, then the pledge lapses.
            db.session.execute(update(Pledge).where(Pledge.id == pledge.id)
                               .values(promised_on=local_date_today() - timedelta(days=20)))
            db.session.commit()
            db.session.refresh(pledge)
            lifecycle.lapse(pledge)
            db.session.commit()
        return pledge
    for index, (part, target) in enumerate(deliveries):
        seed = 0 if number == FLAGGED_SCENARIO * 10 else number * 10 + index
        last = index == len(deliveries) - 1 and status in (P.DELIVERED, P.CONFIRMED, P.VERIFIED)
        delivery = _deliver(pledge, index, part, pledger, seed, rest=last)
        _bring_delivery(delivery, target, member, curator)
    return pledge


def _retention(pledge):
    """Hires made four months ago (time passing, for the demo), with their 3-month retention reported."""
    for delivery in pledge.deliveries:
        if delivery.status == D.VERIFIED and delivery.retained_3m is None:
            long_ago = local_date_today() - timedelta(days=125)
            db.session.execute(update(Delivery).where(Delivery.id == delivery.id).values(delivered_on=long_ago))
            db.session.execute(update(Pledge).where(Pledge.id == pledge.id).values(
                created_at=pledge.created_at - timedelta(days=130)))
            db.session.commit()
            db.session.refresh(delivery)
            lifecycle.report_retention(pledge.pledger, delivery, 3, max(0, delivery.quantity - 1))


def seed_pledges(national_curator):
    """Pledges and deliveries over the demo needs; returns how many demo pledges exist."""
    orgs = db.session.scalars(select(Organization).where(Organization.status == "verified")
                              .order_by(Organization.id)).all()
    donor = db.session.scalar(select(User).where(User.email == "donor@demo.villageaid.cn"))
    anon = db.session.scalar(select(User).where(User.email == "donor2@demo.villageaid.cn"))
    if not orgs or donor is None or anon is None:
        return 0
    used = {kind: 0 for kind in PledgeKind}
    org_turn = iter(range(10_000))

    def people(who):
        if who == "donor":
            return donor, None, False
        if who == "anon":
            return anon, None, True
        org = orgs[next(org_turn) % len(orgs)]
        owner = next(m.user for m in org.memberships if m.is_owner)
        return owner, org, False

    for s_index, (kind, pledges) in enumerate(SCENARIOS):
        candidates = _candidates(kind)
        if used[kind] >= len(candidates):
            continue
        need = candidates[used[kind]]
        used[kind] += 1
        for p_index, (who, share, status, deliveries) in enumerate(pledges):
            pledge = _ensure(s_index * 10 + p_index, need, who, share, status, deliveries, people, national_curator)
            if pledge is not None and kind == PledgeKind.JOBS and status == P.VERIFIED:
                _retention(pledge)
    # One completed need whose deliveries are all verified is closed by its curator (结项).
    if not db.session.scalar(select(func.count()).select_from(Need).where(Need.status == NeedStatus.CLOSED.value)):
        for need in db.session.scalars(select(Need).where(Need.status == NeedStatus.COMPLETED.value).order_by(Need.id)):
            if all(p.status == P.VERIFIED for p in db.session.scalars(select(Pledge).where(
                    Pledge.need_id == need.id, Pledge.status.in_([s.value for s in LIVE_STATES])))):
                needs_lifecycle.close(_curator(need, national_curator), need, "交付均已核实，结项。")
                break
    return db.session.scalar(select(func.count()).select_from(Pledge).where(Pledge.idempotency_key.like("demo-pledge-%")))
