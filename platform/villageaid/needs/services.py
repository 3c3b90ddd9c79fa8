"""Posting and editing needs: the field rules shared by the pages and the API.

Status changes are not here but in lifecycle.py; this module creates drafts, edits them and
answers the questions pages ask (which villages may this user post for, what is counted on home).
"""
from datetime import timedelta
from functools import cache

from flask import g
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm.attributes import set_committed_value

from .. import queue
from ..audit.services import record
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..policy import curates, scope_filters
from ..timeutil import local_date_today
from ..villages.models import Village
from . import photos as photo_files
from .models import MAX_PHOTOS, PUBLIC_STATES, Category, Need, NeedPhoto, NeedStatus, Unit

# Everything a village types; the API and the form both hand the services these keys.
FIELDS = ("category", "unit", "title", "description", "target", "job_title", "wage_min_fen", "wage_max_fen",
          "work_location", "job_start_date", "goods_item", "deadline", "households", "people", "poor_people")
JOB_FIELDS = ("job_title", "wage_min_fen", "wage_max_fen", "work_location", "job_start_date")

# Upper bounds on a target, per unit: ¥100,000,000, 10,000 positions, a million pieces or hours.
MAX_TARGET = {Unit.CNY_FEN: 10_000_000_000, Unit.JOBS: 10_000, Unit.GOODS: 1_000_000, Unit.VOLUNTEER_HOURS: 1_000_000}
MAX_DEADLINE_DAYS = 366
MAX_PEOPLE = 1_000_000


def current_values(need):
    return {name: getattr(need, name) for name in FIELDS}


def validation_errors(values, *, village=None, complete):
    """Field → message for every rule `values` break; `complete` adds what a submission needs."""
    errors = {}
    category, unit = values.get("category"), values.get("unit")
    if category not in {c.value for c in Category}:
        errors["category"] = _l("请选择需求类别。")
    if unit not in {u.value for u in Unit}:
        errors["unit"] = _l("请选择需求单位。")
    title = (values.get("title") or "").strip()
    if len(title) < 4:
        errors["title"] = _l("标题至少 4 个字。")
    elif len(title) > 120:
        errors["title"] = _l("标题最多 120 个字。")
    if len(values.get("description") or "") > 10000:
        errors["description"] = _l("说明最多 10000 个字。")
    elif complete and len((values.get("description") or "").strip()) < 10:
        errors["description"] = _l("请用至少 10 个字说明需求的用途和受益人。")

    target = values.get("target")
    if target is not None and unit in MAX_TARGET:
        if target <= 0:
            errors["target"] = _l("目标应大于 0。")
        elif target > MAX_TARGET[Unit(unit)]:
            errors["target"] = _l("目标过大，请拆分为多个需求或联系审核员。")
    elif complete and target is None:
        errors["target"] = _l("请填写目标数量。")

    deadline = values.get("deadline")
    today = local_date_today()
    if deadline is not None and deadline <= today:
        errors["deadline"] = _l("截止日期应晚于今天。")
    elif deadline is not None and deadline > today + timedelta(days=MAX_DEADLINE_DAYS):
        errors["deadline"] = _l("截止日期最多在一年以内。")
    elif complete and deadline is None:
        errors["deadline"] = _l("请选择截止日期。")

    households, people, poor = (values.get(k) or 0 for k in ("households", "people", "poor_people"))
    if min(households, people, poor) < 0 or max(households, people, poor) > MAX_PEOPLE:
        errors["people"] = _l("受益户数和人数应为 0 到 1000000 之间的整数。")
    elif people < households:
        errors["people"] = _l("受益人数不能少于受益户数。")
    elif poor > people:
        errors["poor_people"] = _l("建档立卡贫困人口不能多于受益人数。")
    elif complete and (households < 1 or people < 1):
        errors["people" if households >= 1 else "households"] = _l("请填写受益户数和人数。")
    if village is not None and households > village.households:
        errors["households"] = _l("受益户数不能超过本村总户数（%(n)s 户）。", n=village.households)

    if unit == Unit.JOBS:
        low, high = values.get("wage_min_fen"), values.get("wage_max_fen")
        if (low is not None and low < 0) or (high is not None and high < 0):
            errors["wage_min_fen"] = _l("工资不能为负数。")
        elif low is not None and high is not None and low > high:
            errors["wage_max_fen"] = _l("最高工资不能低于最低工资。")
        if complete:
            for name, message in (("job_title", _l("请填写岗位名称。")), ("work_location", _l("请填写工作地点。")),
                                  ("job_start_date", _l("请选择到岗日期。")), ("wage_min_fen", _l("请填写工资范围。"))):
                if values.get(name) in (None, "") and name not in errors:
                    errors[name] = message
            if values.get("wage_max_fen") is None and "wage_max_fen" not in errors:
                errors["wage_max_fen"] = _l("请填写工资范围。")
    if unit == Unit.GOODS and complete and not (values.get("goods_item") or "").strip():
        errors["goods_item"] = _l("请填写物资名称和规格。")
    return errors


