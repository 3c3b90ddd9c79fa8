"""Computing candidates: figures equal the deliveries behind them, only verified help of verified
organisations and consenting individuals in the period counts, and ties are broken deterministically."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.honor_roll.builders import IN_PERIOD, World, at_, china
from villageaid.curation import services as curation
from villageaid.extensions import db
from villageaid.honor_roll import compute, lifecycle as roll, scoring
from villageaid.honor_roll.models import HonoreeKind, HonorRollCandidate, HonorRollComputation
from villageaid.pledges.models import Delivery


def _candidates(world, kind):
    return roll.candidates_of(world.category(kind))


def _by_name(world, kind):
    return {c.name: c for c in _candidates(world, kind)}


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def both(any_app):
    """The SQL that decides who counts and in which order, on SQLite and on PostgreSQL alike."""
    return World()


def test_figures_are_the_sums_of_the_deliveries_behind_them(both):
    a, b = both.helper(name="甲企业"), both.helper(name="乙企业")
    both.help(a, 2_000_000, poor_people=30)
    both.help(a, 500_000, poor_people=10)
    both.help(a, 5, unit="jobs", retained_3m=4, poor_people=5)
    both.help(a, 100, unit="goods", poor_people=20)
    both.help(b, 800_000, poor_people=15)
    both.compute()
    for candidate in _candidates(both, "enterprise"):
        rows = candidate.deliveries
        assert candidate.deliveries_count == len(rows)
        assert candidate.funds_fen == sum(r.quantity for r in rows if r.unit == "cny_fen")
        assert candidate.jobs_filled == sum(r.quantity for r in rows if r.unit == "jobs")
        assert candidate.jobs_retained == sum(r.retained_3m or 0 for r in rows if r.unit == "jobs")
        deliveries = [db.session.get(Delivery, r.delivery_id) for r in rows]
        assert all(d.status == "verified" for d in deliveries)
        assert candidate.villages_helped == len({d.pledge.village_id for d in deliveries})
        assert candidate.beneficiaries == sum({d.need_id: d.need.poor_people for d in deliveries}.values())
    first = _by_name(both, "enterprise")["甲企业"]
    assert (first.funds_fen, first.jobs_filled, first.jobs_retained, first.beneficiaries, first.deliveries_count) == \
        (2_500_000, 5, 4, 65, 4)
    # 2.5 万元 × 10 + (4 + ½ × 1) jobs × 5 + 1 village × 20 + 65 poor people × 1 = 132.5 points
    assert first.score == 13_250 and first.position == 1


def test_only_verified_deliveries_in_the_period_count(both):
    org = both.helper(name="丙企业")
    counted = both.help(org, 1_000_000)
    both.help(org, 900_000, status="confirmed")   # not verified yet
    both.help(org, 800_000, status="reported")
    both.help(org, 700_000, verified_at=china(2025, 10, 16, 23, 59, 59))  # the day before the period
    both.help(org, 600_000, verified_at=china(2026, 10, 17, 0, 0, 0))     # the day after
    edge = both.help(org, 500_000, verified_at=china(2025, 10, 17, 0, 0, 0))  # the period's first instant
    both.compute()
    candidate = _by_name(both, "enterprise")["丙企业"]
    assert {r.delivery_id for r in candidate.deliveries} == {counted.id, edge.id}
    assert candidate.funds_fen == 1_500_000


def test_unverified_and_suspended_organisations_never_appear(world):
    good, suspended = world.helper(name="守信企业"), world.helper(name="失信企业")
    world.help(good, 100_000)
    world.help(suspended, 9_000_000)
    curation.decide(world.national, suspended, "rejected", reason="营业执照系伪造")
    world.compute()
    assert set(_by_name(world, "enterprise")) == {"守信企业"}
    names = {c.name for category in world.edition.categories for c in roll.candidates_of(category)}
    assert "失信企业" not in names


def test_enterprises_and_ngos_go_to_their_own_categories(world):
    world.help(world.helper(name="某企业"), 100_000)
    world.help(world.helper(kind="ngo", name="某基金会"), 100_000)
    world.compute()
    assert set(_by_name(world, "enterprise")) == {"某企业"}
    assert set(_by_name(world, "ngo")) == {"某基金会"}


def test_individuals_are_named_only_with_consent_and_never_for_anonymous_pledges(both):
    named = both.person("李善人", consent=True)
    shy = both.person("赵低调", consent=False)
    both.help(named, 300_000)
    both.help(named, 9_000_000, anonymous=True)  # this one stays anonymous: it does not count for her name
    both.help(shy, 5_000_000)
    both.compute()
    individuals = _by_name(both, "individual")
    assert set(individuals) == {"李善人"}
    assert individuals["李善人"].funds_fen == 300_000


def test_ties_are_broken_by_the_stated_rule_and_deterministically(both):
    early, late, later = both.helper(name="先帮企业"), both.helper(name="后帮企业"), both.helper(name="同时企业")
    both.help(late, 1_000_000, verified_at=IN_PERIOD + timedelta(days=2))
    both.help(early, 1_000_000, verified_at=IN_PERIOD)
    both.help(later, 1_000_000, verified_at=IN_PERIOD + timedelta(days=2))
    both.compute()
    order = [c.name for c in _candidates(both, "enterprise")]
    # equal score, funds, jobs and villages: the earlier first verification, then the smaller id
    assert order == ["先帮企业", "后帮企业", "同时企业"]
    both.compute()
    assert [c.name for c in _candidates(both, "enterprise")] == order


def test_scores_follow_the_published_weights():
    figures = scoring.Figures(owner_id=1, funds_fen=12_345_678, jobs_filled=7, jobs_retained=3, villages_helped=2,
                              beneficiaries=11)
    weights = {"weight_funds": 10, "weight_jobs": 5, "weight_villages": 20, "weight_beneficiaries": 1}
    # 12.345678 万元 × 10 = 123.45678 → 12,345 hundredths (floored); (3 + ½ × 4) × 5 = 25; 2 × 20 = 40; 11
    assert scoring.score(figures, weights) == 12_345 + 2_500 + 4_000 + 1_100
    assert scoring.score(figures, {**weights, "weight_funds": 0}) == 2_500 + 4_000 + 1_100


def test_recomputing_keeps_curators_decisions(world):
    a, b = world.helper(name="甲企业"), world.helper(name="乙企业")
    world.help(a, 2_000_000)
    world.help(b, 1_000_000)
    world.compute()
    first = _by_name(world, "enterprise")
    roll.exclude(world.national, first["甲企业"], "被举报拖欠农民工工资，正在调查")
    roll.set_citation(world.national, first["乙企业"], "帮助昭觉县建设幼儿园。")
    world.help(b, 5_000_000)
    world.compute()
    again = _by_name(world, "enterprise")
    assert again["甲企业"].excluded and again["甲企业"].exclusion_reason == "被举报拖欠农民工工资，正在调查"
    assert again["乙企业"].citation == "帮助昭觉县建设幼儿园。"
    assert again["乙企业"].funds_fen == 6_000_000 and again["乙企业"].position == 1
    assert [c.name for _rank, c in roll.honored(world.category("enterprise"))] == ["乙企业"]


def test_a_curated_candidate_that_stops_qualifying_is_kept_with_its_record(world):
    org = world.helper(name="退出企业")
    delivery = world.help(org, 1_000_000)
    world.compute()
    roll.exclude(world.national, _by_name(world, "enterprise")["退出企业"], "核查中")
    at_(delivery, china(2024, 1, 1))  # (as if its verification had been earlier) it no longer falls in the period
    world.compute()
    kept = _by_name(world, "enterprise")["退出企业"]
    assert not kept.qualifies and kept.funds_fen == 0 and kept.deliveries == [] and kept.excluded


def test_the_computation_reports_progress_and_is_idempotent(world):
    world.help(world.helper(), 100_000)
    computation = roll.start_computation(world.national, world.edition)
    db.session.refresh(computation)
    assert computation.status == "done"
    assert computation.steps_done == computation.steps_total == len(world.edition.categories) + 1
    assert computation.candidates == 1 and computation.deliveries_counted == 1
    assert compute.run(computation.id) is None  # a finished run is left alone
    assert db.session.scalar(select(HonorRollComputation.id).where(HonorRollComputation.id == computation.id))


def test_a_failed_computation_is_reported_not_lost(world, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(compute, "ranking", broken)
    computation = roll.start_computation(world.national, world.edition)
    db.session.refresh(computation)
    assert computation.status == "failed" and "database went away" in computation.message
    assert db.session.scalars(select(HonorRollCandidate)).all() == []


def test_a_category_can_be_limited_to_one_kind_of_help(both):
    category = roll.add_category(both.admin, both.edition, name="就业扶贫先进企业", honoree_kind="enterprise",
                                 need_category="employment", quota=5)
    jobs_org, funds_org = both.helper(name="招工企业"), both.helper(name="捐款企业")
    both.help(jobs_org, 8, unit="jobs", retained_3m=8)
    both.help(funds_org, 5_000_000)
    both.compute()
    assert [c.name for c in roll.candidates_of(category)] == ["招工企业"]
    assert set(_by_name(both, "enterprise")) == {"招工企业", "捐款企业"}


def test_equal_scores_are_equal_in_the_database_too(both):
    """Scores are whole hundredths on both databases: a fraction of a point dropped by the rule must not
    order two candidates the rule sees as equal (they go by funds then)."""
    both.edition.weight_jobs = 1  # a job not retained after 3 months: 0.5 points
    db.session.commit()
    a, b = both.helper(name="甲企业"), both.helper(name="乙企业")
    both.help(a, 1_900, poor_people=20)                          # 0.019 points → 0.01
    both.help(a, 1, unit="jobs", retained_3m=0, poor_people=20)  # 0.5 points
    both.help(b, 51_100, poor_people=40)                          # 0.511 points → 0.51
    both.compute()
    first, second = _candidates(both, "enterprise")
    assert first.score == second.score
    assert [first.name, second.name] == ["乙企业", "甲企业"]  # equal scores: more funds first


def test_the_best_and_the_curated_stand_where_sorting_everyone_puts_them(both):
    """`ranking()` reads each kind's best and counts who stands before a curated honoree instead of sorting
    every honoree: at every cut-off — through a run of equal scores split by funds, jobs, the first
    verification and the id — each kind's best, its count and the places of curated honorees far below the
    cut, tied at it or among the best are those of the full order, and a kind with no one is empty."""
    later = IN_PERIOD + timedelta(days=3)
    enterprises = [both.helper(name=f"企业{i}") for i in range(9)]
    a, b, c, d, e, f, g, h, i = enterprises
    both.help(a, 1_000_000, poor_people=40)  # 10 + 20 + 40 = 70 points
    both.help(b, 100, unit="goods", poor_people=50)  # 70 points, no funds, no jobs: after a and e
    both.help(c, 1_000_000, poor_people=40, verified_at=later)  # as a, verified later
    both.help(d, 1_000_000, poor_people=40)  # as a, verified at the same instant: the larger id after
    both.help(e, 2, unit="jobs", retained_3m=2, poor_people=40)  # 70 points, jobs but no funds
    both.help(f, 5_000_000, poor_people=40)  # 110 points: first
    both.help(g, 100_000, poor_people=1)  # 22 points
    both.help(h, 100_000, poor_people=1, verified_at=later)  # as g, later: last
    both.help(i, 300_000, poor_people=2)  # 25 points
    ngos = [both.helper(kind="ngo", name=f"协会{n}") for n in range(3)]
    for ngo in ngos:
        both.help(ngo, 500_000, poor_people=10)  # all equal but for the id
    rejected = both.helper(name="失信企业")
    both.help(rejected, 9_000_000)
    curation.decide(both.national, rejected, "rejected", reason="营业执照系伪造")
    weights = both.edition.weights
    orders = {kind: [f.owner_id for f in scoring.rank(found, weights)]
              for kind, found in compute.aggregate_kinds(both.edition).items()}
    assert orders[HonoreeKind.ENTERPRISE] == [o.id for o in (f, a, d, c, e, b, i, g, h)]
    assert orders[HonoreeKind.NGO] == sorted(o.id for o in ngos)
    assert orders[HonoreeKind.INDIVIDUAL] == []
    everyone = {kind: 10 for kind in HonoreeKind}
    for cut in range(0, 11):
        for picked in ([], [h], [d, h], [f, b], [c, g, i, h]):
            curated = {HonoreeKind.ENTERPRISE: {o.id for o in picked} | {rejected.id, ngos[0].id},
                       HonoreeKind.NGO: {ngos[2].id}, HonoreeKind.INDIVIDUAL: {a.id}}
            ranked = compute.ranking(both.edition, None, {kind: cut for kind in HonoreeKind}, curated)
            for kind, order in orders.items():
                places = {owner: place for place, owner in enumerate(order, start=1)}
                wanted = sorted({(places[o], o) for o in order[:cut]}
                                | {(places[o], o) for o in curated[kind] if o in places})
                total, rows = ranked[kind]
                assert [(p, figures.owner_id) for p, figures in rows] == wanted, (kind, cut, picked)
                assert total == (len(order) if wanted else 0), (kind, cut, picked)
    assert compute.ranking(both.edition, None, everyone)[HonoreeKind.INDIVIDUAL] == (0, [])
