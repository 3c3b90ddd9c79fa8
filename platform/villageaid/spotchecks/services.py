"""Spot checks: the reproducible draw, the field rules of a draw and of a visit result, and what pages read.

The draw, stated once (and on the pages): the candidates are the ids of the deliveries that are
verified at the moment of the draw, whose need's village lies in the region and whose delivery date
(in China) lies in the period, both ends included, in ascending order; the sample is
`random.Random(seed).sample(candidates, min(sample_size, len(candidates)))`, in the order drawn.
Python's `random.Random` with an integer seed gives the same sequence on every platform and version,
so anyone holding the ids can redo the draw; the count and a SHA-256 of the ordered ids are recorded
so that the candidate list itself can be checked later.
"""
import hashlib
import random
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..extensions import db
from ..needs.models import Need
from ..pledges.models import Delivery, DeliveryStatus
from ..policy import scope_filters, scope_prefix
from ..regions import services as regions
from ..regions.models import Level
from ..timeutil import local_date_today, to_local
from .models import MAX_NOTES, MAX_SAMPLE, MAX_SEED, CheckStatus, ItemStatus, SpotCheck, SpotCheckItem

CHECK_LEVELS = (Level.PROVINCE, Level.PREFECTURE, Level.COUNTY)


# The draw --------------------------------------------------------------------------------------

def _in_region(region_code):
    return Need.county_code.startswith(scope_prefix(region_code))


def candidate_ids(region_code, period_start, period_end):
    """The ids of the verified deliveries in the region delivered within the period, ascending."""
    return db.session.scalars(
        select(Delivery.id).join(Need, Need.id == Delivery.need_id)
        .where(_in_region(region_code), Delivery.status == DeliveryStatus.VERIFIED.value,
               Delivery.delivered_on >= period_start, Delivery.delivered_on <= period_end)
        .order_by(Delivery.id)).all()


def draw_sample(ids, seed, size):
    """The sample of `ids` (ascending) for `seed`: the same arguments always give the same list."""
    return random.Random(seed).sample(sorted(ids), min(size, len(ids)))


def digest(ids):
    """SHA-256 of the ordered ids written as "1,2,3": what a candidate list can be checked against."""
    return hashlib.sha256(",".join(str(i) for i in sorted(ids)).encode()).hexdigest()


def new_seed():
    """A fresh seed of eight digits (short enough to read out at a meeting and type again)."""
    return 10_000_000 + secrets.randbelow(90_000_000)


def draw_errors(region, period_start, period_end, sample_size, seed):
    """Field → message for every rule the draw's values break."""
    errors = {}
    if region is None or region.level not in CHECK_LEVELS:
        errors["region"] = _l("请选择省份、地市或区县。")
    today = local_date_today()
    if period_start is None:
        errors["period_start"] = _l("请选择开始日期。")
    if period_end is None:
        errors["period_end"] = _l("请选择结束日期。")
    elif period_end > today:
        errors["period_end"] = _l("结束日期不能晚于今天。")
    if period_start and period_end and period_start > period_end:
        errors["period_start"] = _l("开始日期不能晚于结束日期。")
    if sample_size is None or not 1 <= sample_size <= MAX_SAMPLE:
        errors["sample_size"] = _l("抽查数量应在 1 到 %(n)s 之间。", n=MAX_SAMPLE)
    if seed is not None and not 0 <= seed <= MAX_SEED:
        errors["seed"] = _l("随机种子应是不超过 18 位的非负整数。")
    return errors


def parse_seed(text):
    """The seed a curator typed (digits, spaces allowed), None when blank; ValueError when not a number."""
    text = "".join((text or "").split())
    if not text:
        return None
    if not text.isdigit():
        raise ValueError(text)
    return int(text)


# A visit's result --------------------------------------------------------------------------------

def result_errors(check, status, notes, visited_on, uploads=0):
    """Field → message for every rule a visit result breaks."""
    from .models import MAX_EVIDENCE

    errors = {}
    if status not in (ItemStatus.CONFIRMED.value, ItemStatus.DISCREPANCY.value):
        errors["result"] = _l("请选择走访结果。")
    if status == ItemStatus.DISCREPANCY.value and not notes:
        errors["notes"] = _l("发现出入时请写明出入的情况（将公开显示）。")
    if len(notes or "") > MAX_NOTES:
        errors["notes"] = _l("说明最多 %(n)s 个字。", n=MAX_NOTES)
    if visited_on is None:
        errors["visited_on"] = _l("请选择走访日期。")
    elif visited_on > local_date_today():
        errors["visited_on"] = _l("走访日期不能晚于今天。")
    elif visited_on < to_local(check.created_at).date():
        errors["visited_on"] = _l("走访日期不能早于抽取日期。")
    if uploads > MAX_EVIDENCE:
        errors["evidence"] = _l("每次走访最多上传 %(n)s 张照片。", n=MAX_EVIDENCE)
    return errors


# Reading ---------------------------------------------------------------------------------------------

def regions_for(user):
    """The divisions a curator is scoped to (None: the whole country), for the draw form's defaults."""
    if user.is_admin or "" in user.curator_scopes:
        return [None]
    return [regions.get(code) for code in user.curator_scopes if regions.get(code) is not None]


def checks_for(curator, limit=200):
    """The spot checks in the curator's regions, open ones first, newest first."""
    query = select(SpotCheck)
    condition = scope_filters(curator, SpotCheck.region_code)
    if condition is not None:
        query = query.where(condition)
    return db.session.scalars(query.order_by((SpotCheck.status == CheckStatus.OPEN.value).desc(),
                                             SpotCheck.id.desc()).limit(limit)).all()


