"""Need cards, rendered once per version of the need and language and then reused.

A list page shows 20 cards and rendering them is most of its cost (each card formats amounts,
plural forms and three progress bars through gettext). A card depends only on the need's row, its
village's name and the language, so the rendered HTML is kept in a bounded per-process LRU keyed on
exactly those: any change to the need (status, totals, text — `updated_at`) or a renamed village
makes a new key, and the old entry ages out.
"""
from collections import OrderedDict
from functools import cache
from threading import Lock

from flask import get_template_attribute
from flask_babel import get_locale
from markupsafe import Markup
from sqlalchemy import bindparam, select

from ..extensions import db
from ..villages.models import Village
from .models import Need

LIMIT = 4096  # cards per process (~2 kB each)

_cards = OrderedDict()
_lock = Lock()


def need_card(need, snippet=None):
    """The `need_card` macro of needs/_macros.html for `need`, from the cache when it is current."""
    key = (str(get_locale()), need.id, need.updated_at, need.status, need.pledged, need.delivered, need.verified,
           need.village.name, str(snippet) if snippet else None)
    with _lock:
        html = _cards.get(key)
        if html is not None:
            _cards.move_to_end(key)
            return html
    html = Markup(get_template_attribute("needs/_macros.html", "need_card")(need, snippet))
    with _lock:
        _cards[key] = html
        while len(_cards) > LIMIT:
            _cards.popitem(last=False)
    return html


def render(heads):
    """Cards for a page of browse.HEAD_COLUMNS rows (with a `village_name` column, or not), in order:
    from the cache when current, and the needs of the others loaded in one SELECT (a page of cached
    cards loads no need at all)."""
    if not heads:
        return []
    if "village_name" in heads[0]._fields:  # the village's name came with the rows
        villages = {h.village_id: h.village_name for h in heads}
    else:
        villages = dict(db.session.execute(_village_names(), {"ids": sorted({h.village_id for h in heads})}).all())
    locale = str(get_locale())
    keys = [(locale, h.id, h.updated_at, h.status, h.pledged, h.delivered, h.verified, villages.get(h.village_id),
             None) for h in heads]
    with _lock:
        found = [_cards.get(key) for key in keys]
        for key, html in zip(keys, found):
            if html is not None:
                _cards.move_to_end(key)
    missing = [h.id for h, html in zip(heads, found) if html is None]
    if missing:
        needs = {need.id: need for need in db.session.scalars(select(Need).where(Need.id.in_(missing))).unique()}
        found = [html if html is not None else (need_card(needs[h.id]) if h.id in needs else Markup(""))
                 for h, html in zip(heads, found)]
    return found


@cache
def _village_names():
    return select(Village.id, Village.name).where(Village.id.in_(bindparam("ids", expanding=True)))


def clear():
    with _lock:
        _cards.clear()
