"""An enterprise opens its recommendations, sees why the first one is there, and pledges to it."""
from datetime import timedelta

from sqlalchemy import select

from tests import factories
from tests.browser.conftest import shot
from tests.browser.test_needs_journey import _login
from tests.matching.builders import ZHAOJUE, ZHENXIONG, Places
from villageaid.extensions import db
from villageaid.pledges.models import Pledge
from villageaid.regions.services import pad
from villageaid.timeutil import local_date_today


def test_an_enterprise_opens_its_recommendations_and_pledges_to_the_first(live_app, page):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        places = Places()
        places.need(ZHENXIONG, title="村卫生室基本医疗设备")
        first = places.need(ZHAOJUE, title="村小学冬季取暖用煤")
        owner = factories.user("温州企业联络人")
        org = factories.organization(owner, province=factories.ZHEJIANG, prefecture=pad("330300"), name="温州万众鞋业有限公司")
        email, first_id, org_id = owner.email, first.id, org.id

    _login(page, base, email)
    page.goto(f"{base}/me/recommendations")
    item = page.locator("[data-recommendations] > li").first
    item.get_by_text("浙江省帮扶四川省 · 东西部扶贫协作").wait_for()
    item.get_by_text("该村尚无帮扶方").wait_for()
    assert item.get_attribute("data-need-id") == str(first_id)
    shot(page, "recommendations-zh")
    item.get_by_role("link", name="查看并认捐").click()
    page.get_by_role("heading", name="村小学冬季取暖用煤").wait_for()

    card = page.locator("[data-pledge-card]")
    card.get_by_label("以谁的名义认捐").select_option(label="温州万众鞋业有限公司")
    anonymous = card.get_by_label("匿名认捐", exact=False)
    if anonymous.count() and anonymous.is_checked():  # on by default for people who did not agree to be named
        anonymous.uncheck()
    card.get_by_label("认捐金额（元）").fill("5000")
    card.get_by_label("承诺交付日期").fill((local_date_today() + timedelta(days=20)).isoformat())
    card.get_by_role("button", name="提交认捐").click()
    page.get_by_text("认捐成功！").wait_for()
    shot(page, "pledge-from-recommendation-zh")

    with live_app.app_context():
        pledge = db.session.scalars(select(Pledge)).one()
        assert (pledge.need_id, pledge.organization_id, pledge.quantity) == (first_id, org_id, 500_000)
    # A need it has pledged to is no longer recommended to it.
    page.goto(f"{base}/me/recommendations")
    page.locator("[data-recommendations] > li").first.wait_for()
    assert page.locator(f"[data-recommendations] > li[data-need-id='{first_id}']").count() == 0
