"""Pledges: the field rules shared by the pages and the API, tracking codes, and the questions pages ask.

Status changes are not here but in lifecycle.py; this module checks what people type and reads
pledges, deliveries and their sums for the need, village, organisation and home pages.
"""
import re
import secrets
from datetime import timedelta
from functools import cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import case, exists, func, or_, select, update

from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..needs.models import Need, Unit
from ..organizations.models import Organization
from ..policy import scope_filters
from ..timeutil import local_date_today, to_local
from ..villages.models import Village
from .models import (CLAIMING_DELIVERIES, ENDED_STATES, LIVE_STATES, MAX_EVIDENCE, Delivery, DeliveryStatus, Evidence,
                     Named, Pledge, PledgeKind, PledgeStatus, kind_for)

P, D = PledgeStatus, DeliveryStatus

MAX_PROMISE_DAYS = 366
MIN_FUNDS_FEN = 100  # ¥1
MAX_NOTE = 1000
MAX_PLAN = 5000

# Tracking codes: Crockford's base-32 alphabet (no I, L, O, U: nothing to misread on a phone).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_RE = re.compile(r"^WQ-(\d{4})-([0-9A-HJKMNP-TV-Z]{6})$")


def new_code(year=None):
    """A fresh tracking code such as WQ-2026-7K3F9Q (unique: checked here, enforced by the column)."""
    year = year or local_date_today().year
    for _attempt in range(10):
        code = f"WQ-{year}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        if not db.session.scalar(select(Pledge.id).where(Pledge.code == code)):
            return code
    raise RuntimeError("no free tracking code after 10 draws")  # 32^6 codes a year: never in practice


def normalize_code(text):
    """A code as people type it (lower case, spaces, O for 0, I or L for 1) in its canonical form, or None."""
    compact = re.sub(r"[\s\-_—–－]+", "", (text or "").strip().upper())
    if not compact.startswith("WQ") or len(compact) != 12:
        return None
    rest = compact[2:].translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))
    code = f"WQ-{rest[:4]}-{rest[4:]}"
    return code if CODE_RE.match(code) else None


def by_code(text):
    code = normalize_code(text)
    return db.session.scalar(select(Pledge).where(Pledge.code == code)) if code else None


# What a pledge and a delivery may say ------------------------------------------------------

PLEDGE_FIELDS = ("quantity", "organization_id", "anonymous", "promised_on", "note", "job_title", "wage_fen",
                 "work_location", "plan")
DELIVERY_FIELDS = ("quantity", "delivered_on", "note", "milestone", "completion_percent")


def pledge_defaults(need, user):
    """What the pledge form starts with: the job the need describes, a promise by its deadline."""
    promised = max(need.deadline or local_date_today(), local_date_today() + timedelta(days=7))
    values = {"promised_on": promised, "anonymous": user is not None and not getattr(user, "public_name_consent", True)}
    if need.unit == Unit.JOBS:
        values.update(job_title=need.job_title, wage_fen=need.wage_min_fen, work_location=need.work_location)
    return values


def fill_from_need(need, values):
    """What a pledge takes from its need when the pledger leaves it out: a promised date, the job described."""
    values = dict(values)
    defaults = pledge_defaults(need, None)
    values["promised_on"] = values.get("promised_on") or defaults["promised_on"]
    if need.unit == Unit.JOBS:
        for name in ("job_title", "wage_fen", "work_location"):
            if values.get(name) in (None, ""):
                values[name] = defaults[name]
    return values


