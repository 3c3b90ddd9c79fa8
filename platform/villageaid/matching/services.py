"""Matchmaking services: preferences, the pairing table's upkeep, and the lists pages and the API show.

Status changes of invitations and pairings are in lifecycle.py; ranking is in recommend.py.
"""
import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from .. import queue
from ..audit.services import record
from ..errors import Conflict, PermissionDenied, ServiceError
from ..extensions import db
from ..needs.models import Category, Need
from ..regions import services as regions
from ..regions.models import Level
from ..timeutil import local_date_today, to_local
from .models import (LIVE_PAIRING_STATES, PUBLIC_PAIRING_STATES, InvitationStatus, NeedInvitation,
                     OrganizationPreference, Pairing, PairingPledge, PairingReport, PairingRule, PairingStatus,
                     PreferenceItem, PreferenceKind)

MAX_JOB_TYPES = 10
MAX_REGIONS = 40
MAX_BUDGET_FEN = 10_000_000_000  # ¥100,000,000, the largest target a need may have


# Acting for an organisation --------------------------------------------------------------------

def acting_organizations(user):
    """The verified organisations `user` acts for, by name."""
    if not getattr(user, "is_authenticated", False):
        return []
    return sorted((o for o in user.organizations if o.is_verified), key=lambda o: (o.name, o.id))


def can_view_recommendations(user, org):
    """An organisation's recommendations (and its stated preferences) are its members' business."""
    return org.is_member(user)


# Preferences ------------------------------------------------------------------------------------

def preference_of(org):
    return db.session.get(OrganizationPreference, org.id)


def clean_job_types(text):
    """Job words from free text (split on commas, 、 and new lines); LIKE wildcards removed."""
    words = [re.sub(r"[%_\\]", "", w).strip() for w in re.split(r"[\n,，、;；]+", text or "")]
    return list(dict.fromkeys(w for w in words if w))


def save_preferences(actor, org, *, categories=(), region_codes=(), budget_min_fen=None, budget_max_fen=None,
                     job_types=(), follow_pairing=True):
    """Replace the organisation's stated preferences (its members only)."""
    if not org.is_member(actor):
        raise PermissionDenied(_l("只有该帮扶方的成员可以设置帮扶偏好。"))
    errors = {}
    categories = list(dict.fromkeys(categories))
    if set(categories) - {c.value for c in Category}:
        errors["categories"] = _l("请选择列出的帮扶类别。")
    region_codes = list(dict.fromkeys(regions.pad(c) for c in region_codes if c))
    known = [regions.get(c) for c in region_codes]
    if len(region_codes) > MAX_REGIONS:
        errors["region_codes"] = _l("关注的地区最多 %(n)s 个。", n=MAX_REGIONS)
    elif any(r is None or r.level not in (Level.PROVINCE, Level.PREFECTURE) for r in known):
        errors["region_codes"] = _l("请选择省份或地市。")
    for name, value in (("budget_min", budget_min_fen), ("budget_max", budget_max_fen)):
        if value is not None and not 0 <= value <= MAX_BUDGET_FEN:
            errors[name] = _l("金额应在 0 到 1 亿元之间。")
    if budget_min_fen is not None and budget_max_fen is not None and budget_min_fen > budget_max_fen:
        errors["budget_max"] = _l("预算上限不能低于下限。")
    job_types = list(dict.fromkeys(job_types))
    if len(job_types) > MAX_JOB_TYPES:
        errors["job_types"] = _l("岗位类型最多 %(n)s 个。", n=MAX_JOB_TYPES)
    elif any(len(w) > 20 for w in job_types):
        errors["job_types"] = _l("每个岗位类型最多 20 个字。")
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    pref = preference_of(org)
    if pref is None:
        pref = OrganizationPreference(organization_id=org.id)
        db.session.add(pref)
    pref.budget_min_fen, pref.budget_max_fen = budget_min_fen, budget_max_fen
    pref.follow_pairing = bool(follow_pairing)
    pref.updated_by_id = actor.id
    pref.items = ([PreferenceItem(kind=PreferenceKind.CATEGORY.value, value=c) for c in categories]
                  + [PreferenceItem(kind=PreferenceKind.REGION.value, value=c) for c in region_codes]
                  + [PreferenceItem(kind=PreferenceKind.JOB.value, value=w) for w in job_types])
    db.session.flush()
    record(actor, org, "update_preferences")
    queue.commit()
    return pref


