"""/search — one box over needs, villages and organisations."""
from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from ..regions import services as regions
from . import services

bp = Blueprint("search", __name__)

PER_PAGE = 20


def parse_args(args):
    """Query parameters → search arguments; divisions by name (四川省) or code."""
    filters = {}
    for level in ("province", "prefecture", "county"):
        region = regions.resolve(args.get(level))
        if region is not None:
            filters[level] = region.code
    for name in ("category", "status", "unit"):
        if args.get(name):
            filters[name] = args[name]
    kind = args.get("type") if args.get("type") in ("need", "village", "organization") else None
    sort = args.get("sort") if args.get("sort") in ("relevance", "newest", "deadline", "progress") else "relevance"
    page = max(1, args.get("page", 1, type=int) or 1)
    return {"q": (args.get("q") or "").strip(), "kinds": [kind] if kind else None, "filters": filters,
            "sort": sort, "page": page}


PROBLEMS = {
    "empty_query": lambda: _("搜索词只包含常用虚词或标点，请换一个更具体的词，如村名、产品或行业。"),
    "rebuilding": lambda: _("搜索索引正在重建，请稍后再试。"),
}


def run(params):
    """(results, problem): a problem ("empty_query", "rebuilding") instead of results, or neither."""
    if not params["q"] and not params["filters"] and not params["kinds"]:
        return None, None
    try:
        return services.query(params["q"], kinds=params["kinds"], filters=params["filters"],
                              sort=params["sort"], page=params["page"], per_page=PER_PAGE), None
    except services.EmptyQuery:
        return None, "empty_query"
    except services.SearchUnavailable:
        return None, "rebuilding"


@bp.get("/search")
def search_page():
    params = parse_args(request.args)
    results, problem = run(params)
    message = PROBLEMS[problem]() if problem else None
    return render_template("search/results.html", params=params, results=results, message=message,
                           provinces=regions.children(None))