def pledging_organizations(user):
    """The organisations `user` may pledge for (verified ones they belong to)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [o for o in user.organizations if o.is_verified]


def may_pledge(user, need):
    """Whether `user` may pledge against `need` now (the page shows the form; the lifecycle checks again)."""
    if need.status != "published" or need.remaining <= 0:
        return False
    if user is None or not getattr(user, "is_authenticated", False):
        return True  # asked to sign in first
    if need.is_village_member(user):
        return False
    return not _needs_organization(need) or bool(pledging_organizations(user))


def _needs_organization(need):
    return kind_for(need) in (PledgeKind.JOBS, PledgeKind.PROJECT)


def check_pledger(actor, need, organization_id):
    """The organisation the pledge is made for (or None), after checking `actor` may act for it."""
    if need.is_village_member(actor):
        raise PermissionDenied(_l("本村村委会成员不能认捐本村的需求。"))
    if organization_id in (None, "", 0):
        return None
    org = db.session.get(Organization, int(organization_id))
    if org is None or not org.is_member(actor):
        raise PermissionDenied(_l("您不是该组织的成员，不能以它的名义认捐。"))
    if not org.is_verified:
        raise ServiceError(_l("请更正标出的项目。"),
                           fields={"organization_id": _l("该组织尚未通过认证，认证后才能以组织名义认捐。")})
    return org


def pledge_errors(need, values, org):
    """Field → message for every rule the pledge `values` break (the quantity against what is still open)."""
    errors = {}
    kind = kind_for(need)
    quantity = values.get("quantity")
    if quantity is None:
        errors["quantity"] = _l("请填写认捐数量。")
    elif quantity <= 0:
        errors["quantity"] = _l("认捐数量应大于 0。")
    elif kind in (PledgeKind.FUNDS, PledgeKind.PROJECT) and quantity < MIN_FUNDS_FEN:
        errors["quantity"] = _l("认捐金额至少 1 元。")
    elif quantity > need.remaining:
        errors["quantity"] = remaining_message(need)
    if kind in (PledgeKind.JOBS, PledgeKind.PROJECT) and org is None:
        errors["organization_id"] = _l("就业岗位和产业项目须以企业或社会组织的名义认捐。")
    promised = values.get("promised_on")
    today = local_date_today()
    if promised is None:
        errors["promised_on"] = _l("请选择承诺交付日期。")
    elif promised < today:
        errors["promised_on"] = _l("承诺交付日期不能早于今天。")
    elif promised > today + timedelta(days=MAX_PROMISE_DAYS):
        errors["promised_on"] = _l("承诺交付日期最多在一年以内。")
    if len(values.get("note") or "") > MAX_NOTE:
        errors["note"] = _l("留言最多 1000 个字。")
    if kind == PledgeKind.JOBS:
        if not (values.get("job_title") or "").strip():
            errors["job_title"] = _l("请填写提供的岗位名称。")
        if not (values.get("work_location") or "").strip():
            errors["work_location"] = _l("请填写工作地点。")
        wage = values.get("wage_fen")
        if wage is None:
            errors["wage_fen"] = _l("请填写月工资。")
        elif wage <= 0 or wage > 10_000_000:
            errors["wage_fen"] = _l("月工资应在 0 到 10 万元之间。")
    if kind == PledgeKind.PROJECT:
        plan = (values.get("plan") or "").strip()
        if len(plan) < 10:
            errors["plan"] = _l("请用至少 10 个字说明项目计划：建设内容、投资安排、带动方式。")
        elif len(plan) > MAX_PLAN:
            errors["plan"] = _l("项目计划最多 5000 个字。")
    return errors


def remaining_message(need):
    """"Only … is still open": the message of a pledge that asks for more than remains."""
    from ..money import format_fen

    remaining = need.remaining
    if remaining <= 0:
        return _l("该需求已经认满，不再接受认捐。")
    if need.unit == Unit.CNY_FEN:
        amount = format_fen(remaining)
    else:
        amount = f"{remaining:,}"
    return _l("超出了尚未认捐的数量：目前还可认捐 %(amount)s。", amount=amount)


def clean_pledge(need, values, org):
    """Strip text and keep only the details that belong to the need's kind and the pledger."""
    kind = kind_for(need)
    clean = {name: values.get(name) for name in PLEDGE_FIELDS}
    for name in ("note", "job_title", "work_location", "plan"):
        clean[name] = (clean[name] or "").strip() or None
    clean["note"] = clean["note"] or ""
    clean["anonymous"] = bool(clean["anonymous"]) and org is None  # an organisation's help is public by nature
    if kind != PledgeKind.JOBS:
        clean["job_title"] = clean["wage_fen"] = clean["work_location"] = None
    if kind != PledgeKind.PROJECT:
        clean["plan"] = None
    return clean


