"""推荐 — open needs ranked for an organisation, and organisations ranked for a need, each with its reasons.

The ranking is lexicographic over small integer tiers, in this order of weight (DESIGN §4):

    direct      2 the organisation was invited to the need (受邀), 1 it is paired with the village
    pairing     the East-West table: 3 the organisation's own city helps the need's place,
                2 its province as a whole does, 1 another city of its province does
    proximity   3 same prefecture, 2 same province, 1 same major region (华东, 西南 … the first code digit)
    fit         0–2 the organisation's industry for the need's category, +1 for its unit
    preference  one for each stated preference met: category, region, budget, job type
    urgency     2 deadline within 14 days (1 within 45), +1 more than half still open
    fairness    1 nobody has a live pledge to any need of the village (该村尚无帮扶方)

ties broken by need id (organisation id for a need's suggestions), so the same data always gives
the same order. Needs the organisation already has a live pledge on are left out. Every tier is a
CASE expression over indexed columns of one table (the fairness tier reads `need.village_helped`, the
row's copy of its village's pledges), evaluated by the database with ORDER BY … LIMIT; the reasons
are then written in Python for the page's rows only.

Because the first tiers depend only on where a need is, the candidates are read in groups that
follow the order (invited and paired first, then the paired regions, then the major region, then
the rest), and a later group is read only when the earlier ones did not fill the page: at campaign
scale the page usually comes from the paired regions alone (docs/performance.md, Recommendations).
"""
import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache, lru_cache

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import (Integer, String, and_, bindparam, case, cast, exists, false, func, literal, literal_column, not_, null,
                        or_, select, true, union_all)
from sqlalchemy.orm import aliased

from ..extensions import db
from ..needs.models import CATEGORY_LABELS, Category, Need, NeedStatus, Unit
from ..organizations.models import Organization
from ..regions.services import division_name
from ..timeutil import local_date_today
from ..villages.models import Village, place_of
from ..verification import VerificationStatus
from .models import (InvitationStatus, NeedInvitation, OrganizationPreference, Pairing, PairingRule, PairingStatus,
                     PreferenceItem, PreferenceKind)

TIERS = ("direct", "pairing", "proximity", "fit", "preference", "urgency", "fairness")

SOON_DAYS, LATER_DAYS = 14, 45
OPEN_SHARE_PERMILLE = 500  # "more than half still open"

# 国民经济行业分类 section → need category → fit (2 good, 1 some). Why: manufacturers hire, builders
# build, retailers and caterers buy produce, IT firms train for e-commerce, schools and hospitals volunteer.
CATEGORY_FIT = {
    "A": {"industry": 2, "consumption": 2, "skills": 1},
    "B": {"industry": 1, "employment": 1, "charity": 1},
    "C": {"employment": 2, "industry": 1, "skills": 1},
    "D": {"industry": 1, "charity": 1},
    "E": {"industry": 2, "employment": 1},
    "F": {"consumption": 2, "charity": 1},
    "G": {"consumption": 2, "employment": 1},
    "H": {"consumption": 2, "employment": 1, "skills": 1},
    "I": {"skills": 2, "consumption": 1, "volunteering": 1},
    "J": {"industry": 2, "charity": 1},
    "K": {"charity": 2, "industry": 1},
    "L": {"employment": 1, "skills": 1, "consumption": 1},
    "M": {"skills": 2, "industry": 1, "volunteering": 1},
    "N": {"industry": 1, "charity": 1},
    "O": {"employment": 2, "skills": 1},
    "P": {"skills": 2, "volunteering": 2},
    "Q": {"volunteering": 2, "charity": 1, "skills": 1},
    "R": {"volunteering": 1, "charity": 1, "consumption": 1},
    "S": {"charity": 2, "volunteering": 2, "skills": 1},
    "T": {"charity": 2, "volunteering": 1},
}
# Units an industry can give in kind: positions, goods, money, volunteers (an NGO always has volunteers).
UNIT_FIT = {
    Unit.JOBS.value: set("CEGHLO"),
    Unit.GOODS.value: set("ACFG"),
    Unit.CNY_FEN.value: set("JK"),
    Unit.VOLUNTEER_HOURS.value: set("MPQS"),
}

# The first digit of a division code names its major region (大区).
AREA_LABELS = {"1": _l("华北地区"), "2": _l("东北地区"), "3": _l("华东地区"), "4": _l("中南地区"), "5": _l("西南地区"),
               "6": _l("西北地区")}


def _category_levels(industry):
    levels = CATEGORY_FIT.get(industry, {})
    return ([c for c, level in levels.items() if level == 2], [c for c, level in levels.items() if level == 1])


def _fit_units(industry, kind):
    units = [unit for unit, industries in UNIT_FIT.items() if industry in industries]
    if kind == "ngo" and Unit.VOLUNTEER_HOURS.value not in units:
        units.append(Unit.VOLUNTEER_HOURS.value)
    return units