# The East-West pairing table --------------------------------------------------------------------

def pairing_rules():
    """Every row of the table, helper province by province."""
    return db.session.scalars(select(PairingRule).order_by(PairingRule.helper_province_code,
                                                           PairingRule.helper_prefecture_code.nullsfirst(),
                                                           PairingRule.helped_province_code,
                                                           PairingRule.helped_prefecture_code.nullsfirst())).all()


def _require_admin(actor):
    if not getattr(actor, "is_admin", False):
        raise PermissionDenied(_l("只有管理员可以修改东西部扶贫协作结对关系表。"))


def _side(errors, field_province, field_prefecture, province_code, prefecture_code):
    province = regions.get(province_code)
    if province is None or province.level != Level.PROVINCE:
        errors[field_province] = _l("请选择省份。")
        return None, None
    if not prefecture_code:
        return province.code, None
    prefecture = regions.get(prefecture_code)
    if prefecture is None or prefecture.parent_code != province.code or prefecture.level != Level.PREFECTURE:
        errors[field_prefecture] = _l("所选地市不属于该省份。")
        return province.code, None
    return province.code, prefecture.code


def add_rule(actor, *, helper_province, helper_prefecture=None, helped_province, helped_prefecture=None, source=None):
    """Add a row to the pairing table (admins)."""
    _require_admin(actor)
    errors = {}
    helper = _side(errors, "helper_province", "helper_prefecture", helper_province, helper_prefecture)
    helped = _side(errors, "helped_province", "helped_prefecture", helped_province, helped_prefecture)
    if not errors and helper[0] == helped[0]:
        errors["helped_province"] = _l("东西部扶贫协作在不同省份之间结对。")
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    exists = db.session.scalar(select(PairingRule.id).where(
        PairingRule.helper_province_code == helper[0], PairingRule.helped_province_code == helped[0],
        PairingRule.helper_prefecture_code.is_(None) if helper[1] is None else PairingRule.helper_prefecture_code == helper[1],
        PairingRule.helped_prefecture_code.is_(None) if helped[1] is None else PairingRule.helped_prefecture_code == helped[1]))
    if exists:
        raise Conflict(_l("结对关系表中已有这一行。"))
    rule = PairingRule(helper_province_code=helper[0], helper_prefecture_code=helper[1], helped_province_code=helped[0],
                       helped_prefecture_code=helped[1], source=(source or "").strip()[:200] or None)
    db.session.add(rule)
    db.session.flush()
    record(actor, rule, "add_pairing_rule", public=True, reason=f"{rule.helper_name}→{rule.helped_name}")
    queue.commit()
    return rule


def delete_rule(actor, rule, reason=None):
    """Remove a row from the pairing table (admins); the audit trail keeps what it said."""
    _require_admin(actor)
    record(actor, rule, "delete_pairing_rule", public=True,
           reason=(reason or "").strip() or f"{rule.helper_name}→{rule.helped_name}",
           data={"helper_province": rule.helper_province_code, "helper_prefecture": rule.helper_prefecture_code,
                 "helped_province": rule.helped_province_code, "helped_prefecture": rule.helped_prefecture_code})
    db.session.delete(rule)
    queue.commit()


# Invitations ------------------------------------------------------------------------------------

def pending_invitations(org):
    """Invitations waiting for the organisation's answer, newest first, on needs still open."""
    from .lifecycle import need_is_open

    invitations = db.session.scalars(
        select(NeedInvitation).where(NeedInvitation.organization_id == org.id,
                                     NeedInvitation.status == InvitationStatus.PENDING.value)
        .order_by(NeedInvitation.id.desc())).all()
    return [i for i in invitations if need_is_open(i.need)]


def invitations_of_need(need):
    return db.session.scalars(select(NeedInvitation).where(NeedInvitation.need_id == need.id)
                              .order_by(NeedInvitation.id)).all()


def count_pending_invitations(org_ids):
    """How many invitations on open needs await these organisations (lifecycle.need_is_open, in SQL)."""
    from ..needs.models import NeedStatus

    if not org_ids:
        return 0
    return db.session.scalar(
        select(func.count()).select_from(NeedInvitation).join(Need, Need.id == NeedInvitation.need_id)
        .where(NeedInvitation.organization_id.in_(org_ids), NeedInvitation.status == InvitationStatus.PENDING.value,
               Need.status == NeedStatus.PUBLISHED.value, Need.deadline >= local_date_today(),
               Need.pledged < Need.target))


