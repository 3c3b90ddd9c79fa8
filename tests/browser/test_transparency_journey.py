"""In a real browser: an import's progress page follows the job until it finishes, and the 10·17 page
runs its countdown clock (both scripts are files: the CSP forbids inline ones)."""
from sqlalchemy import update

from tests import factories
from tests.browser.conftest import shot
from villageaid.extensions import db
from villageaid.villages.models import VillageImport


def _login(page, base, email):
    page.goto(f"{base}/auth/login")
    page.fill("#email", email)
    page.fill("#password", factories.PASSWORD)
    page.click("form:has(#email) button[type=submit]")
    page.wait_for_url(f"{base}/me")


def test_the_progress_page_polls_and_shows_the_result(live_app, page):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        curator = factories.curator(factories.SICHUAN)
        run = VillageImport(uploaded_by_id=curator.id, filename="凉山州.xlsx", stored_name="gone.xlsx",
                            status="running", total_rows=400, checked_rows=100)
        db.session.add(run)
        db.session.commit()
        run_id, email = run.id, curator.email
    _login(page, base, email)
    page.goto(f"{base}/curate/villages/import/{run_id}")
    page.get_by_text("正在检查第 100 / 400 行").wait_for()
    with live_app.app_context():  # the job moves on …
        db.session.execute(update(VillageImport).where(VillageImport.id == run_id).values(checked_rows=300))
        db.session.commit()
    page.get_by_text("正在检查第 300 / 400 行").wait_for()
    assert page.locator("[data-progress-bar]").get_attribute("style") == "width: 75%;"
    with live_app.app_context():  # … and finishes: the page reloads into the result
        db.session.execute(update(VillageImport).where(VillageImport.id == run_id)
                           .values(status="imported", checked_rows=400, imported=400, message="已导入 400 个村。"))
        db.session.commit()
    page.locator('[data-import-result="imported"]').wait_for()
    shot(page, "village-import-done")


def test_the_campaign_clock_ticks(live_app, page):
    base = live_app.config["LIVE_URL"]
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))  # a script that throws
    page.goto(f"{base}/campaign")
    clock = page.locator("[data-countdown-clock]")
    if clock.count():  # on 17 October itself the page says it is the day instead
        clock.wait_for()
        first = clock.inner_text()
        page.wait_for_timeout(1200)
        assert clock.inner_text() != first and "秒" in first
    assert not errors
    shot(page, "campaign")