def fit_of(industry, kind, category, unit):
    """The fit tier of an organisation for a need (the Python twin of the SQL expression)."""
    best, some = _category_levels(industry)
    level = 2 if category in best else 1 if category in some else 0
    return level + (1 if unit in _fit_units(industry, kind) else 0)


def helper_tier(rule, province_code, prefecture_code):
    """How closely an organisation in (province, prefecture) is the helper of `rule`: 3, 2, 1 or 0."""
    if rule.helper_prefecture_code:
        if prefecture_code and rule.helper_prefecture_code == prefecture_code:
            return 3
        return 1 if rule.helper_province_code == province_code else 0
    return 2 if rule.helper_province_code == province_code else 0


def covers(rule, province_code, prefecture_code):
    """Whether a place lies in the helped side of `rule`."""
    if rule.helped_prefecture_code:
        return rule.helped_prefecture_code == prefecture_code
    return rule.helped_province_code == province_code


@lru_cache(maxsize=1)
def _provinces_by_area():
    from ..regions.services import province_names

    areas = {}
    for code in province_names():
        areas.setdefault(code[0], []).append(code)
    return {digit: sorted(codes) for digit, codes in areas.items()}


def area_provinces(province_code):
    return _provinces_by_area().get(province_code[0], [province_code])


# Results -------------------------------------------------------------------------------------

@dataclass
class Reason:
    code: str  # invited, paired, pairing, proximity, fit, preference, urgency, fairness
    text: str


@dataclass
class Recommendation:
    """One ranked item: a need (for an organisation) or an organisation (for a need)."""

    item: object
    tiers: dict
    reasons: list = field(default_factory=list)
    invitation_id: int | None = None  # the pending invitation to this need, if any

    @property
    def need(self):
        return self.item

    @property
    def organization(self):
        return self.item


@dataclass
class Page:
    items: list
    page: int
    per_page: int
    has_more: bool
    profile: "Profile | None" = None  # what the ranking read about the organisation (its preference, invitations)


# What ranking knows about an organisation ------------------------------------------------------

@dataclass
class Profile:
    org: Organization
    preference: OrganizationPreference | None
    rules: list  # [(rule, tier)] best first
    invitations: dict  # need id → the id of its pending NeedInvitation
    paired_village_ids: set
    pledged_need_ids: set  # needs it already has a live pledge on: nothing to recommend there


@dataclass(frozen=True)
class Rule:
    """A row of the East-West pairing table as ranking reads it (PairingRule's columns, without the ORM)."""

    id: int
    helper_province_code: str
    helper_prefecture_code: str | None
    helped_province_code: str
    helped_prefecture_code: str | None

    helper_name = PairingRule.helper_name
    helped_name = PairingRule.helped_name
    helper_names = PairingRule.helper_names
    helped_names = PairingRule.helped_names


INVITED, PAIRED, PLEDGED, PREFERENCE, RULE = 1, 2, 3, 4, 5  # what a row of _org_facts is


@cache
def _org_facts_statement():
    """_org_facts' statement, built once with bind parameters (building five SELECTs and their cache
    key cost the page more than running them)."""
    from ..pledges.models import LIVE_STATES, Pledge

    def row(kind, key, row_id, *codes):
        # Constants written into the SQL: the same statement, prepared once, for every organisation.
        return (literal_column(str(kind)), key, row_id, *(codes or [cast(null(), String)] * 4))

    org_id, province_code = bindparam("org_id"), bindparam("province_code")
    return union_all(
        select(*row(INVITED, NeedInvitation.need_id, NeedInvitation.id))
        .where(NeedInvitation.organization_id == org_id, NeedInvitation.status == InvitationStatus.PENDING.value),
        select(*row(PAIRED, Pairing.village_id, Pairing.id))
        .where(Pairing.organization_id == org_id, Pairing.status == PairingStatus.ACTIVE.value),
        select(*row(PLEDGED, Pledge.need_id, Pledge.id))
        .where(Pledge.organization_id == org_id, Pledge.status.in_([s.value for s in LIVE_STATES])),
        select(*row(PREFERENCE, OrganizationPreference.organization_id, OrganizationPreference.organization_id))
        .where(OrganizationPreference.organization_id == org_id),
        select(*row(RULE, PairingRule.id, PairingRule.id, PairingRule.helper_province_code,
                    PairingRule.helper_prefecture_code, PairingRule.helped_province_code,
                    PairingRule.helped_prefecture_code))
        .where(PairingRule.helper_province_code == province_code),
    )