def _clean(values):
    """Strip text and drop the details that do not belong to the chosen unit."""
    clean = {name: values.get(name) for name in FIELDS}
    for name in ("title", "description", "job_title", "work_location", "goods_item"):
        clean[name] = (clean[name] or "").strip() or None
    clean["description"] = clean["description"] or ""
    for name in ("households", "people", "poor_people"):
        clean[name] = clean[name] or 0
    if clean["unit"] != Unit.JOBS:
        for name in JOB_FIELDS:
            clean[name] = None
    if clean["unit"] != Unit.GOODS:
        clean["goods_item"] = None
    return clean


def villages_for(user):
    """Villages `user` may post for: their own committees', then (curators) verified villages in scope."""
    if user is None or not user.is_authenticated:
        return []
    own = [v for v in user.villages if v.is_verified]
    return own


def can_post_for(user, village):
    return village.is_verified and (village.is_member(user) or curates(user, village.code))


def _village_helped(village_id):
    from ..pledges.services import village_helped_condition

    return bool(db.session.scalar(select(village_helped_condition(village_id))))


def create_need(actor, village, values, uploads=()):
    """Save a new draft for `village` (代发布 when `actor` is a curator, not a member); returns it."""
    if not (village.is_member(actor) or curates(actor, village.code)):
        raise PermissionDenied(_l("只有本村村委会成员或所在地区的审核员可以为该村发布需求。"))
    if not village.is_verified:
        raise ServiceError(_l("该村尚未通过认证，认证后才能发布需求。"))
    clean = _clean(values)
    errors = validation_errors(clean, village=village, complete=False)
    prepared = _prepare_photos(uploads, errors, existing=0)
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    need = Need(village_id=village.id, province_code=village.province_code, prefecture_code=village.prefecture_code,
                county_code=village.county_code, posted_by_id=actor.id, on_behalf=not village.is_member(actor),
                status=NeedStatus.DRAFT.value, village_helped=_village_helped(village.id), **clean)
    db.session.add(need)
    db.session.flush()
    record(actor, need, "create", to_state=NeedStatus.DRAFT, data={"on_behalf": need.on_behalf} if need.on_behalf else None)
    photo_files.store_all(need, prepared, actor)
    queue.commit()
    return need


def update_need(actor, need, values, uploads=(), remove_photo_ids=()):
    """Change a draft's fields and photos (only drafts are edited: a published need was reviewed as it is)."""
    if not need.is_editor(actor):
        raise PermissionDenied(_l("只有本村村委会成员或所在地区的审核员可以修改该需求。"))
    if need.status != NeedStatus.DRAFT:
        from .lifecycle import TransitionError

        raise TransitionError(need.status, NeedStatus.DRAFT)
    clean = _clean(values)
    errors = validation_errors(clean, village=need.village, complete=False)
    removed = [p for p in need.photos if p.id in set(remove_photo_ids)]
    prepared = _prepare_photos(uploads, errors, existing=len(need.photos) - len(removed))
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    changed = sorted(k for k, v in clean.items() if getattr(need, k) != v)
    for key, value in clean.items():
        setattr(need, key, value)
    for photo in removed:
        need.photos.remove(photo)
    record(actor, need, "edit", data={"fields": changed, "photos_removed": len(removed), "photos_added": len(prepared)})
    photo_files.store_all(need, prepared, actor)
    queue.commit()
    photo_files.delete_files(removed)
    return need


def _prepare_photos(uploads, errors, existing):
    uploads = [u for u in uploads if u is not None and getattr(u, "filename", None)]
    if not uploads:
        return []
    if existing + len(uploads) > MAX_PHOTOS:
        errors["photos"] = _l("每个需求最多 %(n)s 张照片（已有 %(existing)s 张）。", n=MAX_PHOTOS, existing=existing)
        return []
    prepared, problems = [], []
    for upload in uploads:
        try:
            prepared.append(photo_files.prepare(upload))
        except photo_files.PhotoError as exc:
            problems.append(str(exc))
    if problems:
        errors["photos"] = " ".join(problems)
        return []
    return prepared


# Reading -----------------------------------------------------------------------------------

def get_visible(need_id, user):
    """The need if `user` may see it, else None (a hidden need is a 404, not a 403)."""
    need = db.session.get(Need, need_id)
    return need if need is not None and need.can_view(user) else None