def delivery_errors(pledge, values, uploads=0):
    """Field → message for every rule a delivery report breaks."""
    errors = {}
    kind = pledge.kind
    quantity = values.get("quantity")
    if quantity is None:
        errors["quantity"] = _l("请填写本次交付的数量。")
    elif quantity <= 0:
        errors["quantity"] = _l("交付数量应大于 0。")
    elif quantity > pledge.open_to_report:
        errors["quantity"] = _l("超出了认捐中尚未登记交付的部分（还可登记 %(amount)s）。",
                                amount=amount_text(pledge.need, pledge.open_to_report))
    day = values.get("delivered_on")
    today = local_date_today()
    if day is None:
        errors["delivered_on"] = _l("请选择交付日期。")
    elif day > today:
        errors["delivered_on"] = _l("交付日期不能晚于今天。")
    elif day < to_local(pledge.created_at).date():
        errors["delivered_on"] = _l("交付日期不能早于认捐日期。")
    if len(values.get("note") or "") > MAX_NOTE:
        errors["note"] = _l("说明最多 1000 个字。")
    if kind == PledgeKind.PROJECT:
        if not (values.get("milestone") or "").strip():
            errors["milestone"] = _l("请填写本次完成的里程碑，如：烘干房主体完工。")
        elif len(values["milestone"].strip()) > 120:
            errors["milestone"] = _l("里程碑最多 120 个字。")
        percent = values.get("completion_percent")
        previous = max((d.completion_percent or 0 for d in pledge.deliveries
                        if DeliveryStatus(d.status) in CLAIMING_DELIVERIES), default=0)
        if percent is None:
            errors["completion_percent"] = _l("请填写项目的总体完成百分比。")
        elif not 1 <= percent <= 100:
            errors["completion_percent"] = _l("完成百分比应在 1 到 100 之间。")
        elif percent < previous:
            errors["completion_percent"] = _l("完成百分比不能低于上一个里程碑（%(n)s%%）。", n=previous)
    if uploads > MAX_EVIDENCE:
        errors["evidence"] = _l("每次交付最多上传 %(n)s 个凭证文件。", n=MAX_EVIDENCE)
    return errors


def clean_delivery(pledge, values):
    clean = {name: values.get(name) for name in DELIVERY_FIELDS}
    clean["note"] = (clean["note"] or "").strip()
    if pledge.kind == PledgeKind.PROJECT:
        clean["milestone"] = (clean["milestone"] or "").strip()
    else:
        clean["milestone"] = clean["completion_percent"] = None
    return clean


def amount_text(need, value):
    """An amount in the need's unit as words, for messages (pages use the `amount` macro)."""
    from flask_babel import ngettext

    from ..money import format_fen

    if need.unit == Unit.CNY_FEN:
        return format_fen(value)
    if need.unit == Unit.JOBS:
        return ngettext("%(num)s 个岗位", "%(num)s 个岗位", value)
    if need.unit == Unit.GOODS:
        return ngettext("%(num)s 件", "%(num)s 件", value)
    return ngettext("%(num)s 小时", "%(num)s 小时", value)


# Reading -----------------------------------------------------------------------------------

def get_visible(pledge_id, user):
    """The pledge if `user` may see its details, else None (a 404: its public face is /track/<code>)."""
    pledge = db.session.get(Pledge, pledge_id)
    return pledge if pledge is not None and pledge.can_view(user) else None


def find_by_key(user, key):
    if not key:
        return None
    return db.session.scalar(select(Pledge).where(Pledge.pledger_id == user.id, Pledge.idempotency_key == key))


def need_pledges(need, limit=100):
    """A need's pledges, newest first (the public list: ended ones too, for the record)."""
    return db.session.scalars(select(Pledge).where(Pledge.need_id == need.id)
                              .order_by(Pledge.id.desc()).limit(limit)).all()


def count_need_pledges(need):
    return db.session.scalar(select(func.count(Pledge.id)).where(Pledge.need_id == need.id))


def ledger(*conditions):
    """Sums by state over the live pledges matching `conditions` (on Pledge and Need): pledged, accepted,
    delivered, confirmed and verified, with the number of pledges and of verified deliveries."""
    live = [s.value for s in LIVE_STATES]
    row = db.session.execute(
        select(func.count(Pledge.id),
               func.coalesce(func.sum(Pledge.quantity), 0),
               func.coalesce(func.sum(case((Pledge.status != P.PLEDGED.value, Pledge.quantity), else_=0)), 0),
               func.coalesce(func.sum(Pledge.delivered), 0),
               func.coalesce(func.sum(Pledge.confirmed), 0),
               func.coalesce(func.sum(Pledge.verified), 0))
        .join(Need, Pledge.need_id == Need.id).where(*conditions, Pledge.status.in_(live))
    ).one()
    deliveries = db.session.scalar(
        select(func.count(Delivery.id)).join(Pledge, Delivery.pledge_id == Pledge.id)
        .join(Need, Pledge.need_id == Need.id).where(*conditions, Delivery.status == D.VERIFIED.value))
    count, pledged, accepted, delivered, confirmed, verified = (int(x) for x in row)
    return {"pledges": count, "pledged": pledged, "accepted": accepted, "delivered": delivered,
            "confirmed": confirmed, "verified": verified, "verified_deliveries": deliveries}


def need_ledger(need):
    return ledger(Pledge.need_id == need.id)