def tallies(check_ids):
    """{check id: {"pending": n, "confirmed": n, "discrepancy": n, "total": n}} in one GROUP BY."""
    result = {check_id: {"pending": 0, "confirmed": 0, "discrepancy": 0, "total": 0} for check_id in check_ids}
    if not check_ids:
        return result
    for check_id, status, count in db.session.execute(
            select(SpotCheckItem.spot_check_id, SpotCheckItem.status, func.count())
            .where(SpotCheckItem.spot_check_id.in_(check_ids))
            .group_by(SpotCheckItem.spot_check_id, SpotCheckItem.status)):
        result[check_id][status] = count
        result[check_id]["total"] += count
    return result


def public_checks(region=None, limit=100):
    """The spot checks that cover `region` (a Region, or None for the country): drawn within it, or over a
    larger region that holds it (a province's check covers its counties). Newest first."""
    query = select(SpotCheck)
    if region is not None:
        around = [r.code for r in regions.ancestors(region.code)]
        query = query.where(SpotCheck.region_code.startswith(region.prefix) | SpotCheck.region_code.in_(around))
    return db.session.scalars(query.order_by(SpotCheck.id.desc()).limit(limit)).all()


def region_summary(region=None):
    """For the public ledger: the visits to deliveries in `region` (whichever check drew them) — how many
    checks visited it, how many deliveries were visited, found as recorded and found with a discrepancy."""
    query = (select(SpotCheckItem.status, func.count())
             .join(Delivery, Delivery.id == SpotCheckItem.delivery_id).join(Need, Need.id == Delivery.need_id)
             .where(SpotCheckItem.status != ItemStatus.PENDING.value).group_by(SpotCheckItem.status))
    checks_query = (select(func.count(func.distinct(SpotCheckItem.spot_check_id)))
                    .join(Delivery, Delivery.id == SpotCheckItem.delivery_id).join(Need, Need.id == Delivery.need_id)
                    .where(SpotCheckItem.status != ItemStatus.PENDING.value))
    if region is not None:
        query = query.where(Need.county_code.startswith(region.prefix))
        checks_query = checks_query.where(Need.county_code.startswith(region.prefix))
    counts = dict(db.session.execute(query).all())
    return {"checks": db.session.scalar(checks_query), "visited": sum(counts.values()),
            "confirmed": counts.get(ItemStatus.CONFIRMED.value, 0),
            "discrepancy": counts.get(ItemStatus.DISCREPANCY.value, 0)}


def findings_by_delivery(delivery_ids):
    """{delivery id: [recorded items, oldest first]}: what spot checks found about those deliveries."""
    found = {}
    if not delivery_ids:
        return found
    items = db.session.scalars(
        select(SpotCheckItem).where(SpotCheckItem.delivery_id.in_(list(delivery_ids)),
                                    SpotCheckItem.status != ItemStatus.PENDING.value)
        .order_by(SpotCheckItem.recorded_at, SpotCheckItem.id)).all()
    for item in items:
        found.setdefault(item.delivery_id, []).append(item)
    return found


def findings_for_delivery(delivery):
    """What spot checks found about one delivery (the delivery cards of the pledge page and the queue)."""
    return findings_by_delivery([delivery.id]).get(delivery.id, [])


def findings_for_pledge(pledge):
    """The track page's findings: {delivery id: [recorded items]} for the pledge's deliveries."""
    return findings_by_delivery([d.id for d in pledge.deliveries])


def reopened_deliveries(region=None, limit=50):
    """The deliveries in `region` that a spot check reopened and no curator has decided on again, each
    with the discrepancy that reopened it: [(delivery, item)], newest first."""
    query = (select(SpotCheckItem).join(Delivery, Delivery.id == SpotCheckItem.delivery_id)
             .join(Need, Need.id == Delivery.need_id)
             .where(Delivery.status == DeliveryStatus.REOPENED.value, SpotCheckItem.reopened.is_(True)))
    if region is not None:
        query = query.where(Need.county_code.startswith(region.prefix))
    items = db.session.scalars(query.order_by(SpotCheckItem.recorded_at.desc(), SpotCheckItem.id.desc())
                               .limit(limit)).all()
    return [(item.delivery, item) for item in items]


def trail(check):
    """The check's audit events and its items', oldest first (the curator's page)."""
    from ..audit.models import AuditEvent

    item_ids = [item.id for item in check.items] or [0]
    return db.session.scalars(select(AuditEvent).where(
        ((AuditEvent.object_type == SpotCheck.__tablename__) & (AuditEvent.object_id == check.id))
        | ((AuditEvent.object_type == SpotCheckItem.__tablename__) & AuditEvent.object_id.in_(item_ids)))
        .order_by(AuditEvent.id)).all()


def public_items(check):
    """What the public sees of a check's sample: every item once it is closed, only the visited ones
    while it is open (the visits are unannounced)."""
    if check.is_open:
        return [item for item in check.items if not item.is_pending]
    return list(check.items)


def region_choices(code):
    """The children of a division (or the provinces), as (code, name) pairs, for the draw form."""
    return [(r.code, r.name) for r in regions.children(code)]


def get_region(code):
    region = regions.get(code) if code else None
    return region if region is not None and region.level in CHECK_LEVELS else None
