"""Registering an organisation and managing its members."""
from flask_babel import gettext as _
from functools import cache

from sqlalchemy import select
from sqlalchemy.orm import aliased

from .. import queue
from ..audit.services import record
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..verification import VerificationStatus
from ..regions import services as regions
from ..regions.models import Level, Region
from .models import INDUSTRY_SECTIONS, Membership, Organization, OrgKind, OrgSize
from .uscc import is_valid, normalize


def register_organization(user, *, kind, name, credit_code, industry, province_code, prefecture_code,
                          size, contact_name, contact_phone, description=None):
    """Apply for an organisation; the registrant becomes its owner. Status starts pending."""
    credit_code = normalize(credit_code)
    errors = {}
    if not is_valid(credit_code):
        errors["credit_code"] = _("统一社会信用代码无效：应为 18 位，且校验位正确（GB 32100-2015）。")
    elif db.session.scalar(select(Organization.id).where(Organization.credit_code == credit_code)):
        errors["credit_code"] = _("该统一社会信用代码已注册。如您属于该组织，请请其管理员邀请您加入。")
    if industry not in INDUSTRY_SECTIONS or len(industry) != 1:
        errors["industry"] = _("请选择行业门类。")
    province = regions.get(province_code)
    if province is None or province.level != Level.PROVINCE:
        errors["province_code"] = _("请选择省份。")
    prefecture = regions.get(prefecture_code) if prefecture_code else None
    if prefecture_code and (prefecture is None or prefecture.parent_code != regions.pad(province_code)):
        errors["prefecture_code"] = _("所选地市不属于该省份。")
    if errors:
        raise ServiceError(_("请更正标出的项目。"), fields=errors)
    org = Organization(
        kind=OrgKind(kind), name=name.strip(), credit_code=credit_code, industry=industry,
        province_code=province.code, prefecture_code=prefecture.code if prefecture else None,
        size=OrgSize(size), contact_name=contact_name.strip(), contact_phone=contact_phone.strip(),
        description=description, created_by_id=user.id,
    )
    db.session.add(org)
    db.session.flush()
    db.session.add(Membership(user_id=user.id, organization_id=org.id, is_owner=True))
    record(user, org, "apply", to_state="pending")
    queue.commit()
    return org


def invite_member(actor, org, email):
    if not org.is_owner(actor):
        raise PermissionDenied(_("只有组织管理员可以邀请成员。"))
    from ..accounts.services import create_invitation

    return create_invitation(actor, email, organization=org)


def public_organizations(limit=None):
    query = select(Organization).where(Organization.status == "verified").order_by(Organization.name)
    return db.session.scalars(query.limit(limit)).all()


def latest_verified(limit=6):
    """The organisations verified last, newest first, as rows of (id, name, place): the home page's list."""
    return [(row.id, row.name, row.province + (row.prefecture or ""))
            for row in db.session.execute(_latest_verified(limit))]


@cache
def _latest_verified(limit):
    province, prefecture = aliased(Region), aliased(Region)  # rows, not Organization and Region objects
    return (select(Organization.id, Organization.name, province.name.label("province"),
                   prefecture.name.label("prefecture"))
            .join(province, province.code == Organization.province_code)
            .outerjoin(prefecture, prefecture.code == Organization.prefecture_code)
            .where(Organization.status == VerificationStatus.VERIFIED.value)
            .order_by(Organization.verified_at.desc()).limit(limit))