def ledger_by_unit(*conditions):
    """{unit: ledger} over pledges matching `conditions` (a village's or an organisation's), units in use only."""
    units = db.session.scalars(select(Need.unit).join(Pledge, Pledge.need_id == Need.id)
                               .where(*conditions).distinct()).all()
    order = [u.value for u in Unit]
    return {unit: ledger(*conditions, Need.unit == unit) for unit in sorted(units, key=order.index)}


def village_helpers(village, limit=20):
    """Who helps a village: public names with their live pledge counts, organisations first."""
    pledges = db.session.scalars(
        select(Pledge).where(Pledge.village_id == village.id, Pledge.status.in_([s.value for s in LIVE_STATES]))
        .order_by(Pledge.id)
    ).all()
    helpers = {}
    for pledge in pledges:
        key = ("org", pledge.organization_id) if pledge.organization_id else (
            ("anon", 0) if pledge.anonymous else ("user", pledge.pledger_id))
        entry = helpers.setdefault(key, {"name": pledge.public_name, "organization": pledge.organization,
                                         "pledges": 0})
        entry["pledges"] += 1
    ordered = sorted(helpers.values(), key=lambda h: (h["organization"] is None, -h["pledges"], h["name"]))
    return ordered[:limit]


def organization_pledges(org, limit=100):
    return db.session.scalars(select(Pledge).where(Pledge.organization_id == org.id)
                              .order_by(Pledge.id.desc()).limit(limit)).all()


def my_pledges(user, limit=300):
    """The user's own pledges and those of their organisations, open ones first."""
    org_ids = [o.id for o in user.organizations]
    condition = Pledge.pledger_id == user.id
    if org_ids:
        condition = or_(condition, Pledge.organization_id.in_(org_ids))
    pledges = db.session.scalars(select(Pledge).where(condition).order_by(Pledge.id.desc()).limit(limit)).all()
    order = {P.ACCEPTED: 0, P.DELIVERING: 0, P.PLEDGED: 1, P.DELIVERED: 2, P.CONFIRMED: 2}
    return sorted(pledges, key=lambda p: (order.get(PledgeStatus(p.status), 3), -p.id))


def _village_ids(user):
    return [v.id for v in user.villages]


def incoming_pledges(user):
    """Pledges the user's villages must accept or decline, oldest first."""
    ids = _village_ids(user)
    if not ids:
        return []
    return db.session.scalars(select(Pledge).where(Pledge.village_id.in_(ids), Pledge.status == P.PLEDGED.value)
                              .order_by(Pledge.id)).all()


def deliveries_to_confirm(user):
    """Deliveries to the user's villages awaiting their confirmation, oldest first."""
    ids = _village_ids(user)
    if not ids:
        return []
    return db.session.scalars(select(Delivery).join(Delivery.pledge)
                              .where(Pledge.village_id.in_(ids), Delivery.status == D.REPORTED.value)
                              .order_by(Delivery.id)).unique().all()


def village_pledges(user, limit=200):
    """Every pledge to the user's villages, newest first (the inbox's full list)."""
    ids = _village_ids(user)
    if not ids:
        return []
    return db.session.scalars(select(Pledge).where(Pledge.village_id.in_(ids))
                              .order_by(Pledge.id.desc()).limit(limit)).all()


def _in_scope(query, curator):
    condition = scope_filters(curator, Village.code)
    query = query.join(Pledge, Delivery.pledge_id == Pledge.id).join(Village, Pledge.village_id == Village.id)
    return query.where(condition) if condition is not None else query


def _curator_groups():
    """The curators' queues as disjoint conditions: flagged evidence first, then disputes, deliveries a spot
    check reopened, then the rest."""
    flagged = Delivery.id.in_(select(Evidence.delivery_id).where(Evidence.duplicate_of_id.is_not(None)))
    open_states = [D.REPORTED.value, D.CONFIRMED.value, D.DISPUTED.value]
    return {
        "flagged": (flagged, Delivery.status.in_(open_states)),
        "disputed": (~flagged, Delivery.status == D.DISPUTED.value),
        "reopened": (Delivery.status == D.REOPENED.value,),
        "to_verify": (~flagged, Delivery.status == D.CONFIRMED.value),
    }


def curator_queue(curator, limit=200):
    """Deliveries for the curator to decide, oldest first: evidence used twice, disputed, confirmed to verify."""
    return {name: db.session.scalars(_in_scope(select(Delivery), curator).where(*where)
                                     .order_by(Delivery.id).limit(limit)).unique().all()
            for name, where in _curator_groups().items()}


def curator_counts(curator):
    """How many deliveries wait in each of the curator's queues (for /me)."""
    return {name: db.session.scalar(_in_scope(select(func.count(Delivery.id)), curator).where(*where))
            for name, where in _curator_groups().items()}


