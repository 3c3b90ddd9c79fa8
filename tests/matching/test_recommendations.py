"""Recommendations follow the East-West pairing table, then proximity, fit, preferences, urgency and fairness,
and say why in the reader's language."""
import pytest
from flask_babel import force_locale

from tests import factories
from tests.matching.builders import ENSHI, HUOQIU, KAILI, YANJI, ZHAOJUE, ZHENXIONG, Places, job_fields
from villageaid.extensions import db
from villageaid.matching import recommend, services
from villageaid.regions.services import pad
from villageaid.timeutil import local_date_today

WENZHOU = pad("330300")  # a city of 浙江省 with no pairing of its own
NINGBO = pad("330200")


def _pledge(user, need, quantity, org=None):
    from tests.pledges.builders import pledge_values
    from villageaid.pledges import lifecycle as pledges

    values = pledge_values(quantity, organization_id=org.id if org else None)
    return pledges.make_pledge(user, need, values)[0]


def _ranked(org, **kwargs):
    return [r.need for r in recommend.needs_for(org, **kwargs).items]


def test_a_zhejiang_enterprise_first_gets_sichuan_needs(any_app):
    places = Places()
    others = [places.need(ZHENXIONG), places.need(HUOQIU), places.need(ENSHI), places.need(YANJI)]
    sichuan = [places.need(ZHAOJUE, village_name="团结村"), places.need(ZHAOJUE, village_name="新华村")]
    org = factories.organization(province=factories.ZHEJIANG, prefecture=WENZHOU)

    ranked = _ranked(org)
    assert {n.id for n in ranked[:2]} == {n.id for n in sichuan}
    assert {n.id for n in ranked[2:]} == {n.id for n in others}
    first = recommend.needs_for(org).items[0]
    assert "浙江省帮扶四川省 · 东西部扶贫协作" in [r.text for r in first.reasons]


def test_a_hangzhou_enterprise_gets_enshi_and_qiandongnan_before_other_places(any_app):
    places = Places()
    sichuan, yunnan, anhui = places.need(ZHAOJUE), places.need(ZHENXIONG), places.need(HUOQIU)
    enshi, qiandongnan = places.need(ENSHI), places.need(KAILI)
    org = factories.organization(province=factories.ZHEJIANG, prefecture=factories.HANGZHOU)

    ranked = _ranked(org)
    assert {n.id for n in ranked[:2]} == {enshi.id, qiandongnan.id}
    assert ranked[2].id == sichuan.id, "then the province's own pairing: 浙江省 helps 四川省"
    assert ranked[3].id == anhui.id, "then the same major region (华东)"
    assert ranked[4].id == yunnan.id
    texts = {r.need.id: [x.text for x in r.reasons] for r in recommend.needs_for(org).items}
    assert "杭州市帮扶恩施土家族苗族自治州 · 东西部扶贫协作" in texts[enshi.id]
    assert "杭州市帮扶黔东南苗族侗族自治州 · 东西部扶贫协作" in texts[qiandongnan.id]
    assert "同属华东地区" in texts[anhui.id]


def test_a_sister_city_of_the_province_ranks_after_the_province_and_its_own_city(any_app):
    """宁波市's own pairings (延边, 黔西南) first, then 浙江省's (四川省), then 杭州市's (恩施)."""
    places = Places()
    enshi, sichuan, yanji = places.need(ENSHI), places.need(ZHAOJUE), places.need(YANJI)
    org = factories.organization(province=factories.ZHEJIANG, prefecture=NINGBO)
    assert [n.id for n in _ranked(org)] == [yanji.id, sichuan.id, enshi.id]


def test_equal_candidates_are_ordered_never_helped_villages_first(any_app):
    places = Places()
    helped_before = places.need(ZHAOJUE, village_name="团结村", title="村卫生室基本医疗设备")
    helped = places.need(ZHAOJUE, village_name="团结村")
    never = places.need(ZHAOJUE, village_name="新华村")
    org = factories.organization(province=factories.ZHEJIANG, prefecture=WENZHOU)
    # With nobody helped, equal candidates come in need order.
    assert [n.id for n in _ranked(org)] == [helped_before.id, helped.id, never.id]

    _pledge(factories.user("王爱心"), helped_before, 100_000)  # someone pledged to another need of 团结村
    ranked = recommend.needs_for(org).items
    assert [r.need.id for r in ranked] == [never.id, helped_before.id, helped.id]
    assert "该村尚无帮扶方" in [x.text for x in ranked[0].reasons]
    assert "该村尚无帮扶方" not in [x.text for x in ranked[2].reasons]


