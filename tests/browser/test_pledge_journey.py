"""The whole loop in Chinese: an enterprise pledges on the need page, the village accepts, the enterprise reports
a delivery with a photo, the village confirms, the curator verifies, and the need page shows it verified."""
import io

from PIL import Image

from tests import factories
from tests.browser.conftest import shot
from tests.pledges.builders import World
from villageaid.extensions import db
from villageaid.timeutil import local_date_today

TITLE = "彝家新寨幼儿园过冬取暖费"


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/me")
    settle(page)


def _logout(page):
    page.get_by_role("button", name="退出").click()
    settle(page)


def settle(page):
    """Let the page finish loading: a request the browser abandons leaves the test server a file unclosed."""
    page.wait_for_load_state("load")


def _slip(tmp_path):
    path = tmp_path / "转账回单.jpg"
    image = Image.new("RGB", (800, 500), (245, 245, 240))
    image.paste((179, 38, 30), (40, 40, 760, 110))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    path.write_bytes(out.getvalue())
    return path


def test_pledge_accept_deliver_confirm_verify(live_app, page, tmp_path):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        world = World()
        need = world.published(title=TITLE, target=3_000_000)
        need_id, org_name = need.id, world.org.name
        owner, member, curator = world.owner.email, world.member.email, world.curator.email
        db.session.remove()

    # The enterprise pledges the whole target from the need page, for the enterprise.
    _login(page, base, owner)
    page.goto(f"{base}/needs/{need_id}")
    card = page.locator("[data-pledge-card]")
    card.get_by_label("以谁的名义认捐").select_option(label=org_name)
    card.get_by_label("认捐金额（元）").fill("30000")
    card.get_by_label("给村里的留言（可选）").fill("款项将一次性转入村集体账户。")
    shot(page, "pledge-form-zh")
    card.get_by_role("button", name="提交认捐").click()
    page.get_by_text("认捐成功").wait_for()
    code = page.locator("h1").inner_text().split()[1]
    assert code.startswith("WQ-")
    assert page.locator("[data-pledge-status]").first.inner_text() == "待村里接受"
    _logout(page)

    # The village accepts it from its inbox (/me says what awaits it).
    _login(page, base, member)
    page.get_by_role("link", name="待接受或婉拒的认捐").click()
    pledge_row = page.locator("[data-queue=pledge]", has_text=org_name)
    shot(page, "pledge-inbox-zh")
    pledge_row.get_by_role("button", name="接受认捐").click()
    page.get_by_text("已接受认捐，已通知认捐方交付").wait_for()
    _logout(page)

    # The enterprise reports the delivery with a photo of the transfer slip.
    _login(page, base, owner)
    page.goto(f"{base}/me/pledges")
    page.locator("[data-my-pledges] tr", has_text=code).get_by_role("link", name="登记交付").click()
    page.get_by_label("本次交付金额（元）").fill("30000")
    page.get_by_label("交付日期").fill(local_date_today().isoformat())
    page.get_by_label("说明").fill("已于今日通过银行转账。")
    page.get_by_label("凭证（转账回单、收据、照片，最多 6 个）").set_input_files(str(_slip(tmp_path)))
    page.get_by_role("button", name="提交交付记录").click()
    page.get_by_text("交付已登记，已通知村里确认").wait_for()
    assert page.locator("[data-evidence] img").count() == 1
    _logout(page)

    # The village confirms receipt.
    _login(page, base, member)
    page.goto(f"{base}/me/incoming")
    page.locator("[data-delivery]", has_text=code).get_by_role("button", name="确认收到").click()
    page.get_by_text("已确认收到，待审核员核实").wait_for()
    _logout(page)

    # The curator of 四川省 verifies it from the delivery queue.
    _login(page, base, curator)
    page.goto(f"{base}/curate/deliveries")
    delivery = page.locator("[data-delivery]", has_text=code)
    delivery.get_by_label("核实说明（可选）").fill("已核对银行回单。")
    shot(page, "delivery-queue-zh")
    delivery.get_by_role("button", name="核实通过").click()
    page.get_by_role("alert").filter(has_text="交付已核实").wait_for()
    _logout(page)

    # Anyone sees it on the need page: verified, completed, and the pledge on the public list.
    page.goto(f"{base}/needs/{need_id}")
    assert page.locator("[data-status]").first.inner_text() == "已完成"
    assert "¥30,000.00 · 100%" in page.locator("[data-ledger-row=verified]").inner_text()
    assert page.locator("[data-pledge]", has_text=org_name).locator("[data-pledge-status]").inner_text() == "已核实"
    shot(page, "need-verified-zh")
    page.get_by_role("link", name=code).first.click()
    page.get_by_role("heading", name=code).wait_for()
    assert page.locator("[data-step=verified]").get_attribute("aria-current") == "step"
