"""What the need page reads, in one SELECT for a visitor, on both databases: the need with whether it
has photos and report outcomes, its latest pledges with the pairing each was made within, and its 进展
(the need's events and its pledges' and deliveries' public ones, with their tracking codes); an
insider's 进展, with the need's non-public events, is a second."""
import re

from sqlalchemy import event, select

from tests.conftest import login
from tests.pledges.builders import P, World, bring
from villageaid.audit.models import AuditEvent
from villageaid.audit.services import record
from villageaid.extensions import db
from villageaid.needs.models import NeedPhoto
from villageaid.pledges.models import Delivery
from villageaid.timeutil import to_local


def _timeline(page):
    """The 进展 list's entries as (tracking code or None, text after the time)."""
    block = page[page.index("data-timeline"):]
    block = block[:block.index("</ol>")]
    entries = re.findall(r'<li class="list-group-item small">(.*?)</li>', block, re.S)
    return [(m.group(1) if (m := re.search(r"/track/(WQ-[0-9A-Z-]+)", e)) else None, e) for e in entries]


def _public_events(obj_type, ids):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.object_type == obj_type,
                                                       AuditEvent.object_id.in_(ids),
                                                       AuditEvent.public.is_(True))).all()


def test_the_timeline_lists_the_needs_events_and_its_pledges_with_their_codes(any_app):
    world = World()
    need = world.published()
    verified = bring(world, world.pledge(need, 500_000), P.VERIFIED)
    declined = bring(world, world.pledge(need, 200_000, org=False), P.DECLINED)
    record(world.curator, need, "note", reason="内部备注：村里电话打不通", public=False)
    db.session.commit()
    deliveries = db.session.scalars(select(Delivery.id).where(Delivery.need_id == need.id)).all()

    visitor = any_app.test_client()
    page = visitor.get(f"/needs/{need.id}").get_data(as_text=True)
    entries = _timeline(page)
    codes = {verified.id: verified.code, declined.id: declined.code}
    expected = ([None] * len(_public_events("need", [need.id]))
                + [codes[e.object_id] for e in _public_events("pledge", list(codes))]
                + [verified.code] * len(_public_events("delivery", deliveries)))
    assert sorted(expected, key=str) == sorted((code for code, _text in entries), key=str)
    assert {verified.code, declined.code} <= {code for code, _text in entries}
    assert "内部备注" not in page  # a non-public event is the insiders'
    # Oldest first: the need's approval before any pledge's event.
    assert entries[0][0] is None and entries[-1][0] is not None

    insider = any_app.test_client()
    login(insider, world.member.email)
    entries = _timeline(insider.get(f"/needs/{need.id}").get_data(as_text=True))
    assert any("内部备注：村里电话打不通" in text for code, text in entries if code is None)


def test_the_timeline_shows_the_latest_80_pledge_and_delivery_events(any_app):
    world = World()
    need = world.published()
    pledge = world.pledge(need, 500_000)
    for n in range(85):
        record(world.owner, pledge, "note", reason=f"进度 {n:02d}", public=True)
    db.session.commit()
    page = any_app.test_client().get(f"/needs/{need.id}").get_data(as_text=True)
    assert len([code for code, _text in _timeline(page) if code == pledge.code]) == 80
    # The latest 80, oldest first (the village's member sees the reasons): the first notes are gone.
    insider = any_app.test_client()
    login(insider, world.member.email)
    coded = [text for code, text in _timeline(insider.get(f"/needs/{need.id}").get_data(as_text=True))
             if code == pledge.code]
    assert len(coded) == 80 and "进度 05" in coded[0] and "进度 84" in coded[-1]
    assert not any("进度 04" in text for text in coded)


def test_the_timeline_escapes_what_people_wrote_and_shows_a_pledges_reason_to_insiders_only(app):
    world = World()
    need = world.published()
    pledge = world.pledge(need, 500_000)
    record(world.curator, need, "note", reason="<b>需求</b> & 公开说明", public=True)
    record(world.owner, pledge, "note", reason="<script>alert(1)</script>企业说明", public=True)
    db.session.commit()

    page = app.test_client().get(f"/needs/{need.id}").get_data(as_text=True)
    entries = _timeline(page)
    assert any("— &lt;b&gt;需求&lt;/b&gt; &amp; 公开说明" in text for code, text in entries if code is None)
    # A pledge's reason is for the people on the need; a visitor sees that something happened, and its code.
    assert "企业说明" not in page and "<script>alert(1)" not in page
    assert [text for code, text in entries if code == pledge.code]
    assert f'<a href="/track/{pledge.code}">{pledge.code}</a> · ' in page

    insider = app.test_client()
    login(insider, world.member.email)
    entries = _timeline(insider.get(f"/needs/{need.id}").get_data(as_text=True))
    assert any("— &lt;script&gt;alert(1)&lt;/script&gt;企业说明" in text for code, text in entries if code == pledge.code)


