"""The spot-check pages through the test client with CSRF on: a curator draws, records and closes; other
curators and visitors are refused; the public list, the check's public page, the ledger and /track/<code>
show what the visits found (a reopened delivery with its public note), never personal data or photos."""
import re

import pytest
from sqlalchemy import select

from tests import factories
from tests.conftest import csrf_token, post_form
from tests.spotchecks.builders import World, draw_form, gps_photo, result_form
from villageaid.extensions import db
from villageaid.spotchecks.models import SpotCheck


@pytest.fixture
def world(app):
    world = World()
    world.verified(3)
    return world


def text(response):
    return response.get_data(as_text=True)


def post_result(client, spot_check, item, data, files=()):
    url = f"/curate/spot-checks/{spot_check.id}/items/{item.id}"
    payload = {**data, "csrf_token": csrf_token(client, f"/curate/spot-checks/{spot_check.id}")}
    if files:
        payload["evidence"] = [(f.stream, f.filename) for f in files]
    return client.post(url, data=payload, content_type="multipart/form-data")


def test_a_curator_draws_records_and_closes_through_the_pages(world, as_user):
    client = as_user(world.curator)
    assert 'href="/curate/spot-checks"' in text(client.get("/curate"))
    form_page = text(client.get("/curate/spot-checks/new"))
    assert re.search(r'<option selected value="510000000000">|<option value="510000000000" selected', form_page)
    assert "random.Random" in form_page  # the rule, on the page
    response = post_form(client, "/curate/spot-checks/new", draw_form(seed="20 261 017"))
    assert response.status_code == 302, text(response)[:500]
    spot_check = db.session.scalars(select(SpotCheck)).one()
    assert response.headers["Location"].endswith(f"/curate/spot-checks/{spot_check.id}")
    assert (spot_check.seed, spot_check.sample_size, len(spot_check.items)) == (20261017, 3, 3)
    page = text(client.get(f"/curate/spot-checks/{spot_check.id}"))
    assert "20261017" in page and spot_check.candidates_digest in page
    assert all(item.delivery.pledge.code in page for item in spot_check.items)

    first, second, third = spot_check.items
    response = post_result(client, spot_check, first, result_form(), files=[gps_photo()])
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/curate/spot-checks/{spot_check.id}#item-{first.id}")
    page = text(client.get(f"/curate/spot-checks/{spot_check.id}"))
    assert "走访核对：村集体账户只收到一半款项。" in page and "data-reopened" in page
    photo_url = f"/curate/spot-checks/{spot_check.id}/items/{first.id}/evidence/{first.evidence[0].id}"
    assert photo_url in page
    with client.get(photo_url) as photo:
        assert photo.status_code == 200 and photo.mimetype == "image/jpeg"
        assert photo.headers["Cache-Control"] == "private, no-store"
    assert 'action="/curate/spot-checks/%d/close"' % spot_check.id not in page  # two are still pending
    for item in (second, third):
        assert post_result(client, spot_check, item, result_form(result="confirmed", notes="")).status_code == 302
    assert post_form(client, f"/curate/spot-checks/{spot_check.id}/close", {},
                     page=f"/curate/spot-checks/{spot_check.id}").status_code == 302
    assert db.session.get(SpotCheck, spot_check.id).status == "closed"
    # The reopened delivery waits in the delivery queue, with the usual verify and reject buttons.
    queue = text(client.get("/curate/deliveries"))
    assert 'id="reopened"' in queue and f'/deliveries/{first.delivery_id}/verify' in queue


def test_bad_input_is_shown_by_the_fields(world, as_user):
    client = as_user(world.curator)
    response = post_form(client, "/curate/spot-checks/new", draw_form(period_start="2030-01-01"))
    assert response.status_code == 400 and "开始日期不能晚于结束日期" in text(response)
    response = post_form(client, "/curate/spot-checks/new", draw_form(seed="abc"))
    assert response.status_code == 400 and "随机种子应是不超过 18 位的非负整数" in text(response)
    response = post_form(client, "/curate/spot-checks/new", draw_form(province=factories.ZHEJIANG))
    assert response.status_code == 403  # another province is another region's business
    response = post_form(client, "/curate/spot-checks/new", draw_form(county=factories.ZHAOJUE, prefecture=factories.LIANGSHAN,
                                                                     period_start="2020-01-01", period_end="2020-12-31"))
    assert response.status_code == 400 and "没有已核实的交付" in text(response)
    assert db.session.scalar(select(SpotCheck)) is None

    post_form(client, "/curate/spot-checks/new", draw_form())
    spot_check = db.session.scalars(select(SpotCheck)).one()
    item = spot_check.items[0]
    response = post_result(client, spot_check, item, result_form(notes=""))
    assert response.status_code == 400
    page = text(response)
    assert "发现出入时请写明出入的情况" in page and f'id="item-{item.id}-notes"' in page
    response = post_result(client, spot_check, item, result_form(result="confirmed"))
    assert response.status_code == 302
    response = post_result(client, spot_check, item, result_form(result="confirmed"))
    assert response.status_code == 409 and "不能再次登记" in text(response)


