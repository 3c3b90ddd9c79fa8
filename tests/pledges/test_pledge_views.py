"""The pledge pages: the form on the need page, the pledge's page, the village's inbox, the curators'
queue, /me/pledges, /track/<code> (public, without personal data) and the donation receipt."""
import re
import shutil
import subprocess

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.conftest import csrf_token, post_form
from tests.pledges.builders import D, P, S, World, bring, photo
from villageaid.extensions import db
from villageaid.pledges.models import Delivery, Pledge


@pytest.fixture
def world(app):
    return World()


def text(response):
    return response.get_data(as_text=True)


def status(client, url):
    """The status of a GET, closing the response (a file response left open is a ResourceWarning)."""
    with client.get(url) as response:
        return response.status_code


def test_the_need_page_shows_the_form_and_a_pledge_made_with_it(world, as_user):
    need = world.published()
    client = as_user(world.donor)
    page = text(client.get(f"/needs/{need.id}"))
    assert "我要认捐" in page and 'name="token"' in page
    token = re.search(r'name="token"[^>]*value="([0-9a-f]{32})"', page).group(1)
    data = {"organization_id": "", "quantity": "1,250.50", "promised_on": need.deadline.isoformat(),
            "anonymous": "y", "note": "请转告孩子们", "token": token}
    response = post_form(client, f"/needs/{need.id}/pledge", data, page=f"/needs/{need.id}")
    assert response.status_code == 302
    pledge = db.session.scalars(select(Pledge)).one()
    assert response.headers["Location"].endswith(f"/pledges/{pledge.id}")
    assert (pledge.quantity, pledge.anonymous, pledge.organization_id) == (125_050, True, None)
    # A double-clicked submit (same form token) is the same pledge, and says so.
    again = post_form(client, f"/needs/{need.id}/pledge", data, page=f"/needs/{need.id}", follow=True)
    assert "没有重复认捐" in text(again)
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
    # The public sees 爱心人士, never the donor's name.
    public = text(factories_client(client).get(f"/needs/{need.id}"))
    assert "爱心人士" in public and world.donor.name not in public and pledge.code in public
    assert "¥1,250.50" in public


def factories_client(client):
    """A fresh, signed-out client on the same app."""
    return client.application.test_client()


def test_bad_input_keeps_what_was_typed_and_over_pledging_says_what_remains(world, as_user):
    need = world.published(target=3_000_000)
    client = as_user(world.owner)
    url = f"/needs/{need.id}/pledge"
    response = post_form(client, url, {"organization_id": str(world.org.id), "quantity": "12.345",
                                       "promised_on": need.deadline.isoformat(), "note": "第一批"})
    assert response.status_code == 400
    page = text(response)
    assert "最多两位小数" in page and 'value="12.345"' in page and "第一批" in page
    response = post_form(client, url, {"organization_id": str(world.org.id), "quantity": "40000",
                                       "promised_on": need.deadline.isoformat()})
    assert response.status_code == 400 and "还可认捐 ¥30,000.00" in text(response)
    assert 'value="40000"' in text(response)


