"""Needs in the search index: what a visitor types and finds, filters and sorts, and an index that
follows every change of a need (lifecycle, pledges, its village) only once it is committed."""
import re
import time
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import delete

from tests import factories
from tests.needs.builders import S, World, backdate, set_pledged, values
from villageaid import queue
from villageaid.extensions import db
from villageaid.needs import lifecycle, screening, services
from villageaid.needs.models import Need
from villageaid.queue import OutboxJob
from villageaid.search import services as search
from villageaid.timeutil import local_date_today

CARD = re.compile(r'data-need-id="(\d+)"')


def days(n):
    return local_date_today() + timedelta(days=n)


def found(q, **kwargs):
    """Ids of the needs a query finds (one page is enough here)."""
    return {item["obj_id"] for item in search.query(q, kinds=["need"], per_page=100, **kwargs).items}


def order(q="", **kwargs):
    return [item["obj_id"] for item in search.query(q, kinds=["need"], per_page=100, **kwargs).items]


def document(need):
    (item,) = [i for i in search.query("", kinds=["need"], per_page=100).items if i["obj_id"] == need.id]
    return item


class Needs:
    """Four published needs in two places, and a draft; every one made through the lifecycle.

    三河村 (四川省 凉山州 昭觉县): 花椒 to sell, coal for the school.
    大湾村 (云南省 昭通市 镇雄县): factory jobs, iPads for the school.
    """

    def __init__(self):
        screening.install_default_rules()
        db.session.commit()
        self.curator = factories.curator()  # national: reviews both provinces
        self.sanhe_member, self.dawan_member = factories.user(), factories.user()
        self.sanhe = factories.village(self.sanhe_member, name="三河村")
        self.dawan = factories.village(self.dawan_member, county=factories.ZHENXIONG, name="大湾村")
        self.pepper = self.publish(
            self.sanhe_member, self.sanhe, category="consumption", unit="goods", title="三河村花椒滞销求助",
            description="三河村种植花椒1200亩，今年丰收约8万斤，受物流限制滞销。希望企业以购代捐，帮助建档立卡户增收。",
            goods_item="干花椒 8 万斤", target=80_000, households=80, people=300, poor_people=100, deadline=days(60))
        self.coal = self.publish(self.sanhe_member, self.sanhe, deadline=days(30))  # 村小学冬季取暖用煤, 120 people
        self.jobs = self.publish(
            self.dawan_member, self.dawan, category="employment", unit="jobs", title="电子厂普工招聘",
            description="东莞电子厂招聘普工 20 人，包吃住，月薪 4500 元以上，优先录用建档立卡贫困户劳动力。",
            target=20, job_title="电子厂普工", wage_min_fen=450_000, wage_max_fen=600_000, work_location="广东省东莞市",
            job_start_date=days(10), households=20, people=20, poor_people=20, deadline=days(20))
        self.tablets = self.publish(
            self.dawan_member, self.dawan, category="charity", unit="goods", title="村小学 iPad 教学设备捐赠",
            description="为大湾村小学捐赠 iPad 10 台，用于 APP 英语教学和在线课程。", goods_item="iPad 平板电脑 10 台",
            target=10, households=60, people=150, poor_people=50, deadline=days(45))
        self.draft = services.create_need(self.sanhe_member, self.sanhe,
                                          values(title="核桃加工设备", description="购买核桃脱壳机一台，帮助村民加工核桃。"))

    def publish(self, member, village, **overrides):
        need = services.create_need(member, village, values(**overrides))
        lifecycle.submit(member, need)
        return lifecycle.approve(self.curator, need)

    def ids(self, *names):
        return {getattr(self, name).id for name in names}


@pytest.fixture
def needs(app):
    return Needs()


# A fixed set of queries ------------------------------------------------------------------------

