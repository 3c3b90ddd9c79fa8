"""Demo spot checks for `flask demo seed`, made through the same lifecycle as real ones: one finished with
every visit found as recorded, and one where a visit found a discrepancy (that delivery is reopened and
shows on the public ledger) with a visit still to make, so the curators' console has work to show.

Idempotent: a demo check is found again by its seed, and each visit is recorded only while pending.
"""
from datetime import timedelta

from sqlalchemy import func, select

from ..extensions import db
from ..needs.models import Need, NeedStatus
from ..pledges.models import Delivery, DeliveryStatus
from ..policy import curates
from ..regions import services as regions
from ..timeutil import local_date_today
from . import lifecycle
from .models import SpotCheck

CONFIRMED_NOTE = "走访核对了村集体账户流水、收据和实物，与登记的交付一致。"
DISCREPANCY_NOTE = "走访发现村里实际收到的比登记的少，村委会的收据与认捐方的凭证对不上，待认捐方补充凭证后复核。"
# (seed, how many to draw, visits to record: "all" or "one discrepancy", close afterwards?)
CHECKS = [(20261017, 3, "all", True), (20201017, 3, "one discrepancy", False)]


def _provinces_by_verified():
    """Province codes, those with the most verified deliveries first."""
    rows = db.session.execute(
        select(func.substr(Need.county_code, 1, 2), func.count(Delivery.id)).join(Need, Need.id == Delivery.need_id)
        .where(Delivery.status == DeliveryStatus.VERIFIED.value)
        .group_by(func.substr(Need.county_code, 1, 2)).order_by(func.count(Delivery.id).desc(),
                                                                 func.substr(Need.county_code, 1, 2))).all()
    return [regions.pad(prefix) for prefix, _count in rows]


def _draw(seed, size, taken, curators):
    existing = db.session.scalar(select(SpotCheck).where(SpotCheck.seed == seed))
    if existing is not None:
        return existing
    for province in _provinces_by_verified():
        curator = next((c for c in curators if curates(c, province)), None)
        if province in taken or curator is None:
            continue
        today = local_date_today()
        return lifecycle.draw(curator, province, today - timedelta(days=365), today, size, seed)
    return None


def _visit(spot_check, plan, curator):
    today = local_date_today()
    pending = [item for item in spot_check.items if item.is_pending]
    if plan == "all":
        for item in pending:
            lifecycle.record_result(curator, item, "confirmed", CONFIRMED_NOTE, today)
        return
    if any(item.status == "discrepancy" for item in spot_check.items):
        return
    # The discrepancy is found where it leaves the demo coherent: not on a need already closed (结项).
    target = next((item for item in pending if item.delivery.pledge.need.status != NeedStatus.CLOSED), None)
    if target is None:
        return
    lifecycle.record_result(curator, target, "discrepancy", DISCREPANCY_NOTE, today)
    other = next((item for item in pending if item is not target), None)
    if other is not None:  # and the rest still to visit
        lifecycle.record_result(curator, other, "confirmed", CONFIRMED_NOTE, today)


def seed_spot_checks(curators):
    """`curators`: users, the first covering a province draws there. Returns how many spot checks exist."""
    taken = set()
    for seed, size, plan, close in CHECKS:
        spot_check = _draw(seed, size, taken, curators)
        if spot_check is None:
            continue
        taken.add(spot_check.region_code)
        curator = next(c for c in curators if curates(c, spot_check.region_code))
        _visit(spot_check, plan, curator)
        if close and spot_check.is_open and spot_check.pending_count == 0:
            lifecycle.close(curator, spot_check)
    return db.session.scalar(select(func.count()).select_from(SpotCheck))