def test_the_whole_loop_through_the_pages(world, app):
    need = world.published(target=3_000_000)
    owner, member, curator = (app.test_client() for _ in range(3))
    for client, user in ((owner, world.owner), (member, world.member), (curator, world.curator)):
        from tests.conftest import login

        login(client, user.email)
    response = post_form(owner, f"/needs/{need.id}/pledge", {
        "organization_id": str(world.org.id), "quantity": "30000", "promised_on": need.deadline.isoformat(),
        "token": "t1"}, page=f"/needs/{need.id}/pledge")
    pledge = db.session.scalars(select(Pledge)).one()
    assert pledge.status == P.PLEDGED and need.status == S.FULLY_PLEDGED

    inbox = text(member.get("/me/incoming"))
    assert pledge.code in inbox and "接受认捐" in inbox
    assert "待接受或婉拒的认捐" in text(member.get("/me"))
    response = post_form(member, f"/pledges/{pledge.id}/accept", {"next": "/me/incoming"}, page="/me/incoming")
    assert response.headers["Location"].endswith("/me/incoming")
    db.session.refresh(pledge)
    assert pledge.status == P.ACCEPTED

    report_url = f"/pledges/{pledge.id}/deliveries/new"
    form = text(owner.get(report_url))
    assert "本次交付金额（元）" in form
    response = owner.post(report_url, data={
        "csrf_token": csrf_token(owner, report_url), "quantity": "30000",
        "delivered_on": need.deadline.isoformat(), "note": "银行转账"})
    assert response.status_code == 400 and "交付日期不能晚于今天" in text(response)
    from villageaid.timeutil import local_date_today

    response = owner.post(report_url, data={
        "csrf_token": csrf_token(owner, report_url), "quantity": "30000",
        "delivered_on": local_date_today().isoformat(), "note": "银行转账", "evidence": [photo(3, "回单.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 302
    delivery = db.session.scalars(select(Delivery)).one()
    assert len(delivery.evidence) == 1
    # The evidence is for the parties and curators, not the public.
    evidence_url = f"/deliveries/{delivery.id}/evidence/{delivery.evidence[0].id}"
    assert status(member, evidence_url) == 200 and status(curator, evidence_url) == 200
    assert status(app.test_client(), evidence_url) == 302  # to log in
    stranger = app.test_client()
    from tests.conftest import login

    login(stranger, factories.user().email)
    assert status(stranger, evidence_url) == 404

    post_form(member, f"/deliveries/{delivery.id}/confirm", {"next": "/me/incoming"}, page="/me/incoming")
    queue = text(curator.get("/curate/deliveries"))
    assert pledge.code in queue and "核实通过" in queue
    post_form(curator, f"/deliveries/{delivery.id}/verify", {"reason": "已核对回单", "next": "/curate/deliveries"},
              page="/curate/deliveries")
    db.session.refresh(delivery)
    db.session.refresh(need)
    assert delivery.status == D.VERIFIED and need.verified == 3_000_000 and need.status == S.COMPLETED

    page = text(app.test_client().get(f"/needs/{need.id}"))
    assert "审核员已核实" in page and "¥30,000.00 · 100%" in page
    mine = text(owner.get("/me/pledges"))
    assert pledge.code in mine and "已核实" in mine
    assert "下载捐赠凭证" in text(owner.get(f"/pledges/{pledge.id}"))


def test_the_track_page_is_public_and_holds_no_personal_data(world, client):
    pledge = bring(world, world.pledge(org=False, anonymous=True, note="联系我 13800138000"), P.DELIVERED)
    response = client.get(f"/track/{pledge.code}")
    page = text(response)
    assert response.status_code == 200 and pledge.code in page and "爱心人士" in page
    for private in (world.donor.name, world.donor.email, "13800138000", world.member.email, world.member.name):
        assert private not in page
    assert "/evidence/" not in page
    # Typed loosely, it still finds the pledge; an unknown code is a 404 that offers the lookup box.
    assert client.get(f"/track/{pledge.code.lower()}").status_code == 301
    assert client.get("/track?code=" + pledge.code.replace("-", " ").lower()).status_code == 302
    assert client.get("/track/WQ-2026-ZZZZZZ").status_code == 404
    assert client.get("/track?code=nonsense").status_code == 400


def test_a_pledge_page_is_for_its_parties(world, app):
    from tests.conftest import login

    pledge = world.pledge()
    for user, status in ((world.owner, 200), (world.colleague, 200), (world.member, 200), (world.curator, 200),
                         (world.donor, 404), (factories.curator(factories.YUNNAN), 404)):
        client = app.test_client()
        login(client, user.email)
        assert client.get(f"/pledges/{pledge.id}").status_code == status, user


def test_refused_actions_change_nothing(world, as_user):
    pledge = world.pledge()
    client = as_user(world.owner)
    response = post_form(client, f"/pledges/{pledge.id}/accept", {}, page=f"/pledges/{pledge.id}")
    assert response.status_code == 403
    # Nothing to report before the village accepts: the pledge's page says why.
    response = client.get(f"/pledges/{pledge.id}/deliveries/new", follow_redirects=True)
    assert "该认捐现在不能登记交付：待村里接受" in text(response)
    db.session.refresh(pledge)
    assert pledge.status == P.PLEDGED
    # The village declines without a reason: the message, and no change.
    member = as_user(world.member)
    response = post_form(member, f"/pledges/{pledge.id}/decline", {"reason": ""}, page=f"/pledges/{pledge.id}",
                         follow=True)
    assert "请填写理由" in text(response)
    db.session.refresh(pledge)
    assert pledge.status == P.PLEDGED


def test_the_village_page_and_the_helper_page_show_the_ledger(world, client):
    pledge = bring(world, world.pledge(quantity=1_200_000), P.VERIFIED)
    bring(world, world.pledge(org=False, anonymous=True, quantity=300_000), P.ACCEPTED)
    village = text(client.get(f"/villages/{world.village.id}"))
    assert world.org.name in village and "爱心人士" in village and world.donor.name not in village
    assert "¥15,000.00" in village and "¥12,000.00" in village
    helper = text(client.get(f"/helpers/{world.org.id}"))
    assert pledge.code in helper and "¥12,000.00" in helper
    home = text(client.get("/"))
    assert world.org.name in home and world.village.name in home


def _pdf_text(data, tmp_path):
    path = tmp_path / "receipt.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils is not installed")
def test_the_donation_receipt_is_a_chinese_pdf_with_embedded_fonts(world, app, tmp_path):
    from tests.conftest import login

    pledge = bring(world, world.pledge(quantity=1_200_050), P.VERIFIED)
    delivery = pledge.deliveries[0]
    owner = app.test_client()
    login(owner, world.owner.email)
    response = owner.get(f"/deliveries/{delivery.id}/receipt.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"{pledge.code}-" in response.headers["Content-Disposition"]
    content = _pdf_text(response.data, tmp_path)
    for expected in ("捐赠凭证", world.org.name, world.village.name, "¥12,000.50", "人民币壹万贰仟元伍角整", pledge.code):
        assert expected in content.replace(" ", "") or expected in content, expected
    fonts = subprocess.run(["pdffonts", str(tmp_path / "receipt.pdf")], capture_output=True, text=True).stdout
    rows = fonts.splitlines()[2:]
    assert rows and all(" yes " in row for row in rows), fonts  # every font embedded
    # Only the pledger (and curators): the village and strangers get none.
    member = app.test_client()
    login(member, world.member.email)
    assert member.get(f"/deliveries/{delivery.id}/receipt.pdf").status_code == 403


def test_chinese_amounts_in_capitals():
    from villageaid.pledges.receipts import chinese_amount

    cases = {100: "人民币壹元整", 1_200_050: "人民币壹万贰仟元伍角整", 100_500_00: "人民币壹拾万零伍佰元整",
             1005_00: "人民币壹仟零伍元整", 1005: "人民币壹拾元零伍分", 50: "人民币伍角整", 1: "人民币壹分",
             100_000_005_00: "人民币壹亿零伍元整", 1_001_000_00: "人民币壹佰万壹仟元整", 0: "人民币零元整",
             30_000_00: "人民币叁万元整", 10_010_00: "人民币壹万零壹拾元整"}
    assert {fen: chinese_amount(fen) for fen in cases} == cases


def test_the_pledge_pages_read_as_english(world, app):
    """Every pledge page with ?lang=en: no Chinese left but the names and words people typed."""
    from tests.conftest import login
    from tests.test_i18n import chinese_left
    from villageaid.needs.models import Need
    from villageaid.organizations.models import Organization
    from villageaid.regions.models import Region
    from villageaid.villages.models import Village, VillageMember

    need = world.published(target=9_000_000)
    verified = bring(world, world.pledge(need, 1_000_000), P.VERIFIED)
    disputed = bring(world, world.pledge(need, 1_000_000), P.DELIVERED)
    from villageaid.pledges import lifecycle

    lifecycle.dispute(world.member, disputed.deliveries[0], "没有收到")
    waiting = world.pledge(need, 500_000, org=False, anonymous=True)
    typed = {r.name for r in Region.query} | {"没有收到", "尽快安排", "已转账"}
    for model, columns in ((Village, ("name", "township_name", "industries")), (Organization, ("name", "contact_name")),
                           (Need, ("title", "description")), (VillageMember, ("title",))):
        for row in model.query:
            typed.update(str(getattr(row, c)) for c in columns if getattr(row, c, None))
    typed.update(v.place_name for v in Village.query)
    from villageaid.accounts.models import User

    typed.update(u.name for u in User.query)
    pages = [
        (None, f"/needs/{need.id}"), (None, f"/track/{verified.code}"), (None, "/track"), (None, "/"),
        (None, f"/villages/{world.village.id}"), (None, f"/helpers/{world.org.id}"),
        (world.owner, f"/pledges/{verified.id}"), (world.owner, "/me/pledges"),
        (world.owner, f"/pledges/{disputed.id}"), (world.donor, f"/needs/{need.id}/pledge"),
        (world.member, "/me/incoming"), (world.member, f"/pledges/{waiting.id}"), (world.curator, "/curate/deliveries"),
    ]
    for user, path in pages:
        client = app.test_client()
        client.get("/?lang=en")
        if user is not None:
            login(client, user.email)
        response = client.get(path + "?lang=en")
        assert response.status_code == 200, path
        left = chinese_left(response.get_data(as_text=True), typed)
        assert not left, f"Chinese text on {path}?lang=en: {left}"


def test_the_home_page_lists_the_latest_verified_deliveries(any_app):
    world = World()
    pledges = [bring(world, world.pledge(quantity=1_200_000), P.VERIFIED),
               bring(world, world.pledge(org=False, quantity=300_000), P.VERIFIED),
               bring(world, world.pledge(org=False, by=factories.user("不留名的人"), anonymous=True, quantity=50_000),
                     P.VERIFIED)]
    codes = [p.code for p in pledges]
    titles = [p.need.title for p in pledges]
    unverified = bring(world, world.pledge(quantity=70_000), P.CONFIRMED).code
    org, donor, village = (world.org.id, world.org.name), world.donor.name, world.village.name
    db.session.remove()  # what the end of a request does: the page reads everything afresh
    home = text(any_app.test_client().get("/"))
    section = home[home.index("data-recent-deliveries"):]
    section = section[:section.index("</main>")] if "</main>" in section else section
    assert org[1] in section and f"/helpers/{org[0]}" in section
    assert donor in section and "爱心人士" in section and "不留名的人" not in home
    for code, title in zip(codes, titles):
        assert code in section and title in section
    assert unverified not in home
    assert "¥12,000.00" in section and "¥3,000.00" in section and "¥500.00" in section
    assert section.count(f"向 {village} 交付") == 3
    # Newest first: the anonymous pledge was verified last.
    assert section.index(codes[2]) < section.index(codes[1]) < section.index(codes[0])
