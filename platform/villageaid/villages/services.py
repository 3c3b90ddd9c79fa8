"""Registering a village and its committee."""
from flask_babel import gettext as _
from functools import cache

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .. import queue
from ..audit.services import record
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..verification import VerificationStatus
from ..regions import services as regions
from ..regions.models import Level, Region
from ..regions.services import division_name
from .models import POVERTY_CAUSES, Village, VillageMember, place_name


def validate_facts(households, poor_households, poor_population):
    errors = {}
    if households is None or households < 1:
        errors["households"] = _("户数应为正整数。")
    if poor_households is None or poor_households < 0:
        errors["poor_households"] = _("贫困户数不能为负数。")
    elif households and poor_households > households:
        errors["poor_households"] = _("贫困户数不能超过总户数。")
    if poor_population is None or poor_population < 0:
        errors["poor_population"] = _("贫困人口不能为负数。")
    elif poor_households is not None and poor_population < poor_households:
        errors["poor_population"] = _("贫困人口不能少于贫困户数。")
    return errors


def _ensure_township(county, township_code, township_name):
    township = db.session.get(Region, township_code)
    if township is None:
        township = Region(code=township_code, name=township_name, level=Level.TOWNSHIP, parent_code=county.code)
        db.session.add(township)
    return township


def register_village(user, *, county_code, township_name, name, code, households, poor_households,
                     poor_population, poverty_causes=(), industries=None, description=None, title="村委会成员"):
    """Apply to register a village; the registrant becomes its first committee member."""
    code = (code or "").strip()
    county = regions.get(county_code)
    errors = validate_facts(households, poor_households, poor_population)
    if county is None or county.level != Level.COUNTY:
        errors["county_code"] = _("请选择区县。")
    if not (code.isdigit() and len(code) == 12):
        errors["code"] = _("村级区划代码应为 12 位数字。")
    elif county is not None and not code.startswith(county.code[:6]):
        errors["code"] = _("区划代码前 6 位应与所选区县（%(county)s）一致。", county=county.code[:6])
    elif db.session.scalar(select(Village.id).where(Village.code == code)):
        errors["code"] = _("该村已注册。请联系村委会邀请您加入。")
    unknown = set(poverty_causes) - set(POVERTY_CAUSES)
    if unknown:
        errors["poverty_causes"] = _("未知的致贫原因：%(causes)s", causes="、".join(sorted(unknown)))
    if errors:
        raise ServiceError(_("请更正标出的项目。"), fields=errors)
    _ensure_township(county, code[:9] + "000", township_name.strip())
    prefecture = regions.get(county.parent_code)
    province_code = county.code[:2] + "0000000000"
    village = Village(
        code=code, name=name.strip(), township_name=township_name.strip(), county_code=county.code,
        prefecture_code=prefecture.code, province_code=province_code, households=households,
        poor_households=poor_households, poor_population=poor_population,
        poverty_causes=list(poverty_causes), industries=industries, description=description,
        created_by_id=user.id,
    )
    db.session.add(village)
    db.session.flush()
    if db.session.get(Region, code) is None:
        db.session.add(Region(code=code, name=village.name, level=Level.VILLAGE, parent_code=code[:9] + "000"))
    db.session.add(VillageMember(user_id=user.id, village_id=village.id, title=title))
    record(user, village, "apply", to_state="pending")
    queue.commit()
    return village


def invite_member(actor, village, email, title=None):
    if not village.is_member(actor):
        raise PermissionDenied(_("只有本村村委会成员可以邀请成员。"))
    from ..accounts.services import create_invitation

    return create_invitation(actor, email, village=village, title=title)


def pairing_partners(village, helpers_per_partner=5):
    """The village's East-West pairing partners, each with the verified helpers registered there.

    Returns [(pairing, region or None, [Organization], count of verified helpers there)].
    """
    from ..organizations.models import Organization
    from ..regions import pairing
    partners = []
    for row in pairing.partners_of(village.province_name, division_name(village.prefecture_code)):
        region = pairing.helper_region(row)
        helpers, count = [], 0
        if region is not None:
            column = Organization.province_code if region.level == Level.PROVINCE else Organization.prefecture_code
            where = (column == region.code, Organization.status == VerificationStatus.VERIFIED.value)
            count = db.session.scalar(select(func.count()).select_from(Organization).where(*where))
            helpers = db.session.scalars(select(Organization).where(*where)
                                         .order_by(Organization.verified_at.desc(), Organization.id)
                                         .limit(helpers_per_partner)).all()
        partners.append((row, region, helpers, count))
    return partners


def latest_verified(limit=6):
    """The villages verified last, newest first, as rows of (id, name, place): what the home page lists."""
    rows = db.session.execute(_latest_verified(limit)).all()
    return [(row.id, row.name, place_name(row.province, row.prefecture if row.prefecture_code != row.province_code
                                          else None, row.county, row.township_name)) for row in rows]


@cache
def _latest_verified(limit):
    # Columns, not villages: loading six Village objects with their three Region objects each cost
    # the home page more than the rest of its SELECTs.
    province, prefecture, county = aliased(Region), aliased(Region), aliased(Region)
    return (select(Village.id, Village.name, Village.township_name, Village.province_code, Village.prefecture_code,
                   province.name.label("province"), prefecture.name.label("prefecture"), county.name.label("county"))
            .join(province, province.code == Village.province_code)
            .join(prefecture, prefecture.code == Village.prefecture_code)
            .join(county, county.code == Village.county_code)
            .where(Village.status == VerificationStatus.VERIFIED.value)
            .order_by(Village.verified_at.desc()).limit(limit))