QUERIES = [
    # products and goods
    ("花椒", {"pepper"}),
    ("取暖用煤", {"coal"}),
    ("平板电脑", {"tablets"}),
    # industries and jobs
    ("电子厂", {"jobs"}),
    ("普工", {"jobs"}),
    ("东莞", {"jobs"}),  # the work location
    # place names: county, prefecture (official, short and bare), province, township, village
    ("昭觉县", {"pepper", "coal"}),
    ("凉山彝族自治州", {"pepper", "coal"}),
    ("凉山州", {"pepper", "coal"}),
    ("凉山", {"pepper", "coal"}),
    ("四川省", {"pepper", "coal"}),
    ("镇雄县", {"jobs", "tablets"}),
    ("昭通市", {"jobs", "tablets"}),
    ("云南", {"jobs", "tablets"}),
    ("三河村", {"pepper", "coal"}),
    ("大湾村", {"jobs", "tablets"}),
    ("测试镇", {"pepper", "coal", "jobs", "tablets"}),
    # a place and a product typed together, spaced or not
    ("昭觉县花椒", {"pepper"}),
    ("镇雄县 普工", {"jobs"}),
    ("三河村小学", {"coal"}),
    # mixed Chinese and English, any case, spaced or not
    ("iPad", {"tablets"}),
    ("IPAD捐赠", {"tablets"}),
    ("ipad 教学", {"tablets"}),
    ("app英语", {"tablets"}),
    # digits
    ("20 人", {"jobs"}),
    ("1200亩", {"pepper"}),
    # campaign words, phrases and operators
    ("建档立卡", {"pepper", "jobs"}),
    ('"以购代捐"', {"pepper"}),
    ("“冬季取暖”", {"coal"}),
    ("村小学", {"coal", "tablets"}),
    ("村小学 NOT 云南", {"coal"}),
    ("取暖 OR 普工", {"coal", "jobs"}),
    # never findable: a draft's words; words that occur in no need
    ("核桃", set()),
    ("花椒 普工", set()),
]


def test_the_fixed_queries_find_the_expected_needs(needs):
    # One world for every query (building it is most of the time); every miss is reported at once.
    names = {need.id: name for name in ("pepper", "coal", "jobs", "tablets", "draft")
             for need in [getattr(needs, name)]}
    wrong = [f"{q!r}: expected {sorted(expected)}, found {sorted(names[i] for i in found(q))}"
             for q, expected in QUERIES if found(q) != needs.ids(*expected)]
    assert not wrong, "\n".join(wrong)


def test_a_need_document_carries_region_category_status_unit_dates_and_progress(needs):
    need = needs.jobs
    item = document(need)
    assert (item["province"], item["prefecture"], item["county"]) == (
        factories.YUNNAN, factories.ZHAOTONG, factories.ZHENXIONG)
    assert (item["category"], item["status"], item["unit"]) == ("employment", "published", "jobs")
    assert item["place"] == "云南省昭通市镇雄县测试镇大湾村"
    assert item["created"] is not None and item["deadline"].date() == days(20)
    assert item["progress"] == 0 and item["people"] == 20


# Filters, sorts, pages -----------------------------------------------------------------------

@pytest.mark.parametrize(("filters", "expected"), [
    ({"province": factories.SICHUAN}, {"coal"}),
    ({"province": factories.YUNNAN}, {"tablets"}),
    ({"prefecture": factories.LIANGSHAN}, {"coal"}),
    ({"county": factories.ZHENXIONG}, {"tablets"}),
    ({"category": "charity"}, {"coal", "tablets"}),
    ({"category": "employment"}, set()),
    ({"unit": "goods"}, {"tablets"}),
    ({"status": "published"}, {"coal", "tablets"}),
    ({"status": "fully_pledged"}, set()),
])
def test_filters_restrict_the_matches(needs, filters, expected):
    assert found("村小学", filters=filters) == needs.ids(*expected)


def test_type_keeps_needs_villages_or_organisations(needs):
    kinds = {item["kind"] for item in search.query("三河村", per_page=100).items}
    assert kinds == {"need", "village"}
    assert {i["kind"] for i in search.query("三河村", kinds=["village"]).items} == {"village"}