def _org_facts(org):
    """Everything ranking reads about the organisation but its stated preference, in one statement: its
    pending invitations, actively paired villages, needs with a live pledge of its own, whether it stated
    preferences, and the pairing rules of its province. Five small reads, one round trip: on PostgreSQL a
    statement costs the page about half a millisecond before it reads a row."""
    rows = db.session.execute(_org_facts_statement(),
                              {"org_id": org.id, "province_code": org.province_code}).all()
    facts = {"invitations": {}, "paired": set(), "pledged": set(), "preference": False, "rules": []}
    for kind, key, row_id, *codes in sorted(rows, key=lambda r: (r[0], r[1], r[2])):
        if kind == INVITED:
            facts["invitations"][key] = row_id  # the newest pending invitation to a need, should there be two
        elif kind == PAIRED:
            facts["paired"].add(key)
        elif kind == PLEDGED:
            facts["pledged"].add(key)
        elif kind == PREFERENCE:
            facts["preference"] = True
        else:
            facts["rules"].append(Rule(row_id, *codes))
    return facts


def profile_of(org):
    """Everything ranking reads about `org`: one statement, and one more (with its items) for an
    organisation that stated preferences."""
    facts = _org_facts(org)
    preference = db.session.get(OrganizationPreference, org.id) if facts["preference"] else None
    rules = []
    if preference is None or preference.follow_pairing:
        for rule in facts["rules"]:
            tier = helper_tier(rule, org.province_code, org.prefecture_code)
            if tier:
                rules.append((rule, tier))
    rules.sort(key=lambda rt: (-rt[1], rt[0].helped_prefecture_code is None, rt[0].id))
    return Profile(org, preference, rules, facts["invitations"], facts["paired"], facts["pledged"])


# Needs for an organisation ---------------------------------------------------------------------

def _rule_condition(rule):
    # The province is named with the prefecture so that the (province_code, status …) indexes are used.
    if rule.helped_prefecture_code:
        return and_(Need.province_code == rule.helped_province_code, Need.prefecture_code == rule.helped_prefecture_code)
    return Need.province_code == rule.helped_province_code


def _need_tiers(profile, today):
    """The labelled CASE expressions of every tier for Need rows."""
    org = profile.org
    invited, paired = list(profile.invitations), sorted(profile.paired_village_ids)
    direct = case((Need.id.in_(invited), 2), else_=0) if invited else literal(0)
    if paired:
        direct = case((Need.id.in_(invited), 2), (Need.village_id.in_(paired), 1), else_=0)
    pairing = case(*[(_rule_condition(rule), tier) for rule, tier in profile.rules], else_=0) \
        if profile.rules else literal(0)
    near = []
    if org.prefecture_code:
        near.append((Need.prefecture_code == org.prefecture_code, 3))
    near += [(Need.province_code == org.province_code, 2), (Need.province_code.in_(area_provinces(org.province_code)), 1)]
    proximity = case(*near, else_=0)
    best, some = _category_levels(org.industry)
    units = _fit_units(org.industry, org.kind.value)
    fit = case((Need.category.in_(best or ["-"]), 2), (Need.category.in_(some or ["-"]), 1), else_=0) \
        + case((Need.unit.in_(units or ["-"]), 1), else_=0)
    preference = _need_preference(profile.preference)
    urgency = case((Need.deadline <= today + timedelta(days=SOON_DAYS), 2),
                   (Need.deadline <= today + timedelta(days=LATER_DAYS), 1), else_=0) \
        + case((Need.pledged_permille < OPEN_SHARE_PERMILLE, 1), else_=0)
    fairness = case((Need.village_helped, 0), else_=1)  # the need row's copy of "a live pledge in the village"
    exprs = dict(zip(TIERS, (direct, pairing, proximity, fit, preference, urgency, fairness)))
    return {name: expr.label(name) for name, expr in exprs.items()}


def _regions_split(codes):
    provinces = [c for c in codes if c[2:] == "0" * 10]
    return provinces, [c for c in codes if c not in provinces]


def _job_words_condition(words):
    return or_(*[Need.job_title.like(f"%{w}%") for w in words], *[Need.title.like(f"%{w}%") for w in words])


def _need_preference(pref):
    if pref is None:
        return literal(0)
    terms = []
    if pref.categories:
        terms.append(case((Need.category.in_(pref.categories), 1), else_=0))
    if pref.region_codes:
        provinces, prefectures = _regions_split(pref.region_codes)
        terms.append(case((or_(Need.province_code.in_(provinces or ["-"]),
                               Need.prefecture_code.in_(prefectures or ["-"])), 1), else_=0))
    if pref.has_budget:
        open_amount = Need.target - Need.pledged
        terms.append(case((and_(Need.unit == Unit.CNY_FEN.value, open_amount >= (pref.budget_min_fen or 0),
                                open_amount <= (pref.budget_max_fen if pref.budget_max_fen is not None else 2**62)),
                           1), else_=0))
    if pref.job_types:
        terms.append(case((and_(Need.unit == Unit.JOBS.value, _job_words_condition(pref.job_types)), 1), else_=0))
    if not terms:
        return literal(0)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def open_needs_condition(today):
    """Needs an organisation can still pledge to."""
    return and_(Need.status == NeedStatus.PUBLISHED.value, Need.deadline >= today, Need.pledged < Need.target)