def recent_verified(limit=6):
    """The latest verified deliveries, for the home page, newest first: VerifiedDelivery rows, each
    with what the page shows of its pledge, need, village and pledger."""
    return [VerifiedDelivery(row) for row in db.session.execute(_recent_verified_statement(limit))]


@cache
def _recent_verified_statement(limit):
    """Columns, not objects: loading each delivery with its pledge, need, village, organisation and
    pledger as ORM objects was most of what the home page's Python cost (and as one join of eleven
    tables, with what those objects load by default, PostgreSQL had spent 11.7 ms planning it)."""
    from ..accounts.models import User

    return (select(Delivery.decided_at, Delivery.quantity, Pledge.code, Pledge.need_id, Pledge.organization_id,
                   Pledge.anonymous, Pledge.pledger_id, User.name, Organization.name, Need.title, Need.unit,
                   Village.name)
            .select_from(Delivery).join(Pledge, Pledge.id == Delivery.pledge_id)
            .join(Need, Need.id == Pledge.need_id).join(Village, Village.id == Need.village_id)
            .join(User, User.id == Pledge.pledger_id).outerjoin(Organization, Organization.id == Pledge.organization_id)
            .where(Delivery.status == D.VERIFIED.value)
            .order_by(Delivery.decided_at.desc(), Delivery.id.desc()).limit(limit))


class VerifiedDelivery:
    """A verified delivery as the home page lists it; who pledged is named by Pledge's own rule."""

    __slots__ = ("decided_at", "quantity", "code", "need_id", "organization_id", "anonymous", "pledger",
                 "organization", "need_title", "unit", "village_name")

    def __init__(self, row):
        (self.decided_at, self.quantity, self.code, self.need_id, self.organization_id, anonymous, pledger_id,
         pledger_name, organization_name, self.need_title, self.unit, self.village_name) = row
        self.anonymous = bool(anonymous)
        self.pledger = Named(pledger_id, pledger_name)
        self.organization = None if self.organization_id is None else Named(self.organization_id, organization_name)

    public_name = Pledge.public_name


def stale_credited_facts():
    """The ids of deliveries whose copies of their pledge's and need's facts (`credited_facts`) are not
    those facts any more, as a SELECT: empty unless something wrote around the lifecycle (the tests and
    bench/generate.py's consistency check run it; see Delivery)."""
    named_person = case((Pledge.organization_id.is_(None) & Pledge.anonymous.is_(False), Pledge.pledger_id),
                        else_=None)
    return (select(Delivery.id).join(Pledge, Pledge.id == Delivery.pledge_id).join(Need, Need.id == Pledge.need_id)
            .where(or_(Delivery.need_id != Pledge.need_id,
                       Delivery.honoree_organization_id.is_distinct_from(Pledge.organization_id),
                       Delivery.honoree_user_id.is_distinct_from(named_person),
                       Delivery.village_id != Pledge.village_id, Delivery.need_unit != Need.unit,
                       Delivery.need_category != Need.category, Delivery.need_poor_people != Need.poor_people))
            .order_by(Delivery.id))


# 该村已有帮扶方: the need row's copy of "someone has a live pledge in the village" -------------------

def village_helped_condition(village_id_column):
    """SQL: someone helps the village — a live pledge (pledged, accepted … verified) against any of its needs.

    Written as "not given back" so that it is one seek on ix_pledge_village_status, not one per live state.
    """
    return exists().where(Pledge.village_id == village_id_column,
                          Pledge.status.not_in(sorted(s.value for s in ENDED_STATES)))


def sync_village_helped(village_id):
    """Bring `need.village_helped` of every need of the village in line with its pledges; the pledge
    lifecycle calls it when a pledge is made or given back (the only changes of "live")."""
    helped = village_helped_condition(village_id)
    db.session.execute(update(Need).where(Need.village_id == village_id, Need.village_helped != helped)
                       .values(village_helped=helped).execution_options(synchronize_session=False))


def stale_village_helped():
    """The ids of needs whose `village_helped` is not what their village's pledges say, as a SELECT: empty
    unless something wrote around the lifecycle (the tests and bench/generate.py's check run it)."""
    return select(Need.id).where(Need.village_helped != village_helped_condition(Need.village_id)).order_by(Need.id)


def fill_village_helped():
    """Set every need's `village_helped` from the pledges, in one statement (bulk loads, the migration's rule)."""
    db.session.execute(update(Need).values(village_helped=village_helped_condition(Need.village_id))
                       .execution_options(synchronize_session=False))
