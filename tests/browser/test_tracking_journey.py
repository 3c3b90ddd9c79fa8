"""A visitor follows a pledge by its tracking code, in Chinese and in English: from the navigation, a
mistyped code first, then the whole path of a verified delivery, with no personal data on the page."""
import pytest

from tests.browser.conftest import shot
from tests.pledges.builders import P, World, bring
from villageaid.extensions import db


@pytest.fixture
def tracked(live_app):
    with live_app.app_context():
        world = World()
        need = world.published(title="村小学冬季取暖用煤")
        pledge = world.pledge(need, 1_000_000, org=False)  # an individual's pledge: the public sees the name only
        bring(world, pledge, P.VERIFIED)
        db.session.commit()
        return {"code": pledge.code, "donor_email": world.donor.email, "need": need.title}


@pytest.mark.parametrize("lang, labels", [
    ("zh_CN", {"nav": "认捐追踪", "field": "认捐追踪码", "go": "查询", "missing": "没有找到追踪码为",
               "verified": "审核员核实交付", "amount": "¥10,000.00"}),
    ("en", {"nav": "Track a pledge", "field": "Pledge tracking code", "go": "Look up", "missing": "No pledge with the tracking code",
            "verified": "Delivery verified by a curator", "amount": "¥10,000.00"}),
])
def test_a_visitor_follows_a_pledge_by_its_tracking_code(live_app, page, tracked, lang, labels):
    base = live_app.config["LIVE_URL"]
    page.goto(f"{base}/?lang={lang}")
    page.get_by_role("navigation").get_by_role("link", name=labels["nav"]).click()
    page.get_by_label(labels["field"]).fill("WQ-2026-ZZZZZZ")
    page.get_by_role("button", name=labels["go"]).click()
    page.get_by_text(labels["missing"]).wait_for()

    page.get_by_label(labels["field"]).fill(tracked["code"].lower())  # typed in lower case: still found
    page.get_by_role("button", name=labels["go"]).click()
    page.get_by_role("heading", name=tracked["code"]).wait_for()
    body = page.locator("main").inner_text() if page.locator("main").count() else page.inner_text("body")
    assert tracked["need"] in body and labels["amount"] in body
    assert labels["verified"] in body
    assert tracked["donor_email"] not in page.content()
    shot(page, f"track-{'zh' if lang == 'zh_CN' else 'en'}")
