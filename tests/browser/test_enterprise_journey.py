"""The enterprise's story as one continuous journey, entirely in English: a person registers an account
and an enterprise, a curator of its province verifies it from the console, the enterprise member
searches for a need, opens it and pledges for the enterprise; the village accepts, the enterprise
reports the delivery with a photo, the village confirms receipt and a Sichuan curator verifies it;
the need page shows it verified and the tracking page every step. Everything is found by its English
label, and each main page shows no Chinese but the proper names of the data."""
import io
import re

from PIL import Image

from tests import factories
from tests.browser.conftest import shot
from tests.browser.english import assert_english, login, logout, open_in_english, proper_names, reads_english
from tests.needs.builders import S, World
from villageaid.extensions import db
from villageaid.needs import screening
from villageaid.timeutil import local_date_today

TITLE = "彝家新寨幼儿园过冬取暖费"
DESCRIPTION = "村幼儿园有 60 名彝族孩子，冬季夜间气温零下 8 度。"  # without the search word: no <mark> splits it
SEARCH = "取暖"
ORG = "杭州青山农业科技有限公司"
EMAIL = "lin.qing@qsny.example.cn"
PASSWORD = "secret-pass-1"
CODE = re.compile(r"WQ-\d{4}-[0-9A-Z]{6}")


class EnglishWorld(World):
    """The needs builders' world (a verified village in 昭觉县, its committee member, a Sichuan curator),
    its people reading English."""

    def __init__(self):
        screening.install_default_rules()
        db.session.commit()
        self.member = reads_english(factories.user("吉克阿木"))
        self.village = factories.village(self.member, name="阿木村")
        self.curator = reads_english(factories.curator(factories.SICHUAN))


def _slip(tmp_path):
    path = tmp_path / "transfer-slip.jpg"
    image = Image.new("RGB", (800, 500), (245, 245, 240))
    image.paste((179, 38, 30), (40, 40, 760, 110))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