def _fit_levels(org):
    """[(level, categories)] of the fit tier, best first: the categories of the needs that can have that fit
    for `org`; levels no need can have are left out."""
    categories = {}
    for category in Category:
        for unit in Unit:
            level = fit_of(org.industry, org.kind.value, category.value, unit.value)
            categories.setdefault(level, set()).add(category.value)
    return [(level, sorted(categories[level])) for level in (3, 2, 1, 0) if level in categories]


def _proximity_conditions(org):
    """(level, condition) of the proximity tier, best first; a need meets the first that holds (None: the rest)."""
    near = [(3, and_(Need.province_code == org.province_code, Need.prefecture_code == org.prefecture_code))] \
        if org.prefecture_code else []
    return near + [(2, Need.province_code == org.province_code),
                   (1, Need.province_code.in_(area_provinces(org.province_code))), (0, None)]


def _proximities_of(rule, org):
    """The proximity levels needs under `rule` can have for `org` (its helped side is one province or prefecture)."""
    if rule.helped_province_code == org.province_code:
        levels = set()
        if org.prefecture_code and rule.helped_prefecture_code in (None, org.prefecture_code):
            levels.add(3)
        if not org.prefecture_code or rule.helped_prefecture_code != org.prefecture_code:
            levels.add(2)
        return levels
    return {1} if rule.helped_province_code in area_provinces(org.province_code) else {0}


def _need_groups(profile, fit):
    """Disjoint conditions whose union is every need, such that every need of a group ranks above every
    need of the groups after it: invited or paired; then the paired regions, city pairings first, each by
    proximity; then, outside them, the organisation's prefecture, its province, its major region and the
    rest. Every group but the first is split by fit (`fit` is the fit tier's expression), best first, so
    that in each the database ranks only needs equal in every tier before preference. Yields (condition,
    split): split is False for the first group, whose needs differ in the first tiers. Reading stops once
    the page is full.
    """
    org, earlier = profile.org, []

    def after(condition):
        """`condition`, minus every group before it."""
        return and_(condition if condition is not None else true(), *[not_(c) for c in earlier])

    fit_levels = _fit_levels(org)

    def by_fit(condition):
        region = after(condition)
        for level, categories in fit_levels:
            # The categories first, so that the database seeks them in the recommendation indexes.
            yield and_(region, Need.category.in_(categories), fit == level), True
        if condition is not None:
            earlier.append(condition)

    invited, paired = list(profile.invitations), sorted(profile.paired_village_ids)
    direct = [c for c in (Need.id.in_(invited) if invited else None,
                          Need.village_id.in_(paired) if paired else None) if c is not None]
    if direct:
        yield or_(*direct), False
        earlier.append(or_(*direct))
    for tier in (3, 2, 1):
        rules = [rule for rule, t in profile.rules if t == tier]
        if not rules:
            continue
        regions = or_(*[_rule_condition(rule) for rule in rules])
        levels = set().union(*[_proximities_of(rule, org) for rule in rules])
        for level, condition in _proximity_conditions(org):
            if level in levels:
                yield from by_fit(and_(regions, condition) if condition is not None else regions)
        earlier.append(regions)
    for _level, condition in _proximity_conditions(org):
        yield from by_fit(condition)


def _deadline_bands(today):
    """[(condition, best urgency in it)] over the open needs' deadlines, most urgent first."""
    soon, later = today + timedelta(days=SOON_DAYS), today + timedelta(days=LATER_DAYS)
    return [(Need.deadline <= soon, 3), (and_(Need.deadline > soon, Need.deadline <= later), 2),
            (Need.deadline > later, 1)]


def _states_preferences(pref):
    """Whether the preference tier can differ between needs (the terms `_need_preference` adds up)."""
    return pref is not None and bool(pref.categories or pref.region_codes or pref.has_budget or pref.job_types)


# The columns of a need the recommendations page and the reasons read.
_LISTED = ("id", "village_id", "province_code", "prefecture_code", "category", "unit", "title", "target", "pledged",
           "pledged_permille", "deadline", "job_title")


class ListedVillage:
    __slots__ = ("name", "place_name")

    def __init__(self, name, place_name):
        self.name, self.place_name = name, place_name


class ListedNeed:
    """A need as the recommendations page lists it and its reasons read it: the `_LISTED` columns and its
    village's name and place, from a row (`_listed_columns`), not a Need. Loading the page's 21 Needs and
    their Villages through the ORM cost more than the SQL that read them (docs/performance.md)."""

    __slots__ = (*_LISTED, "village")

    remaining = Need.remaining
    category_label = Need.category_label

    def __init__(self, row):
        for name in _LISTED:
            setattr(self, name, getattr(row, name))
        self.village = ListedVillage(row.village_name, place_of(row.village_province_code, row.village_prefecture_code,
                                                                row.village_county_code, row.village_township_name))


