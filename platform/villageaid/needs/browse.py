"""The public list of needs: filters, sorts and pagination that stay fast at 300,000 rows.

Every filter is a column of the need row (region codes and totals are copied there) and every
sort has an index led by status, or by province and status. Next/previous links carry a keyset
cursor (the last row's sort key and id), so paging deep stays an index range scan; a bare
`page=N` (a bookmark, or a jump) falls back to OFFSET. Totals are read from the need tally, which
triggers keep exact (needs/tally.py; NOTES.md: COUNT(*) is the slow part on PostgreSQL).
"""
import time
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, tuple_

from ..extensions import db
from ..regions import services as regions
from ..regions.models import Level, Region
from ..timeutil import as_utc
from ..villages.models import Village
from .models import CATEGORY_LABELS, Category, Need, NeedStatus, NeedTally, Unit

PER_PAGE = 20
MAX_PER_PAGE = 100
MAX_OFFSET = 20_000  # deeper than this, use the cursor links (or narrow the filters)
NATIONAL_CACHE_SIZE = 5000

# name → (column, descending). The id breaks ties in the same direction, so (key, id) is one row value.
SORTS = {
    "newest": (Need.published_at, True),
    "deadline": (Need.deadline, False),
    "least_pledged": (Need.pledged_permille, False),
    "most_beneficiaries": (Need.people, True),
}
SORT_LABELS = {"newest": lambda: _("最新发布"), "deadline": lambda: _("截止最近"),
               "least_pledged": lambda: _("认捐最少"), "most_beneficiaries": lambda: _("受益人最多")}
STATUS_CHOICES = ("open", "all", "fully_pledged", "in_delivery", "completed", "closed", "expired")


@dataclass
class Filters:
    province: Region | None = None
    prefecture: Region | None = None
    county: Region | None = None
    category: str | None = None
    unit: str | None = None
    status: str = "open"
    sort: str = "newest"
    page: int = 1
    per_page: int = PER_PAGE
    after: str | None = None
    before: str | None = None
    errors: dict = field(default_factory=dict)

    @property
    def region(self):
        return self.county or self.prefecture or self.province

    def query_args(self, **changes):
        """The filters as query parameters (codes, not names), for links that keep them."""
        args = {
            "province": self.province.code if self.province else None,
            "prefecture": self.prefecture.code if self.prefecture else None,
            "county": self.county.code if self.county else None,
            "category": self.category, "unit": self.unit,
            "status": self.status if self.status != "open" else None,
            "sort": self.sort if self.sort != "newest" else None,
            "per_page": self.per_page if self.per_page != PER_PAGE else None,
        }
        args.update(changes)
        return {k: v for k, v in args.items() if v not in (None, "")}


# Chinese category names are accepted in query strings as well as the codes (category=产业).
CATEGORY_NAMES = {"产业": "industry", "就业": "employment", "公益": "charity", "技能": "skills", "消费": "consumption",
                  "志愿": "volunteering"}


NATIONAL_CACHE_SECONDS = 300


def _by_code(code):
    """regions.get for a province, prefecture or county: a detached copy (Region has no relationships)
    reused per process for NATIONAL_CACHE_SECONDS, as the filter options are (regions/views.py): these
    come from the national division table, which changes only when it is loaded again. Townships,
    villages and unknown codes are read every time."""
    code = regions.pad(code)
    cache = current_app.extensions.setdefault("villageaid.national_regions", {})
    now = time.monotonic()
    hit = cache.get(code)
    if hit is not None and hit[0] > now:
        return hit[1]
    region = regions.get(code)
    if region is None or region.level > Level.COUNTY:
        return region
    copy = Region(code=region.code, name=region.name, level=region.level, parent_code=region.parent_code)
    if len(cache) >= NATIONAL_CACHE_SIZE:
        cache.clear()
    cache[code] = (now + NATIONAL_CACHE_SECONDS, copy)
    return copy


def _lookup(value, within):
    """A province, prefecture or county by code or exact name (searched inside `within` if given)."""
    value = str(value).strip()
    if value.isdigit():
        return _by_code(value)
    query = select(Region).where(Region.name == value, Region.level.in_([Level.PROVINCE, Level.PREFECTURE, Level.COUNTY]))
    if within is not None:
        query = query.where(Region.code.startswith(within.prefix))
    return db.session.scalars(query.order_by(Region.level, Region.code)).first()


