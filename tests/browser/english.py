"""What the English journeys share: signing in and out by the English labels, people who read English,
and the check that a page reads as English but for the proper names of the data it shows."""
from tests import factories
from tests.test_i18n import chinese_left
from villageaid.accounts.models import User
from villageaid.extensions import db
from villageaid.needs.models import Need
from villageaid.organizations.models import Organization
from villageaid.regions.models import Region
from villageaid.villages.models import Village, VillageMember


def settle(page):
    """Let the page finish loading: a request the browser abandons leaves the test server a file unclosed."""
    page.wait_for_load_state("load")


def open_in_english(page, url):
    """Open the journey's first page with ?lang=en (the session then keeps English). Let it be a page with a
    form: the first request after the language is stored also rewrites the session (Flask-Login adds its
    `_fresh` flag), so a request still in flight from an earlier page — the browser's /favicon.ico — could
    land after a form page and drop its CSRF token, and the form would fail with a 400."""
    page.goto(url + ("&" if "?" in url else "?") + "lang=en")
    settle(page)


def login(page, base, email, password=factories.PASSWORD):
    page.goto(f"{base}/auth/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/me")
    settle(page)


def logout(page):
    """Sign out and wait for the signed-out page: going on before it arrives races the logout's cookie
    with the next page's session (a login form then fails its CSRF check)."""
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("navigation").get_by_role("link", name="Sign in").wait_for()
    settle(page)


def reads_english(user):
    """A person whose language is English: what the platform writes to them (notifications) is English too."""
    user.locale = "en"
    db.session.commit()
    return user


def proper_names(*extra):
    """The Chinese an English page may show: places, people, villages, organisations, needs (call in an app context)."""
    names = {r.name for r in Region.query} | {u.name for u in User.query} | {o.name for o in Organization.query}
    for v in Village.query:
        names |= {v.name, v.township_name, v.place_name, v.industries, *(v.poverty_causes or ())}
    names |= {m.title for m in VillageMember.query}
    for n in Need.query:
        names |= {n.title, n.description, n.goods_item}
    return {n for n in names | set(extra) if n}


def assert_english(page, names):
    """The page is in English, shows no Chinese but `names`, and its navigation bar fits the screen."""
    settle(page)
    assert page.locator("html").get_attribute("lang") == "en", page.url
    left = chinese_left(page.content(), names)
    assert not left, f"Chinese on {page.url}: {left}"
    bar = page.locator("#nav > ul").last.bounding_box()  # 中文, sign in/out: the bar's last items
    assert bar["x"] + bar["width"] <= page.viewport_size["width"], f"the navigation bar runs off screen on {page.url}"
