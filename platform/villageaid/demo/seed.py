"""`flask demo seed`: villages in the western prefectures of the East-West pairing table, helpers in
their eastern partner provinces and cities, curators and an admin. Idempotent: every record is
looked up by a natural key (e-mail, credit code, village code) before it is created.
"""
from sqlalchemy import func, select

from ..accounts import services as accounts
from ..accounts.models import Role, User
from ..curation import services as curation
from ..extensions import db
from ..organizations import services as organizations
from ..organizations.models import Membership, Organization
from ..organizations.uscc import check_character
from ..regions import pairing
from ..regions import services as regions
from ..regions.models import Level, Region
from ..regions.services import load_national_divisions
from ..villages import services as villages
from ..villages.models import Village

PASSWORD = "demo-pass-2026"

VILLAGE_NAMES = ["团结村", "新华村", "红星村", "光明村", "和平村", "幸福村", "民族村", "新民村", "胜利村", "前进村",
                 "向阳村", "富民村", "双河村", "石门村", "青山村", "龙泉村", "永安村", "太平村", "长坪村", "高峰村"]
INDUSTRIES = ["花椒、核桃", "茶叶、乡村旅游", "马铃薯、苦荞", "中药材", "肉牛养殖", "蜂蜜、香菇", "柑橘、刺绣", "高山蔬菜"]
CAUSES = [["缺技术", "缺资金"], ["因病", "缺劳力"], ["交通条件落后", "缺水"], ["因学", "缺技术"]]

ENTERPRISE_WORDS = ["电子科技", "食品", "建设集团", "纺织", "物流", "新材料", "农业发展", "医药", "电器", "网络科技"]
NGO_WORDS = ["乡村振兴基金会", "慈善总会"]
INDUSTRY_FOR = {"电子科技": "C", "食品": "C", "建设集团": "E", "纺织": "C", "物流": "G", "新材料": "C",
                "农业发展": "A", "医药": "C", "电器": "C", "网络科技": "I"}


def has_users():
    return bool(db.session.scalar(select(func.count()).select_from(User)))


def _user(email, name, *, roles=(), curator_region=None, consent=False):
    user = accounts.find_by_email(email)
    if user is None:
        user = accounts.register(email, name, PASSWORD, locale="zh_CN", public_name_consent=consent)
        from ..timeutil import utcnow

        user.email_verified_at = utcnow()
    for role in roles:
        accounts.grant(user, role, curator_region if role == Role.CURATOR else None)
    db.session.commit()
    return user


def _region_by_name(name, parent_code=None, level=None):
    query = select(Region).where(Region.name == name)
    if parent_code:
        query = query.where(Region.parent_code == parent_code)
    if level:
        query = query.where(Region.level == level)
    return db.session.scalars(query.order_by(Region.code)).first()


def _credit_code(serial, province_code):
    body = "91" + province_code[:6] + f"MA{serial:07d}"
    return body + check_character(body)


def seed():
    """Build or complete the demo site; returns counts of what exists afterwards."""
    from ..search.services import held_indexing

    with held_indexing():  # one index write per kind at the end, not one per commit
        return _seed()


