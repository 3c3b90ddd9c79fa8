"""The need tally (needs/tally.py) against COUNT(*): after every lifecycle path and every direct edit,
on SQLite and PostgreSQL, each total the need list can show is the need table's count."""
import itertools
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, insert, select, text, update

from tests import factories
from tests.needs.builders import S, World, force
from tests.pledges.builders import P, bring
from tests.pledges.builders import World as PledgeWorld
from villageaid.extensions import db
from villageaid.needs import browse, lifecycle, tally
from villageaid.needs.models import Category, Need, NeedTally, Unit
from villageaid.regions import services as regions
from villageaid.timeutil import local_date_today

CATEGORIES = [None, Category.CHARITY.value, Category.EMPLOYMENT.value, Category.INDUSTRY.value]
UNITS = [None, Unit.CNY_FEN.value, Unit.JOBS.value, Unit.GOODS.value]
PLACES = [{}, {"province": factories.SICHUAN}, {"prefecture": factories.LIANGSHAN}, {"county": factories.ZHAOJUE},
          {"province": factories.YUNNAN}, {"county": factories.ZHENXIONG}]


def assert_exact():
    """The tally equals a recount (every key), and browse.count() equals COUNT(*) for the filters the list
    offers (every place level and status; the kinds these tests create, and any)."""
    db.session.flush()
    assert list(db.session.execute(tally.mismatches())) == []
    for place, status, category, unit in itertools.product(
            PLACES, browse.STATUS_CHOICES, CATEGORIES, UNITS):
        filters = browse.parse({**place, "status": status, "category": category, "unit": unit})
        assert not filters.errors
        expected = db.session.scalar(select(func.count()).select_from(Need).where(*browse.conditions(filters)))
        assert browse.count(filters) == expected, (place, status, category, unit)


@pytest.fixture
def world(any_app):
    return PledgeWorld()


def test_every_need_lifecycle_path_keeps_the_tally_exact(world):
    assert_exact()
    for status in S:
        world.need(status)
        assert_exact()
    yunnan = World.__new__(World)
    yunnan.member, yunnan.curator = factories.user("云南村干部"), factories.curator(factories.YUNNAN)
    yunnan.village = factories.village(yunnan.member, county=factories.ZHENXIONG)
    jobs = World.need(yunnan, S.PUBLISHED, category="employment", unit="jobs", target=10, job_title="缝纫工",
                      work_location="镇雄县", wage_min_fen=300_000, wage_max_fen=400_000,
                      job_start_date=local_date_today() + timedelta(days=40))
    assert_exact()
    lifecycle.withdraw(yunnan.member, jobs, "重复发布")  # published, never pledged, withdrawn: still "all"
    assert_exact()
    assert browse.count(browse.parse({"status": "all", "county": factories.ZHENXIONG})) == 1


def test_pledges_move_needs_through_full_delivery_and_back(world):
    need = world.published(target=2_000_000)
    first = world.pledge(need, 1_000_000)
    assert_exact()
    second = world.pledge(need, 1_000_000, org=False)  # fully pledged
    db.session.refresh(need)
    assert need.status == S.FULLY_PLEDGED
    assert_exact()
    bring(world, second, P.CANCELLED)  # open again
    db.session.refresh(need)
    assert need.status == S.PUBLISHED
    assert_exact()
    bring(world, first, P.VERIFIED)  # delivery under way
    assert_exact()


def test_direct_edits_and_bulk_statements_go_through_the_triggers(world):
    needs = [world.need(status) for status in (S.PUBLISHED, S.PUBLISHED, S.FULLY_PLEDGED, S.DRAFT)]
    db.session.commit()
    # A bulk UPDATE of many rows (what expire_overdue and bench/generate.py do), one of place and kind.
    db.session.execute(update(Need).where(Need.status == S.PUBLISHED.value).values(status=S.EXPIRED.value))
    assert_exact()
    yunnan_village = factories.village(county=factories.ZHENXIONG)
    db.session.execute(update(Need).where(Need.id == needs[2].id).values(
        village_id=yunnan_village.id, province_code=factories.YUNNAN, prefecture_code=factories.ZHAOTONG,
        county_code=factories.ZHENXIONG, category="industry"))
    assert_exact()
    db.session.execute(update(Need).where(Need.id == needs[3].id).values(unit="goods", goods_item="棉被"))
    assert_exact()
    # An UPDATE of columns the tally does not count leaves it alone; published_at changing but not
    # becoming NULL neither.
    before = db.session.execute(select(NeedTally.status, NeedTally.needs).order_by(*NeedTally.__table__.c)).all()
    db.session.execute(update(Need).where(Need.id == needs[0].id).values(
        title="改过的标题", published_at=func.coalesce(Need.published_at, func.current_timestamp())))
    assert db.session.execute(select(NeedTally.status, NeedTally.needs).order_by(*NeedTally.__table__.c)).all() == before
    # Copies by INSERT … SELECT, deletes, and a plain SQL UPDATE back.
    columns = [c for c in Need.__table__.c if c.name != "id"]
    db.session.execute(insert(Need).from_select([c.name for c in columns], select(*columns)))
    assert_exact()
    db.session.execute(text("UPDATE need SET status = 'completed' WHERE status = 'expired'"))
    assert_exact()
    db.session.execute(delete(Need).where(Need.id.in_([needs[1].id, needs[3].id])))
    assert_exact()
    db.session.commit()
    assert_exact()


def test_a_rolled_back_change_rolls_the_tally_back(world):
    need = world.published()
    db.session.commit()
    force(need, S.CLOSED)
    db.session.execute(update(Need).where(Need.id == need.id).values(status=S.EXPIRED.value))
    db.session.rollback()
    assert_exact()
    assert browse.count(browse.parse({"status": "closed"})) == 1


def test_the_totals_are_read_from_one_row_per_status(world):
    world.published()
    statements = []
    from sqlalchemy import event

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        filters = browse.parse({"province": factories.SICHUAN, "category": "charity"})
        statements.clear()
        assert browse.count(filters) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "need_tally" in statements[0] and " need " not in statements[0]
    assert regions.get(factories.SICHUAN) is not None
