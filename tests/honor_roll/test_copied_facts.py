"""The honor roll reads deliveries alone: each carries copies of its pledge's and need's facts
(`credited_facts`: honoree, village, the need's unit, category and poor people). Through every
lifecycle path that changes a delivery — reported, confirmed, disputed, verified, rejected, reopened by
a spot check and verified or rejected again, retention reported — the copies stay their sources', and
the roll's figures, places and deliveries stay those computed from the sources themselves: the
deliveries joined to their pledges, needs, organisations and people, in Python, by the rule as
scoring.py states it. The same holds on generated data, and a copy that drifted is caught."""
import importlib.util
import random
import sys
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from tests import factories
from tests.honor_roll.builders import World
from villageaid.campaign.services import campaign_year
from villageaid.curation import services as curation
from villageaid.extensions import db
from villageaid.honor_roll import compute, scoring
from villageaid.honor_roll.models import HonoreeKind
from villageaid.pledges import lifecycle
from villageaid.pledges.models import Delivery, credited_facts
from villageaid.pledges.services import stale_credited_facts
from villageaid.spotchecks import lifecycle as spot_checks
from villageaid.timeutil import as_utc, local_date_today

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import generate  # noqa: E402

NOTES = "走访核对：实际收到的少于登记的数量。"


def reference(edition, need_category=None):
    """{kind: {owner id: Figures}} from every delivery's own pledge, need, organisation and person."""
    start, end = compute.period_bounds(edition)
    found, needs, villages = defaultdict(dict), defaultdict(set), defaultdict(set)
    for delivery in db.session.scalars(select(Delivery).order_by(Delivery.id)):
        pledge, need = delivery.pledge, delivery.pledge.need
        if delivery.status != "verified" or not start <= as_utc(delivery.decided_at) < end:
            continue
        if need_category and need.category != need_category:
            continue
        if pledge.organization_id is not None:
            if pledge.organization.status != "verified":
                continue
            kind, owner = HonoreeKind(pledge.organization.kind), pledge.organization_id
        elif pledge.anonymous or not (pledge.pledger.public_name_consent and pledge.pledger.active):
            continue
        else:
            kind, owner = HonoreeKind.INDIVIDUAL, pledge.pledger_id
        figures = found[kind].setdefault(owner, scoring.Figures(owner_id=owner))
        if need.unit == "cny_fen":
            figures.funds_fen += delivery.quantity
        if need.unit == "jobs":
            figures.jobs_filled += delivery.quantity
            figures.jobs_retained += delivery.retained_3m or 0
        if need.id not in needs[owner, kind]:
            needs[owner, kind].add(need.id)
            figures.beneficiaries += need.poor_people
        villages[owner, kind].add(pledge.village_id)
        figures.villages_helped = len(villages[owner, kind])
        figures.deliveries_count += 1
        verified_at = as_utc(delivery.decided_at)
        figures.first_verified_at = min(figures.first_verified_at or verified_at, verified_at)
    return found


def reference_deliveries(edition, kind, owner_id, need_category=None):
    start, end = compute.period_bounds(edition)
    ids = []
    for delivery in db.session.scalars(select(Delivery).where(Delivery.status == "verified").order_by(Delivery.id)):
        pledge = delivery.pledge
        credited = (pledge.pledger_id if pledge.organization_id is None and not pledge.anonymous else None
                    ) if kind == HonoreeKind.INDIVIDUAL else pledge.organization_id
        if credited == owner_id and start <= as_utc(delivery.decided_at) < end and \
                (not need_category or pledge.need.category == need_category):
            ids.append(delivery.id)
    return ids