def _regions(args, errors):
    """{level: Region} from province/prefecture/county parameters, each inside the one before.

    A region lands in the slot of its real level: a municipality's district (北京市东城区) picked in
    the prefecture box is a county, because municipalities have no prefecture level.
    """
    slots, within = {}, None
    for name in ("province", "prefecture", "county"):
        value = args.get(name)
        if not value:
            continue
        region = _lookup(value, within)
        if region is None or region.level > Level.COUNTY:
            errors[name] = _("未找到地区：%(value)s", value=value)
            continue
        if within is not None and not within.contains(region.code):
            errors[name] = _("%(child)s 不属于 %(parent)s。", child=region.name, parent=within.name)
            continue
        slots[region.level] = within = region
    deepest = slots.get(Level.COUNTY) or slots.get(Level.PREFECTURE)
    if deepest is not None:
        slots.setdefault(Level.PROVINCE, _by_code(deepest.code[:2]))
        if Level.COUNTY in slots and Level.PREFECTURE not in slots:
            parent = _by_code(slots[Level.COUNTY].parent_code) if slots[Level.COUNTY].parent_code else None
            if parent is not None and parent.level == Level.PREFECTURE:
                slots[Level.PREFECTURE] = parent
    return slots


def _category(value, errors):
    if not value:
        return None
    if value in {c.value for c in Category}:
        return value
    for category, label in CATEGORY_LABELS.items():
        if value == str(label):
            return category.value
    if value in CATEGORY_NAMES:
        return CATEGORY_NAMES[value]
    errors["category"] = _("未知的类别：%(value)s", value=value)
    return None


def _int(value, default, errors, name, low=1, high=None):
    if value in (None, ""):
        return default
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors[name] = _("应为整数。")
        return default
    if number < low or (high is not None and number > high):
        errors[name] = _("超出范围。")
        return default
    return number


def parse(args):
    """Filters from query parameters (a page's request.args or the API's); bad values land in `.errors`."""
    errors = {}
    slots = _regions(args, errors)
    unit = args.get("unit") or None
    if unit and unit not in {u.value for u in Unit}:
        errors["unit"] = _("未知的单位：%(value)s", value=unit)
        unit = None
    status = args.get("status") or "open"
    if status not in STATUS_CHOICES:
        errors["status"] = _("未知的状态：%(value)s", value=status)
        status = "open"
    sort = args.get("sort") or "newest"
    if sort not in SORTS:
        errors["sort"] = _("未知的排序：%(value)s", value=sort)
        sort = "newest"
    per_page = _int(args.get("per_page"), PER_PAGE, errors, "per_page", 1, MAX_PER_PAGE)
    page = _int(args.get("page"), 1, errors, "page", 1, None)
    return Filters(province=slots.get(Level.PROVINCE), prefecture=slots.get(Level.PREFECTURE),
                   county=slots.get(Level.COUNTY), category=_category(args.get("category"), errors),
                   unit=unit, status=status, sort=sort, page=page, per_page=per_page,
                   after=args.get("after") or None, before=args.get("before") or None, errors=errors)


def conditions(filters):
    """WHERE clauses for `filters` (status first: every index starts with it or with the province)."""
    where = []
    if filters.status == "open":
        where.append(Need.status == NeedStatus.PUBLISHED.value)
    elif filters.status == "all":
        where.append(Need.published_at.is_not(None))  # published once, public for good (partial indexes)
    else:
        where.append(Need.status == filters.status)
    if filters.county is not None:
        where.append(Need.county_code == filters.county.code)
    elif filters.prefecture is not None:
        where.append(Need.prefecture_code == filters.prefecture.code)
    elif filters.province is not None:
        where.append(Need.province_code == filters.province.code)
    if filters.category:
        where.append(Need.category == filters.category)
    if filters.unit:
        where.append(Need.unit == filters.unit)
    return where


# The two statements count() runs, built once: the tally rows of one place, category and unit, of one
# status or of every status published once. '' is "any" (needs/tally.py).
_TALLY_KEY = [NeedTally.province_code == bindparam("province"), NeedTally.prefecture_code == bindparam("prefecture"),
              NeedTally.county_code == bindparam("county"), NeedTally.category == bindparam("category"),
              NeedTally.unit == bindparam("unit")]
_TALLY_SUM = select(func.coalesce(func.sum(NeedTally.needs), 0))
COUNT_ONE_STATUS = _TALLY_SUM.where(*_TALLY_KEY, NeedTally.status == bindparam("status"))
COUNT_PUBLISHED_ONCE = _TALLY_SUM.where(*_TALLY_KEY, NeedTally.published.is_(True))


def _count(filters):
    """The statement count() runs for `filters` and its parameters."""
    params = {"province": "", "prefecture": "", "county": "", "category": filters.category or "",
              "unit": filters.unit or ""}
    if filters.county is not None:  # the narrowest place given, as conditions() filters
        params["county"] = filters.county.code
    elif filters.prefecture is not None:
        params["prefecture"] = filters.prefecture.code
    elif filters.province is not None:
        params["province"] = filters.province.code
    if filters.status == "all":
        return COUNT_PUBLISHED_ONCE, params
    params["status"] = NeedStatus.PUBLISHED.value if filters.status == "open" else filters.status
    return COUNT_ONE_STATUS, params


