"""A need as a search document (search/documents.py indexes what features register there), and
the /needs list's full-text query answered by that index."""
from dataclasses import dataclass

from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from search_index.searcher import MAX_RESULT_WINDOW

from ..extensions import db
from ..regions.models import Level
from ..search import services as search
from . import browse
from .models import Need, NeedStatus
from .text import plain_excerpt


def need_document(need):
    """The plain document the search index holds for a published need."""
    village = need.village
    # What the need asks for, not its village's industries: a search for 花椒 finds needs about
    # pepper, not every need of a pepper-growing village (the village itself is a document too).
    body = [plain_excerpt(need.description, 2000), need.goods_item, need.job_title, need.work_location]
    return {
        "doc_id": f"need:{need.id}", "kind": "need", "obj_id": need.id, "title": need.title,
        "body": " ".join(filter(None, body)),
        "place": village.place_names + [village.township_name, village.name],
        "province": need.province_code, "prefecture": need.prefecture_code, "county": need.county_code,
        "category": need.category, "status": need.status, "unit": need.unit,
        "created": need.published_at, "deadline": need.deadline,
        "progress": min(10000, need.pledged * 10000 // need.target) if need.target else 0,
        "people": need.people,
    }


def register_search_source():
    from ..search.documents import register

    # Published once, public for good: the same rule as Need.is_public. The document shows its
    # village's and township's names, so a change to the village re-indexes its needs.
    register("need", Need, need_document, lambda: Need.published_at.is_not(None),
             follows={"village": lambda ids: select(Need.id).where(Need.village_id.in_(ids))})


# /needs?q=… — the list's own filters, its words matched by the search index -----------------

LEVEL_FIELDS = {Level.PROVINCE: "province", Level.PREFECTURE: "prefecture", Level.COUNTY: "county"}


@dataclass
class HitsPage:
    """One page of needs found by the search index, shaped like browse.Page for the /needs template."""

    q: str
    filters: browse.Filters
    items: list
    snippets: dict  # need id → the matching passage, HTML with <mark>
    total: int
    page: int
    per_page: int
    suggestion: str | None = None  # a corrected spelling that finds something, when nothing did
    next_cursor = None  # numbered pages: relevance has no keyset to follow
    prev_cursor = None

    def link_args(self, **changes):
        """Query parameters for a link that keeps the words, filters and sort (relevance is the default)."""
        args = self.filters.query_args(**changes)
        args.pop("sort", None)
        if self.filters.sort != "relevance":
            args["sort"] = self.filters.sort
        return {**args, "q": self.q}

    @property
    def pages(self):
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages and self.page * self.per_page < MAX_RESULT_WINDOW


def text_search(args):
    """(filters, page, problem) for /needs?q=…: the page's filters, sorts and pages, answered by the index.

    The filters parse exactly as when browsing (names or codes, Chinese category names, the same
    errors); "open" and "all" mean what they mean on the list. The sort defaults to relevance; the
    list's own sorts work too. `problem` is a key of search.services.PROBLEMS (a query of stop words,
    or the index being rebuilt), with an empty page.
    """
    sort = args.get("sort") or "relevance"
    filters = browse.parse({k: v for k, v in args.items() if not (k == "sort" and v == "relevance")})
    if sort == "relevance" and "sort" not in filters.errors:
        filters.sort = "relevance"
    q = (args.get("q") or "").strip()
    results, problem = search.attempt(q, kinds=["need"], filters=index_filters(filters), sort=filters.sort,
                                      page=filters.page, per_page=filters.per_page)
    if results is None:
        return filters, HitsPage(q, filters, [], {}, 0, filters.page, filters.per_page), problem
    ids = [item["obj_id"] for item in results.items]
    rows = {need.id: need for need in db.session.scalars(
        select(Need).where(Need.id.in_(ids), Need.published_at.is_not(None)).options(selectinload(Need.village)))}
    items = [rows[i] for i in ids if i in rows]  # the index's order; a row gone meanwhile is skipped
    snippets = {item["obj_id"]: Markup(item["snippet"]) for item in results.items if item["snippet"]}
    return filters, HitsPage(q, filters, items, snippets, results.total, results.page, results.per_page,
                             results.suggestion), None


def index_filters(filters):
    """browse.Filters → the index's filters: the deepest division, category, unit, status."""
    wanted = {"category": filters.category, "unit": filters.unit,
              "status": {"open": NeedStatus.PUBLISHED.value, "all": None}.get(filters.status, filters.status)}
    if filters.region is not None:
        wanted[LEVEL_FIELDS[filters.region.level]] = filters.region.code
    return {name: value for name, value in wanted.items() if value}