@cache
def _listed_columns():
    """A listed need's columns and its village's, as ListedNeed reads them (select them from `need` joined
    to `village`)."""
    return (*[getattr(Need, name) for name in _LISTED], Village.name.label("village_name"),
            Village.province_code.label("village_province_code"), Village.prefecture_code.label("village_prefecture_code"),
            Village.county_code.label("village_county_code"), Village.township_name.label("village_township_name"))


@cache
def _listed_needs():
    """The needs of a page after the first, by id, as rows for ListedNeed."""
    return (select(*_listed_columns()).join(Village, Village.id == Need.village_id)
            .where(Need.id.in_(bindparam("ids", expanding=True))))


# The ranking's statements, built once per organisation shape ----------------------------------------
#
# Building the tiers' CASE expressions, the groups' conditions and each group's SELECT — and then the
# cache key SQLAlchemy computes from a new statement to find its compiled form — cost the page more
# than the database took to run them (docs/performance.md). They depend only on the facts the profile
# holds, not on the organisation itself: an organisation's next page, its reload, and other
# organisations of the same prefecture, industry and kind with no invitation, pairing or preference
# of their own have the same ones. They are kept per process, keyed by every value they are built from
# (so they cannot go stale: a new invitation, pairing or preference is a new key), the least recently
# used dropped beyond RANKING_PLANS. What differs between requests — the needs the organisation has
# pledged to and how many rows are wanted — are bind parameters. A plan holds no data and no ORM object.

RANKING_PLANS = 64  # about 170 KiB each (its statements and their cache keys): 11 MB a worker at most


@dataclass(frozen=True)
class _PlanOrg:
    """What the ranking's statements read of the organisation (not the ORM object: plans outlive sessions)."""

    province_code: str
    prefecture_code: str | None
    industry: str | None
    kind: object


def _preference_key(pref):
    if pref is None:
        return None
    return (tuple(pref.categories or ()), tuple(pref.region_codes or ()), bool(pref.has_budget),
            pref.budget_min_fen, pref.budget_max_fen, tuple(pref.job_types or ()))


class _Plan:
    """The tiers and, group by group as the ranking asks for them, each group's SELECTs (one, or one per
    deadline band) with the bind parameters `pledged` and `wanted`. Each reads its `wanted` best needs'
    ids and tiers; with `needs`, the needs themselves in the same statement: "listed", the columns of
    `_listed_columns` and the tiers; "whole", rows of (Need, *TIERS). That is for the first page, whose
    rows are all shown: a later page reads every row before it (page 25, 501) and shows 20, so its
    needs are loaded afterwards, by id."""

    def __init__(self, profile, today, needs):
        self._needs = needs
        org = profile.org
        plain = _PlanOrg(org.province_code, org.prefecture_code, org.industry, org.kind)
        profile = Profile(plain, profile.preference, list(profile.rules), dict(profile.invitations),
                          set(profile.paired_village_ids), set())
        self.tiers = _need_tiers(profile, today)
        self.bands = _deadline_bands(today) if not _states_preferences(profile.preference) else None
        self._base = and_(open_needs_condition(today), Need.id.not_in(bindparam("pledged", expanding=True)))
        self._groups = _need_groups(dataclasses.replace(profile, preference=None), self.tiers["fit"].element)
        self._built = []
        self._lock = threading.Lock()

    def group(self, n):
        """The n-th group's [(SELECT, best urgency of its band or None)], or None after the last group."""
        with self._lock:
            while len(self._built) <= n:
                following = next(self._groups, None)
                if following is None:
                    return None
                condition, split = following
                query = (select(Need.id, *self.tiers.values()).where(self._base, condition)
                         .order_by(*[t.desc() for t in self.tiers.values()], Need.id))
                if split and self.bands is not None:
                    built = [(self._with_needs(query.where(band)), best) for band, best in self.bands]
                else:
                    built = [(self._with_needs(query), None)]
                self._built.append(built)
            return self._built[n]

    def _with_needs(self, ranked):
        ranked = ranked.limit(bindparam("wanted", type_=Integer))
        if self._needs is None:
            return ranked
        # The ranking reads ids and tiers only (the indexes cover them); the needs are joined to its
        # `wanted` rows after its LIMIT, not carried through its sort.
        ranked = ranked.subquery("ranked")
        tiers = [ranked.c[name] for name in TIERS]
        if self._needs == "listed":
            return (select(*_listed_columns(), *tiers).join(ranked, ranked.c.id == Need.id)
                    .join(Village, Village.id == Need.village_id))
        return select(Need, *tiers).join(ranked, ranked.c.id == Need.id)


