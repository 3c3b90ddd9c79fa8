"""The recommendations page ranks exactly as the rule of DESIGN §4 says, on generated data: every open need's
tiers computed here in plain Python from the needs, rules and pledges (not from the copies the ranking reads),
sorted, and compared page by page with `recommend.needs_for`, for organisations whose pages come from every
kind of group (city and province pairings, a helper in the helped side's major region, no pairing, the
pairing table ignored, preferences, invitations, an NGO)."""
import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select

from tests import factories
from tests.matching.builders import ENSHI, HUOQIU, KAILI, YANJI, ZHAOJUE, ZHENXIONG, Places
from villageaid.extensions import db
from villageaid.matching import lifecycle as matching
from villageaid.matching import recommend, services
from villageaid.needs.models import Category, Need, Unit
from villageaid.pledges import lifecycle as pledges
from villageaid.pledges.models import ENDED_STATES, LIVE_STATES, Pledge
from villageaid.pledges.services import stale_village_helped
from villageaid.regions.models import Level, Region
from villageaid.regions.services import pad
from villageaid.timeutil import local_date_today

WENZHOU, NINGBO, HARBIN = pad("330300"), pad("330200"), pad("230100")
GUANGXI, GUANGZHOU = pad("450000"), pad("440100")


def _county_in(province):
    return db.session.scalar(select(Region.code).order_by(Region.code)
                             .where(Region.level == Level.COUNTY, Region.code.like(province[:2] + "%")))


