"""What the need page reads in its three SELECTs, on both databases: the need with whether it has
photos and report outcomes, its latest pledges with the pairing each was made within, and its 进展
(the need's events and its pledges' and deliveries' public ones, with their tracking codes)."""
import re

from sqlalchemy import event, select

from tests.conftest import login
from tests.pledges.builders import P, World, bring
from villageaid.audit.models import AuditEvent
from villageaid.audit.services import record
from villageaid.extensions import db
from villageaid.needs.models import NeedPhoto
from villageaid.pledges.models import Delivery


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


def test_photos_and_pairing_marks_and_outcomes_come_only_when_there_are_some(any_app):
    world = World()
    need = world.published()
    world.pledge(need, 300_000)
    client, url = any_app.test_client(), f"/needs/{need.id}"
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        page = client.get(url).get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert f"/needs/{need.id}/photos/" not in page and "data-within-pairing" not in page
    # The need (with whether it has photos or report outcomes), its pledges, its 进展: nothing else.
    assert len(statements) == 3, "\n".join(s[:100] for s in statements)
    # The pledges come with the columns the list shows: not the pledger's password hash, e-mail or phone.
    assert not [s for s in statements if re.search(r"password_hash|\.email\b|\.phone\b", s)]

    db.session.add(NeedPhoto(need_id=need.id, filename="a.jpg", thumbnail="a-thumb.jpg", width=640, height=480,
                             size_bytes=1000, position=0))
    db.session.commit()
    photo_id = db.session.scalar(select(NeedPhoto.id).where(NeedPhoto.need_id == need.id))
    page = client.get(f"/needs/{need.id}").get_data(as_text=True)
    assert f'src="/needs/{need.id}/photos/{photo_id}/thumb"' in page
