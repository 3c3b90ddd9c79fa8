"""Writing articles and listing them next to the policy documents shipped with the platform."""
import re
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .. import queue
from ..audit.services import record
from ..errors import PermissionDenied, ServiceError
from ..extensions import db
from ..policy import scope_filters, scope_prefix
from ..timeutil import local_date_today
from . import policies
from .models import Article, ArticleStatus

SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$")
TITLE_MAX, SUMMARY_MAX, BODY_MAX = 120, 300, 50_000


def author_region(user):
    """The region an article by `user` speaks for: None (national) for admins and national curators."""
    if user.is_admin or "" in user.curator_scopes:
        return None
    scopes = sorted(user.curator_scopes, key=lambda code: len(scope_prefix(code)))
    return scopes[0] if scopes else None


def _new_slug():
    return f"{local_date_today():%Y%m%d}-{secrets.token_hex(3)}"


def _validate(values, article=None):
    errors = {}
    title = (values.get("title") or "").strip()
    body = (values.get("body") or "").strip()
    summary = (values.get("summary") or "").strip() or None
    slug = (values.get("slug") or "").strip().lower() or None
    if not title:
        errors["title"] = _l("请填写标题。")
    elif len(title) > TITLE_MAX:
        errors["title"] = _l("标题不能超过 %(n)s 字。", n=TITLE_MAX)
    if not body:
        errors["body"] = _l("请填写正文。")
    elif len(body) > BODY_MAX:
        errors["body"] = _l("正文不能超过 %(n)s 字。", n=BODY_MAX)
    if summary and len(summary) > SUMMARY_MAX:
        errors["summary"] = _l("摘要不能超过 %(n)s 字。", n=SUMMARY_MAX)
    if slug:
        taken = db.session.scalar(select(Article.id).where(Article.slug == slug, Article.id != getattr(article, "id", None)))
        if not SLUG.match(slug):
            errors["slug"] = _l("只能用小写字母、数字和连字符，3 到 80 个字符。")
        elif taken or slug in policies.BY_SLUG:
            errors["slug"] = _l("这个网址已被占用。")
    if errors:
        raise ServiceError(_l("请更正标出的项目。"), fields=errors)
    return {"title": title, "body": body, "summary": summary, "slug": slug}


def create_article(actor, values):
    """A draft article by curator `actor`, speaking for the actor's region."""
    if not actor.is_curator:
        raise PermissionDenied(_l("只有审核员可以发布文章。"))
    clean = _validate(values)
    article = Article(title=clean["title"], body=clean["body"], summary=clean["summary"],
                      slug=clean["slug"] or _new_slug(), region_code=author_region(actor), author_id=actor.id)
    db.session.add(article)
    db.session.flush()
    record(actor, article, "create_article", to_state=ArticleStatus.DRAFT)
    queue.commit()
    return article


def update_article(actor, article, values):
    if not article.can_edit(actor):
        raise PermissionDenied(_l("只有发布地区的审核员可以修改这篇文章。"))
    clean = _validate(values, article)
    article.title, article.body, article.summary = clean["title"], clean["body"], clean["summary"]
    if clean["slug"]:
        article.slug = clean["slug"]
    record(actor, article, "edit_article", public=article.is_public)
    queue.commit()
    return article


def published(limit=100):
    return db.session.scalars(select(Article).where(Article.status == ArticleStatus.PUBLISHED.value)
                              .order_by(Article.published_at.desc(), Article.id.desc()).limit(limit)).all()


def by_slug(slug):
    return db.session.scalar(select(Article).where(Article.slug == slug))


def editable_by(curator, limit=200):
    """The articles a curator may edit: their regions' (and, for national curators, all)."""
    query = select(Article).order_by(Article.updated_at.desc()).limit(limit)
    condition = scope_filters(curator, Article.region_code)
    if condition is not None:
        query = query.where(Article.region_code.is_not(None), condition)
    return db.session.scalars(query).all()
