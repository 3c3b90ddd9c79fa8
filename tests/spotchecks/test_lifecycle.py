"""A spot check's and its items' lifecycles: both tables, each action's guards, who may act, the races
and the database's own constraints, and visit photos re-encoded without their metadata."""
import itertools

import pytest
from PIL import Image
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from tests import factories
from tests.pledges.builders import photo
from tests.spotchecks.builders import World, gps_photo
from villageaid.audit.models import AuditEvent
from villageaid.errors import Conflict, PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.spotchecks import lifecycle
from villageaid.spotchecks.lifecycle import CHECK_ALLOWED, ITEM_ALLOWED, TransitionError
from villageaid.spotchecks.models import CheckStatus, ItemStatus, SpotCheck, SpotCheckItem
from villageaid.timeutil import local_date_today

C, I = CheckStatus, ItemStatus


@pytest.mark.parametrize(("model", "table", "current", "target"),
                         [(SpotCheck, CHECK_ALLOWED, a, b) for a, b in itertools.product(C, C)]
                         + [(SpotCheckItem, ITEM_ALLOWED, a, b) for a, b in itertools.product(I, I)])
def test_transition_tables(model, table, current, target):
    if target in table[current]:
        lifecycle.check(model, current, target)
    else:
        with pytest.raises(TransitionError) as info:
            lifecycle.check(model, current, target)
        assert info.value.status == 409 and info.value.target == target


def test_every_state_has_a_row_and_results_are_final():
    assert set(CHECK_ALLOWED) == set(C) and set(ITEM_ALLOWED) == set(I)
    assert not CHECK_ALLOWED[C.CLOSED] and not ITEM_ALLOWED[I.CONFIRMED] and not ITEM_ALLOWED[I.DISCREPANCY]


@pytest.fixture
def world(app):
    world = World()
    world.verified(3)
    return world


def record(world, item, result="confirmed", notes=None, by=None, **kwargs):
    return lifecycle.record_result(by or world.curator, item, result, notes, kwargs.pop("visited_on", local_date_today()),
                                   **kwargs)


def test_a_check_closes_once_every_item_has_its_result(world):
    spot_check = world.draw(size=3)
    first, second, third = spot_check.items
    with pytest.raises(Conflict) as info:
        lifecycle.close(world.curator, spot_check)
    assert "3" in str(info.value)
    db.session.rollback()
    record(world, first)
    record(world, second, "discrepancy", "村集体账户只收到一半款项。")
    assert not spot_check.can_close(world.curator)
    with pytest.raises(Conflict):
        lifecycle.close(world.curator, spot_check)
    db.session.rollback()
    record(world, third)
    assert spot_check.can_close(world.curator)
    lifecycle.close(world.curator, spot_check)
    assert spot_check.status == C.CLOSED and spot_check.closed_at is not None
    assert spot_check.closed_by_id == world.curator.id
    with pytest.raises(TransitionError):
        lifecycle.close(world.curator, spot_check)
    db.session.rollback()
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == "spot_check")
                                 .order_by(AuditEvent.id)).all()
    assert actions == ["draw_spot_check", "close_spot_check"]
    closing = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "close_spot_check")).one()
    assert closing.data == {"confirmed": 2, "discrepancy": 1}


def test_a_result_is_recorded_once_with_what_it_needs(world):
    spot_check = world.draw(size=1)
    (item,) = spot_check.items
    cases = [
        (dict(result="maybe"), "result"),
        (dict(result="discrepancy", notes="  "), "notes"),
        (dict(result="discrepancy", notes="出" * 2001), "notes"),
        (dict(visited_on=None), "visited_on"),
        (dict(visited_on=local_date_today().replace(year=local_date_today().year + 1)), "visited_on"),
        (dict(visited_on=local_date_today().replace(year=local_date_today().year - 1)), "visited_on"),  # before the draw
        (dict(uploads=[photo(n) for n in range(7)]), "evidence"),
    ]
    for kwargs, field in cases:
        with pytest.raises(ServiceError) as info:
            record(world, item, **kwargs)
        assert field in info.value.fields, (kwargs, info.value.fields)
        db.session.rollback()
        assert db.session.get(SpotCheckItem, item.id).status == I.PENDING
    record(world, item, "confirmed", "  核对了银行回单和村账。 ")
    assert (item.status, item.notes, item.visited_on) == (I.CONFIRMED, "核对了银行回单和村账。", local_date_today())
    assert item.recorded_by_id == world.curator.id and not item.reopened
    with pytest.raises(TransitionError) as info:
        record(world, item, "discrepancy", "再登记一次")
    assert info.value.status == 409