def test_fit_and_preferences_order_needs_within_a_region(any_app):
    places = Places()
    charity = places.need(ZHAOJUE)
    jobs = places.need(ZHAOJUE, **job_fields())
    owner = factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU)  # industry C: jobs fit
    assert [n.id for n in _ranked(org)] == [jobs.id, charity.id]
    assert any(r.code == "fit" for r in recommend.needs_for(org).items[0].reasons)

    # A stated preference for charity does not outweigh the industry fit ...
    services.save_preferences(owner, org, categories=["charity"])
    assert [n.id for n in _ranked(org)] == [jobs.id, charity.id]
    # ... but decides between needs that fit equally.
    other = places.need(ZHAOJUE, title="村小学图书角", description="为村小学图书角购买少儿读物和书架，惠及全校学生。")
    assert [n.id for n in _ranked(org)] == [jobs.id, charity.id, other.id]
    services.save_preferences(owner, org, budget_min_fen=0, budget_max_fen=1_000_000, job_types=[])
    db.session.refresh(other)
    assert other.target > 1_000_000  # neither fits the budget
    assert "在预算范围内" not in [x.text for r in recommend.needs_for(org).items for x in r.reasons]


def test_an_organisation_can_ignore_the_pairing_table(any_app):
    places = Places()
    sichuan, anhui = places.need(ZHAOJUE), places.need(HUOQIU)
    owner = factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU)
    assert [n.id for n in _ranked(org)] == [sichuan.id, anhui.id]
    services.save_preferences(owner, org, follow_pairing=False)
    assert [n.id for n in _ranked(org)] == [anhui.id, sichuan.id], "proximity decides now"


def test_urgency_ranks_near_deadlines_and_open_shares_first(any_app):
    places = Places()
    later = places.need(ZHAOJUE, days=120)
    half = places.need(ZHAOJUE, days=120, pledged=2_000_000)
    soon = places.need(ZHAOJUE, days=5, pledged=2_000_000)
    org = factories.organization(province=factories.ZHEJIANG, prefecture=WENZHOU)
    ranked = recommend.needs_for(org).items
    assert [r.need.id for r in ranked] == [soon.id, later.id, half.id]
    assert "还有 5 天截止" in [x.text for x in ranked[0].reasons]


def test_only_open_needs_are_recommended(any_app):
    places = Places()
    open_need = places.need(ZHAOJUE)
    full = places.need(ZHAOJUE, pledged=3_000_000)
    from tests.needs.builders import World, build

    world = World()
    draft = build(world, "draft")
    org = factories.organization(province=factories.ZHEJIANG, prefecture=WENZHOU)
    ids = [n.id for n in _ranked(org)]
    assert open_need.id in ids and full.id not in ids and draft.id not in ids


def test_the_ranking_is_deterministic_and_pages_do_not_overlap(any_app):
    places = Places()
    for county in (ZHAOJUE, ENSHI, KAILI, ZHENXIONG, HUOQIU):
        for n in range(3):
            places.need(county, village_name=f"{n}号村")
    org = factories.organization(province=factories.ZHEJIANG, prefecture=factories.HANGZHOU)
    whole = [n.id for n in _ranked(org, per_page=15)]
    assert whole == [n.id for n in _ranked(org, per_page=15)]
    pages = [recommend.needs_for(org, page=p, per_page=4) for p in (1, 2, 3, 4)]
    assert [r.need.id for p in pages for r in p.items] == whole
    assert [p.has_more for p in pages] == [True, True, True, False]


def test_each_need_on_a_page_gets_its_own_reasons_though_the_page_words_them_once(any_app):
    """A page words a reason once and gives it to every need it fits: each need's reasons are still
    the ones it would get alone (its days left, its place, its fit, whether it is pledged or helped)."""
    places = Places()
    needs = [places.need(ZHAOJUE, days=5), places.need(ZHAOJUE, days=9, pledged=2_000_000),
             places.need(ZHAOJUE, village_name="新华村", days=5, **job_fields()), places.need(ENSHI, days=120),
             places.need(KAILI, days=9), places.need(HUOQIU), places.need(YANJI, pledged=100_000)]
    _pledge(factories.user("王爱心"), needs[-1], 100_000)
    owner = factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=factories.HANGZHOU)
    services.save_preferences(owner, org, categories=["charity"], region_codes=[pad("510000")])

    page = recommend.needs_for(org)
    profile = recommend.profile_of(org)
    alone = {r.need.id: [(x.code, x.text) for x in recommend.need_reasons(profile, r.need, r.tiers, local_date_today())]
             for r in page.items}
    assert {r.need.id: [(x.code, x.text) for x in r.reasons] for r in page.items} == alone
    assert len({tuple(texts) for texts in alone.values()}) == len(needs), "no two needs here share all their reasons"
    said = {x.text for r in page.items for x in r.reasons}
    assert {"还有 5 天截止", "还有 9 天截止", "同属华东地区", "行业契合：制造业 · 就业", "过半尚未认捐",
            "杭州市帮扶恩施土家族苗族自治州 · 东西部扶贫协作", "浙江省帮扶四川省 · 东西部扶贫协作"} <= said


