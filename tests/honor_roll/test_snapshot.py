"""A published revision is frozen: new deliveries, recomputing and curating leave it as it was, and the
database itself refuses to change it — through the ORM or plain SQL, on SQLite and PostgreSQL."""
import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from tests.honor_roll.builders import World
from villageaid.extensions import db
from villageaid.honor_roll import lifecycle as roll
from villageaid.honor_roll.models import HonorRollEntry, HonorRollEntryDelivery, HonorRollRevision


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def both(any_app):
    """The triggers, on SQLite and on PostgreSQL alike."""
    return World()


def _picture(revision):
    return [(e.category_name, e.rank, e.name, e.funds_fen, e.jobs_filled, e.villages_helped, e.beneficiaries, e.score,
             e.citation, sorted((d.delivery_id, d.quantity) for d in e.deliveries)) for e in revision.entries]


def _published(world):
    a, b = world.helper(name="甲企业"), world.helper(kind="ngo", name="乙基金会")
    world.help(a, 2_000_000)
    world.help(a, 6, unit="jobs", retained_3m=6)
    world.help(b, 500_000)
    donor = world.person("李善人")
    world.help(donor, 100_000)
    return world.publish()


def test_each_published_figure_is_the_sum_of_the_deliveries_recorded_behind_it(world):
    revision = _published(world)
    assert {e.name for e in revision.entries} == {"甲企业", "乙基金会", "李善人"}
    for entry in revision.entries:
        assert entry.funds_fen == sum(d.quantity for d in entry.deliveries if d.unit == "cny_fen")
        assert entry.jobs_filled == sum(d.quantity for d in entry.deliveries if d.unit == "jobs")
        assert entry.jobs_retained == sum(d.retained_3m or 0 for d in entry.deliveries if d.unit == "jobs")
        assert entry.deliveries_count == len(entry.deliveries)
        assert entry.villages_helped == len({d.village_id for d in entry.deliveries})
        assert entry.beneficiaries == sum({d.need_id: d.poor_people for d in entry.deliveries}.values())
    assert len(revision.digest) == 64


def test_new_deliveries_and_recomputing_do_not_change_a_published_revision(world):
    revision = _published(world)
    before = _picture(revision)
    leader = next(e for e in revision.entries if e.name == "甲企业")
    world.help(db.session.get(type(world.org), leader.organization_id), 9_000_000)
    world.compute()
    candidate = next(c for _r, c in roll.honored(world.category("enterprise")) if c.name == "甲企业")
    assert candidate.funds_fen == 11_000_000  # the working figures moved on …
    roll.set_citation(world.national, candidate, "新的事迹")
    db.session.expire_all()
    assert _picture(db.session.get(HonorRollRevision, revision.id)) == before  # … the published record did not


def _refused(statement):
    with pytest.raises(DBAPIError) as info:
        db.session.execute(statement)
        db.session.flush()
    db.session.rollback()
    assert "immutable" in str(info.value)


def test_the_database_refuses_to_change_a_sealed_revision(both):
    world = both
    revision = _published(world)
    entry = revision.entries[0]
    entry_id, revision_id = entry.id, revision.id
    _refused(update(HonorRollEntry).where(HonorRollEntry.id == entry_id).values(funds_fen=1))
    _refused(text("UPDATE honor_roll_entry SET name = 'someone else'"))
    _refused(text("DELETE FROM honor_roll_entry"))
    _refused(update(HonorRollEntryDelivery).values(quantity=1))
    _refused(delete(HonorRollEntryDelivery))
    _refused(text("UPDATE honor_roll_revision SET title = 'x', sealed = false"))
    _refused(text("DELETE FROM honor_roll_revision"))
    _refused(text("INSERT INTO honor_roll_entry (revision_id, code, category_name, category_position, honoree_kind, "
                  "rank, user_id, name, funds_fen, jobs_filled, jobs_retained, villages_helped, beneficiaries, "
                  "deliveries_count, score, citation) VALUES (:r, 'HR2026-FAKE00', '先进民营企业', 0, 'individual', 99, "
                  ":u, '冒名者', 1, 0, 0, 0, 0, 0, 0, '伪造')").bindparams(r=revision_id, u=world.donor.id))
    # and through the ORM, as code would try it
    entry = db.session.get(HonorRollEntry, entry_id)
    entry.citation = "改写的事迹"
    with pytest.raises(DBAPIError):
        db.session.commit()
    db.session.rollback()
    db.session.expire_all()
    assert db.session.get(HonorRollEntry, entry_id).citation != "改写的事迹"
    assert db.session.scalar(select(HonorRollRevision.sealed).where(HonorRollRevision.id == revision_id))