def test_an_empty_timeline_says_so(app):
    from villageaid.pledges.views import need_timeline_items

    need = World().published()
    with app.test_request_context("/"), app.app_context():
        with_events = need_timeline_items(need, True)
        assert with_events.count("<li") >= 2 and "暂无" not in with_events
        AuditEvent.query.filter_by(object_type="need", object_id=need.id).delete()
        assert str(need_timeline_items(need, True)) == '<li class="list-group-item va-muted">暂无</li>'


def test_photos_and_pairing_marks_and_outcomes_come_only_when_there_are_some(any_app):
    world = World()
    need = world.published()
    pledge = world.pledge(need, 300_000)
    client, url = any_app.test_client(), f"/needs/{need.id}"
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        page = client.get(url).get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert f"/needs/{need.id}/photos/" not in page and "data-within-pairing" not in page
    # The need (with whether it has photos or report outcomes), its pledges and its 进展, in one SELECT.
    assert len(statements) == 1, "\n".join(s[:100] for s in statements)
    assert f'data-pledge="{pledge.code}"' in page
    # The pledges come with the columns the list shows: not the pledger's password hash, e-mail or phone.
    assert not [s for s in statements if re.search(r"password_hash|\.email\b|\.phone\b", s)]

    db.session.add(NeedPhoto(need_id=need.id, filename="a.jpg", thumbnail="a-thumb.jpg", width=640, height=480,
                             size_bytes=1000, position=0))
    db.session.commit()
    photo_id = db.session.scalar(select(NeedPhoto.id).where(NeedPhoto.need_id == need.id))
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert f'src="/needs/{need.id}/photos/{photo_id}/thumb"' in page


def _pledge_rows(page):
    """The pledge list's rows: tracking code → the row's HTML."""
    block = page[page.index("data-pledges"):]
    block = block[:block.index("</ul>")]
    return dict(re.findall(r'data-pledge="(WQ-[0-9A-Z-]+)">(.*?)</li>', block, re.S))


def test_the_pledge_list_names_pledgers_as_the_public_sees_them_and_links_each_party_to_its_pledges(any_app):
    world = World()
    need = world.published()
    by_org = world.pledge(need, 300_000)
    named = world.pledge(need, 120_000, org=False)
    hidden = world.pledge(need, 50_000, org=False, anonymous=True)
    bring(world, by_org, P.DELIVERING)
    created = to_local(by_org.created_at).strftime("%Y-%m-%d")

    rows = _pledge_rows(any_app.test_client().get(f"/needs/{need.id}").get_data(as_text=True))
    assert list(rows) == [hidden.code, named.code, by_org.code]  # newest first
    assert f'<a href="/helpers/{world.org.id}">{world.org.name}</a>' in rows[by_org.code]
    assert world.donor.name in rows[named.code] and "/helpers/" not in rows[named.code]
    assert "爱心人士" in rows[hidden.code] and world.donor.name not in rows[hidden.code]
    assert "¥3,000.00" in rows[by_org.code] and created in rows[by_org.code]
    assert "已交付 ¥1,500.00，已核实 ¥0.00" in rows[by_org.code]
    assert '<span class="badge text-bg-info" data-pledge-status="delivering">交付中</span>' in rows[by_org.code]
    # A visitor follows every pledge by its tracking code.
    assert all(f"/track/{code}" in row for code, row in rows.items())

    def links(email):
        client = any_app.test_client()
        login(client, email)
        rows = _pledge_rows(client.get(f"/needs/{need.id}").get_data(as_text=True))
        return {code for code, row in rows.items() if re.search(r'href="/pledges/\d+"', row)}

    # The organisation's other member opens its pledge, the donor their own two, the village all three.
    assert links(world.colleague.email) == {by_org.code}
    assert links(world.donor.email) == {named.code, hidden.code}
    assert links(world.member.email) == {by_org.code, named.code, hidden.code}