def _seed():
    load_national_divisions()
    db.session.commit()
    admin = _user("admin@demo.villageaid.cn", "平台管理员", roles=[Role.ADMIN])
    national = _user("curator@demo.villageaid.cn", "全国工商联审核员", roles=[Role.CURATOR])
    rows = pairing.rows()
    curators = {}
    western_prefectures = []
    for row in rows:
        province = _region_by_name(row.helped_province, level=Level.PROVINCE)
        if province is None:
            continue
        if row.helped_prefecture:
            prefecture = _region_by_name(row.helped_prefecture, province.code)
            if prefecture is not None:
                western_prefectures.append((province, prefecture))
    # Regional curators: one per western province that has demo villages.
    for index, province in enumerate(sorted({p.code: p for p, _ in western_prefectures}.values(), key=lambda r: r.code)):
        curators[province.code] = _user(f"curator-{province.code[:2]}@demo.villageaid.cn", f"{province.name}工商联审核员",
                                        roles=[Role.CURATOR], curator_region=province.code)

    seen_prefectures = []
    for province, prefecture in western_prefectures:
        if prefecture.code not in [p.code for p in seen_prefectures]:
            seen_prefectures.append(prefecture)
    village_count = 0
    for p_index, prefecture in enumerate(seen_prefectures):
        counties = db.session.scalars(select(Region).where(Region.parent_code == prefecture.code).order_by(Region.code)).all()
        for c_index, county in enumerate(counties[:2]):
            village_count += 1
            serial = p_index * 2 + c_index
            code = county.code[:6] + "101" + f"{200 + serial:03d}"
            name = VILLAGE_NAMES[serial % len(VILLAGE_NAMES)]
            leader = _user(f"village-{code}@demo.villageaid.cn", f"{county.name}{name}村委会主任")
            village = db.session.scalar(select(Village).where(Village.code == code))
            if village is None:
                village = villages.register_village(
                    leader, county_code=county.code, township_name=f"{county.name[:2]}镇", name=name, code=code,
                    households=180 + serial * 7, poor_households=40 + serial, poor_population=120 + serial * 3,
                    poverty_causes=CAUSES[serial % len(CAUSES)], industries=INDUSTRIES[serial % len(INDUSTRIES)],
                    description=f"{name}位于{county.name}，以{INDUSTRIES[serial % len(INDUSTRIES)]}为主要产业。",
                    title="村委会主任",
                )
            if village.status == "pending":
                curation.decide(curators.get(village.province_code) or national, village, "verified")

    org_count = 0
    helpers = [(r.helper_province, r.helper_city or "") for r in rows]
    unique_helpers = list(dict.fromkeys(helpers))
    for index, (province_name, city_name) in enumerate(unique_helpers * 2):
        province = _region_by_name(province_name, level=Level.PROVINCE)
        city = _region_by_name(city_name, province.code) if city_name else None
        word = ENTERPRISE_WORDS[index % len(ENTERPRISE_WORDS)]
        place = (city.name if city else province.name).removesuffix("市").removesuffix("省")
        is_ngo = index % 7 == 6
        ngo_word = NGO_WORDS[(index // len(unique_helpers)) % len(NGO_WORDS)]
        name = f"{place}{ngo_word if is_ngo else '万众' + word + '有限公司'}"
        org_count += 1
        code = _credit_code(1000 + index, province.code) if not is_ngo else "53" + province.code[:6] + f"MJ{index:07d}"
        if is_ngo:
            code = code + check_character(code)
        owner = _user(f"org-{index + 1:02d}@demo.villageaid.cn", f"{name[:6]}联络人")
        org = db.session.scalar(select(Organization).where(Organization.credit_code == code))
        if org is None:
            org = organizations.register_organization(
                owner, kind="ngo" if is_ngo else "enterprise", name=name, credit_code=code,
                industry="S" if is_ngo else INDUSTRY_FOR[word], province_code=province.code,
                prefecture_code=city.code if city else None, size="medium", contact_name="张经理",
                contact_phone="0571-88886666", description=f"{name}积极参与万企帮万村行动。",
            )
        if org.status == "pending":
            curation.decide(national, org, "verified")
    # One application waiting in the queue and one rejected, so the console has work to show.
    zhejiang = _region_by_name("浙江省", level=Level.PROVINCE)
    for email, name, serial, outcome in (("pending-org@demo.villageaid.cn", "杭州待审电子商务有限公司", 9001, None),
                                         ("rejected-org@demo.villageaid.cn", "宁波资料不全贸易有限公司", 9002, "营业执照照片不清晰，请重新上传后提交。")):
        owner = _user(email, name[:4] + "联络人")
        code = _credit_code(serial, zhejiang.code)
        org = db.session.scalar(select(Organization).where(Organization.credit_code == code))
        if org is None:
            hangzhou = _region_by_name("杭州市", zhejiang.code)
            org = organizations.register_organization(
                owner, kind="enterprise", name=name, credit_code=code, industry="F", province_code=zhejiang.code,
                prefecture_code=hangzhou.code, size="small", contact_name="李女士", contact_phone="0571-66668888",
            )
            if outcome:
                curation.decide(national, org, "rejected", outcome)
    _user("donor@demo.villageaid.cn", "王爱心", consent=True)
    _user("donor2@demo.villageaid.cn", "匿名捐赠者")
    zj_curator = _user("curator-33@demo.villageaid.cn", "浙江省工商联审核员", roles=[Role.CURATOR], curator_region=zhejiang.code)
    del admin, zj_curator
    from ..needs.demo import seed_needs

    needs = seed_needs(national)
    from ..pledges.demo import seed_pledges

    pledges = seed_pledges(national)
    from ..articles.demo import seed_articles
    from ..reports.demo import seed_reports

    articles = seed_articles(national, curators.get(regions.pad("510000")))
    report_cases = seed_reports([*curators.values(), national])
    from ..matching.demo import seed_matching

    matching = seed_matching()
    from ..spotchecks.demo import seed_spot_checks

    spot_checks = seed_spot_checks([*curators.values(), national])
    from ..honor_roll.demo import seed_honor_rolls

    # After the spot checks: a delivery they reopen no longer counts, and the rolls are computed from that.
    honor_rolls = seed_honor_rolls()
    return {
        "villages": db.session.scalar(select(func.count()).select_from(Village)),
        "needs": needs,
        "pledges": pledges,
        "articles": articles,
        "report_cases": report_cases,
        "honor_rolls": honor_rolls,
        "spot_checks": spot_checks,
        "organizations": db.session.scalar(select(func.count()).select_from(Organization)),
        "users": db.session.scalar(select(func.count()).select_from(User)),
        **matching,
    }


def demo_accounts():
    """Every demo account: e-mail, password, roles, organisation and villages."""
    users = db.session.scalars(select(User).where(User.email.like("%@demo.villageaid.cn")).order_by(User.id)).all()
    rows = []
    for user in users:
        orgs = [m.organization for m in db.session.scalars(select(Membership).where(Membership.user_id == user.id))]
        scope_names = [regions.get(s).name if s else "全国" for s in user.curator_scopes]
        description = "；".join(
            [f"{o.name}（{o.status}）" for o in orgs] + [v.name for v in user.villages]
            + [f"审核员：{n}" for n in scope_names]
        )
        rows.append({
            "email": user.email, "password": PASSWORD, "name": user.name, "roles": user.role_names(),
            "organization_id": orgs[0].id if orgs else None, "organization_ids": [o.id for o in orgs],
            "village_ids": [v.id for v in user.villages], "curator_scopes": user.curator_scopes,
            "description": description,
        })
    return rows
