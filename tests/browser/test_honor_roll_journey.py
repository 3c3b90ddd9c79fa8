"""The honor roll in a real browser: a national curator computes the candidates and follows the job,
excludes one with a reason, writes citations and puts the roll on notice; a visitor objects; the
curator answers; once the notice period is over an admin publishes, and anyone opens the entry,
its deliveries and its certificate — in Chinese, then the published roll in English."""
from datetime import timedelta

from sqlalchemy import update

from tests import factories
from tests.browser.conftest import shot
from tests.honor_roll.builders import World
from villageaid.extensions import db
from villageaid.honor_roll.models import HonorRollEdition
from villageaid.timeutil import utcnow


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.get_by_label("邮箱").fill(email)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{base}/me")


def _logout(page):
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state("load")


def test_a_curator_computes_curates_and_an_admin_publishes(live_app, page, browser):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        world = World()
        for name, amount in (("甲企业有限公司", 3_000_000), ("乙企业有限公司", 2_000_000), ("丙企业有限公司", 1_000_000)):
            world.help(world.helper(name=name), amount)
        world.help(world.person("李善人"), 200_000)
        national, admin = world.national.email, world.admin.email
        db.session.remove()

    _login(page, base, national)
    page.goto(f"{base}/curate")
    page.get_by_role("link", name="光荣榜管理").click()
    page.get_by_role("link", name="2026年全国扶贫日 万企帮万村光荣榜").click()
    page.get_by_role("button", name="计算候选名单").click()
    page.locator("[data-computation-result=done]").wait_for()  # the job's page, once it has finished
    assert "共 4 个候选对象" in page.locator("[data-computation-result]").inner_text()
    page.get_by_role("link", name="审核候选名单").click()
    shot(page, "honor-roll-candidates-zh")

    first = page.locator("[data-candidate='甲企业有限公司']")
    first.get_by_text("排除", exact=True).click()
    first.get_by_label("排除理由（记录在案）").fill("被举报拖欠农民工工资，核查期间暂不表彰")
    first.get_by_role("button", name="排除出名单").click()
    page.get_by_text("已将 甲企业有限公司 排除出名单").wait_for()
    assert page.locator("[data-candidate='甲企业有限公司']").get_attribute("data-state") == "excluded"

    for name in ("乙企业有限公司", "丙企业有限公司", "李善人"):
        card = page.locator(f"[data-candidate='{name}']")
        card.get_by_text("填写事迹").click()
        card.get_by_label("事迹（600 字以内，将印在荣誉证书上）").fill(f"{name}长期帮扶昭觉县贫困村。")
        card.get_by_role("button", name="保存事迹").click()
        page.get_by_text(f"已保存 {name} 的事迹").wait_for()
    page.get_by_role("button", name="开始公示").click()
    page.get_by_text("名单已进入公示").wait_for()
    assert page.locator("[data-edition-status]").inner_text() == "公示中"
    _logout(page)

    # A visitor sees the draft and objects.
    visitor = browser.new_context(locale="zh-CN").new_page()
    visitor.goto(f"{base}/honor-roll")
    assert visitor.locator("[data-notice]").count() == 1
    assert visitor.locator("[data-entry-name]").all_inner_texts() == ["乙企业有限公司", "丙企业有限公司", "李善人"]
    form = visitor.locator("[data-objection-form]")
    form.get_by_label("异议对象").select_option(label="先进民营企业 · 1. 乙企业有限公司")
    form.get_by_label("异议的事实和理由").fill("该企业承诺的岗位尚未到位。")
    form.get_by_label("您的姓名或单位").fill("张群众")
    form.get_by_label("联系方式（电话或邮箱）").fill("13800000000")
    form.get_by_role("button", name="提交异议").click()
    visitor.get_by_text("异议已提交").wait_for()
    shot(visitor, "honor-roll-notice-zh")
    visitor.context.close()

    # The curator answers it in public.
    _login(page, base, national)
    page.goto(f"{base}/curate/honor-roll/2026#objections")
    objection = page.locator("[data-objection=open]")
    objection.get_by_label("经核查，异议不成立").check()
    objection.get_by_label("公开答复").fill("该企业本届只计入已核实的资金交付，岗位未计入。")
    objection.get_by_role("button", name="公开答复").click()
    page.get_by_text("答复已公开").wait_for()
    _logout(page)

    with live_app.app_context():  # the notice period runs out
        db.session.execute(update(HonorRollEdition).values(notice_ends_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        db.session.remove()

    _login(page, base, admin)
    page.goto(f"{base}/curate/honor-roll/2026")
    page.get_by_role("button", name="立即发布").click()
    page.get_by_text("光荣榜已发布").wait_for()
    _logout(page)

    # Anyone: the published roll, an entry with the deliveries behind its figures, the certificate.
    page.goto(f"{base}/honor-roll/2026")
    assert "发布于" in page.locator(".va-hero").inner_text()
    shot(page, "honor-roll-published-zh")
    page.get_by_role("link", name="乙企业有限公司").first.click()
    page.locator("#funds [data-delivery]").first.wait_for()
    assert page.locator("#funds [data-delivery]").count() == 1
    href = page.locator("[data-certificate]").first.get_attribute("href")
    pdf = page.request.get(base + href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf" and pdf.body()[:5] == b"%PDF-"
    page.goto(f"{base}/honor-roll/2026?lang=en")
    assert page.locator("[data-category] h2").first.inner_text().startswith("Outstanding private enterprises")
    assert "Published" in page.locator(".va-hero").inner_text()
    shot(page, "honor-roll-published-en")