def test_the_listed_page_shows_what_the_needs_themselves_say(any_app):
    """The recommendations page reads its needs as rows (ListedNeed), not Needs: on the first page, read
    with the ranking, and on a later one, read by id, each shows the same title, figures, place and
    reasons as the Need, a municipality's village (no prefecture between 重庆市 and 万州区) included."""
    places = Places()
    places.need(ZHAOJUE, days=5)
    places.need(pad("500101"), village_name="重庆的村", pledged=2_000_000)
    places.need(ENSHI, **job_fields())
    places.need(HUOQIU, days=9)
    org = factories.organization(province=factories.ZHEJIANG, prefecture=factories.HANGZHOU)

    def shown(items):
        return [(n.id, n.title, n.category_label, n.unit, n.target, n.pledged, n.remaining, n.deadline,
                 n.village.name, n.village.place_name, [(x.code, x.text) for x in r.reasons])
                for r in items for n in [r.need]]

    for page, per_page in ((1, 4), (2, 2)):
        listed = recommend.needs_for(org, page=page, per_page=per_page, listed=True).items
        assert all(isinstance(r.need, recommend.ListedNeed) for r in listed)
        assert shown(listed) == shown(recommend.needs_for(org, page=page, per_page=per_page).items)
    places_shown = [r.need.village.place_name for r in recommend.needs_for(org, listed=True).items]
    assert "重庆市万州区测试镇" in places_shown


def test_reasons_follow_the_readers_language(app):
    places = Places()
    places.need(ZHAOJUE)
    org = factories.organization(province=factories.ZHEJIANG, prefecture=WENZHOU)
    with force_locale("en"):
        english = [x.text for x in recommend.needs_for(org).items[0].reasons]
    chinese = [x.text for x in recommend.needs_for(org).items[0].reasons]
    assert "浙江省帮扶四川省 · 东西部扶贫协作" in chinese and "该村尚无帮扶方" in chinese
    assert len(english) == len(chinese)
    assert not any(text in english for text in ("浙江省帮扶四川省 · 东西部扶贫协作", "该村尚无帮扶方", "尚无人认捐"))
    assert any("浙江省" in text and "四川省" in text for text in english), "place names stay, the words around them change"


@pytest.mark.parametrize("industry,kind,category,unit,expected", [
    ("C", "enterprise", "employment", "jobs", 3),
    ("C", "enterprise", "charity", "cny_fen", 0),
    ("A", "enterprise", "consumption", "goods", 3),
    ("S", "ngo", "volunteering", "volunteer_hours", 3),
    ("K", "enterprise", "charity", "cny_fen", 3),
    ("I", "enterprise", "skills", "cny_fen", 2),
])
def test_fit_of_industry_and_need(industry, kind, category, unit, expected):
    assert recommend.fit_of(industry, kind, category, unit) == expected


def test_a_village_helped_only_by_a_pledge_that_was_given_back_counts_as_never_helped(any_app):
    places = Places()
    first = places.need(ZHAOJUE, village_name="团结村")
    second = places.need(ZHAOJUE, village_name="新华村")
    org = factories.organization(province=factories.ZHEJIANG, prefecture=WENZHOU)
    donor = factories.user("王爱心")
    pledged_to = places.need(ZHAOJUE, village_name="团结村", title="村卫生室基本医疗设备")
    pledge = _pledge(donor, pledged_to, 100_000)
    assert [n.id for n in _ranked(org)] == [second.id, first.id, pledged_to.id]
    from villageaid.pledges import lifecycle as pledges

    pledges.cancel(donor, pledge, "预算调整")
    assert [n.id for n in _ranked(org)] == [first.id, second.id, pledged_to.id]


def test_needs_the_organisation_already_pledged_to_are_left_out(any_app):
    places = Places()
    need, other = places.need(ZHAOJUE), places.need(ZHAOJUE, village_name="新华村")
    owner = factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU)
    _pledge(owner, need, 100_000, org=org)
    assert [n.id for n in _ranked(org)] == [other.id]


