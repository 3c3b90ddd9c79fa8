"""The draw: reproducible (the same seed, region and period give the same sample), only verified deliveries
of the region and period are candidates, and only the region's curators draw."""
import random
from datetime import timedelta

import pytest

from tests import factories
from tests.spotchecks.builders import D, World, delivery_in
from villageaid.errors import PermissionDenied, ServiceError
from villageaid.extensions import db
from villageaid.spotchecks import services
from villageaid.spotchecks.models import SpotCheck
from villageaid.timeutil import local_date_today


def sample_of(spot_check):
    return [item.delivery_id for item in spot_check.items]


def test_the_rule_is_a_seeded_sample_of_the_ascending_ids():
    ids = [17, 3, 99, 42, 8, 56, 23, 71, 5, 64]
    assert services.draw_sample(ids, 20261017, 4) == random.Random(20261017).sample(sorted(ids), 4)
    # Pinned: the published rule must keep giving these (Python's random is stable for integer seeds).
    assert services.draw_sample(range(1, 101), 42, 5) == [82, 15, 4, 95, 36]
    assert services.draw_sample(ids, 1, 50) == random.Random(1).sample(sorted(ids), 10)  # all, when fewer
    assert services.digest([3, 1, 2]) == services.digest([1, 2, 3]) != services.digest([1, 2, 4])


@pytest.fixture
def world(any_app):
    return World()


def test_the_same_seed_region_and_period_give_the_same_sample(world):
    world.verified(12)
    first = world.draw(size=5, seed=20261017)
    again = world.draw(size=5, seed=20261017)
    other = world.draw(size=5, seed=20261018)
    assert len(first.items) == 5 and sample_of(first) == sample_of(again)
    assert sample_of(other) != sample_of(first)
    assert [i.position for i in first.items] == [1, 2, 3, 4, 5]
    ids = services.candidate_ids(factories.SICHUAN, first.period_start, first.period_end)
    assert sample_of(first) == services.draw_sample(ids, first.seed, first.sample_size)  # anyone can redo it
    assert (first.candidate_count, first.candidates_digest) == (12, services.digest(ids))


def test_only_verified_deliveries_of_the_region_and_period_are_candidates(world):
    inside = world.verified(3)
    world.verified(2, days_ago=400)                        # verified, but delivered before the period
    need = world.big_need()
    for status in (D.REPORTED, D.CONFIRMED, D.DISPUTED, D.REJECTED, D.REOPENED):  # not (or no longer) verified
        delivery_in(world, status, world.pledge(need, 100_000))
    world.far_verified(2)                                  # verified, in Yunnan
    spot_check = world.draw(size=200)
    assert sorted(sample_of(spot_check)) == sorted(d.id for d in inside)
    assert spot_check.candidate_count == 3 and spot_check.sample_size == 200
    # The same deliveries seen from the county, and the period's ends are included.
    today = local_date_today()
    county = world.draw(size=200, region=factories.ZHAOJUE, start=today, end=today)
    assert sorted(sample_of(county)) == sorted(d.id for d in inside)
    yunnan = world.draw(size=200, region=factories.YUNNAN, by=world.far_curator)
    assert len(yunnan.items) == 2


def test_a_draw_is_refused_with_reasons(world):
    today = local_date_today()
    with pytest.raises(ServiceError) as info:  # nothing verified yet
        world.draw()
    assert "region" in info.value.fields
    world.verified(1)
    cases = [
        (dict(start=today, end=today - timedelta(days=1)), "period_start"),
        (dict(end=today + timedelta(days=1)), "period_end"),
        (dict(size=0), "sample_size"),
        (dict(size=201), "sample_size"),
        (dict(seed=10 ** 18), "seed"),
        (dict(region="510000000001"), "region"),  # not a division
    ]
    for kwargs, field in cases:
        with pytest.raises(ServiceError) as info:
            world.draw(**kwargs)
        assert field in info.value.fields, (kwargs, info.value.fields)
        db.session.rollback()
    assert db.session.query(SpotCheck).count() == 0
    seeded = world.draw(seed=None)
    assert 10_000_000 <= seeded.seed < 100_000_000  # a fresh eight-digit seed, recorded


def test_only_the_regions_curators_draw(world):
    world.verified(2)
    liangshan = factories.curator(factories.LIANGSHAN)
    for actor in (world.far_curator, liangshan, world.member, world.owner, world.donor):
        with pytest.raises(PermissionDenied):
            world.draw(by=actor)  # Sichuan-wide: Liangshan's curator covers only part of it
        db.session.rollback()
    assert len(world.draw(by=liangshan, region=factories.LIANGSHAN).items) == 2
    assert len(world.draw(by=factories.admin()).items) == 2
    assert len(world.draw(by=factories.curator()).items) == 2  # a national curator
