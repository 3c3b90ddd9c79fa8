"""/needs: filters by region (name or code), category, unit and status; sorts; pagination that keeps filters."""
import json
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from tests import factories
from tests.needs.builders import S, World, force, set_pledged
from villageaid.extensions import db
from villageaid.needs import browse
from villageaid.needs.models import Need
from villageaid.timeutil import local_date_today

CARD = re.compile(r'data-need-id="(\d+)"')


def ids(html):
    return [int(i) for i in CARD.findall(html)]


def next_link(html):
    match = re.search(r'<a class="btn btn-outline-secondary" rel="next" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture
def catalogue(app):
    """Published needs in 昭觉县 (四川) and 镇雄县 (云南), plus some that must never be listed."""
    sichuan = World()
    yunnan_member = factories.user()
    yunnan = factories.village(yunnan_member, county=factories.ZHENXIONG)
    made = {"sichuan": [], "yunnan": [], "hidden": []}
    for i in range(9):
        need = sichuan.need(S.DRAFT, title=f"四川需求{i:02d}", category="charity" if i % 3 else "industry",
                            unit="cny_fen" if i % 2 else "goods", goods_item="棉被" if i % 2 == 0 else None,
                            people=10 * (i + 1), households=i + 1, poor_people=i, target=3_000_000 if i % 2 else 300,
                            deadline=local_date_today() + timedelta(days=30 - i))
        made["sichuan"].append(force(need, S.PUBLISHED))
    from villageaid.needs import services

    for i in range(3):
        need = services.create_need(yunnan_member, yunnan, {
            "category": "employment", "unit": "jobs", "title": f"云南岗位{i}", "target": 10, "people": 5,
            "households": 5, "deadline": local_date_today() + timedelta(days=5)})
        made["yunnan"].append(force(need, S.PUBLISHED))
    for state in (S.DRAFT, S.SUBMITTED, S.REJECTED):
        made["hidden"].append(force(sichuan.need(S.DRAFT, title=f"不公开{state}"), state))
    made["completed"] = force(sichuan.need(S.DRAFT, title="已完成的需求"), S.COMPLETED)
    return made


def test_visitors_see_only_published_needs_by_default(catalogue, client):
    html = client.get("/needs").get_data(as_text=True)
    listed = set(ids(html))
    assert listed == {n.id for n in catalogue["sichuan"] + catalogue["yunnan"]}
    assert "共 12 项需求" in html
    all_public = set(ids(client.get("/needs?status=all&per_page=50").get_data(as_text=True)))
    assert all_public == listed | {catalogue["completed"].id}
    assert set(ids(client.get("/needs?status=completed").get_data(as_text=True))) == {catalogue["completed"].id}


@pytest.mark.parametrize("args", [
    "province=四川省", "province=510000", "province=510000000000",
    "province=四川省&prefecture=凉山彝族自治州", "prefecture=513400",
    "province=四川省&prefecture=凉山彝族自治州&county=昭觉县", "county=513431", "county=昭觉县",
])
def test_region_filters_accept_names_and_codes(catalogue, client, args):
    html = client.get(f"/needs?{args}").get_data(as_text=True)
    assert set(ids(html)) == {n.id for n in catalogue["sichuan"]}


def test_region_filter_mistakes_are_explained(catalogue, client):
    html = client.get("/needs?province=四川省&county=镇雄县").get_data(as_text=True)
    assert "未找到地区：镇雄县" in html  # 镇雄 is in 云南, not inside 四川
    html = client.get("/needs?province=火星省").get_data(as_text=True)
    assert "未找到地区：火星省" in html


def test_category_unit_and_combined_filters(catalogue, client):
    charity = {n.id for n in catalogue["sichuan"] if n.category == "charity"}
    assert set(ids(client.get("/needs?category=charity").get_data(as_text=True))) == charity
    assert set(ids(client.get("/needs?category=公益").get_data(as_text=True))) == charity
    goods = {n.id for n in catalogue["sichuan"] if n.unit == "goods"}
    assert set(ids(client.get("/needs?unit=goods").get_data(as_text=True))) == goods
    both = {n.id for n in catalogue["sichuan"] if n.unit == "goods" and n.category == "charity"}
    assert set(ids(client.get("/needs?unit=goods&category=charity&province=四川省").get_data(as_text=True))) == both
    assert set(ids(client.get("/needs?province=云南省&unit=jobs").get_data(as_text=True))) == {n.id for n in catalogue["yunnan"]}


def test_sorts(catalogue, client):
    sichuan = catalogue["sichuan"]
    set_pledged(sichuan[4], sichuan[4].target)  # fully pledged in share terms
    set_pledged(sichuan[5], sichuan[5].target // 2)
    db.session.commit()
    listed = ids(client.get("/needs?province=四川省&sort=deadline").get_data(as_text=True))
    assert listed == [n.id for n in sorted(sichuan, key=lambda n: (n.deadline, n.id))]
    listed = ids(client.get("/needs?province=四川省&sort=most_beneficiaries").get_data(as_text=True))
    assert listed == [n.id for n in sorted(sichuan, key=lambda n: (-n.people, -n.id))]
    listed = ids(client.get("/needs?province=四川省&sort=least_pledged").get_data(as_text=True))
    assert listed[-2:] == [sichuan[5].id, sichuan[4].id]
    newest = ids(client.get("/needs?province=四川省").get_data(as_text=True))
    assert newest == [n.id for n in sorted(sichuan, key=lambda n: (n.published_at, n.id), reverse=True)]


@pytest.mark.parametrize("sort", sorted(browse.SORTS))
def test_pagination_keeps_the_filters_and_covers_everything_once(catalogue, client, sort):
    url = f"/needs?province=四川省&category=charity&sort={sort}&per_page=2"
    expected = [n.id for n in catalogue["sichuan"] if n.category == "charity"]
    seen, pages = [], 0
    html = client.get(url).get_data(as_text=True)
    while True:
        pages += 1
        page_ids = ids(html)
        assert len(page_ids) <= 2
        seen += page_ids
        link = next_link(html)
        if link is None:
            break
        query = parse_qs(urlsplit(link).query)
        assert query["province"] == ["510000000000"] and query["category"] == ["charity"]
        assert query["page"] == [str(pages + 1)] and "after" in query
        if sort != "newest":
            assert query["sort"] == [sort]
        html = client.get(link).get_data(as_text=True)
        assert f"第 {pages + 1} 页，共 3 页" in html
    assert sorted(seen) == sorted(expected) and len(seen) == len(set(seen)) and pages == 3
    # Going back from the last page by the "previous" cursor gives page 2 again.
    prev = re.search(r'rel="prev" href="([^"]+)"', html).group(1).replace("&amp;", "&")
    assert ids(client.get(prev).get_data(as_text=True)) == seen[2:4]


@pytest.mark.parametrize("sort", sorted(browse.SORTS))
def test_page_numbers_work_without_a_cursor(catalogue, client, sort):
    by_number = [ids(client.get(f"/needs?per_page=5&sort={sort}&page={n}").get_data(as_text=True)) for n in (1, 2, 3)]
    assert [len(page) for page in by_number] == [5, 5, 2]
    # A page by number (OFFSET, through the deferred join past page 1) holds exactly the rows, in the
    # order, that the "next" cursors reach (a keyset range, no OFFSET).
    by_cursor, html = [], client.get(f"/needs?per_page=5&sort={sort}").get_data(as_text=True)
    while True:
        by_cursor.append(ids(html))
        link = next_link(html)
        if link is None:
            break
        html = client.get(link).get_data(as_text=True)
    assert by_number == by_cursor
    assert ids(client.get(f"/needs?per_page=5&sort={sort}&page=99").get_data(as_text=True)) == []


def test_bad_parameters_do_not_break_the_page(catalogue, client):
    for query in ("page=abc", "page=-3", "sort=evil", "status=draft", "after=garbage", "unit=tons", "per_page=100000"):
        response = client.get(f"/needs?{query}")
        assert response.status_code == 200, query


def test_counts_follow_every_change_at_once(catalogue, client, app):
    assert "共 12 项需求" in client.get("/needs").get_data(as_text=True)
    # A change behind the app's back is counted at once (the tally's triggers: tests/needs/test_need_tally.py) ...
    db.session.execute(update(Need).where(Need.id == catalogue["yunnan"][0].id).values(status="expired"))
    db.session.commit()
    assert "共 11 项需求" in client.get("/needs").get_data(as_text=True)
    # ... as is a lifecycle transition.
    from villageaid.needs import lifecycle

    sichuan = catalogue["sichuan"][0]
    lifecycle.withdraw(sichuan.village.members[0].user, sichuan)
    assert "共 10 项需求" in client.get("/needs").get_data(as_text=True)


def test_home_counts_real_figures_and_lists_urgent_needs(catalogue, client):
    html = client.get("/").get_data(as_text=True)
    funds = sum(n.target for n in catalogue["sichuan"] + [catalogue["completed"]] if n.unit == "cny_fen")
    from villageaid.money import format_fen

    assert f'data-counter="needs">13<' in html  # 12 open + 1 completed
    assert f"资金需求 {format_fen(funds)}" in html and 'data-counter="funds-verified">¥0.00<' in html
    assert "岗位需求 30 个" in html and 'data-counter="jobs-verified">0<' in html
    urgent = html.split("data-urgent", 1)[1]
    assert ids(urgent)[:3] == [n.id for n in catalogue["yunnan"]]  # five days left: the soonest


def test_home_figures_are_a_snapshot_the_job_rewrites(catalogue, app, client):
    from jobs import home as home_jobs
    from villageaid import queue, scheduling
    from villageaid.main import services as home

    def villages(html):
        return int(re.search(r'data-counter="villages">(\d+)<', html).group(1))

    html = client.get("/").get_data(as_text=True)  # no snapshot yet: computed on the spot, and stored
    before = villages(html)
    snapshot = json.loads(queue.redis_connection().get(home.SNAPSHOT_KEY))
    assert snapshot["counters"]["villages"] == before and "计算于" in html
    factories.village(name="新认证村")
    assert villages(client.get("/").get_data(as_text=True)) == before  # until the job runs: the snapshot
    assert scheduling.TASKS["home-figures"] == ("jobs.home.refresh_figures", timedelta(seconds=60))
    home_jobs.refresh_figures()
    assert villages(client.get("/").get_data(as_text=True)) == before + 1
    queue.redis_connection().delete(home.SNAPSHOT_KEY)  # gone (expired, or Redis was emptied): computed again
    factories.village(name="又一个认证村")
    assert villages(client.get("/").get_data(as_text=True)) == before + 2


def test_village_page_lists_its_needs(catalogue, client):
    need = catalogue["sichuan"][0]
    html = client.get(f"/villages/{need.village_id}").get_data(as_text=True)
    listed = set(ids(html.split("data-village-needs", 1)[1]))
    assert {n.id for n in catalogue["sichuan"]} <= listed
    assert not {n.id for n in catalogue["hidden"]} & listed
    from tests.conftest import login

    login(client, need.village.members[0].user.email)
    html = client.get(f"/villages/{need.village_id}").get_data(as_text=True)
    assert {n.id for n in catalogue["hidden"]} <= set(ids(html)) and "发布需求" in html


def test_a_text_query_is_answered_by_the_search_index(app, client):
    # On the page, in the page (tests/search/test_search_needs.py has the details); the API redirects.
    response = client.get("/needs?q=路灯&province=四川省&status=open")
    assert response.status_code == 200 and 'value="路灯"' in response.get_data(as_text=True)
    response = client.get("/api/v1/needs?q=路灯")
    assert response.status_code == 302 and response.headers["Location"].startswith("/api/v1/search?type=need")


def test_provinces_prefectures_and_counties_by_code_are_reused_detached(app):
    """browse._by_code keeps national divisions per process (a detached copy: no session holds it),
    never townships or villages, whose table grows as villages register."""
    from villageaid.regions.models import Level, Region

    with app.test_request_context("/needs"):
        first = browse.parse({"province": "510000000000", "county": "513431"})
        again = browse.parse({"province": "51"})
        assert first.province is again.province and first.province.name == "四川省"
        assert first.province not in db.session and first.county.code == "513431000000"
        assert first.prefecture is not None and first.prefecture.level == Level.PREFECTURE
        township = Region(code="513431100000", name="测试镇", level=Level.TOWNSHIP, parent_code="513431000000")
        db.session.add(township)
        db.session.flush()
        assert browse._by_code("513431100000") is township  # the session's own row, not a copy


def test_home_figures_outlive_a_redis_outage_in_each_process(catalogue, app, client, monkeypatch):
    """Redis unreachable: the process serves the snapshot it last saw instead of aggregating on every page."""
    from redis.exceptions import ConnectionError as RedisDown

    from villageaid import queue
    from villageaid.main import services as home

    def villages(html):
        return int(re.search(r'data-counter="villages">(\d+)<', html).group(1))

    before = villages(client.get("/").get_data(as_text=True))

    class Down:  # every command fails, as with Redis stopped
        def __getattr__(self, name):
            def fail(*args, **kwargs):
                raise RedisDown("gone")
            return fail

    monkeypatch.setattr(queue, "redis_connection", lambda: Down())
    monkeypatch.setattr(home, "compute", lambda: pytest.fail("computed again while a snapshot was at hand"))
    factories.village(name="停电时认证的村")
    html = client.get("/").get_data(as_text=True)
    assert villages(html) == before and "停电时认证的村" in html  # the figures from the snapshot, the lists live
    # Older than Redis would have kept it: computed again (and still served, Redis or not).
    app.extensions["villageaid.home_figures"]["computed_at"] = "2020-01-01T00:00:00+00:00"
    monkeypatch.undo()
    monkeypatch.setattr(queue, "redis_connection", lambda: Down())
    assert villages(client.get("/").get_data(as_text=True)) == before + 1
    assert app.extensions["villageaid.home_figures"]["computed_at"] > "2020"


def test_a_page_past_the_last_says_so_and_links_to_the_last(catalogue, client):
    html = client.get("/needs?per_page=5&sort=deadline&page=99").get_data(as_text=True)
    assert ids(html) == [] and "data-past-last-page" in html
    assert "没有第 99 页：符合条件的需求共 3 页。" in html and "没有符合条件的需求" not in html
    last = re.search(r'data-past-last-page>.*?href="([^"]+)"', html, re.S).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(last).query) == {"page": ["3"], "per_page": ["5"], "sort": ["deadline"]}
    assert len(ids(client.get(last).get_data(as_text=True))) == 2
    english = client.get("/needs?per_page=5&page=99&lang=en").get_data(as_text=True)
    assert "There is no page 99: the matching needs fill 3 pages." in english and "Go to the last page" in english
    # No needs at all is still "nothing matches", not a page number problem.
    empty = client.get("/needs?category=volunteering&unit=hours&province=西藏自治区&page=4").get_data(as_text=True)
    assert "data-past-last-page" not in empty


def test_a_list_page_is_one_select_with_its_total_and_village_names(catalogue, client):
    """The page's needs, their villages' names and the total from the tally come in one SELECT, on
    the first page, on a page reached by OFFSET and on one reached by a cursor."""
    from sqlalchemy import event

    statements = []

    def record(*args):
        statements.append(args[2])

    first = client.get("/needs?per_page=5&sort=deadline").get_data(as_text=True)
    urls = {"first": "/needs?per_page=5&sort=deadline", "offset": "/needs?per_page=5&sort=deadline&page=2",
            "cursor": next_link(first), "filtered": "/needs?province=530000000000&per_page=2"}
    for url in urls.values():  # the cards, rendered once (a card not yet rendered loads its need)
        client.get(url)
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        pages = {}
        for name, url in urls.items():
            statements.clear()
            pages[name] = client.get(url).get_data(as_text=True)
            assert len(statements) == 1, (name, statements)
            assert "need_tally" in statements[0] and "village" in statements[0]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert ids(pages["offset"]) == ids(pages["cursor"]) and len(ids(pages["offset"])) == 5
    assert "共 12 项需求" in pages["offset"] and "共 3 项需求" in pages["filtered"]
    names = {n.id: n.village.name for group in ("sichuan", "yunnan") for n in catalogue[group]}
    for page in pages.values():
        for need_id in ids(page):
            card = page[page.index(f'data-need-id="{need_id}"'):]
            assert names[need_id] in card[:card.index('data-need-id="', 20) if card.count('data-need-id="') > 1 else None]
