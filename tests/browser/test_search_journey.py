"""A visitor searches from the home page and lands on the village."""
from tests import factories
from tests.browser.conftest import shot


def test_search_from_the_home_page(live_app, page):
    base = live_app.config["LIVE_URL"]
    with live_app.app_context():
        factories.village(name="椒香村")
    page.goto(f"{base}/")
    page.get_by_label("搜索需求、贫困村、帮扶方").fill("椒香村")
    page.get_by_label("搜索需求、贫困村、帮扶方").press("Enter")
    page.get_by_text("共找到 1 条结果").wait_for()
    shot(page, "search-zh")
    page.get_by_role("link", name="椒香村").click()
    page.get_by_role("heading", name="椒香村").wait_for()