# Pairings --------------------------------------------------------------------------------------

def get_visible_pairing(pairing_id, user):
    pairing = db.session.get(Pairing, pairing_id)
    return pairing if pairing is not None and pairing.can_view(user) else None


def public_pairings_of_village(village):
    return db.session.scalars(select(Pairing).where(Pairing.village_id == village.id,
                                                    Pairing.status.in_([s.value for s in PUBLIC_PAIRING_STATES]))
                              .order_by(Pairing.status, Pairing.start_date.desc(), Pairing.id)).all()


def public_pairings_of_organization(org):
    return db.session.scalars(select(Pairing).where(Pairing.organization_id == org.id,
                                                    Pairing.status.in_([s.value for s in PUBLIC_PAIRING_STATES]))
                              .order_by(Pairing.status, Pairing.start_date.desc(), Pairing.id)).all()


def pairings_of_user(user):
    """Every pairing of the organisations and villages `user` acts for, live ones first."""
    org_ids = [o.id for o in user.organizations]
    village_ids = [v.id for v in user.villages]
    if not org_ids and not village_ids:
        return []
    pairings = db.session.scalars(select(Pairing).where(or_(Pairing.organization_id.in_(org_ids or [-1]),
                                                            Pairing.village_id.in_(village_ids or [-1])))
                                  .order_by(Pairing.id.desc())).all()
    order = {PairingStatus.PROPOSED: 0, PairingStatus.ACTIVE: 1, PairingStatus.ENDED: 2, PairingStatus.DECLINED: 3,
             PairingStatus.WITHDRAWN: 4}
    return sorted(pairings, key=lambda p: order[PairingStatus(p.status)])


def live_pairing(org, village):
    return db.session.scalar(select(Pairing).where(
        Pairing.organization_id == org.id, Pairing.village_id == village.id,
        Pairing.status.in_([s.value for s in LIVE_PAIRING_STATES])))


def proposals_awaiting(user):
    """Proposals `user` may accept or decline."""
    return [p for p in pairings_of_user(user) if p.can_answer(user)]


def missing_reports(user, today=None):
    """Active pairings of the user's side without a report for last year (due once a year begins)."""
    today = today or local_date_today()
    last_year = today.year - 1
    missing = []
    for pairing in pairings_of_user(user):
        if pairing.status != PairingStatus.ACTIVE or pairing.start_date.year > last_year:
            continue
        if not any(r.year == last_year for r in pairing.reports):
            missing.append(pairing)
    return missing


def report_of(pairing, year):
    return db.session.scalar(select(PairingReport).where(PairingReport.pairing_id == pairing.id,
                                                         PairingReport.year == year))


def villages_of(user):
    return [v for v in user.villages if v.is_verified]


# Pledges within a pairing -----------------------------------------------------------------------

def active_pairing(org_id, village_id):
    return db.session.scalar(select(Pairing).where(Pairing.organization_id == org_id, Pairing.village_id == village_id,
                                                   Pairing.status == PairingStatus.ACTIVE.value))


def mark_pledge(pledge):
    """Mark a pledge made for an organisation to a village it is paired with (the caller commits)."""
    if pledge.organization_id is None:
        return None
    pairing = active_pairing(pledge.organization_id, pledge.village_id)
    if pairing is None:
        return None
    db.session.add(PairingPledge(pledge_id=pledge.id, pairing_id=pairing.id))
    return pairing


@dataclass
class Contribution:
    pledge: object
    deliveries: list


def contributions(pairing, year=None):
    """The pledges made within the pairing (in `year`, China time, when given), newest first, each with
    its deliveries; only the pledges the public may see (not declined, cancelled or lapsed ones)."""
    from ..pledges.models import LIVE_STATES, Pledge

    query = (select(Pledge).join(PairingPledge, PairingPledge.pledge_id == Pledge.id)
             .where(PairingPledge.pairing_id == pairing.id, Pledge.status.in_([s.value for s in LIVE_STATES]))
             .order_by(Pledge.created_at.desc(), Pledge.id.desc()))
    pledges = db.session.scalars(query).unique().all()
    if year is not None:
        pledges = [p for p in pledges if to_local(p.created_at).year == year]
    return [Contribution(p, [d for d in p.deliveries if d.status != "rejected"]) for p in pledges]