_plans = OrderedDict()
_plans_lock = threading.Lock()


def _plan_for(profile, today, needs):
    org = profile.org
    key = (org.province_code, org.prefecture_code, org.industry, org.kind, tuple(sorted(profile.invitations)),
           tuple(sorted(profile.paired_village_ids)), tuple(profile.rules), _preference_key(profile.preference), today,
           needs)
    with _plans_lock:
        plan = _plans.get(key)
        if plan is not None:
            _plans.move_to_end(key)
            return plan
    plan = _Plan(profile, today, needs)
    with _plans_lock:
        _plans[key] = plan
        while len(_plans) > RANKING_PLANS:
            _plans.popitem(last=False)
    return plan


def _ranked_rows(plan_group, key, wanted, pledged):
    """The first `wanted` rows of a group in ranking order, read band by band when it has bands,
    stopping as soon as no need of the bands left can rank among those read.

    Within a group of equal direct, pairing, proximity and fit tiers, and equal preference, urgency decides
    first, and a band's needs have urgency at most its best: once `wanted` rows rank above that, the
    band and the later ones are not read. At campaign scale most pages then come from the first band.
    """
    rows = []
    for statement, best in plan_group:
        if best is not None and len(rows) >= wanted and rows[wanted - 1].urgency > best:
            break
        read = db.session.execute(statement, {"pledged": pledged, "wanted": wanted}).all()
        rows = sorted(rows + read, key=key)[:wanted]  # the join gives the rows in no particular order
    return rows


def needs_for(org, *, page=1, per_page=20, today=None, listed=False):
    """A page of open needs ranked for `org`, each with its reasons in the current language. `listed`: the
    needs as ListedNeeds, only what the recommendations page shows; otherwise Needs (the API returns
    whole needs)."""
    today = today or local_date_today()
    profile = profile_of(org)
    needs = ("listed" if listed else "whole") if page == 1 else None  # read with the ranking (see _Plan)
    plan = _plan_for(profile, today, needs)
    wanted = page * per_page + 1  # one more than the page, to know whether another follows
    rows = []
    pledged = sorted(profile.pledged_need_ids) or [-1]  # NOT IN (-1) rather than SQLAlchemy's empty-set form

    def key(row):
        return (*[-getattr(row, name) for name in TIERS], row[0].id if needs == "whole" else row.id)

    n = 0
    while len(rows) < wanted and (group := plan.group(n)) is not None:
        rows += _ranked_rows(group, key, wanted - len(rows), pledged)
        n += 1
    has_more = len(rows) > page * per_page
    rows = rows[(page - 1) * per_page: page * per_page]
    if needs == "listed":
        page_needs = [ListedNeed(row) for row in rows]
    elif needs == "whole":
        page_needs = [row[0] for row in rows]
    else:
        ids = [row.id for row in rows]
        if listed:
            by_id = {row.id: ListedNeed(row) for row in db.session.execute(_listed_needs(), {"ids": ids})}
        else:
            by_id = {need.id: need for need in db.session.scalars(select(Need).where(Need.id.in_(ids)))}
        page_needs = [by_id[need_id] for need_id in ids]
    items, said = [], ReasonTexts()
    for row, need in zip(rows, page_needs):
        scores = {name: getattr(row, name) for name in TIERS}
        items.append(Recommendation(need, scores, need_reasons(profile, need, scores, today, said),
                                    profile.invitations.get(need.id)))
    return Page(items, page, per_page, has_more, profile)


def _region_name(code):
    return division_name(code) or code


def _pairing_reason(rule):
    return Reason("pairing", _("%(helper)s帮扶%(helped)s · 东西部扶贫协作", helper=rule.helper_name, helped=rule.helped_name))


def _proximity_reason(level, province_code, prefecture_code):
    if level == 3:
        return Reason("proximity", _("同在%(place)s", place=_region_name(prefecture_code)))
    if level == 2:
        return Reason("proximity", _("同在%(place)s", place=_region_name(province_code)))
    if level == 1 and province_code[0] in AREA_LABELS:
        return Reason("proximity", _("同属%(area)s", area=AREA_LABELS[province_code[0]]))
    return None


def _industry_name(industry):
    from ..organizations.forms import INDUSTRIES

    label = str(dict(INDUSTRIES).get(industry, industry))
    return label.split(" ", 1)[-1]


def _fit_reason(level, industry, category):
    if level < 2:
        return None
    return Reason("fit", _("行业契合：%(industry)s · %(category)s", industry=_industry_name(industry),
                           category=CATEGORY_LABELS[Category(category)]))


class ReasonTexts(dict):
    """The reasons already worded for one page, by what decides their words: the needs of a page share
    most of them (the same pairing rule, province, industry fit, "no pledge yet"), and a translated,
    formatted text costs more than the rest of a need's reasons."""

    def __call__(self, key, word):
        if key in self:
            return self[key]
        reason = self[key] = word()
        return reason


