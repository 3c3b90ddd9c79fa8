"""Demo honor rolls: last campaign year's roll, published at its 10·17, and this year's draft in 公示.

Everything goes through the lifecycle functions people use. Last year's help is made the same way
and then its whole history (the need, its pledges, deliveries and their audit events) is moved back
in time into last year's period — time passing, for the demo — so its pages stay consistent.
Idempotent: pledges carry idempotency keys, and an edition that exists is left alone.
"""
from datetime import datetime, time, timedelta, timezone

from sqlalchemy import select

from ..accounts import services as accounts
from ..accounts.models import Role, RoleGrant, User
from ..audit.models import AuditEvent
from ..campaign.services import campaign_year
from ..extensions import db
from ..needs.models import Need, NeedStatus, Unit
from ..organizations.models import Organization
from ..pledges import lifecycle as pledges
from ..pledges.models import DeliveryStatus, Pledge, PledgeKind, kind_for
from ..timeutil import SHANGHAI, local_date_today, utcnow
from . import lifecycle as roll
from .models import HonorRollEdition

DONORS = [("donor-li@demo.villageaid.cn", "李春华"), ("donor-chen@demo.villageaid.cn", "陈志远")]
PASSWORD = "demo-pass-2026"


def _people():
    enterprises = db.session.scalars(select(Organization).where(Organization.status == "verified",
                                                                Organization.kind == "enterprise")
                                     .order_by(Organization.id)).all()
    ngos = db.session.scalars(select(Organization).where(Organization.status == "verified", Organization.kind == "ngo")
                              .order_by(Organization.id)).all()
    donors = [db.session.scalar(select(User).where(User.email == "donor@demo.villageaid.cn"))]
    for email, name in DONORS:
        user = accounts.find_by_email(email)
        if user is None:
            user = accounts.register(email, name, PASSWORD, locale="zh_CN", public_name_consent=True)
            user.email_verified_at = utcnow()
            db.session.commit()
        donors.append(user)
    return enterprises, ngos, [d for d in donors if d is not None]


def _owner(org):
    return next(m.user for m in org.memberships if m.is_owner)


def _national():
    grant = db.session.scalar(select(RoleGrant).where(RoleGrant.role == Role.CURATOR, RoleGrant.region_code.is_(None))
                              .order_by(RoleGrant.id))
    return grant.user if grant else None


def _admin():
    grant = db.session.scalar(select(RoleGrant).where(RoleGrant.role == Role.ADMIN).order_by(RoleGrant.id))
    return grant.user if grant else None


def _help(key, need, who, share, curator):
    """A pledge of `share` of what is open on `need` by `who` (an Organization or a User), delivered, confirmed
    and verified; returns the pledge (or the one made by an earlier run)."""
    org = who if isinstance(who, Organization) else None
    actor = _owner(org) if org else who
    pledge = db.session.scalar(select(Pledge).where(Pledge.pledger_id == actor.id, Pledge.idempotency_key == key))
    if pledge is None:
        if need.status != NeedStatus.PUBLISHED or need.remaining <= 0:
            return None
        quantity = need.remaining if share >= 1 else max(1, int(need.remaining * share))
        if need.unit == Unit.CNY_FEN and share < 1:
            quantity = quantity // 10_000 * 10_000 or need.remaining  # whole hundreds of yuan
        values = {"quantity": quantity, "promised_on": local_date_today() + timedelta(days=30),
                  "note": "按需求清单一次性交付。", "anonymous": False}
        if org:
            values["organization_id"] = org.id
        if kind_for(need) == PledgeKind.PROJECT:
            values["plan"] = "按村里的产业规划分期投入：先建设厂房和基地，再购置设备，投产后按约定分红。"
        if kind_for(need) == PledgeKind.JOBS:
            values.update(job_title=need.job_title, wage_fen=need.wage_min_fen, work_location=need.work_location)
        pledge, _created = pledges.make_pledge(actor, need, values, idempotency_key=key)
    member = need.village.members[0].user
    if pledge.status == "pledged":
        pledges.accept(member, pledge)
    if pledge.status == "accepted":
        note = {PledgeKind.JOBS: "已与本村劳动力签订劳动合同并到岗。"}.get(pledge.kind, "已按清单交付，村委会清点无误。")
        values = {"quantity": pledge.quantity, "delivered_on": local_date_today(), "note": note}
        if pledge.kind == PledgeKind.PROJECT:
            values.update(milestone="投产运营", completion_percent=100)
        pledges.report_delivery(actor, pledge, values)
    for delivery in pledge.deliveries:
        if delivery.status == DeliveryStatus.REPORTED:
            pledges.confirm(member, delivery)
        if delivery.status == DeliveryStatus.CONFIRMED:
            pledges.verify(curator, delivery, "已核对转账凭证和村委会签收单。")
    return pledge