def test_sorts(needs):
    set_pledged(needs.coal, needs.coal.target // 2)
    set_pledged(needs.tablets, 1)
    queue.commit()
    p, c, j, t = needs.pepper.id, needs.coal.id, needs.jobs.id, needs.tablets.id
    assert order(sort="deadline") == [j, c, t, p]
    assert order(sort="newest") == [t, j, c, p]
    assert order(sort="progress")[:2] == [c, t]
    assert order(sort="least_pledged")[2:] == [t, c]
    assert order(sort="most_beneficiaries") == [p, t, c, j]
    assert order("村小学", sort="relevance")[0] in (c, t)


def test_pages(needs):
    pages = [search.query("", kinds=["need"], per_page=3, page=n) for n in (1, 2, 3)]
    assert [len(p.items) for p in pages] == [3, 1, 0] and {p.total for p in pages} == {4}
    assert [i["obj_id"] for p in pages for i in p.items] == order()


# The index follows the need ------------------------------------------------------------------

def test_drafts_submitted_and_rejected_needs_are_not_indexed(app):
    world = World()
    hidden = [world.need(S.DRAFT, title="草稿路灯"), world.need(S.SUBMITTED, title="待审路灯"),
              world.need(S.REJECTED, title="驳回路灯"), world.need(S.WITHDRAWN, title="撤回路灯")]
    assert found("路灯") == set()
    assert search.verify() == ([], [], [])
    assert all(h.published_at is None for h in hidden)


@pytest.mark.parametrize("status", [S.PUBLISHED, S.FULLY_PLEDGED, S.IN_DELIVERY, S.COMPLETED, S.CLOSED, S.EXPIRED])
def test_every_status_a_need_reaches_through_the_lifecycle_is_in_its_document(app, status):
    world = World()
    need = world.need(status, title="村道路灯安装")
    queue.dispatch_pending()  # (the builder commits as a request would; its jobs go after the request)
    assert need.status == status
    assert document(need)["status"] == status.value
    assert search.verify() == ([], [], [])  # nothing missing or stale


def test_status_changes_update_the_document_as_they_commit(any_app):
    world = World()
    need = world.need(S.PUBLISHED, title="村道路灯安装")
    assert found("路灯", filters={"status": "published"}) == {need.id}
    set_pledged(need, need.target)  # what the pledges feature does: a conditional UPDATE of the total
    lifecycle.on_pledged_total_changed(need)
    queue.commit()
    assert document(need)["status"] == "fully_pledged" and document(need)["progress"] == 10000
    assert found("路灯", filters={"status": "published"}) == set()
    set_pledged(need, need.target // 4)  # a pledge cancelled: open again
    lifecycle.on_pledged_total_changed(need)
    queue.commit()
    assert document(need)["status"] == "published" and document(need)["progress"] == 2500
    assert search.verify() == ([], [], [])


def test_a_withdrawn_need_stays_findable_as_withdrawn(any_app):
    world = World()
    need = world.need(S.PUBLISHED, title="村道路灯安装")
    lifecycle.withdraw(world.member, need, "村里已自筹解决")
    assert document(need)["status"] == "withdrawn"
    assert found("路灯", filters={"status": "published"}) == set()


def test_expiry_by_the_scheduled_job_updates_the_document(app):
    world = World()
    need = world.need(S.PUBLISHED, title="村道路灯安装")
    backdate(need)
    assert lifecycle.expire_overdue() == 1
    assert document(need)["status"] == "expired"


def test_renaming_a_village_reindexes_its_needs(app, needs):
    needs.sanhe.name = "新河村"
    queue.commit()
    assert found("新河村") == needs.ids("pepper", "coal")
    assert found("三河村") == needs.ids("pepper")  # its title still says 三河村
    assert search.verify() == ([], [], [])


def test_a_rolled_back_change_never_reaches_the_index(any_app):
    world = World()
    need = world.need(S.PUBLISHED, title="村道路灯安装")
    jobs = db.session.query(OutboxJob).filter(OutboxJob.func == "jobs.search.index_objects").count()
    lifecycle.transition(need, S.WITHDRAWN, world.member, action="withdraw")
    need.title = "不该出现的标题"
    db.session.flush()
    db.session.rollback()
    queue.commit()  # a later commit must not carry what was collected before the rollback
    assert document(need)["status"] == "published"
    assert found("不该出现的标题") == set()
    assert db.session.query(OutboxJob).filter(OutboxJob.func == "jobs.search.index_objects").count() == jobs


def test_deleting_a_need_removes_its_document(app, needs):
    db.session.execute(delete(Need).where(Need.id == needs.jobs.id))  # a DELETE statement
    db.session.delete(needs.coal)  # and an ORM delete
    queue.commit()
    assert found("") == needs.ids("pepper", "tablets")
    assert search.verify() == ([], [], [])


def test_a_published_need_is_findable_within_a_second_of_its_commit(app):
    world = World()
    need = world.need(S.SUBMITTED, title="村卫生室药品柜")
    search.query("药品柜")  # the process has opened the index once, as a running site has
    started = time.monotonic()
    lifecycle.approve(world.curator, need)  # commits; the index job runs in-process after it
    assert found("药品柜") == {need.id}
    assert time.monotonic() - started < 1.0


# Pages ---------------------------------------------------------------------------------------

def test_search_page_filters_sorts_and_highlights(client, needs):
    html = client.get("/search?q=村小学&province=四川省&type=need").get_data(as_text=True)
    assert set(map(int, re.findall(r'data-doc-id="need:(\d+)"', html))) == needs.ids("coal")
    assert "<mark>" in html
    html = client.get(f"/search?q=村小学&county={factories.ZHENXIONG}&category=charity").get_data(as_text=True)
    assert set(map(int, re.findall(r'data-doc-id="need:(\d+)"', html))) == needs.ids("tablets")
    assert f'<option value="{factories.ZHENXIONG}" selected' in html  # the county box shows the choice
    html = client.get("/search?type=need&sort=deadline").get_data(as_text=True)
    listed = [int(i) for i in re.findall(r'data-doc-id="need:(\d+)"', html)]
    assert listed == [needs.jobs.id, needs.coal.id, needs.tablets.id, needs.pepper.id]


def test_search_page_empty_states(client, needs):
    html = client.get("/search?q=ipadd&type=need").get_data(as_text=True)
    assert "没有找到匹配的结果" in html and "您是不是要找" in html and ">ipad</a>" in html
    html = client.get("/search?q=花椒&province=云南省&type=need").get_data(as_text=True)
    assert "没有找到匹配的结果" in html and "只按搜索词查找" in html
    html = client.get("/search?q=的 了，。").get_data(as_text=True)
    assert "常用虚词" in html
    html = client.get("/search?q=花椒&province=火星省").get_data(as_text=True)
    assert "未找到地区" in html


def test_needs_list_answers_words_in_place_with_its_own_filters(client, needs):
    html = client.get("/needs?q=村小学&province=四川省").get_data(as_text=True)
    assert set(map(int, CARD.findall(html))) == needs.ids("coal")
    assert 'value="村小学"' in html and "<mark>" in html
    assert f'<option value="{factories.SICHUAN}" selected' in html  # the sidebar keeps the filters
    # The list's default is what is open now, as without words.
    set_pledged(needs.tablets, needs.tablets.target)
    lifecycle.on_pledged_total_changed(needs.tablets)
    queue.commit()
    assert set(map(int, CARD.findall(client.get("/needs?q=村小学").get_data(as_text=True)))) == needs.ids("coal")
    html = client.get("/needs?q=村小学&status=all").get_data(as_text=True)
    assert set(map(int, CARD.findall(html))) == needs.ids("coal", "tablets")
    html = client.get("/needs?q=村小学&status=fully_pledged&category=公益").get_data(as_text=True)
    assert set(map(int, CARD.findall(html))) == needs.ids("tablets")
    # The list's sorts apply to the matches.
    html = client.get("/needs?q=测试镇&sort=most_beneficiaries").get_data(as_text=True)
    assert list(map(int, CARD.findall(html))) == [needs.pepper.id, needs.coal.id, needs.jobs.id]


def test_needs_list_pages_keep_the_words_filters_and_sort(client, needs):
    html = client.get("/needs?q=测试镇&per_page=1&sort=deadline").get_data(as_text=True)
    assert list(map(int, CARD.findall(html))) == [needs.jobs.id]
    link = re.search(r'rel="next" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    args = parse_qs(urlsplit(link).query)
    assert args["q"] == ["测试镇"] and args["sort"] == ["deadline"] and args["page"] == ["2"]
    html = client.get(link).get_data(as_text=True)
    assert list(map(int, CARD.findall(html))) == [needs.coal.id]
    relevance = client.get("/needs?q=测试镇&per_page=1").get_data(as_text=True)
    link = re.search(r'rel="next" href="([^"]+)"', relevance).group(1).replace("&amp;", "&")
    assert "sort" not in parse_qs(urlsplit(link).query)  # relevance is the default with words


def test_needs_list_empty_states(client, needs):
    html = client.get("/needs?q=的").get_data(as_text=True)
    assert "常用虚词" in html and not CARD.findall(html)
    html = client.get("/needs?q=ipadd&status=all").get_data(as_text=True)
    assert "您是不是要找" in html and "q=ipad" in html
    html = client.get("/needs?q=三河村").get_data(as_text=True)
    assert set(map(int, CARD.findall(html))) == needs.ids("pepper", "coal")
    html = client.get("/needs?q=三河村&province=云南省").get_data(as_text=True)
    assert "没有符合条件的需求" in html and "/search?q=" in html


def test_needs_api_query_redirects_with_the_same_filters(client, needs):
    response = client.get("/api/v1/needs?q=村小学&province=四川省&sort=deadline")
    assert response.status_code == 302
    args = parse_qs(urlsplit(response.headers["Location"]).query)
    assert args == {"q": ["村小学"], "province": ["四川省"], "sort": ["deadline"], "status": ["published"],
                    "type": ["need"]}
    body = client.get(response.headers["Location"]).get_json()
    assert [item["obj_id"] for item in body["items"]] == [needs.coal.id]
    item = body["items"][0]
    assert item["status"] == "published" and item["category"] == "charity" and item["unit"] == "cny_fen"
    assert item["deadline"] == days(30).isoformat() and item["people"] == 120
    response = client.get("/api/v1/needs?q=村小学&status=all")
    assert "status" not in parse_qs(urlsplit(response.headers["Location"]).query)


def test_search_api_pages_and_refuses_unknown_places(client, needs):
    body = client.get("/api/v1/search?type=need&sort=most_beneficiaries&per_page=1&page=2").get_json()
    assert body["total"] == 4 and body["per_page"] == 1 and [i["obj_id"] for i in body["items"]] == [needs.tablets.id]
    response = client.get("/api/v1/search?q=花椒&province=火星省")
    assert response.status_code == 400 and "province" in response.get_json()["error"]["fields"]