def need_reasons(profile, need, scores, today, said=None):
    """Why `need` is recommended to the profile's organisation, strongest reason first. `said`: the
    ReasonTexts of the page `need` is on."""
    said = ReasonTexts() if said is None else said
    reasons = []
    if need.id in profile.invitations:
        reasons.append(said("invited", lambda: Reason("invited", _("受邀"))))
    if need.village_id in profile.paired_village_ids:
        reasons.append(said("paired", lambda: Reason("paired", _("结对村"))))
    rule = next((r for r, _t in profile.rules if covers(r, need.province_code, need.prefecture_code)), None)
    if rule is not None:
        reasons.append(said(("pairing", rule.helper_name, rule.helped_name), lambda: _pairing_reason(rule)))
    near = said(("proximity", scores["proximity"], need.province_code, need.prefecture_code),
                lambda: _proximity_reason(scores["proximity"], need.province_code, need.prefecture_code))
    if near:
        reasons.append(near)
    fit = said(("fit", scores["fit"], need.category), lambda: _fit_reason(scores["fit"], profile.org.industry, need.category))
    if fit:
        reasons.append(fit)
    reasons += _preference_reasons(profile.preference, need, said)
    days = (need.deadline - today).days if need.deadline else None
    if days is not None and days <= SOON_DAYS:
        reasons.append(said(("days", days),
                            lambda: Reason("urgency", ngettext("还有 %(num)s 天截止", "还有 %(num)s 天截止", days))))
    if need.pledged == 0:
        reasons.append(said("unpledged", lambda: Reason("urgency", _("尚无人认捐"))))
    elif need.pledged_permille < OPEN_SHARE_PERMILLE:
        reasons.append(said("half", lambda: Reason("urgency", _("过半尚未认捐"))))
    if scores["fairness"]:
        reasons.append(said("fairness", lambda: Reason("fairness", _("该村尚无帮扶方"))))
    return reasons


def _preference_reasons(pref, need, said):
    if pref is None:
        return []
    reasons = []
    if need.category in pref.categories:
        reasons.append(said("category", lambda: Reason("preference", _("符合关注的帮扶类别"))))
    if need.province_code in pref.region_codes or need.prefecture_code in pref.region_codes:
        reasons.append(said("region", lambda: Reason("preference", _("在关注的地区"))))
    if pref.has_budget and need.unit == Unit.CNY_FEN and need.target is not None:
        remaining = need.target - need.pledged
        if (pref.budget_min_fen or 0) <= remaining <= (pref.budget_max_fen if pref.budget_max_fen is not None else remaining):
            reasons.append(said("budget", lambda: Reason("preference", _("在预算范围内"))))
    if need.unit == Unit.JOBS and any(w in (need.job_title or "") or w in need.title for w in pref.job_types):
        reasons.append(said("jobs", lambda: Reason("preference", _("可提供该类岗位"))))
    return reasons


# Organisations for a need ----------------------------------------------------------------------

def _rules_covering(need):
    rules = db.session.scalars(select(PairingRule).where(PairingRule.helped_province_code == need.province_code))
    return [r for r in rules if covers(r, need.province_code, need.prefecture_code)]


def _org_tiers(need, rules, paired_org_ids):
    pref = aliased(OrganizationPreference)
    item = aliased(PreferenceItem)
    direct = case((Organization.id.in_(paired_org_ids), 1), else_=0) if paired_org_ids else literal(0)
    cities = sorted({r.helper_prefecture_code for r in rules if r.helper_prefecture_code})
    whole = sorted({r.helper_province_code for r in rules if not r.helper_prefecture_code})
    city_provinces = sorted({r.helper_province_code for r in rules if r.helper_prefecture_code})
    follows = select(pref.follow_pairing).where(pref.organization_id == Organization.id).scalar_subquery()
    if rules:
        pairing = case((func.coalesce(follows, true()) == false(), 0),  # it asked not to follow the table
                       (Organization.prefecture_code.in_(cities or ["-"]), 3),
                       (Organization.province_code.in_(whole or ["-"]), 2),
                       (Organization.province_code.in_(city_provinces or ["-"]), 1), else_=0)
    else:
        pairing = literal(0)
    proximity = case((Organization.prefecture_code == need.prefecture_code, 3),
                     (Organization.province_code == need.province_code, 2),
                     (Organization.province_code.in_(area_provinces(need.province_code)), 1), else_=0)
    category_best = [i for i in CATEGORY_FIT if CATEGORY_FIT[i].get(need.category) == 2]
    category_some = [i for i in CATEGORY_FIT if CATEGORY_FIT[i].get(need.category) == 1]
    unit_industries = sorted(UNIT_FIT.get(need.unit, set()))
    unit_fit = Organization.industry.in_(unit_industries or ["-"])
    if need.unit == Unit.VOLUNTEER_HOURS:
        unit_fit = or_(unit_fit, Organization.kind == "ngo")
    fit = case((Organization.industry.in_(category_best or ["-"]), 2),
               (Organization.industry.in_(category_some or ["-"]), 1), else_=0) + case((unit_fit, 1), else_=0)

    def stated(kind, condition):
        return case((exists().where(item.organization_id == Organization.id, item.kind == kind.value, condition), 1),
                    else_=0)

    preference = stated(PreferenceKind.CATEGORY, item.value == need.category) \
        + stated(PreferenceKind.REGION, item.value.in_([need.province_code, need.prefecture_code]))
    if need.unit == Unit.CNY_FEN and need.target is not None:
        remaining = need.target - need.pledged
        budget = exists().where(pref.organization_id == Organization.id,
                                or_(pref.budget_min_fen.is_not(None), pref.budget_max_fen.is_not(None)),
                                func.coalesce(pref.budget_min_fen, 0) <= remaining,
                                func.coalesce(pref.budget_max_fen, remaining) >= remaining)
        preference = preference + case((budget, 1), else_=0)
    if need.unit == Unit.JOBS:
        text = f"{need.job_title or ''} {need.title}"
        preference = preference + stated(PreferenceKind.JOB, literal(text).like("%" + item.value + "%"))
    exprs = {"direct": direct, "pairing": pairing, "proximity": proximity, "fit": fit, "preference": preference}
    return {name: expr.label(name) for name, expr in exprs.items()}


