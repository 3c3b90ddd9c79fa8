"""A need's description: Markdown rendered to HTML, then sanitised, so no script survives."""
import html
from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

# Raw HTML in the source is shown as text, images are left out (CSP only allows our own anyway),
# and nh3 removes whatever else is not on the list below.
_markdown = MarkdownIt("commonmark", {"html": False}).disable("image")

TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "blockquote", "code", "pre", "h3", "h4", "h5", "h6", "hr", "a"}
ATTRIBUTES = {"a": {"href", "title"}}


@lru_cache(maxsize=2048)
def render_markdown(source):
    """Safe HTML for `source` (Markdown). A pure function of the text, so each description is
    rendered once per process while it is among the 2,048 most recently shown."""
    rendered = _markdown.render(source or "")
    return Markup(nh3.clean(rendered, tags=TAGS, attributes=ATTRIBUTES, url_schemes={"http", "https", "mailto"},
                            link_rel="nofollow noopener noreferrer"))


def plain_excerpt(source, length=80):
    """The description's first `length` characters as text, for cards and link previews."""
    text = html.unescape(nh3.clean(_markdown.render(source or ""), tags=set())).replace("\n", " ").strip()
    return text if len(text) <= length else text[: length - 1] + "…"
