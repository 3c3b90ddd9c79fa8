"""An article's body: Markdown rendered to HTML, then sanitised as a need's description is (needs/text.py),
with second-level headings allowed for the article's sections."""
import nh3
from markdown_it import MarkdownIt
from markupsafe import Markup

from ..needs.text import ATTRIBUTES, TAGS, plain_excerpt  # noqa: F401  (plain_excerpt: list summaries)

# Raw HTML shows as text and images are left out, as in needs; nh3 drops whatever else is not listed.
_markdown = MarkdownIt("commonmark", {"html": False}).disable("image")
ARTICLE_TAGS = TAGS | {"h2"}


def render_article(source):
    """Safe HTML for an article's Markdown `source`."""
    return Markup(nh3.clean(_markdown.render(source or ""), tags=ARTICLE_TAGS, attributes=ATTRIBUTES,
                            url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener noreferrer"))