def _organization_groups(need, rules, paired, tiers):
    """Disjoint conditions whose union is every organisation, in ranking order (as _need_groups)."""
    earlier = []

    def after(condition):
        return and_(condition, *[not_(c) for c in earlier])

    if paired:
        yield Organization.id.in_(paired)
        earlier.append(Organization.id.in_(paired))
    if rules:
        helpers = Organization.province_code.in_(sorted({r.helper_province_code for r in rules}))
        for tier in (3, 2, 1):
            # By the tier itself: an organisation that asked not to follow the table is not in these groups.
            condition = and_(helpers, tiers["pairing"].element == tier)
            yield after(condition)
            earlier.append(condition)
    near = [and_(Organization.province_code == need.province_code, Organization.prefecture_code == need.prefecture_code),
            Organization.province_code == need.province_code,
            Organization.province_code.in_(area_provinces(need.province_code)), None]  # None: the rest
    for condition in near:
        region = after(condition) if condition is not None else and_(true(), *[not_(c) for c in earlier])
        for level in (3, 2, 1, 0):
            yield and_(region, tiers["fit"].element == level)
        if condition is not None:
            earlier.append(condition)


def organizations_for(need, *, limit=10):
    """Verified organisations ranked for `need` the same way, leaving out those already invited to it."""
    rules = _rules_covering(need)
    paired = sorted(db.session.scalars(select(Pairing.organization_id).where(
        Pairing.village_id == need.village_id, Pairing.status == PairingStatus.ACTIVE.value)))
    invited = sorted(db.session.scalars(select(NeedInvitation.organization_id).where(NeedInvitation.need_id == need.id)))
    tiers = _org_tiers(need, rules, paired)
    base = and_(Organization.status == VerificationStatus.VERIFIED.value, Organization.id.not_in(invited or [-1]))
    rows = []
    for group in _organization_groups(need, rules, paired, tiers):
        query = (select(Organization.id, *tiers.values()).where(base, group)
                 .order_by(*[t.desc() for t in tiers.values()], Organization.id).limit(limit - len(rows)))
        rows += db.session.execute(query).all()
        if len(rows) >= limit:
            break
    orgs = {o.id: o for o in db.session.scalars(select(Organization).where(Organization.id.in_([r.id for r in rows])))}
    items = []
    for row in rows:
        org = orgs[row.id]
        scores = {name: getattr(row, name) for name in tiers}
        items.append(Recommendation(org, scores, organization_reasons(need, org, rules, scores)))
    return items


def organization_reasons(need, org, rules, scores):
    """Why `org` is suggested for `need`, strongest reason first."""
    reasons = []
    if scores["direct"]:
        reasons.append(Reason("paired", _("已与该村结对")))
    if scores["pairing"]:
        ranked = sorted(rules, key=lambda r: (-helper_tier(r, org.province_code, org.prefecture_code),
                                              r.helped_prefecture_code is None, r.id))
        reasons.append(_pairing_reason(ranked[0]))
    near = _proximity_reason(scores["proximity"], org.province_code, org.prefecture_code)
    if near:
        reasons.append(near)
    fit = _fit_reason(scores["fit"], org.industry, need.category)
    if fit:
        reasons.append(fit)
    if scores["preference"]:
        reasons.append(Reason("preference", _("符合其关注的需求")))
    return reasons