def _move_back(need, days):
    """Move the whole history of `need` `days` into the past (the demo's way of time passing)."""
    delta = timedelta(days=days)
    rows = [need, *db.session.scalars(select(Pledge).where(Pledge.need_id == need.id))]
    for pledge in rows[1:]:
        rows += pledge.deliveries
    for row in rows:
        for column in row.__table__.columns:
            value = getattr(row, column.key)
            if column.key in ("updated_at",) or value is None:
                continue
            if isinstance(value, datetime) or (column.key.endswith(("_on", "deadline", "job_start_date"))
                                                and hasattr(value, "toordinal")):
                setattr(row, column.key, value - delta)
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == row.__tablename__,
                                                             AuditEvent.object_id == row.id))
        for event in events:
            event.at = event.at - delta
    db.session.commit()


def _citation(candidate, period_text):
    parts = []
    if candidate.funds_fen:
        parts.append(f"交付帮扶资金{candidate.funds_fen // 1_000_000}万元" if candidate.funds_fen >= 1_000_000
                     else f"交付帮扶资金{candidate.funds_fen // 100}元")
    if candidate.jobs_filled:
        parts.append(f"吸纳{candidate.jobs_filled}名贫困劳动力就业")
    what = "、".join(parts) or "持续开展帮扶"
    return (f"{period_text}，{candidate.name}深入对接{candidate.villages_helped}个贫困村的具体需求，{what}，"
            f"惠及建档立卡贫困人口{candidate.beneficiaries}人，每笔帮扶均经村委会确认、工商联核实。")


def _curate(edition, curator):
    period_text = f"{edition.period_start.year}年{edition.period_start.month}月至{edition.period_end.year}年{edition.period_end.month}月"
    for _category, rows in roll.standings(edition):
        for _rank, candidate in rows:
            if not candidate.citation:
                roll.set_citation(curator, candidate, _citation(candidate, period_text))


def _open_needs(unit, skip, count, category=None, untouched=True):
    """Published needs of `unit` (nobody pledged yet when `untouched`, else any with something open)."""
    query = select(Need).where(Need.status == NeedStatus.PUBLISHED.value, Need.unit == unit.value)
    query = query.where(Need.pledged == 0) if untouched else query.where(Need.pledged < Need.target)
    if category:
        query = query.where(Need.category == category)
    return [n for n in db.session.scalars(query.order_by(Need.id)) if n.id not in skip][:count]


