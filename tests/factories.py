"""Factories for the domain objects, built through the same services users go through."""
import itertools

from villageaid.accounts import services as accounts
from villageaid.accounts.models import Role
from villageaid.curation import services as curation
from villageaid.extensions import db
from villageaid.organizations import services as organizations
from villageaid.organizations.uscc import check_character
from villageaid.regions.services import pad
from villageaid.villages import services as villages

PASSWORD = "password-123"
_serial = itertools.count(1)

# Real divisions used across the tests.
SICHUAN = pad("510000")
LIANGSHAN = pad("513400")
ZHAOJUE = pad("513431")
YUNNAN = pad("530000")
ZHAOTONG = pad("530600")
ZHENXIONG = pad("530627")
ZHEJIANG = pad("330000")
HANGZHOU = pad("330100")
GUANGDONG = pad("440000")


def user(name=None, *, roles=(), region=None, email=None, verified_email=True):
    n = next(_serial)
    u = accounts.register(email or f"user{n}@example.cn", name or f"测试用户{n}", PASSWORD)
    for role in roles:
        accounts.grant(u, role, region if role in (Role.CURATOR, "curator") else None)
    if verified_email:
        from villageaid.timeutil import utcnow

        u.email_verified_at = utcnow()
    db.session.commit()
    return u


def curator(region=None):
    return user(roles=[Role.CURATOR], region=region)


def admin():
    return user(roles=[Role.ADMIN])


def credit_code(province=ZHEJIANG, serial=None):
    body = "91" + province[:6] + f"MA{serial or next(_serial):07d}"
    return body + check_character(body)


def organization(owner=None, *, status="verified", province=ZHEJIANG, prefecture=HANGZHOU, kind="enterprise", name=None):
    owner = owner or user()
    org = organizations.register_organization(
        owner, kind=kind, name=name or f"测试企业{next(_serial)}有限公司", credit_code=credit_code(province),
        industry="C", province_code=province, prefecture_code=prefecture, size="medium",
        contact_name="张三", contact_phone="0571-88886666",
    )
    _settle(org, status)
    return org


def village(member=None, *, status="verified", county=ZHAOJUE, name=None):
    member = member or user()
    n = next(_serial)
    v = villages.register_village(
        member, county_code=county, township_name="测试镇", name=name or f"测试{n}村",
        code=county[:6] + "101" + f"{n % 1000:03d}", households=200, poor_households=50, poor_population=150,
        poverty_causes=["缺技术"], industries="花椒",
    )
    _settle(v, status)
    return v


def _settle(obj, status):
    if status == "pending":
        return
    national = user(roles=[Role.CURATOR])
    curation.decide(national, obj, status, reason="资料不全" if status == "rejected" else None)