def test_an_enterprise_registers_is_verified_pledges_and_delivers_in_english(live_app, page, tmp_path):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        world = EnglishWorld()
        need = world.need(S.PUBLISHED, title=TITLE, description=DESCRIPTION, target=3_000_000)
        zhejiang = reads_english(factories.curator(factories.ZHEJIANG))
        need_id, names = need.id, proper_names(ORG, SEARCH)
        member, sichuan, zhejiang = world.member.email, world.curator.email, zhejiang.email
        db.session.remove()
    credit_code = factories.credit_code(factories.ZHEJIANG)

    def english(name):
        """A main step: the page reads as English but for the proper names of the data; its screenshot."""
        assert_english(page, names)
        shot(page, f"enterprise-{name}-en")

    # A person opens the registration page in English and registers an account …
    open_in_english(page, f"{base}/auth/register")
    page.get_by_label("Name or nickname").fill("Lin Qing")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    english("account")
    page.get_by_role("button", name="Register").click()
    page.wait_for_url(f"{base}/me")

    # … and registers the enterprise from /me.
    page.get_by_role("link", name="Join as an enterprise or NGO").click()
    page.wait_for_url(f"{base}/helpers/new")  # loaded, with the script that fills the prefectures
    page.get_by_label("Type", exact=True).select_option(label="Private enterprise")
    page.get_by_label("Name", exact=True).fill(ORG)
    page.get_by_label("Unified social credit code").fill(credit_code)
    page.get_by_label("Industry (section of the national industrial classification)").select_option(
        label="A Agriculture, forestry, animal husbandry and fishery")
    page.get_by_label("Province").select_option(label="浙江省")
    # Filled by script from /regions/<code>/children; the CSP forbids eval, so wait on a locator.
    page.locator("#prefecture_code option", has_text="杭州市").wait_for(state="attached")
    page.get_by_label("Prefecture or city").select_option(label="杭州市")
    page.get_by_label("Contact person").fill("Lin Qing")
    page.get_by_label("Size").select_option(label="Medium")
    page.get_by_label("Contact phone").fill("0571-88001234")
    english("registration")
    page.get_by_role("button", name="Submit for review").click()
    page.get_by_text("Submitted for review").wait_for()
    page.get_by_role("heading", name=ORG).get_by_text("Pending review").wait_for()
    english("registered")
    logout(page)

    # A curator of 浙江省 verifies it from the curator console.
    login(page, base, zhejiang)
    page.get_by_role("link", name="Open curation").click()
    card = page.locator("[data-queue=organization]", has_text=ORG)
    card.wait_for()
    english("curator-queue")
    card.get_by_role("button", name="Approve").click()
    page.get_by_text(f"Approved: {ORG}").wait_for()
    assert page.locator("[data-queue=organization]", has_text=ORG).count() == 0
    logout(page)

    # The enterprise member searches for a need from the navigation bar and opens it.
    login(page, base, EMAIL, PASSWORD)
    box = page.get_by_label("Search needs, villages, helpers")
    box.fill(SEARCH)
    box.press("Enter")
    page.get_by_text("Results: 1").wait_for()
    english("search")
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("heading", name=TITLE).wait_for()

    # It pledges the whole target for the enterprise.
    card = page.locator("[data-pledge-card]")
    card.get_by_label("Pledge in the name of").select_option(label=ORG)
    card.get_by_label("Amount pledged (yuan)").fill("30000")
    card.get_by_label("Message to the village (optional)").fill("The whole amount goes to the village account at once.")
    english("pledge-form")
    card.get_by_role("button", name="Submit pledge").click()
    page.get_by_text("Thank you for your pledge!").wait_for()
    code = CODE.search(page.locator("h1").inner_text()).group()
    assert page.locator("[data-pledge-status]").first.inner_text() == "Awaiting the village's acceptance"
    english("pledged")
    logout(page)

    # The village accepts it from its to-do list on /me.
    login(page, base, member)
    page.get_by_role("link", name="Pledges to accept or decline").click()
    pledge_row = page.locator("[data-queue=pledge]", has_text=ORG)
    english("village-inbox")
    pledge_row.get_by_role("button", name="Accept pledge").click()
    page.get_by_text("Pledge accepted; the pledger has been asked to deliver.").wait_for()
    logout(page)

    # The enterprise reports the delivery with a photo of the transfer slip.
    login(page, base, EMAIL, PASSWORD)
    page.get_by_role("link", name="My pledges").click()
    row = page.locator("[data-my-pledges] tr", has_text=code)
    row.get_by_text("Accepted, awaiting delivery").wait_for()
    english("my-pledges")
    row.get_by_role("link", name="Record a delivery").click()
    page.get_by_label("Amount delivered this time (yuan)").fill("30000")
    page.get_by_label("Delivery date").fill(local_date_today().isoformat())
    page.get_by_label("Note").fill("Transferred today by bank.")
    page.get_by_label("Evidence (transfer slips, receipts, photos; up to 6)").set_input_files(str(_slip(tmp_path)))
    english("delivery-form")
    page.get_by_role("button", name="Submit delivery record").click()
    page.get_by_text("Delivery recorded; the village has been asked to confirm it.").wait_for()
    assert page.locator("[data-evidence] img").count() == 1
    english("delivered")
    logout(page)

    # The village confirms receipt.
    login(page, base, member)
    page.get_by_role("link", name="Pledges to my village").click()
    delivery = page.locator("[data-delivery]", has_text=code)
    english("village-confirm")
    delivery.get_by_role("button", name="Confirm receipt").click()
    page.get_by_text("Receipt confirmed; awaiting verification by a curator.").wait_for()
    logout(page)

    # The curator of 四川省 verifies it from the delivery queue.
    login(page, base, sichuan)
    page.get_by_role("link", name="Delivery verification").click()
    delivery = page.locator("[data-delivery]", has_text=code)
    delivery.get_by_label("Verification note (optional)").fill("Bank slip checked against the village account.")
    english("curator-verify")
    delivery.get_by_role("button", name="Verify").click()
    page.get_by_role("alert").filter(has_text="Delivery verified.").wait_for()
    logout(page)

    # Anyone: the need page shows it verified and completed, the pledge on its public list …
    page.goto(f"{base}/needs/{need_id}")
    assert page.locator("[data-status]").first.inner_text() == "Completed"
    assert "¥30,000.00 · 100%" in page.locator("[data-ledger-row=verified]").inner_text()
    assert page.locator("[data-pledge]", has_text=ORG).locator("[data-pledge-status]").inner_text() == "Verified"
    english("need-verified")

    # … and the tracking page every step, from the pledge to the curator's verification.
    page.get_by_role("navigation").get_by_role("link", name="Track a pledge").click()
    page.get_by_label("Pledge tracking code").fill(code)
    page.get_by_role("button", name="Look up").click()
    page.get_by_role("heading", name=code).wait_for()
    assert page.locator("[data-steps] li").all_inner_texts() == [
        "1. Pledged", "2. Accepted by the village", "3. In delivery", "4. Fully delivered",
        "5. Confirmed by the village", "6. Verified by a curator"]
    assert page.locator("[data-step=verified]").get_attribute("aria-current") == "step"
    assert "Delivery verified by a curator" in page.locator("main").inner_text()
    assert EMAIL not in page.content()  # the public page shows no personal data
    english("tracking")
