"""The campaign's statistics: totals and breakdowns by province, category, unit and month.

Every figure is a SQL aggregate over deliveries joined to their pledges and needs. "Verified" means a
delivery a curator verified (the only kind that counts anywhere); pledged figures are labelled as such.
Months are months in China (Asia/Shanghai) of the curator's verification.

`current()` serves the page from a snapshot kept in Redis (fakeredis in-process on the embedded
default) that the "stats-refresh" job rewrites every five minutes; a missing or unreadable snapshot
is computed on the spot, by one request at a time (snapshots.py), so the page is never empty or wrong
for long and a spike does not aggregate the tables once per worker.
"""
import logging
from datetime import timedelta

from redis.exceptions import RedisError
from sqlalchemy import func, select

from .. import snapshots
from ..extensions import db
from ..needs.models import Category, Need, Unit
from ..organizations.models import Organization
from ..pledges.models import Delivery, DeliveryStatus, LIVE_STATES, Pledge
from ..regions.models import Region
from ..timeutil import as_utc, to_local, utcnow
from ..villages.models import Village

log = logging.getLogger(__name__)

SNAPSHOT_KEY = "villageaid:stats:snapshot"
SNAPSHOT_TTL = 3600  # a snapshot older than an hour (the job stopped) is not served
MONTHS = 12
VERIFIED = DeliveryStatus.VERIFIED.value
UNITS = [u.value for u in Unit]


def compute(now=None):
    """Every figure, from the database, as plain JSON-able values."""
    now = as_utc(now or utcnow())
    verified = (select(Need.unit, Need.category, Need.province_code, Delivery.quantity, Delivery.decided_at,
                       Pledge.village_id, Pledge.organization_id)
                .join(Pledge, Pledge.id == Delivery.pledge_id).join(Need, Need.id == Delivery.need_id)
                .where(Delivery.status == VERIFIED).subquery())
    totals = {unit: 0 for unit in UNITS}
    for unit, quantity in db.session.execute(select(verified.c.unit, func.sum(verified.c.quantity))
                                             .group_by(verified.c.unit)):
        totals[unit] = int(quantity or 0)
    live = [s.value for s in LIVE_STATES]
    pledged = {unit: 0 for unit in UNITS}
    for unit, quantity in db.session.execute(select(Need.unit, func.sum(Pledge.quantity))
                                             .join(Need, Need.id == Pledge.need_id)
                                             .where(Pledge.status.in_(live)).group_by(Need.unit)):
        pledged[unit] = int(quantity or 0)
    return {
        "computed_at": now.isoformat(),
        "verified": totals,
        "pledged": pledged,
        "deliveries_verified": db.session.scalar(select(func.count()).select_from(Delivery)
                                                 .where(Delivery.status == VERIFIED)),
        "villages_helped": db.session.scalar(select(func.count(func.distinct(verified.c.village_id)))),
        "organizations_helping": db.session.scalar(select(func.count(func.distinct(verified.c.organization_id)))),
        "villages": db.session.scalar(select(func.count()).select_from(Village).where(Village.status == "verified")),
        "organizations": db.session.scalar(select(func.count()).select_from(Organization)
                                           .where(Organization.status == "verified")),
        "by_province": _by_province(verified),
        "by_category": _by_category(verified),
        "by_month": _by_month(verified, now),
    }


def _by_province(verified):
    names = dict(db.session.execute(select(Region.code, Region.name)
                                    .where(Region.code.in_(select(verified.c.province_code).distinct()))).all())
    rows = {}
    for code, unit, quantity, deliveries in db.session.execute(
            select(verified.c.province_code, verified.c.unit, func.sum(verified.c.quantity), func.count())
            .group_by(verified.c.province_code, verified.c.unit)):
        row = rows.setdefault(code, {"code": code, "name": names.get(code, code), "deliveries": 0,
                                     **{unit: 0 for unit in UNITS}})
        row[unit] = int(quantity or 0)
        row["deliveries"] += deliveries
    return sorted(rows.values(), key=lambda r: (-r["cny_fen"], -r["deliveries"], r["code"]))


def _by_category(verified):
    rows = {c.value: {"category": c.value, "deliveries": 0, **{unit: 0 for unit in UNITS}} for c in Category}
    for category, unit, quantity, deliveries in db.session.execute(
            select(verified.c.category, verified.c.unit, func.sum(verified.c.quantity), func.count())
            .group_by(verified.c.category, verified.c.unit)):
        rows[category][unit] = int(quantity or 0)
        rows[category]["deliveries"] += deliveries
    return list(rows.values())


def _by_month(verified, now):
    """The last MONTHS months in China, oldest first, each with its verified funds, jobs and deliveries."""
    local_now = to_local(now)
    first = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    starts = []
    for _ in range(MONTHS):
        starts.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    starts.reverse()
    rows = {start.strftime("%Y-%m"): {"month": start.strftime("%Y-%m"), "deliveries": 0,
                                      **{unit: 0 for unit in UNITS}} for start in starts}
    since = as_utc(starts[0])
    month_of = _local_month(verified.c.decided_at).label("month")
    for month, unit, quantity, deliveries in db.session.execute(
            select(month_of, verified.c.unit, func.sum(verified.c.quantity), func.count())
            .where(verified.c.decided_at >= since).group_by(month_of, verified.c.unit)):
        if month in rows:
            rows[month][unit] = int(quantity or 0)
            rows[month]["deliveries"] += deliveries
    return list(rows.values())


def _local_month(column):
    """'YYYY-MM' of a UTC timestamp in China (UTC+8 all year: no daylight saving since 1991)."""
    if db.engine.dialect.name == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", column), "YYYY-MM")
    return func.strftime("%Y-%m", func.datetime(column, "+8 hours"))


def refresh():
    """Compute and store the snapshot (the job); returns it."""
    return snapshots.store(SNAPSHOT_KEY, compute(), SNAPSHOT_TTL)


def current():
    """The latest snapshot, or a fresh computation when there is none (one at a time: see snapshots.py)."""
    try:
        stored = snapshots.load(SNAPSHOT_KEY)
    except RedisError as error:
        log.warning("stats snapshot not read: %s", error)
        return compute()
    return stored or snapshots.compute_once(SNAPSHOT_KEY, SNAPSHOT_TTL, compute)