def test_two_curators_recording_one_visit_at_once_one_wins(world):
    spot_check = world.draw(size=1)
    (item,) = spot_check.items
    other = factories.curator(factories.ZHAOJUE)
    db.session.execute(update(SpotCheckItem).where(SpotCheckItem.id == item.id).values(
        status=I.CONFIRMED.value, visited_on=local_date_today(), recorded_at=spot_check.created_at,
        recorded_by_id=other.id))
    db.session.expire(item, ["status"])
    item.__dict__["status"] = I.PENDING.value  # the session still believes it is pending
    with pytest.raises(TransitionError):
        record(world, item, "discrepancy", "村里只收到一半")
    db.session.rollback()
    # …and the delivery was not reopened by the loser.
    assert db.session.get(SpotCheckItem, item.id).delivery.status == "verified"


def test_a_check_closing_while_an_item_is_pending_does_not_close(world):
    """Close's UPDATE checks for pending items itself, whatever the session believes."""
    spot_check = world.draw(size=2)
    for item in spot_check.items:
        record(world, item)
    # Underneath the session's view, one item is pending again (as if its result were not in yet).
    db.session.execute(update(SpotCheckItem).where(SpotCheckItem.id == spot_check.items[1].id)
                       .values(status=I.PENDING.value, visited_on=None, recorded_at=None)
                       .execution_options(synchronize_session=False))
    assert spot_check.can_close(world.curator)  # what the page would show
    with pytest.raises(Conflict):
        lifecycle.close(world.curator, spot_check)
    db.session.rollback()
    assert db.session.get(SpotCheck, spot_check.id).status == C.OPEN


def test_only_the_regions_curators_record_and_close(world):
    spot_check = world.draw(size=1)
    (item,) = spot_check.items
    county = factories.curator(factories.ZHAOJUE)  # inside the province, but the check covers all of it
    for actor in (world.far_curator, county, factories.curator(factories.ZHEJIANG), world.member, world.owner,
                  world.donor):
        with pytest.raises(PermissionDenied):
            record(world, item, by=actor)
        with pytest.raises(PermissionDenied):
            lifecycle.close(actor, spot_check)
        db.session.rollback()
    record(world, item, by=factories.curator(factories.SICHUAN))  # another curator of the province
    lifecycle.close(factories.admin(), spot_check)
    assert spot_check.status == C.CLOSED


def test_visit_photos_are_reencoded_without_metadata(world):
    spot_check = world.draw(size=1)
    (item,) = spot_check.items
    record(world, item, "discrepancy", "仓库里只有一半物资。", uploads=[gps_photo(), gps_photo("第二张.jpg")])
    assert len(item.evidence) == 1  # the same file twice is kept once
    stored = item.evidence[0]
    with Image.open(lifecycle.evidence_path(stored)) as saved:
        assert not saved.getexif() and (saved.width, saved.height) == (300, 200)
    assert len(stored.sha256) == 64 and stored.uploaded_by_id == world.curator.id
    with pytest.raises(ServiceError) as info:
        record(world, spot_check.items[0], uploads=[])  # already recorded: nothing more to add
    assert info.value.status == 409


def test_a_bad_photo_is_refused_with_the_file_named(world):
    from io import BytesIO

    from werkzeug.datastructures import FileStorage

    spot_check = world.draw(size=1)
    with pytest.raises(ServiceError) as info:
        record(world, spot_check.items[0], uploads=[FileStorage(stream=BytesIO(b"not an image"), filename="单据.pdf")])
    assert "单据.pdf" in str(info.value.fields["evidence"])


def test_the_database_keeps_the_checks_and_items_consistent(any_app):
    world = World()
    world.verified(2)
    spot_check = world.draw(size=2)
    item = spot_check.items[0]
    today = local_date_today()
    bad = [
        (SpotCheck, spot_check.id, {"status": "lost"}),
        (SpotCheck, spot_check.id, {"status": "closed"}),                      # closed without closed_at
        (SpotCheck, spot_check.id, {"period_end": spot_check.period_start.replace(year=2000)}),
        (SpotCheck, spot_check.id, {"sample_size": 0}),
        (SpotCheckItem, item.id, {"status": "lost"}),
        (SpotCheckItem, item.id, {"status": "confirmed"}),                     # recorded without a date
        (SpotCheckItem, item.id, {"status": "discrepancy", "visited_on": today, "recorded_at": spot_check.created_at,
                                  "notes": ""}),                              # a discrepancy needs its notes
        (SpotCheckItem, item.id, {"delivery_id": spot_check.items[1].delivery_id}),  # one delivery twice
    ]
    for model, obj_id, values in bad:
        with pytest.raises(IntegrityError):
            db.session.execute(update(model).where(model.id == obj_id).values(**values))
            db.session.flush()
        db.session.rollback()