def seed_honor_rolls():
    """Last year's published roll and this year's in 公示; returns how many editions exist."""
    admin, national = _admin(), _national()
    if admin is None or national is None:
        return 0
    enterprises, ngos, donors = _people()
    if len(enterprises) < 6 or not ngos:
        return 0
    current = campaign_year()
    last_year = current.year - 1
    used = set()

    if db.session.scalar(select(HonorRollEdition.id).where(HonorRollEdition.year == last_year)) is None:
        # Last year's help: whole needs helped to completion, then moved back into last year's period.
        verified_on = datetime.combine(current.start - timedelta(days=120), time(10), SHANGHAI)
        days_back = (utcnow() - verified_on.astimezone(timezone.utc)).days
        funds = _open_needs(Unit.CNY_FEN, used, 5, "industry") + _open_needs(Unit.CNY_FEN, used, 2, "charity")
        jobs = _open_needs(Unit.JOBS, used, 2)
        helpers = [*enterprises[:6], ngos[0], ngos[1 % len(ngos)]]
        plan = [(need, [(helpers[i % 6], 0.6), (helpers[(i + 1) % 6], 1)]) for i, need in enumerate(funds[:5])]
        plan += [(need, [(ngos[0], 0.5), (donors[0], 0.1), (donors[1 % len(donors)], 0.1), (helpers[7], 1)])
                 for need in funds[5:]]
        plan += [(need, [(enterprises[(i + 2) % 6], 1)]) for i, need in enumerate(jobs)]
        for n, (need, shares) in enumerate(plan):
            used.add(need.id)
            for m, (who, share) in enumerate(shares):
                _help(f"demo-honor-{last_year}-{n}-{m}", need, who, share, national)
            db.session.refresh(need)
            _move_back(need, days_back)
        for need in jobs:  # their hires, four months on: most are still employed
            for pledge in db.session.scalars(select(Pledge).where(Pledge.need_id == need.id)):
                for delivery in pledge.deliveries:
                    if delivery.retained_3m is None and delivery.can_report_retention(pledge.pledger, 3):
                        pledges.report_retention(pledge.pledger, delivery, 3, max(0, delivery.quantity - 1))
        edition = roll.create_edition(admin, last_year)
        roll.start_computation(national, edition)
        _curate(edition, national)
        publish_at = edition.publish_at
        roll.start_notice(national, edition, now=publish_at - timedelta(days=10))
        objection = roll.file_objection(None, edition, candidate_id=None, name="赵老师",
                                        contact="zhao@example.cn",
                                        body="名单中没有看到在我县长期捐资助学的企业，请核实是否遗漏。",
                                        now=publish_at - timedelta(days=8))
        roll.answer_objection(national, objection, outcome="dismissed",
                              answer="经核查，该企业本年度的捐赠尚未经受助村确认和审核员核实，按评选办法不计入本届；"
                                     "核实后将计入下一届。", now=publish_at - timedelta(days=6))
        roll.publish(None, edition, now=publish_at)  # as the scheduled job does at 10-17 00:00

    if db.session.scalar(select(HonorRollEdition.id).where(HonorRollEdition.year == current.year)) is None:
        # This year's help so far, verified now, by enterprises, foundations and named donors.
        industry = _open_needs(Unit.CNY_FEN, used, 2, "industry", untouched=False)
        charity = _open_needs(Unit.CNY_FEN, used, 3, "charity", untouched=False)
        jobs = _open_needs(Unit.JOBS, used, 1, untouched=False)
        plan = [(need, [(enterprises[(i + 3) % len(enterprises)], 0.5)]) for i, need in enumerate(industry)]
        plan += [(need, [(ngos[(i + 1) % len(ngos)], 0.4), (donors[i % len(donors)], 0.05),
                         (donors[(i + 1) % len(donors)], 0.05)]) for i, need in enumerate(charity)]
        plan += [(need, [(enterprises[5], 0.5)]) for need in jobs]
        for n, (need, shares) in enumerate(plan):
            for m, (who, share) in enumerate(shares):
                _help(f"demo-honor-{current.year}-{n}-{m}", need, who, share, national)
        edition = roll.create_edition(admin, current.year)
        roll.start_computation(national, edition)
        _curate(edition, national)
        roll.start_notice(national, edition)
        answered = roll.file_objection(None, edition, candidate_id=None, name="钱先生", contact="13900001111",
                                       body="请问个人捐款为什么也上榜？是否征得本人同意？")
        roll.answer_objection(national, answered, outcome="dismissed",
                              answer="个人只有在本人同意公开姓名、且未选择匿名认捐时才会列入爱心个人榜，"
                                     "其余个人捐赠以“爱心人士”计入台账，不列入光荣榜。")
        first = next((c for _cat, rows in roll.standings(edition) for _r, c in rows), None)
        if first is not None:
            roll.file_objection(None, edition, candidate_id=first.id, name="孙女士", contact="sun@example.cn",
                                body=f"{first.name}在我村援建的项目尚未完工，建议核实后再表彰。")
    return db.session.scalar(select(db.func.count()).select_from(HonorRollEdition))
