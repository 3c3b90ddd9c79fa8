"""An organisation registers in Chinese and shows up in the curator's queue."""
from tests import factories
from tests.browser.conftest import shot


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/me")


def test_organisation_registers_and_appears_in_curator_queue(live_app, page):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        curator = factories.curator(factories.ZHEJIANG)
        curator_email = curator.email

    page.goto(f"{base}/auth/register?lang=zh_CN")
    page.get_by_label("姓名或昵称").fill("陈经理")
    page.get_by_label("邮箱").fill("chen@hzkj.example.cn")
    page.get_by_label("密码", exact=True).fill("secret-pass-1")
    page.get_by_label("确认密码").fill("secret-pass-1")
    page.get_by_role("button", name="注册").click()
    page.wait_for_url(f"{base}/me")

    page.goto(f"{base}/helpers/new")
    page.get_by_label("名称").fill("杭州山海电子科技有限公司")
    page.get_by_label("统一社会信用代码").fill("91330100799655058B")
    page.get_by_label("行业门类（国民经济行业分类）").select_option("C")
    page.get_by_label("所在省份").select_option(label="浙江省")
    # The prefecture list is filled by script from /regions/<code>/children. Wait on a locator, not
    # wait_for_function: the CSP forbids eval, so a predicate string fails whenever it must be re-polled.
    page.locator("#prefecture_code option", has_text="杭州市").wait_for(state="attached")
    page.get_by_label("所在地市").select_option(label="杭州市")
    page.get_by_label("联系人").fill("陈经理")
    page.get_by_label("联系电话").fill("0571-88001234")
    shot(page, "org-registration-zh")
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("已提交审核").wait_for()

    page.get_by_role("button", name="退出").click()
    _login(page, base, curator_email)
    page.goto(f"{base}/curate")
    card = page.locator("[data-queue=organization]", has_text="杭州山海电子科技有限公司")
    card.wait_for()
    shot(page, "curator-queue-zh")
    card.get_by_role("button", name="通过").click()
    page.get_by_text("已通过：杭州山海电子科技有限公司").wait_for()
    assert page.locator("[data-queue=organization]", has_text="杭州山海电子科技有限公司").count() == 0
