"""/search — one box over needs, villages and organisations."""
from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from markupsafe import Markup, escape

import search_index

from ..needs.models import CATEGORY_LABELS, STATUS_LABELS, NeedStatus
from ..needs.views import status_badge
from ..regions import services as regions
from ..regions.models import Level
from ..regions.views import choices as region_choices
from . import services

bp = Blueprint("search", __name__)

PER_PAGE = 20
KINDS = ("need", "village", "organization")
LEVEL_FIELDS = {Level.PROVINCE: "province", Level.PREFECTURE: "prefecture", Level.COUNTY: "county"}
KIND_LABELS = {"need": _l("需求"), "village": _l("贫困村"), "organization": _l("帮扶方")}
SORT_LABELS = {"relevance": _l("最相关"), "newest": _l("最新"), "deadline": _l("截止最近"), "progress": _l("认捐进度最高"),
               "least_pledged": _l("认捐最少"), "most_beneficiaries": _l("受益人最多")}


def parse_args(args):
    """Query parameters → search arguments; divisions by name (四川省) or code.

    A division lands in the filter of its real level, whatever box it came from: a municipality's
    district (北京市东城区), picked in the prefecture box, is a county. `errors` names what was ignored.
    """
    filters, errors = {}, {}
    for name in ("province", "prefecture", "county"):
        value = args.get(name)
        if not value:
            continue
        region = regions.resolve(value)
        if region is None or region.level not in LEVEL_FIELDS:
            errors[name] = _("未找到地区：%(value)s", value=value)
        else:
            filters[LEVEL_FIELDS[region.level]] = region.code
    for name in ("category", "status", "unit"):
        if args.get(name):
            filters[name] = args[name]
    kind = args.get("type") if args.get("type") in KINDS else None
    sort = args.get("sort") if args.get("sort") in search_index.SORTS else "relevance"
    page = max(1, args.get("page", 1, type=int) or 1)
    per_page = min(max(1, args.get("per_page", PER_PAGE, type=int) or PER_PAGE), search_index.searcher.MAX_PER_PAGE)
    return {"q": (args.get("q") or "").strip(), "kinds": [kind] if kind else None, "filters": filters,
            "sort": sort, "page": page, "per_page": per_page, "errors": errors}


PROBLEMS = services.PROBLEMS
PATHS = {"need": "/needs/", "village": "/villages/", "organization": "/helpers/"}


def result_items(results):
    """The search page's results as their cards, one function for the list: a Jinja loop formatting each
    result's badges, figures and plural forms was half the page's time. Each card: the result's kind and
    a need's status, its title linked, its place, the snippet with the words marked (HTML the index
    escaped), and for a need its progress, deadline and the people it benefits."""
    kinds = {kind: str(label) for kind, label in KIND_LABELS.items()}
    cards = []
    for item in results.items:  # the index's stored fields, a dict per result
        status = ""
        if item["kind"] == "need" and item["status"] in STATUS_LABELS:
            status = status_badge(item["status"], " me-1")
        snippet = f'<div class="small mt-1">{item["snippet"]}</div>' if item["snippet"] else ""
        figures = ""
        if item["kind"] == "need":
            parts = _("已认捐 %(p)s%%", p=item["progress"] // 100) if item["progress"] is not None else ""
            if item["deadline"]:
                parts += " · " + _("截止 %(date)s", date=item["deadline"].date().isoformat())
            if item["people"]:
                parts += " · " + ngettext("受益 %(num)s 人", "受益 %(num)s 人", item["people"])
            figures = f'<div class="small va-muted mt-1">{escape(parts)}</div>'
        cards.append(
            f'<div class="card mb-2" data-doc-id="{escape(item["doc_id"])}"><div class="card-body py-2">'
            f'<span class="badge text-bg-light border me-1">{escape(kinds.get(item["kind"], item["kind"]))}</span>{status} '
            f'<a class="fw-semibold" href="{PATHS.get(item["kind"], "")}{escape(item["obj_id"])}">{escape(item["title"])}</a> '
            f'<span class="small va-muted">{escape(item["place"])}</span>{snippet}{figures}</div></div>')
    return Markup("".join(cards))


bp.add_app_template_global(result_items, "search_result_items")


def run(params):
    """(results, problem): a problem ("empty_query", "rebuilding") instead of results, or neither."""
    if not params["q"] and not params["filters"] and not params["kinds"]:
        return None, None
    return services.attempt(params["q"], kinds=params["kinds"], filters=params["filters"], sort=params["sort"],
                            page=params["page"], per_page=params["per_page"])


def _region_boxes(filters):
    """What the three cascading selects show: (selected codes, prefecture options, county options)."""
    province, prefecture, county = (filters.get(k) for k in ("province", "prefecture", "county"))
    deepest = county or prefecture
    if deepest and not province:
        province = deepest[:2].ljust(12, "0")
    if county and not prefecture:
        prefecture = regions.get(county).parent_code
    # A municipality's districts sit in the prefecture box (they have no prefecture level).
    municipal = prefecture == province and county is not None
    if municipal:
        prefecture, county = county, None
    selected = {"province": province or "", "prefecture": prefecture or "", "county": county or ""}
    prefectures = _options(province) if province else []
    counties = _options(prefecture) if prefecture and not municipal else []
    return selected, prefectures, counties


def _options(code):
    """(code, name) of the children of `code` (provinces for None), national levels reused per process."""
    return [(choice.value, choice.label) for choice in region_choices(code)]


@bp.get("/search")
def search_page():
    params = parse_args(request.args)
    results, problem = run(params)
    selected, prefectures, counties = _region_boxes(params["filters"])
    statuses = [(s.value, STATUS_LABELS[s]) for s in NeedStatus
                if s not in (NeedStatus.DRAFT, NeedStatus.SUBMITTED, NeedStatus.REJECTED)]
    return render_template(
        "search/results.html", params=params, results=results, message=PROBLEMS[problem]() if problem else None,
        provinces=_options(None), prefectures=prefectures, counties=counties, selected=selected,
        categories=[(c.value, label) for c, label in CATEGORY_LABELS.items()], statuses=statuses, sorts=list(SORT_LABELS.items()),
        kinds=list(KIND_LABELS.items()),
    )
