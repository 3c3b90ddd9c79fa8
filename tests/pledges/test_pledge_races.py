"""Concurrent pledges never exceed a need's target, and a doubled submit pledges once — on SQLite and on
PostgreSQL, with real threads each holding its own session (NOTES.md: read-check-update over-pledged)."""
import threading

import pytest
from sqlalchemy import func, select

from tests import factories
from tests.pledges.builders import S, World, pledge_values
from villageaid.accounts.models import User
from villageaid.errors import Conflict
from villageaid.extensions import db
from villageaid.needs.models import Need
from villageaid.pledges import lifecycle
from villageaid.pledges.models import Pledge

THREADS = 12


def race(app, need_id, user_ids, quantity, key=None):
    """Every user pledges `quantity` at the same moment; returns [("ok", created) | ("conflict", message)]."""
    results, barrier = [], threading.Barrier(len(user_ids))

    def attempt(user_id):
        with app.app_context():
            try:
                user, need = db.session.get(User, user_id), db.session.get(Need, need_id)
                barrier.wait(timeout=30)
                _pledge, created = lifecycle.make_pledge(user, need, pledge_values(quantity), idempotency_key=key)
                results.append(("ok", created))
            except Conflict as exc:
                db.session.rollback()
                results.append(("conflict", str(exc)))
            except Exception as exc:  # reported by the assertion below, not lost in a thread
                results.append(("error", repr(exc)))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(uid,)) for uid in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _goods_need(world, target):
    return world.published(unit="goods", goods_item="加厚棉被（1.5 米）", target=target,
                           title="敬老院冬季棉被")


@pytest.mark.parametrize("quantity", [1, 3])
def test_concurrent_pledges_never_exceed_the_target(any_app, quantity):
    world = World()
    need = _goods_need(world, 10)
    donors = [factories.user(f"捐赠者{i}").id for i in range(THREADS)]
    need_id = need.id
    db.session.remove()

    results = race(any_app, need_id, donors, quantity)

    assert not [r for r in results if r[0] == "error"], results
    winners = [r for r in results if r[0] == "ok"]
    assert len(winners) == 10 // quantity and len(results) == THREADS
    # The losers are told what is still open (nothing, or what no single pledge of theirs fits).
    assert all(("已经认满" in message or "还可认捐" in message or "不接受认捐" in message)
               for kind, message in results if kind == "conflict")
    need = db.session.get(Need, need_id)
    total = db.session.scalar(select(func.sum(Pledge.quantity)).where(Pledge.need_id == need_id))
    assert need.pledged == total == quantity * len(winners) <= need.target
    if quantity == 1:
        assert need.status == S.FULLY_PLEDGED


def test_a_doubled_submit_pledges_once_even_at_the_same_moment(any_app):
    world = World()
    need = _goods_need(world, 100)
    need_id, donor_id = need.id, world.donor.id
    db.session.remove()

    results = race(any_app, need_id, [donor_id] * 6, 5, key="form-token-1")

    assert not [r for r in results if r[0] != "ok"], results
    assert sorted(created for _ok, created in results) == [False] * 5 + [True]
    assert db.session.scalar(select(func.count()).select_from(Pledge)) == 1
    assert db.session.get(Need, need_id).pledged == 5