def test_other_regions_curators_and_everyone_else_are_refused(world, as_user, app):
    from villageaid.spotchecks import lifecycle
    from villageaid.timeutil import local_date_today

    spot_check = world.draw(size=2)
    seen, item = spot_check.items
    lifecycle.record_result(world.curator, seen, "confirmed", None, local_date_today(), uploads=[gps_photo()])
    paths = [f"/curate/spot-checks/{spot_check.id}",
             f"/curate/spot-checks/{spot_check.id}/items/{seen.id}/evidence/{seen.evidence[0].id}"]
    visitor = app.test_client()
    assert visitor.get("/curate/spot-checks").status_code == 302
    for path in paths:
        assert "/auth/login" in visitor.get(path).headers["Location"]
    client = as_user(world.far_curator)
    for path in paths:
        assert client.get(path).status_code == 403
    assert post_result(client, spot_check, item, result_form()).status_code in (400, 403)  # no CSRF page to read
    token = csrf_token(client, "/curate/spot-checks")
    assert client.post(f"/curate/spot-checks/{spot_check.id}/items/{item.id}",
                       data={**result_form(), "csrf_token": token}).status_code == 403
    assert client.post(f"/curate/spot-checks/{spot_check.id}/close", data={"csrf_token": token}).status_code == 403
    assert f"/curate/spot-checks/{spot_check.id}" not in text(client.get("/curate/spot-checks"))
    db.session.expire_all()
    assert db.session.get(type(item), item.id).status == "pending"
    assert as_user(world.donor).get("/curate/spot-checks").status_code == 403


def test_the_public_sees_results_the_ledger_and_the_tracking_page_show_a_reopened_delivery(world, app):
    from villageaid.spotchecks import lifecycle
    from villageaid.timeutil import local_date_today

    spot_check = world.draw(size=3)
    bad, good, pending = spot_check.items
    notes = "走访核对：村集体账户只收到一半款项。"
    lifecycle.record_result(world.curator, bad, "discrepancy", notes, local_date_today(), uploads=[gps_photo()])
    lifecycle.record_result(world.curator, good, "confirmed", None, local_date_today())
    visitor = app.test_client()

    listing = text(visitor.get("/spot-checks"))
    assert f'href="/spot-checks/{spot_check.id}"' in listing and "1 笔发现出入" in listing
    for covered in (factories.SICHUAN, factories.ZHAOJUE):  # a province's check covers its counties
        assert f'href="/spot-checks/{spot_check.id}"' in text(visitor.get(f"/spot-checks?region={covered}"))
    assert f'href="/spot-checks/{spot_check.id}"' not in text(visitor.get(f"/spot-checks?region={factories.YUNNAN}"))
    assert visitor.get("/spot-checks?region=123").status_code == 404
    page = text(visitor.get(f"/spot-checks/{spot_check.id}"))
    assert notes in page and bad.delivery.pledge.code in page and good.delivery.pledge.code in page
    assert pending.delivery.pledge.code not in page  # the visits are unannounced until recorded
    assert "/evidence/" not in page and world.curator.name not in page

    ledger = text(visitor.get(f"/ledger/{factories.ZHAOJUE}"))
    assert "data-ledger-reopened" in ledger and notes in ledger and f'/track/{bad.delivery.pledge.code}' in ledger
    assert "走访 2 笔" in ledger
    country = text(visitor.get("/ledger"))
    assert notes in country and f'href="/spot-checks"' in country
    assert notes not in text(visitor.get(f"/ledger/{factories.YUNNAN}"))

    track = text(visitor.get(f"/track/{bad.delivery.pledge.code}"))
    assert 'data-delivery-status="reopened"' in track and 'data-spot-check-finding="discrepancy"' in track
    assert notes in track and "/evidence/" not in track
    assert world.curator.name not in track and world.curator.email not in track and world.owner.email not in track
    assert 'data-spot-check-finding="confirmed"' in text(visitor.get(f"/track/{good.delivery.pledge.code}"))

    lifecycle.record_result(world.curator, pending, "confirmed", None, local_date_today())
    lifecycle.close(world.curator, spot_check)
    assert pending.delivery.pledge.code in text(visitor.get(f"/spot-checks/{spot_check.id}"))  # closed: all shown
    assert visitor.get("/spot-checks/999").status_code == 404


def test_the_public_pages_read_as_english(world, app):
    from tests.test_i18n import chinese_left
    from villageaid.needs.models import Need
    from villageaid.regions.models import Region
    from villageaid.spotchecks import lifecycle
    from villageaid.timeutil import local_date_today
    from villageaid.villages.models import Village

    spot_check = world.draw(size=3)
    notes = "走访核对：村集体账户只收到一半款项。"
    lifecycle.record_result(world.curator, spot_check.items[0], "discrepancy", notes, local_date_today())
    names = {r.name for r in Region.query} | {notes, world.org.name, world.donor.name}
    names |= {v.name for v in Village.query} | {v.place_name for v in Village.query} | {n.title for n in Need.query}
    client = app.test_client()
    code = spot_check.items[0].delivery.pledge.code
    for path in ("/spot-checks", f"/spot-checks/{spot_check.id}", f"/ledger/{factories.ZHAOJUE}", f"/track/{code}"):
        html = text(client.get(path + "?lang=en"))
        assert '<html lang="en">' in html
        assert not chinese_left(html, names), (path, chinese_left(html, names))
