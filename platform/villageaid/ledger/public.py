"""The public ledger by region: country → province → prefecture → county → village.

At every level: the region's pledged, delivered, confirmed and verified totals by unit (live pledges),
one row per child region (or village, under a county) with the same sums, and the latest verified
deliveries linking to their public records (/track/<code>). All SQL GROUP BY over pledges joined to
needs, whose region codes are copied onto the row; no personal data. Spot checks (抽查) add their
summary and the deliveries a discrepancy reopened, with its public note: those count as delivered only.
"""
from sqlalchemy import func, select

from ..extensions import db
from ..needs.models import Need, Unit
from ..pledges.models import Delivery, DeliveryStatus, LIVE_STATES, Pledge
from ..pledges.services import ledger_by_unit
from ..policy import scope_prefix
from ..regions import services as regions
from ..regions.models import Level, Region
from ..spotchecks import services as spotchecks
from ..villages.models import Village

CHILD_COLUMN = {None: Need.province_code, Level.PROVINCE: Need.prefecture_code, Level.PREFECTURE: Need.county_code,
                Level.COUNTY: Need.village_id}
UNITS = [u.value for u in Unit]


def _within(region):
    return [Need.county_code.startswith(scope_prefix(region.code))] if region is not None else []


def children(region):
    """One row per child region (villages under a county) that has live pledges: name, link key, sums by unit."""
    column = CHILD_COLUMN[region.level if region is not None else None]
    live = [s.value for s in LIVE_STATES]
    rows = {}
    for key, unit, count, pledged, delivered, confirmed, verified in db.session.execute(
            select(column, Need.unit, func.count(Pledge.id), func.sum(Pledge.quantity), func.sum(Pledge.delivered),
                   func.sum(Pledge.confirmed), func.sum(Pledge.verified))
            .join(Need, Need.id == Pledge.need_id).where(*_within(region), Pledge.status.in_(live))
            .group_by(column, Need.unit)):
        row = rows.setdefault(key, {"key": key, "pledges": 0, "units": {}})
        row["pledges"] += count
        row["units"][unit] = {"pledged": int(pledged or 0), "delivered": int(delivered or 0),
                              "confirmed": int(confirmed or 0), "verified": int(verified or 0)}
    if region is not None and region.level == Level.COUNTY:
        names = dict(db.session.execute(select(Village.id, Village.name).where(Village.id.in_(rows))).all())
    else:
        names = dict(db.session.execute(select(Region.code, Region.name).where(Region.code.in_(rows))).all())
    for row in rows.values():
        row["name"] = names.get(row["key"], str(row["key"]))
    return sorted(rows.values(), key=lambda r: (-r["units"].get("cny_fen", {}).get("verified", 0), -r["pledges"],
                                                str(r["key"])))


def recent_verified(region, limit=20):
    """The latest verified deliveries in the region, with their pledge (for the tracking code) and need."""
    query = (select(Delivery).join(Need, Need.id == Delivery.need_id)
             .where(*_within(region), Delivery.status == DeliveryStatus.VERIFIED.value)
             .order_by(Delivery.decided_at.desc(), Delivery.id.desc()).limit(limit))
    return db.session.scalars(query).all()


def page(code=None):
    """Everything /ledger and /ledger/<code> show, or None for an unknown code."""
    region = None
    if code:
        region = regions.get(code)
        if region is None or region.level not in (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY):
            return None
    return {"region": region, "chain": regions.ancestors(region.code) if region else [],
            "totals": ledger_by_unit(*_within(region)), "children": children(region),
            "children_are_villages": region is not None and region.level == Level.COUNTY,
            "deliveries": recent_verified(region),
            "spot_checks": spotchecks.region_summary(region), "reopened": spotchecks.reopened_deliveries(region)}
