"""The village's story in English (test_needs_journey.py tells it in Chinese): a village committee member
posts a need from the village's page, a curator of 四川省 approves it from the to-do list on /me, and a
visitor finds it through the filters. Everything is found by its English label, and each main page
shows no Chinese but the proper names of the data."""
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

from tests import factories
from tests.browser.conftest import shot
from tests.browser.english import assert_english, login, logout, open_in_english, proper_names, reads_english
from villageaid.extensions import db
from villageaid.needs import screening
from villageaid.timeutil import local_date_today

TITLE = "为彝家新寨幼儿园购置过冬棉被"
DESCRIPTION = "村幼儿园有 60 名彝族孩子，冬季夜间气温零下 8 度，需要加厚棉被。"
GOODS = "加厚棉被（1.2 米）"


def _query(url):
    return dict(parse_qsl(urlsplit(url).query))


def test_a_village_posts_a_need_and_a_curator_approves_it_in_english(live_app, page):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        screening.install_default_rules()
        db.session.commit()
        member = reads_english(factories.user("吉克阿木"))
        factories.village(member, name="阿木村")
        curator = reads_english(factories.curator(factories.SICHUAN))
        member_email, curator_email = member.email, curator.email
        names = proper_names(TITLE, DESCRIPTION, GOODS)

    def english(name):
        """A main step: the page reads as English but for the proper names of the data; its screenshot."""
        assert_english(page, names)
        shot(page, f"village-{name}-en")

    # The village committee member opens the site in English and posts the need from the village's page.
    open_in_english(page, f"{base}/auth/login")
    login(page, base, member_email)
    page.get_by_role("link", name="阿木村", exact=True).click()
    page.get_by_role("link", name="Post a need").click()
    page.wait_for_url("**/needs/new?**")  # loaded, with the script that shows only the chosen unit's fields
    page.get_by_label("Category").select_option(label="Charity")
    page.get_by_label("Title", exact=True).fill(TITLE)
    page.get_by_label("Description").fill(DESCRIPTION)
    page.get_by_label("Type of help").select_option(label="Goods (items)")
    assert page.locator("[data-unit-fields=jobs]").is_hidden()  # only the goods details are asked for
    page.get_by_label("Target").fill("200")
    page.get_by_label("Goods and specification").fill(GOODS)
    page.get_by_label("Deadline").fill((local_date_today() + timedelta(days=45)).isoformat())
    page.get_by_label("Households benefiting").fill("50")
    page.get_by_label("People benefiting").fill("200")
    page.get_by_label("Of whom registered as poor").fill("80")
    english("need-form")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_role("heading", name=TITLE).wait_for()
    page.get_by_role("alert").filter(has_text="Submitted for review").wait_for()
    english("need-submitted")
    logout(page)

    # The curator of 四川省 approves it: /me says a need awaits review.
    login(page, base, curator_email)
    page.get_by_role("link", name="Needs awaiting review").click()
    card = page.locator("[data-queue=need]", has_text=TITLE)
    card.wait_for()
    english("need-review")
    card.get_by_role("button", name="Approve and publish").click()
    page.get_by_text("Approved; the need is now published.").wait_for()
    assert page.locator("[data-queue=need]", has_text=TITLE).count() == 0
    logout(page)

    # A visitor narrows the list down to 四川省 › 凉山彝族自治州 › 昭觉县, Charity, and finds it open.
    page.get_by_role("navigation").get_by_role("link", name="Needs").click()
    page.wait_for_url(f"{base}/needs")  # loaded, with the script that fills the lower boxes
    page.get_by_label("Province").select_option(label="四川省")
    # The lower boxes are filled by script from /regions/<code>/children (CSP forbids eval: wait on locators).
    page.locator("#f-prefecture option", has_text="凉山彝族自治州").wait_for(state="attached")
    page.get_by_label("Prefecture").select_option(label="凉山彝族自治州")
    page.locator("#f-county option", has_text="昭觉县").wait_for(state="attached")
    page.get_by_label("County").select_option(label="昭觉县")
    page.get_by_label("Category").select_option(label="Charity")
    page.get_by_role("button", name="Filter").click()
    wanted = {"province": "510000000000", "prefecture": "513400000000", "county": "513431000000", "category": "charity"}
    page.wait_for_url(lambda url: _query(url).items() >= wanted.items())
    page.get_by_text("Needs found: 1").wait_for()
    english("needs-filtered")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("heading", name=TITLE).wait_for()
    assert page.locator("[data-status]").first.inner_text() == "Open"
    assert "200 items" in page.locator(".va-counter").inner_text()
    english("need-page")