def assert_the_roll_follows_the_sources(edition):
    """Copies equal their sources; figures, places and deliveries equal those computed from the sources."""
    db.session.expire_all()
    assert db.session.scalars(stale_credited_facts()).all() == []
    for need_category in (None, "employment"):
        expected = reference(edition, need_category)
        found = compute.aggregate_kinds(edition, need_category)
        for kind in HonoreeKind:
            assert {f.owner_id: f for f in found[kind]} == expected.get(kind, {}), (kind, need_category)
        everyone = {kind: 10 ** 6 for kind in HonoreeKind}
        ranked = compute.ranking(edition, need_category, everyone)
        orders = {kind: scoring.rank(list(expected.get(kind, {}).values()), edition.weights) for kind in HonoreeKind}
        for kind, order in orders.items():
            total, rows = ranked[kind]
            assert total == len(order)
            assert [(p, f.owner_id, f.score) for p, f in rows] == \
                [(p, f.owner_id, f.score) for p, f in enumerate(order, start=1)], (kind, need_category)
        # The best of each kind, and curated honorees found wherever they stand, every kind in one pass.
        curated = {kind: {order[-1].owner_id, order[len(order) // 2].owner_id} for kind, order in orders.items()
                   if order}
        ranked = compute.ranking(edition, need_category, {kind: 1 for kind in HonoreeKind}, curated)
        for kind, order in orders.items():
            places = {f.owner_id: p for p, f in enumerate(order, start=1)}
            wanted = curated.get(kind, set()) | {f.owner_id for f in order[:1]}
            assert ranked[kind][0] == len(order)
            assert [(p, f.owner_id) for p, f in ranked[kind][1]] == sorted((places[o], o) for o in wanted), kind
    for category in edition.categories:
        kind = HonoreeKind(category.honoree_kind)
        owners = [f.owner_id for f in compute.aggregate_kinds(edition, category.need_category)[kind]]
        behind = compute.deliveries_behind(edition, category, owners)
        for owner_id in owners:
            assert [d[0] for d in behind[owner_id]] == \
                reference_deliveries(edition, kind, owner_id, category.need_category)


@pytest.fixture
def both(any_app):
    """An edition of the campaign year under way, so a verification made today falls in its period."""
    return World(year=campaign_year().year)


def _reported(world, who, quantity=1_000_000, **need):
    return world.help(who, quantity, status="reported", **need)


def _verified(world, delivery):
    lifecycle.confirm(world.member, delivery)
    return lifecycle.verify(world.curator, delivery)


def _reopen(world, delivery):
    """A spot check of the region draws every verified delivery and finds a discrepancy in `delivery`."""
    today = local_date_today()
    check = spot_checks.draw(world.curator, factories.SICHUAN, today - timedelta(days=365), today, 200)
    item = next(item for item in check.items if item.delivery_id == delivery.id)
    spot_checks.record_result(world.curator, item, "discrepancy", NOTES, today)
    db.session.refresh(delivery)
    assert delivery.status == "reopened"
    return delivery


def test_every_lifecycle_path_keeps_the_copies_and_the_figures_true(both):
    world, edition = both, both.edition
    enterprise, ngo = world.helper(name="甲企业"), world.helper(kind="ngo", name="乙基金会")
    named, shy = world.person("李善人"), world.person("赵低调", consent=False)

    funds = _reported(world, enterprise, 2_000_000, poor_people=30)
    assert_the_roll_follows_the_sources(edition)  # reported: counts nowhere yet
    lifecycle.confirm(world.member, funds)
    assert_the_roll_follows_the_sources(edition)  # confirmed: not yet
    lifecycle.verify(world.curator, funds)
    assert_the_roll_follows_the_sources(edition)  # verified: counts

    # The same need helped twice by one honoree counts its poor people once; another need of the village too.
    second = world.help(enterprise, 500_000, status="reported", need=funds.pledge.need)
    _verified(world, second)
    assert_the_roll_follows_the_sources(edition)

    disputed = _reported(world, ngo, 700_000, poor_people=12)
    lifecycle.dispute(world.member, disputed, "数量与清单不符")
    assert_the_roll_follows_the_sources(edition)
    lifecycle.verify(world.curator, disputed)  # a curator finds it delivered after all
    assert_the_roll_follows_the_sources(edition)

    rejected = _reported(world, enterprise, 900_000)
    lifecycle.confirm(world.member, rejected)
    lifecycle.reject(world.curator, rejected, "凭证与交付不符")
    assert_the_roll_follows_the_sources(edition)

    hires = _reported(world, enterprise, 6, unit="jobs", poor_people=6)
    _verified(world, hires)
    db.session.execute(update(Delivery).where(Delivery.id == hires.id)
                       .values(delivered_on=local_date_today() - timedelta(days=120)))  # set-up: time passing
    db.session.commit()
    lifecycle.report_retention(enterprise.memberships[0].user, hires, 3, 4)
    assert_the_roll_follows_the_sources(edition)

    mine = _verified(world, _reported(world, named, 300_000))
    hidden = _verified(world, world.help(named, 9_000_000, status="reported", anonymous=True))
    _verified(world, _reported(world, shy, 5_000_000))
    assert hidden.honoree_user_id is None and mine.honoree_user_id == named.id
    assert_the_roll_follows_the_sources(edition)

    # A spot check reopens a verified delivery: it stops counting; verified again, it counts again.
    _reopen(world, funds)
    assert_the_roll_follows_the_sources(edition)
    lifecycle.verify(world.curator, funds)
    assert_the_roll_follows_the_sources(edition)
    # Reopened, then rejected: it never counts again.
    _reopen(world, disputed)
    assert_the_roll_follows_the_sources(edition)
    lifecycle.reject(world.curator, disputed, "走访核实未收到")
    assert_the_roll_follows_the_sources(edition)

    # Who may be named is read when the roll is computed, never copied.
    curation.decide(world.national, ngo, "rejected", reason="登记证书已被吊销")
    named.public_name_consent = False
    db.session.commit()
    assert_the_roll_follows_the_sources(edition)
    # And every copy is the one report_delivery wrote.
    for delivery in db.session.scalars(select(Delivery)):
        assert {k: getattr(delivery, k) for k in credited_facts(delivery.pledge)} == credited_facts(delivery.pledge)


def test_a_copy_that_drifted_from_its_source_is_caught_and_the_migration_fill_restores_it(both):
    world = both
    org, person = world.helper(name="甲企业"), world.person("李善人")
    drifted = {
        "need_poor_people": 31, "need_unit": "jobs", "need_category": "employment",
        "village_id": factories.village(factories.user(), name="别的村").id, "honoree_organization_id": None}
    deliveries = [_verified(world, _reported(world, org, poor_people=30)) for _ in drifted]
    by_person = _verified(world, _reported(world, person))
    assert_the_roll_follows_the_sources(world.edition)
    for delivery, (column, value) in zip(deliveries, drifted.items()):
        db.session.execute(update(Delivery).where(Delivery.id == delivery.id).values({column: value}))
    db.session.execute(update(Delivery).where(Delivery.id == by_person.id).values(honoree_user_id=world.donor.id))
    db.session.commit()
    assert db.session.scalars(stale_credited_facts()).all() == sorted(d.id for d in deliveries + [by_person])
    with pytest.raises(AssertionError):
        assert_the_roll_follows_the_sources(world.edition)
    # Migration 0010 filled the copies of existing deliveries by the same rule, in SQL.
    db.session.execute(text(_migration("0010_delivery_credited_facts").FILL))
    db.session.commit()
    assert_the_roll_follows_the_sources(world.edition)


def _migration(name):
    path = Path(__file__).resolve().parents[2] / "platform/villageaid/migrations/versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_data_and_its_lifecycles_give_the_figures_of_the_sources(any_app):
    """bench/generate.py's data (every delivery verified "now") and, on it, rejections, a reopening and
    verifications made through the lifecycle, on SQLite and PostgreSQL."""
    from villageaid.accounts.models import User
    from villageaid.honor_roll import lifecycle as roll

    generate.Generator(db, random.Random(11), {"organizations": 30, "villages": 12, "needs": 150, "pledges": 500,
                                               "deliveries": 500}).run()
    assert generate.inconsistencies(db) == []
    edition = roll.create_edition(factories.admin(), campaign_year().year)
    assert_the_roll_follows_the_sources(edition)

    curator = db.session.scalar(select(User).where(User.email == "bench-curator@gen.example.cn"))
    waiting = db.session.scalars(select(Delivery).where(Delivery.status.in_(("confirmed", "disputed")))
                                 .order_by(Delivery.id)).all()
    assert len(waiting) >= 4
    lifecycle.verify(curator, waiting[0])
    lifecycle.verify(curator, waiting[1])
    lifecycle.reject(curator, waiting[2], "凭证不清")
    verified = db.session.scalars(select(Delivery).where(Delivery.status == "verified").order_by(Delivery.id)).first()
    lifecycle.reopen(curator, verified, NOTES)
    db.session.commit()
    assert_the_roll_follows_the_sources(edition)
    assert generate.inconsistencies(db) == []
