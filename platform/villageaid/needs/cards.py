"""Need cards, rendered once per version of the need and language and then reused.

A list page shows 20 cards and rendering them is most of its cost (each card formats amounts,
plural forms and three progress bars through gettext). A card depends only on the need's row, its
village's name and the language, so the rendered HTML is kept in a bounded per-process LRU keyed on
exactly those: any change to the need (status, totals, text — `updated_at`) or a renamed village
makes a new key, and the old entry ages out.
"""
from collections import OrderedDict
from threading import Lock

from flask import get_template_attribute
from flask_babel import get_locale
from markupsafe import Markup

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


def clear():
    with _lock:
        _cards.clear()