def _generate(rng, places, counties, per_village=12):
    """Published needs (and some that are not open) of random category, unit, deadline and share in two villages
    of each county, inserted directly: the ranking reads rows, however they were made."""
    today, now = local_date_today(), datetime.now(timezone.utc)
    rows = []
    for county in counties:
        for name in ("东村", "西村"):
            village = places.village(county, name)
            poster = village.members[0].user
            for _n in range(per_village):
                unit = rng.choice(list(Unit)).value
                target = rng.choice([10, 100, 5_000_000])
                pledged = rng.choice([0, 0, target // 4, target // 2, target * 3 // 4, target])
                status = rng.choice(["published"] * 8 + ["draft", "fully_pledged"])
                rows.append({
                    "village_id": village.id, "province_code": village.province_code,
                    "prefecture_code": village.prefecture_code, "county_code": village.county_code,
                    "posted_by_id": poster.id, "category": rng.choice(list(Category)).value, "unit": unit,
                    "title": rng.choice(["扶贫车间缝纫工", "村小学图书角", "花椒烘干设备"]),
                    "job_title": rng.choice(["缝纫工", "电商主播", None]) if unit == "jobs" else None,
                    "target": target, "pledged": pledged, "pledged_permille": pledged * 1000 // target,
                    "deadline": today + timedelta(days=rng.choice([-3, 0, 5, 14, 15, 30, 45, 46, 90])),
                    "status": status, "published_at": now if status != "draft" else None,
                    "village_helped": False,  # deliberately unfilled: the pledges below must set it right
                })
    db.session.execute(insert(Need), rows)
    db.session.commit()


def _pledge_in(rng, places, counties):
    """Real pledges through the lifecycle in some villages; some given back, so those villages count as unhelped."""
    helper = factories.user("王爱心")
    from tests.pledges.builders import pledge_values

    made = []
    for county in counties:
        for name in ("东村", "西村"):
            if rng.random() < 0.5:
                need = places.need(county, village_name=name)  # a real ¥30,000 need in that village
                made.append(pledges.make_pledge(helper, need, pledge_values(100_000))[0])
    for pledge in made[::3]:
        pledges.cancel(helper, pledge)
    return made


def _tiers(org, pref, rules, invited, paired, helped, need, today):
    """Every tier of `need` for `org`, by the rule as DESIGN §4 words it."""
    direct = 2 if need.id in invited else 1 if need.village_id in paired else 0
    pairing = max([t for rule, t in rules if recommend.covers(rule, need.province_code, need.prefecture_code)],
                  default=0)
    if org.prefecture_code and need.prefecture_code == org.prefecture_code:
        proximity = 3
    elif need.province_code == org.province_code:
        proximity = 2
    else:
        proximity = 1 if need.province_code[0] == org.province_code[0] else 0  # the major region's digit
    fit = recommend.fit_of(org.industry, org.kind.value, need.category, need.unit)
    preference = 0
    if pref is not None:
        codes = set(pref.region_codes)
        preference += need.category in pref.categories
        preference += need.province_code in codes or need.prefecture_code in codes
        remaining = need.target - need.pledged
        preference += bool(pref.has_budget and need.unit == "cny_fen" and (pref.budget_min_fen or 0) <= remaining
                           <= (pref.budget_max_fen if pref.budget_max_fen is not None else remaining))
        preference += bool(need.unit == "jobs" and any(w in (need.job_title or "") or w in need.title
                                                       for w in pref.job_types))
    days = (need.deadline - today).days
    urgency = (2 if days <= 14 else 1 if days <= 45 else 0) + (need.pledged_permille < 500)
    fairness = 0 if need.village_id in helped else 1
    return {"direct": direct, "pairing": pairing, "proximity": proximity, "fit": fit, "preference": preference,
            "urgency": urgency, "fairness": fairness}


def _reference(org):
    """[(need id, tiers)] of every open need for `org`, best first, computed without the ranking's SQL."""
    today = local_date_today()
    profile = recommend.profile_of(org)
    live = {s.value for s in LIVE_STATES}
    rows = db.session.execute(select(Pledge.village_id, Pledge.need_id, Pledge.organization_id, Pledge.status)).all()
    helped = {p.village_id for p in rows if p.status in live}
    own = {p.need_id for p in rows if p.status in live and p.organization_id == org.id}
    ranked = []
    for need in db.session.scalars(select(Need)):
        if need.status != "published" or need.deadline < today or need.pledged >= need.target or need.id in own:
            continue
        tiers = _tiers(org, profile.preference, profile.rules, set(profile.invitations), profile.paired_village_ids,
                       helped, need, today)
        ranked.append((need.id, tiers))
    ranked.sort(key=lambda item: (*[-item[1][name] for name in recommend.TIERS], item[0]))
    return ranked


def _ranked_by_pages(org, per_page):
    items, page = [], 1
    while True:
        result = recommend.needs_for(org, page=page, per_page=per_page)
        items += [(r.need.id, r.tiers) for r in result.items]
        if not result.has_more:
            return items
        page += 1


def test_the_ranking_is_the_reference_rule_on_generated_data(any_app):
    rng = random.Random(2016)
    places = Places()
    counties = [ZHAOJUE, ENSHI, KAILI, ZHENXIONG, YANJI, HUOQIU, _county_in(GUANGXI), _county_in(pad("330000")),
                _county_in(pad("230000"))]
    _generate(rng, places, counties)
    made = _pledge_in(rng, places, counties)
    assert made and any(p.status in {s.value for s in ENDED_STATES} for p in made)
    assert db.session.scalar(select(func.count()).select_from(stale_village_helped().subquery())) == 0

    def org(province, prefecture, industry, kind="enterprise"):
        owner = factories.user()
        created = factories.organization(owner, province=province, prefecture=prefecture, kind=kind)
        created.industry = industry
        db.session.commit()
        return owner, created

    hangzhou = org(factories.ZHEJIANG, factories.HANGZHOU, "C")[1]     # city pairings (恩施, 黔东南) first
    wenzhou = org(factories.ZHEJIANG, WENZHOU, "A")[1]                  # its province's pairing (四川)
    ningbo = org(factories.ZHEJIANG, NINGBO, "P")[1]                    # its own city's and the province's
    guangzhou = org(factories.GUANGDONG, GUANGZHOU, "G")[1]            # helps 广西, in its own major region
    harbin = org(pad("230000"), HARBIN, "Q", kind="ngo")[1]             # no pairing: proximity decides
    owner, choosy = org(factories.ZHEJIANG, WENZHOU, "M")               # preferences of every kind
    services.save_preferences(owner, choosy, categories=["skills", "charity"], region_codes=[factories.YUNNAN],
                              budget_min_fen=0, budget_max_fen=4_000_000, job_types=["缝纫"])
    owner, loner = org(factories.ZHEJIANG, factories.HANGZHOU, "K")      # ignores the pairing table
    services.save_preferences(owner, loner, follow_pairing=False)
    invited = org(factories.ZHEJIANG, WENZHOU, "F")[1]                  # invited to two needs
    for need in db.session.scalars(select(Need).where(Need.status == "published", Need.deadline >= local_date_today(),
                                                      Need.pledged < Need.target).order_by(Need.id.desc()).limit(2)):
        matching.invite(need.village.members[0].user, need, invited)

    # Small pages stop reading early, within a band or a group; each organisation is walked by pages of
    # 7 or of 20 in turn (both for every one took a minute on the two databases, most of the suite's tail).
    for number, subject in enumerate((hangzhou, wenzhou, ningbo, guangzhou, harbin, choosy, loner, invited)):
        expected = _reference(subject)
        assert len(expected) > 50
        per_page = (7, 20)[number % 2]
        assert _ranked_by_pages(subject, per_page) == expected, (subject.prefecture_code, per_page)
