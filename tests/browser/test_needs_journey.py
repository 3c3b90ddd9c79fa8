"""A village posts a need in Chinese, a curator approves it, and a visitor finds it through the filters."""
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from tests import factories
from tests.browser.conftest import shot
from villageaid.extensions import db
from villageaid.needs import screening
from villageaid.timeutil import local_date_today

TITLE = "为彝家新寨幼儿园购置过冬棉被"


def _query(url):
    return dict(parse_qsl(urlsplit(url).query))


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/me")


def _logout(page):
    page.get_by_role("button", name="退出").click()


def test_village_posts_curator_approves_visitor_finds(live_app, page):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        screening.install_default_rules()
        db.session.commit()
        member = factories.user("阿木村主任")
        factories.village(member, name="阿木村")
        curator = factories.curator(factories.SICHUAN)
        member_email, curator_email = member.email, curator.email

    # The village committee posts the need.
    _login(page, base, member_email)
    page.goto(f"{base}/needs/new")
    page.get_by_label("需求类别").select_option(label="公益")
    page.get_by_label("标题", exact=True).fill(TITLE)
    page.get_by_label("需求说明").fill("村幼儿园有 **60 名**彝族孩子，冬季夜间气温零下 8 度，需要加厚棉被。")
    page.get_by_label("帮扶形式").select_option(label="物资（件）")
    assert page.locator("[data-unit-fields=jobs]").is_hidden()  # only the goods details are asked for
    page.get_by_label("目标数量").fill("200")
    page.get_by_label("物资名称和规格").fill("加厚棉被（1.2 米）")
    page.get_by_label("截止日期").fill((local_date_today() + timedelta(days=45)).isoformat())
    page.get_by_label("受益户数").fill("50")
    page.get_by_label("受益人数").fill("200")
    page.get_by_label("其中建档立卡贫困人口").fill("80")
    shot(page, "need-form-zh")
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("已提交审核").first.wait_for()
    page.get_by_role("heading", name=TITLE).wait_for()
    _logout(page)

    # The curator of 四川省 approves it from the review queue.
    _login(page, base, curator_email)
    page.goto(f"{base}/curate/needs")
    card = page.locator("[data-queue=need]", has_text=TITLE)
    card.wait_for()
    shot(page, "need-review-zh")
    card.get_by_role("button", name="通过并发布").click()
    page.get_by_text("已通过，需求已公开发布").wait_for()
    assert page.locator("[data-queue=need]", has_text=TITLE).count() == 0
    _logout(page)

    # A visitor narrows the list down to 四川省 › 凉山彝族自治州 › 昭觉县, 公益, and finds it.
    page.goto(f"{base}/needs")
    page.get_by_label("省份").select_option(label="四川省")
    # The lower boxes are filled by script from /regions/<code>/children (CSP forbids eval: wait on locators).
    page.locator("#f-prefecture option", has_text="凉山彝族自治州").wait_for(state="attached")
    page.get_by_label("地市").select_option(label="凉山彝族自治州")
    page.locator("#f-county option", has_text="昭觉县").wait_for(state="attached")
    page.get_by_label("区县").select_option(label="昭觉县")
    page.get_by_label("类别").select_option(label="公益")
    page.get_by_role("button", name="筛选").click()
    wanted = {"province": "510000000000", "prefecture": "513400000000", "county": "513431000000", "category": "charity"}
    page.wait_for_url(lambda url: _query(url).items() >= wanted.items())
    page.get_by_text("共 1 项需求").wait_for()
    shot(page, "needs-filtered-zh")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("heading", name=TITLE).wait_for()
    assert page.get_by_text("征集中").first.is_visible()
    assert "200 件" in page.locator(".va-counter").inner_text()
    shot(page, "need-page-zh")