def test_organisations_for_a_need_follow_the_same_order(any_app):
    places = Places()
    need = places.need(ENSHI)
    local = factories.organization(province=pad("420000"), prefecture=pad("422800"), name="恩施本地有限公司")
    sister = factories.organization(province=factories.ZHEJIANG, prefecture=NINGBO, name="宁波甲有限公司")
    hangzhou = factories.organization(province=factories.ZHEJIANG, prefecture=factories.HANGZHOU, name="杭州甲有限公司")
    wuhan = factories.organization(province=pad("420000"), prefecture=pad("420100"), name="武汉甲有限公司")
    far = factories.organization(province=factories.GUANGDONG, prefecture=None, name="广东甲有限公司")
    factories.organization(province=factories.ZHEJIANG, prefecture=factories.HANGZHOU, status="pending")
    ranked = [r.organization for r in recommend.organizations_for(need)]
    assert [o.id for o in ranked] == [hangzhou.id, sister.id, local.id, wuhan.id, far.id]
    reasons = [x.text for x in recommend.organizations_for(need)[0].reasons]
    assert "杭州市帮扶恩施土家族苗族自治州 · 东西部扶贫协作" in reasons

    # One that asked not to follow the table is ranked by proximity (广东 shares 湖北's 中南 region, 浙江 does not);
    # one already invited is left out.
    services.save_preferences(hangzhou.memberships[0].user, hangzhou, follow_pairing=False)
    from villageaid.matching import lifecycle

    lifecycle.invite(need.village.members[0].user, need, sister)
    assert [r.organization.id for r in recommend.organizations_for(need)] == [local.id, wuhan.id, far.id, hangzhou.id]


def test_stated_preferences_raise_an_organisation_among_equals(any_app):
    places = Places()
    need = places.need(ZHAOJUE)
    plain = factories.organization(province=factories.ZHEJIANG, prefecture=WENZHOU, name="温州甲有限公司")
    owner = factories.user()
    keen = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU, name="温州乙有限公司")
    assert [r.organization.id for r in recommend.organizations_for(need)] == [plain.id, keen.id]
    services.save_preferences(owner, keen, categories=["charity"], region_codes=[factories.LIANGSHAN])
    ranked = recommend.organizations_for(need)
    assert [r.organization.id for r in ranked] == [keen.id, plain.id]
    assert ranked[0].tiers["preference"] == 2


def test_the_ranking_statements_kept_for_an_organisation_shape_follow_its_invitations_pairings_and_pledges(any_app):
    """The ranking's statements are kept per process, keyed by what they are built from: an organisation's
    next request reuses them, and a new invitation or pairing is a new key, never a stale order."""
    from tests.matching.builders import PLAN
    from villageaid.matching import lifecycle
    from villageaid.timeutil import local_date_today

    places = Places()
    first = places.need(ZHAOJUE, village_name="团结村")
    second = places.need(ZHAOJUE, village_name="新华村")
    third = places.need(ZHAOJUE, village_name="光明村")
    owner, other_owner = factories.user(), factories.user()
    org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=WENZHOU)
    twin = factories.organization(other_owner, province=factories.ZHEJIANG, prefecture=WENZHOU)  # the same shape
    recommend._plans.clear()  # what earlier tests left (the same ids, in another database)
    assert [n.id for n in _ranked(org)] == [first.id, second.id, third.id]
    plans = len(recommend._plans)
    assert plans == 1
    # The twin reuses the plan, with its own pledges left out (a bind parameter, not part of the plan).
    _pledge(other_owner, first, 100_000, org=twin)
    assert [n.id for n in _ranked(twin)] == [second.id, third.id]
    # (团结村 now has a helper: its need comes after those of villages that have none.)
    assert [n.id for n in _ranked(org)] == [second.id, third.id, first.id]
    assert len(recommend._plans) == plans

    lifecycle.invite(third.village.members[0].user, third, org)
    assert [n.id for n in _ranked(org)] == [third.id, second.id, first.id], "invited first"
    assert [n.id for n in _ranked(twin)] == [second.id, third.id], "the twin was not invited"
    pairing = lifecycle.propose_pairing(owner, org, first.village, plan=PLAN, start_date=local_date_today())
    lifecycle.accept_pairing(first.village.members[0].user, pairing)
    assert [n.id for n in _ranked(org)] == [third.id, first.id, second.id], "then the paired village"
    assert len(recommend._plans) == plans + 2


def test_the_ranking_keeps_at_most_ranking_plans(any_app, monkeypatch):
    monkeypatch.setattr(recommend, "RANKING_PLANS", 2)
    recommend._plans.clear()  # earlier tests' plans: with the same ids, these organisations could reuse them
    places = Places()
    need = places.need(ZHAOJUE)
    for prefecture in (WENZHOU, NINGBO, factories.HANGZHOU):
        org = factories.organization(province=factories.ZHEJIANG, prefecture=prefecture)
        assert [n.id for n in _ranked(org)] == [need.id]
    assert len(recommend._plans) == 2  # three shapes (one prefecture each), the oldest dropped