# What other features list on the need page, read in the page's own SELECT (sqlrows.py): name →
# (build, load). `build(need_id)` is a scalar subquery of JSON rows for the need whose id is the bind
# parameter it is given; `load(rows, need)` turns what it read into what the page shows. Features
# register theirs when they are imported (pledges: its pledges and 进展), before the first page.
PAGE_PARTS = {}


def page_part(name, build, load):
    PAGE_PARTS[name] = (build, load)


def get_for_page(need_id, user):
    """(need, whether it has closed report cases) for the need's page, or None as get_visible. One
    SELECT also tells whether the need has photos and report outcomes, so that the page asks for
    them only when there are some (most needs have neither, and every statement costs the page),
    and reads the other features' parts of the page (PAGE_PARTS; `read_part` gives them out)."""
    row = db.session.execute(_page_statement(), {"need_id": need_id}).first()
    if row is None or not row[0].can_view(user):
        return None
    need, has_photos, has_outcomes, *parts = row
    if not has_photos:
        set_committed_value(need, "photos", [])  # known empty: need.photos will not SELECT
    g.setdefault("need_page_parts", {})[need.id] = {
        name: load(rows or [], need) for (name, (_build, load)), rows in zip(_page_parts(), parts)}
    return need, has_outcomes


def read_part(need, name):
    """What the need's page SELECT read for the part `name` (loaded), or None when the need was not
    loaded by get_for_page in this request: the part's feature then reads it itself."""
    return g.get("need_page_parts", {}).get(need.id, {}).get(name)


@cache
def _page_parts():
    return tuple(sorted(PAGE_PARTS.items()))


@cache
def _page_statement():
    from ..reports.services import has_public_outcomes  # reports builds on needs

    need_id = bindparam("need_id")
    return select(Need, select(NeedPhoto.id).where(NeedPhoto.need_id == Need.id).exists(),
                  has_public_outcomes("need", Need.id),
                  *(build(need_id) for _name, (build, _load) in _page_parts())).where(Need.id == need_id)


def village_needs(village, user):
    """A village's needs for its page: public ones for everyone, all of them for its insiders."""
    query = select(Need).where(Need.village_id == village.id)
    if not (village.is_member(user) or curates(user, village.code)):
        query = query.where(Need.published_at.is_not(None))
    return db.session.scalars(query.order_by(Need.id.desc()).limit(100)).all()


def my_drafts(user):
    """Every need of the user's villages, newest change first (for /needs/mine)."""
    ids = [v.id for v in user.villages]
    if not ids:
        return []
    return db.session.scalars(select(Need).where(Need.village_id.in_(ids)).order_by(Need.updated_at.desc()).limit(200)).all()


def review_queue(curator):
    """Submitted needs in the curator's scope, oldest first."""
    query = select(Need).join(Need.village).where(Need.status == NeedStatus.SUBMITTED.value)
    condition = scope_filters(curator, Village.code)
    if condition is not None:
        query = query.where(condition)
    return db.session.scalars(query.order_by(Need.submitted_at, Need.id).limit(200)).unique().all()


def home_figures():
    """Real sums of the need columns for the home page: counts, money and jobs (verified is 0 until pledges exist)."""
    public = [s.value for s in PUBLIC_STATES]
    published = db.session.scalar(select(func.count()).select_from(Need).where(Need.status.in_(public)))
    rows = db.session.execute(
        select(Need.unit, func.coalesce(func.sum(Need.target), 0), func.coalesce(func.sum(Need.pledged), 0),
               func.coalesce(func.sum(Need.verified), 0))
        .where(Need.status.in_(public), Need.unit.in_([Unit.CNY_FEN.value, Unit.JOBS.value]))
        .group_by(Need.unit)
    ).all()
    sums = {unit: {"target": int(t), "pledged": int(p), "verified": int(v)} for unit, t, p, v in rows}
    empty = {"target": 0, "pledged": 0, "verified": 0}
    return {"published": published, "funds": sums.get(Unit.CNY_FEN.value, empty), "jobs": sums.get(Unit.JOBS.value, empty)}


def urgent_needs(limit=6):
    """Published needs whose deadline comes soonest, as their cards (needs/cards.py): rows of the
    card's key with the village's name, so that cached cards load no need."""
    from .cards import render  # cards render through the app's templates

    return render(db.session.execute(_urgent_needs(limit), {"today": local_date_today()}).all())


@cache
def _urgent_needs(limit):
    from .browse import HEAD_COLUMNS

    return (select(*HEAD_COLUMNS, Village.name.label("village_name")).join(Village, Village.id == Need.village_id)
            .where(Need.status == NeedStatus.PUBLISHED.value, Need.deadline >= bindparam("today"))
            .order_by(Need.deadline, Need.id).limit(limit))