def count(filters):
    """How many needs match: the tally rows of the filters' place, category and unit (one per status)."""
    statement, params = _count(filters)
    return db.session.scalar(statement, params)


# Keyset cursors: "<id>~<sort key>", the key as ISO text or an integer -----------------------

def encode_cursor(need, sort):
    value = getattr(need, SORTS[sort][0].key)
    if isinstance(value, datetime):
        value = as_utc(value).isoformat()
    elif isinstance(value, date):
        value = value.isoformat()
    return f"{need.id}~{value}"


def decode_cursor(text, sort):
    """(key, id) from a cursor, or None when it does not parse."""
    try:
        id_text, value = text.split("~", 1)
        need_id = int(id_text)
        column = SORTS[sort][0]
        if column is Need.published_at:
            key = as_utc(datetime.fromisoformat(value))
        elif column is Need.deadline:
            key = date.fromisoformat(value)
        else:
            key = int(value)
    except (ValueError, AttributeError):
        return None
    return key, need_id


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_next(self):
        return self.next_cursor is not None

    @property
    def has_prev(self):
        return self.page > 1


def _rows(ids):
    """The needs of `ids` in that order (Need's default eager load joins the village and its regions)."""
    if not ids:
        return []
    found = {need.id: need for need in db.session.scalars(select(Need).where(Need.id.in_(ids))).unique()}
    return [found[i] for i in ids if i in found]


# What a cached card's key needs (cards.render): a page of these, not of loaded needs.
HEAD_COLUMNS = (Need.id, Need.updated_at, Need.status, Need.pledged, Need.delivered, Need.verified, Need.village_id)


def search(filters, heads=False):
    """One page of needs for `filters`, with the total and the cursors of the neighbouring pages.

    `heads`: the items are rows of HEAD_COLUMNS (and the sort key, the village's name and the total)
    instead of loaded needs, for a page that renders them with cards.render (which loads only the needs
    whose card is not cached): the page is then one SELECT, the total read from the tally as a
    subquery the database runs once, and counted on its own only when the page has no rows.
    """
    column, descending = SORTS[filters.sort]
    key = tuple_(column, Need.id)
    # The page's ids first, from the sort's index alone (an OFFSET skips index entries, not joined
    # rows), then those rows with their villages in one joined SELECT.
    count_params = {}
    if heads:
        count_statement, count_params = _count(filters)
        head_columns = (*HEAD_COLUMNS, column, Village.name.label("village_name"),
                        count_statement.scalar_subquery().label("total"))
        query = select(*head_columns).join(Village, Village.id == Need.village_id)
    else:
        query = select(Need.id)
    where = conditions(filters)
    query = query.where(*where)
    backwards = False
    cursor = decode_cursor(filters.after, filters.sort) if filters.after else None
    if filters.before and cursor is None:
        cursor = decode_cursor(filters.before, filters.sort)
        backwards = cursor is not None
    if cursor is not None:
        later = (key < tuple_(*cursor)) if descending else (key > tuple_(*cursor))
        earlier = (key > tuple_(*cursor)) if descending else (key < tuple_(*cursor))
        query = query.where(earlier if backwards else later)
    forward_desc = descending != backwards
    order = [column.desc(), Need.id.desc()] if forward_desc else [column.asc(), Need.id.asc()]
    query = query.order_by(*order).limit(filters.per_page + 1)
    if cursor is None:
        offset = (filters.page - 1) * filters.per_page
        if offset > MAX_OFFSET:
            filters.errors["page"] = _("页码过大：请使用“下一页”或缩小筛选范围。")
            filters.page, offset = 1, 0
        if heads and offset:
            # A deferred join: the OFFSET skips entries of the sort's index alone (PostgreSQL reads it
            # index-only, with no heap fetch for each skipped row), then the page's rows are read by id.
            page_ids = (select(Need.id).where(*where).order_by(*order).limit(filters.per_page + 1)
                        .offset(offset).subquery())
            query = (select(*head_columns).join(page_ids, Need.id == page_ids.c.id)
                     .join(Village, Village.id == Need.village_id).order_by(*order))
        else:
            query = query.offset(offset)
    rows = list(db.session.execute(query, count_params).all()) if heads else _rows(db.session.scalars(query).all())
    more = len(rows) > filters.per_page
    rows = rows[: filters.per_page]
    if backwards:
        rows.reverse()
    total = rows[0].total if heads and rows else count(filters)
    has_next = more if not backwards else True
    has_prev = filters.page > 1
    return Page(
        items=rows, total=total, page=filters.page, per_page=filters.per_page,
        next_cursor=encode_cursor(rows[-1], filters.sort) if rows and has_next else None,
        prev_cursor=encode_cursor(rows[0], filters.sort) if rows and has_prev else None,
    )
